"""NTM read and write heads (Graves et al., 2014): controller output ->
addressing parameters -> a read, or an erase and an add.

`parameter_widths`, `split_parameters` and `activate_parameters` turn a
raw projection into `HeadParameters`; the head layers and `NTMCell`'s fused
step (all heads in one projection) both go through them."""

import collections

import keras
from keras import ops

from keras_memory import _ops
from keras_memory import _validation as check
from keras_memory import addressing

KEY_ACTIVATIONS = ("tanh", "linear")

HeadParameters = collections.namedtuple(
    "HeadParameters",
    ["key", "strength", "gate", "shift", "sharpening", "erase", "add"],
    defaults=(None, None),
)
HeadParameters.__doc__ = """One head's addressing parameters, activated.

- key: `[batch, M]`, `tanh` (or linear), matched against memory rows.
- strength: `[batch, 1]`, `softplus`, >= 0: how sharply the key matches.
- gate: `[batch, 1]`, `sigmoid`: content (1) or previous weights (0).
- shift: `[batch, 2R + 1]`, `softmax` over shifts `-R..R`.
- sharpening: `[batch, 1]`, `1 + softplus`, >= 1.
- erase: `[batch, M]`, `sigmoid` (write heads; `None` for read heads).
- add: `[batch, M]`, the head's `add_activation` (write heads; else `None`).

Any field may carry a head axis after the batch axis (`NTMCell` stacks
several heads' parameters that way).
"""


def parameter_widths(memory_dim, shift_range, write):
    """`HeadParameters` of widths: the columns of one head's projection, in
    field order (`erase` and `add` `None` for a read head)."""
    content = memory_dim if write else None
    return HeadParameters(key=memory_dim, strength=1, gate=1, shift=2 * shift_range + 1,
                          sharpening=1, erase=content, add=content)


def split_parameters(projected, widths):
    """`[..., projection]` -> `HeadParameters` of raw parts, in field order.

    `widths`: from `parameter_widths`. Plain slices rather than `ops.split`:
    the same on every backend, and cheaper on torch, which pays per call.
    """
    parts, start = {}, 0
    for name, width in zip(HeadParameters._fields, widths):
        if width is not None:
            parts[name] = projected[..., start : start + width]
            start += width
    return HeadParameters(**parts)


def activate_parameters(raw, key_activation="tanh", add_activation=keras.activations.tanh):
    """Raw projections -> `HeadParameters` in the paper's ranges.

    Key `tanh` (or linear) k, strength `softplus` beta >= 0, gate `sigmoid`
    g, shift `softmax` s over the `2R + 1` shifts, sharpening
    `1 + softplus` gamma >= 1; a write head's erase `sigmoid` e and add
    `add_activation` a. Any field may carry a head axis.
    """
    key = _ops.tanh(raw.key) if key_activation == "tanh" else raw.key
    return HeadParameters(
        key=key,
        strength=_ops.softplus(raw.strength),
        gate=_ops.sigmoid(raw.gate),
        shift=_ops.softmax(raw.shift, axis=-1),
        sharpening=1.0 + _ops.softplus(raw.sharpening),
        erase=None if raw.erase is None else _ops.sigmoid(raw.erase),
        add=None if raw.add is None else add_activation(raw.add),
    )


def check_shift_range(shift_range, memory_size):
    """Raises unless `2 * shift_range + 1 <= memory_size`."""
    if 2 * shift_range + 1 > memory_size:
        raise ValueError(
            "`shift_range` R needs 2R + 1 <= memory_size, received "
            f"shift_range={shift_range} with memory_size={memory_size}."
        )


def split_last(tensor, sizes):
    """`[tensor[..., :sizes[0]], the next sizes[1] columns, ...]`.

    Plain slices rather than `ops.split`: the same on every backend, and
    cheaper on torch, which pays per call.
    """
    pieces, start = [], 0
    for size in sizes:
        pieces.append(tensor[..., start : start + size])
        start += size
    return pieces


def _serialize(value, module):
    return module.serialize(value) if value is not None else None


class _NTMHead(keras.layers.Layer):
    """Projection of the controller output to one head's parameters."""

    def __init__(
        self,
        shift_range=1,
        key_activation="tanh",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.shift_range = check.positive_int("shift_range", shift_range, minimum=0)
        self.key_activation = check.choice(
            "key_activation", key_activation, KEY_ACTIVATIONS
        )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    writes = False  # whether the head has erase and add vectors

    def _shapes(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} must be called on a list "
                "`[controller_output, memory, previous_weights]`, received "
                f"{input_shape!r}."
            )
        controller_shape, memory_shape, weights_shape = (
            check.shape_of(name, value)
            for name, value in zip(
                ("controller_output", "memory", "previous_weights"), input_shape
            )
        )
        check.rank("controller_output", controller_shape, 2, "([batch, features])")
        check.rank("memory", memory_shape, 3, "([batch, memory_size, memory_dim])")
        check.rank("previous_weights", weights_shape, 2, "([batch, memory_size])")
        check.dim("previous_weights", weights_shape, -1, memory_shape[1], "memory_size")
        return controller_shape, memory_shape, weights_shape

    def build(self, input_shape):
        controller_shape, memory_shape, _ = self._shapes(input_shape)
        memory_size, memory_dim = memory_shape[1], memory_shape[2]
        if memory_size is None or memory_dim is None or controller_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} needs static controller and memory "
                f"sizes, received shapes {input_shape!r}."
            )
        check_shift_range(self.shift_range, memory_size)
        self.memory_size, self.memory_dim = memory_size, memory_dim
        self.parameter_widths = parameter_widths(memory_dim, self.shift_range, self.writes)
        units = self.projection_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(controller_shape[-1], units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(units,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )

    @property
    def projection_size(self):
        """Width of the controller projection the head's parameters come from."""
        return sum(w for w in self.parameter_widths if w is not None)

    def parameters(self, projected):
        """`HeadParameters` from `controller_output @ kernel + bias`.

        Args:
            projected: `[batch, projection_size]` (or with a head axis).
        """
        return activate_parameters(
            split_parameters(projected, self.parameter_widths), self.key_activation,
            getattr(self, "add_activation", None),
        )

    def call(self, inputs):
        controller_output, memory, previous_weights = inputs
        self._shapes([controller_output, memory, previous_weights])
        memory_shape = check.shape_of("memory", memory)
        check.dim("memory", memory_shape, 1, self.memory_size, "memory_size")
        check.dim("memory", memory_shape, 2, self.memory_dim, "memory_dim")
        projected = ops.matmul(controller_output, self.kernel) + self.bias
        return self.apply_projection(projected, memory, previous_weights)

    def compute_output_shape(self, input_shape):
        controller_shape, memory_shape, weights_shape = self._shapes(input_shape)
        first = self._first_output_shape(controller_shape, memory_shape)
        return first, tuple(weights_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "shift_range": self.shift_range,
                "key_activation": self.key_activation,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
                "kernel_regularizer": _serialize(
                    self.kernel_regularizer, keras.regularizers
                ),
                "bias_regularizer": _serialize(
                    self.bias_regularizer, keras.regularizers
                ),
            }
        )
        return config


def address(params, memory, previous_weights):
    """`keras_memory.addressing.address` with a `HeadParameters`."""
    return addressing.address(
        params.key, params.strength, params.gate, params.shift, params.sharpening,
        previous_weights, memory,
    )


@keras.saving.register_keras_serializable(package="keras_memory")
class NTMReadHead(_NTMHead):
    """An NTM read head: address the memory, then read from it.

    A dense projection of the controller output gives the addressing
    parameters (`HeadParameters`), each through the activation that keeps it
    in range: key `tanh` (or linear), strength `softplus`, gate `sigmoid`,
    shift distribution `softmax` over `2R + 1` shifts, sharpening
    `1 + softplus`. They drive `keras_memory.addressing.address`.

    Args:
        shift_range: int >= 0, the largest shift R; needs `2R + 1 <= N` (0: no
            shifting, so a single memory row works).
        key_activation: `"tanh"` (default) or `"linear"`.
        kernel_initializer, bias_initializer: for the projection.
        kernel_regularizer, bias_regularizer: for the projection.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: list `[controller_output, memory, previous_weights]`:
            `[batch, controller_size]`, `[batch, N, M]`, `[batch, N]`.

    Returns:
        `(read_vector, weights)`: `[batch, M]` and `[batch, N]`.

    Examples:
        >>> import numpy as np
        >>> head = NTMReadHead()
        >>> memory = np.random.rand(2, 8, 4).astype("float32")
        >>> weights = np.full((2, 8), 1 / 8, "float32")
        >>> read, new_weights = head([np.ones((2, 5), "float32"), memory, weights])
        >>> tuple(read.shape), tuple(new_weights.shape)
        ((2, 4), (2, 8))
    """

    def apply_projection(self, projected, memory, previous_weights):
        """Like `call`, from an already computed `controller_output @ kernel + bias`."""
        weights = address(self.parameters(projected), memory, previous_weights)
        return addressing.read(memory, weights), weights

    def _first_output_shape(self, controller_shape, memory_shape):
        return (controller_shape[0], memory_shape[2])


@keras.saving.register_keras_serializable(package="keras_memory")
class NTMWriteHead(_NTMHead):
    """An NTM write head: address the memory, then erase and add.

    The addressing parameters are those of `NTMReadHead`; two more vectors
    come from the same projection: the erase vector `e` (`sigmoid`, in
    [0, 1]) and the add vector `a` (`add_activation`, default `tanh`). The
    memory becomes `M * (1 - w e^T) + w a^T`.

    Args:
        read head arguments: `shift_range`, `key_activation`,
            `kernel_initializer`, `bias_initializer`, `kernel_regularizer`,
            `bias_regularizer`: as for `NTMReadHead`.
        add_activation: activation of the add vector; default `"tanh"`
            (bounded, so memory values stay bounded too).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: list `[controller_output, memory, previous_weights]`:
            `[batch, controller_size]`, `[batch, N, M]`, `[batch, N]`.

    Returns:
        `(new_memory, weights)`: `[batch, N, M]` and `[batch, N]`.

    Examples:
        >>> import numpy as np
        >>> head = NTMWriteHead()
        >>> memory = np.zeros((2, 8, 4), "float32")
        >>> weights = np.full((2, 8), 1 / 8, "float32")
        >>> new_memory, new_weights = head([np.ones((2, 5), "float32"), memory, weights])
        >>> tuple(new_memory.shape)
        (2, 8, 4)
    """

    def __init__(self, add_activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.add_activation = keras.activations.get(add_activation)

    writes = True

    def apply_projection(self, projected, memory, previous_weights):
        """Like `call`, from an already computed `controller_output @ kernel + bias`."""
        params = self.parameters(projected)
        weights = address(params, memory, previous_weights)
        return addressing.write(memory, weights, params.erase, params.add), weights

    def _first_output_shape(self, controller_shape, memory_shape):
        return tuple(memory_shape)

    def get_config(self):
        config = super().get_config()
        config["add_activation"] = keras.activations.serialize(self.add_activation)
        return config
