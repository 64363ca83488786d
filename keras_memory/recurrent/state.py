"""A memory cell's state, declared once as a named tuple of shapes.

A declaration is a named tuple (the state's own class) whose fields are
per-sequence shapes, without the batch axis: a tuple of ints, or a list of
such shapes for a group of tensors (an LSTM controller's `[h, c]`; a group
may be empty). A state is the same named tuple holding tensors
`[batch, *shape]` where the declaration has shapes.

`keras.layers.RNN` carries a state flat: one `[batch, size]` tensor a
shape, in the order of the fields (a group's members in order). Everything
here derives from the declaration, so no index into a flat state is ever
written by hand.
"""

import math

from keras_memory import _ops


def is_shape(declared):
    """Whether `declared` is one shape (a plain tuple of ints or `None`s)."""
    return (
        isinstance(declared, tuple)
        and not hasattr(declared, "_fields")
        and all(d is None or isinstance(d, int) for d in declared)
    )


def _members(name, declared):
    """`[(label, shape)]` for one field: itself, or a group's members."""
    if is_shape(declared):
        return [(name, declared)]
    if isinstance(declared, list) and all(is_shape(s) for s in declared):
        return [(f"{name}[{i}]", shape) for i, shape in enumerate(declared)]
    raise TypeError(
        f"State field `{name}` must be declared as a shape (a tuple of ints) or "
        f"a list of shapes, received {declared!r}."
    )


def shapes(declaration):
    """`[(label, shape)]` of every tensor of the flat state, in order."""
    return [
        member
        for name, declared in zip(declaration._fields, declaration)
        for member in _members(name, declared)
    ]


def size(shape):
    """Numbers per sequence of a shape; `None` while a dimension is unknown."""
    if any(d is None for d in shape):
        return None
    return math.prod(shape)


def flat_sizes(declaration):
    """The flat state's sizes, as `keras.layers.RNN` wants `state_size`."""
    return [size(shape) for _, shape in shapes(declaration)]


def _flat(tensor, shape):
    # One axis per sequence is already the flat form: no op (torch pays per op).
    return tensor if len(shape) == 1 else _ops.reshape(tensor, (-1, size(shape)))


def _shaped(tensor, shape):
    return tensor if len(shape) == 1 else _ops.reshape(tensor, (-1,) + tuple(shape))


def pack(state, declaration):
    """A state (named tuple of tensors) -> the flat list of 2-D tensors."""
    flat = []
    for value, declared in zip(state, declaration):
        if is_shape(declared):
            flat.append(_flat(value, declared))
        else:
            flat.extend(_flat(v, s) for v, s in zip(value, declared))
    return flat


def unpack(flat, declaration):
    """The flat list of 2-D tensors -> the state, each tensor shaped."""
    flat = list(flat)
    expected = len(shapes(declaration))
    if len(flat) != expected:
        raise ValueError(
            f"A {type(declaration).__name__} is {expected} flat tensors, "
            f"received {len(flat)}."
        )
    tensors = iter(flat)
    fields = []
    for declared in declaration:
        if is_shape(declared):
            fields.append(_shaped(next(tensors), declared))
        else:
            fields.append([_shaped(next(tensors), s) for s in declared])
    return type(declaration)(*fields)


def check(state, declaration, where):
    """Raises unless `state` is shaped as declared (static sizes only).

    Args:
        state: a named tuple of tensors.
        declaration: the cell's `state_shape`.
        where: what produced `state`, for the message (`"NTMCell.step"`).
    """
    if type(state) is not type(declaration):
        raise TypeError(
            f"{where} must give a {type(declaration).__name__} (the cell's "
            f"state_shape), received {type(state).__name__}."
        )
    for name, value, declared in zip(declaration._fields, state, declaration):
        members = _members(name, declared)
        values = [value] if is_shape(declared) else list(value)
        if len(values) != len(members):
            raise ValueError(
                f"{where} gives state field `{name}` {len(values)} tensors, but "
                f"the cell's state_shape declares {len(members)}."
            )
        for (label, shape), tensor in zip(members, values):
            actual = tuple(tensor.shape)[1:]
            if len(actual) != len(shape) or any(
                a is not None and d is not None and a != d for a, d in zip(actual, shape)
            ):
                raise ValueError(
                    f"{where} gives state field `{label}` the per-sequence shape "
                    f"{actual}, but the cell's state_shape declares {tuple(shape)}."
                )
