"""Argument and shape checks shared by every layer.

Every check raises before any tensor computation, with a message that names
the argument and the value received, so a bad call never fails deep inside a
backend op.
"""

import numbers


def positive_int(name, value, minimum=1):
    """Returns `value` as an int, or raises if it is not an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an integer >= {minimum}, "
            f"received {name}={value!r} of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}, received {name}={value!r}."
        )
    return int(value)


def optional_positive_int(name, value, minimum=1):
    """Like `positive_int`, but lets `None` through."""
    return None if value is None else positive_int(name, value, minimum)


def choice(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises ValueError."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(
            f"`{name}` must be one of {listed}, received {name}={value!r}."
        )
    return value


def _static_dim(dim):
    """A dimension as an int, or `None` when unknown until run time.

    Besides `None`, symbolic dimensions are unknown: jax's `export` traces
    with a batch dimension that `int()` cannot resolve.
    """
    if dim is None or isinstance(dim, numbers.Integral):
        return None if dim is None else int(dim)
    if isinstance(dim, (str, bytes, numbers.Real)):
        raise TypeError(dim)
    try:
        return int(dim)
    except Exception:  # a symbolic dimension (jax.export); no jax import here
        return None


def shape_of(name, shape_or_tensor):
    """Returns a static shape tuple from a shape or a tensor-like value."""
    shape = getattr(shape_or_tensor, "shape", shape_or_tensor)
    try:
        return tuple(_static_dim(d) for d in shape)
    except TypeError:
        raise TypeError(
            f"`{name}` must be a tensor or a shape tuple, "
            f"received {name}={shape_or_tensor!r}."
        ) from None


def rank(name, shape, expected, meaning=""):
    """Raises ValueError unless `shape` has `expected` dimensions."""
    if len(shape) != expected:
        hint = f" {meaning}" if meaning else ""
        raise ValueError(
            f"`{name}` must have rank {expected}{hint}, "
            f"received {name} with shape {tuple(shape)}."
        )


def has_shape(name, tensor, shape):
    """Raises ValueError unless `tensor` has `len(shape)` axes matching
    `shape` (a `None` or unknown size matches anything)."""
    actual = shape_of(name, tensor)
    if len(actual) != len(shape) or any(
        a is not None and b is not None and a != b for a, b in zip(actual, shape)
    ):
        expected = "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
        raise ValueError(
            f"`{name}` must have shape {expected}, received {name} with shape {actual}."
        )


def dim(name, shape, axis, expected, what):
    """Raises ValueError when a static dimension differs from `expected`."""
    actual = shape[axis]
    if actual is not None and expected is not None and actual != expected:
        raise ValueError(
            f"`{name}` must have {what} {expected} on axis {axis}, "
            f"received {name} with shape {tuple(shape)}."
        )


def float_dtype(name, tensor):
    """Raises TypeError when `tensor` does not hold floating point numbers."""
    dtype = str(getattr(tensor, "dtype", ""))
    if dtype and "float" not in dtype:
        raise TypeError(
            f"`{name}` must hold floating point values, received {name} "
            f"with dtype {dtype}."
        )


def fraction(name, value):
    """Returns `value` as a float in [0, 1), or raises naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a number in [0, 1), received {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), received {name}={value!r}.")
    return float(value)


def non_negative_float(name, value):
    """Returns `value` as a finite float >= 0, or raises naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a finite number >= 0, received {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if not 0.0 <= value < float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= 0, received {name}={value!r}.")
    return float(value)


def real_number(name, value, allow_nan=True):
    """Returns `value` as a float, or raises naming the argument.

    `allow_nan=False` also refuses NaN: a mask value must equal its padding,
    and NaN equals nothing.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a number, received {name}={value!r} of type "
            f"{type(value).__name__}."
        )
    value = float(value)
    if not allow_nan and value != value:
        raise ValueError(
            f"`{name}` must not be NaN (NaN equals nothing, so NaN padding could "
            f"never be masked; pad with a number such as -1.0), received {name}=nan."
        )
    return value


def float_policy(name, dtype_policy):
    """Raises unless a layer's compute dtype is floating point."""
    compute = dtype_policy.compute_dtype
    if "float" not in str(compute):
        raise ValueError(
            f"`{name}` must be a floating-point dtype or policy (memory layers "
            f"compute with floats), received {name}={dtype_policy.name!r}."
        )


def has_steps(name, shape):
    """Raises unless a `[batch, time, ...]` shape has at least one time step."""
    if len(shape) >= 2 and shape[1] == 0:
        raise ValueError(
            f"`{name}` must have at least one time step, received {name} with "
            f"shape {tuple(shape)}."
        )


def step_mask(mask, shape):
    """Raises unless `mask` is `[batch, time]` like the sequences of `shape`."""
    mask_shape = tuple(shape_of("mask", mask))
    if len(mask_shape) != 2 or any(
        a is not None and b is not None and a != b for a, b in zip(mask_shape, shape[:2])
    ):
        raise ValueError(
            f"`mask` must have shape [batch, time] = {tuple(shape[:2])} like "
            f"`sequences` (batch {shape[0]}, {shape[1]} time steps), received "
            f"mask with shape {mask_shape}."
        )
