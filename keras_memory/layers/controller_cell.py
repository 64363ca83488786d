"""`ControllerCell`: what the NTM's and the DNC's cells share.

A `keras_memory.recurrent.MemoryCell` with a controller: arguments and
their checks (sizes, controller, output projection, remat), the controller
(`"lstm"` or `"dense"`) that sees `[input, previous reads]`, and the output
projection of `[controller output, reads]`. A subclass creates its memory's
weights in `build` between `build_controller` and
`build_output_projection`, and declares its state (`state_shape`, with
`output` and `controller` first) and `step`.
"""

import collections

import keras

from keras_memory import _ops
from keras_memory import _validation as check
from keras_memory.recurrent import MemoryCell
from keras_memory._kernels import Float32Draw
from keras_memory._kernels import fresh_initializer
from keras_memory._kernels import is_half

CONTROLLERS = ("lstm", "dense")


StepConstants = collections.namedtuple("StepConstants", ["controller", "projection"])
StepConstants.__doc__ = """What every step of a sequence computes alike, computed once.

- controller: the LSTM controller's `(kernel, bias)` from
  `MemoryCell.controller_weights` (`None` for the dense controller).
- projection: the cell's own fused projection of the controller output, a
  `(kernel, bias)` pair, or `None` where the cell has none.

A cell's `step(..., constants=None)` computes them itself when not given;
the loops of `keras_memory.recurrent` compute `cell.step_constants()`
once a sequence and pass it to every step.
"""


def _value(variable):
    """A variable's value in the compute dtype of the running layer call."""
    return variable.value if isinstance(variable, keras.Variable) else variable


def dense(layer, inputs):
    """`layer.call(inputs)` for a built `keras.layers.Dense`, per step.

    The same product, bias and activation as `Dense.call`, with the product
    as `_ops.matmul` and the bias added by `+`: Keras' `ops.matmul` and
    `ops.add` first run a dtype promotion pass, on torch more than the
    small product itself costs.
    """
    outputs = _ops.matmul(inputs, _value(layer.kernel))
    if layer.use_bias:
        outputs = outputs + _value(layer.bias)
    if layer.activation is not keras.activations.linear:
        outputs = layer.activation(outputs)
    return outputs


class ControllerCell(MemoryCell):
    """Base class of the controller-driven memory cells (not used on its own).

    Args:
        memory_size, memory_dim, controller_size: ints >= 1.
        num_read_heads: int >= 1 (the reads fed back to the controller).
        output_size: int >= 1 or `None` (the input size).
        controller: `"lstm"` or `"dense"` (feed-forward, tanh).
        output_activation: activation of the output projection.
        kernel_initializer, kernel_regularizer: for the projections.
        remat: `"auto"`, `True` or `False` (`keras_memory.recurrent`).
        **kwargs: base `keras.layers.Layer` arguments.
    """

    def __init__(self, memory_size, memory_dim, controller_size, num_read_heads,
                 output_size, controller, output_activation, kernel_initializer,
                 kernel_regularizer, remat, **kwargs):
        super().__init__(remat=remat, **kwargs)
        self.memory_size = check.positive_int("memory_size", memory_size)
        self.memory_dim = check.positive_int("memory_dim", memory_dim)
        self.controller_size = check.positive_int("controller_size", controller_size)
        self.num_read_heads = check.positive_int("num_read_heads", num_read_heads)
        self.requested_output_size = check.optional_positive_int(
            "output_size", output_size
        )
        self.controller_type = check.choice("controller", controller, CONTROLLERS)
        self.output_activation = keras.activations.get(output_activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    @property
    def output_size(self):
        """Output units; `keras.layers.RNN` reads it for its output shape."""
        if self.built:
            return self.output_units
        return self.requested_output_size

    @property
    def controller_state_shape(self):
        """`[h, c]` shapes for the LSTM controller, none for the dense one."""
        return [(self.controller_size,)] * (2 if self.controller_type == "lstm" else 0)

    @property
    def reads_width(self):
        """Numbers in the reads fed back to the controller: R * M."""
        return self.num_read_heads * self.memory_dim

    def build_controller(self, input_shape):
        """Checks that the input width is known, sets `output_units` and
        builds the controller. (`MemoryCell` has checked the rank and set
        `input_size` before any `build`.)"""
        if self.input_size is None:
            raise ValueError(
                "`inputs` must have a known last dimension, received inputs "
                f"with shape {check.shape_of('inputs', input_shape)}."
            )
        self.output_units = self.requested_output_size or self.input_size
        if self.controller_type == "lstm":
            options = {}
            if is_half(self.dtype_policy.variable_dtype):
                options["recurrent_initializer"] = Float32Draw("orthogonal")
            self.controller = keras.layers.LSTMCell(
                self.controller_size, dtype=self.dtype_policy, name="controller",
                **options,
            )
        else:
            self.controller = keras.layers.Dense(
                self.controller_size, activation="tanh", dtype=self.dtype_policy,
                name="controller",
            )
        self.controller.build((None, self.input_size + self.reads_width))

    def build_interface(self, width):
        """`self.interface`: the projection of the controller output to the
        `width` numbers of the cell's interface vector (its kernel the
        cell's first draw)."""
        self.interface = keras.layers.Dense(
            width,
            kernel_initializer=fresh_initializer(self.kernel_initializer, 0),
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name="interface",
        )
        self.interface.build((None, self.controller_size))

    def split_interface(self, hidden, parts, shapes):
        """The activated interface vector of `hidden [B, controller_size]`, a
        dict of its named parts.

        `parts`: `(name, size, activation)` in order (activation `None`,
        `"oneplus"`, `"sigmoid"` or `"softmax"`, the last over the part's
        last axis once reshaped); `shapes`: `{name: per-sequence shape}` for
        the parts to reshape. Each activation runs once over the whole
        vector, then is sliced: fewer ops a step (torch pays per op), the
        same values.
        """
        projected = dense(self.interface, hidden)
        used = {activation for _, _, activation in parts}
        activated = {None: projected, "softmax": projected}
        if "oneplus" in used:
            activated["oneplus"] = 1.0 + _ops.softplus(projected)
        if "sigmoid" in used:
            activated["sigmoid"] = _ops.sigmoid(projected)
        values, start = {}, 0
        for name, size, activation in parts:
            part = activated[activation][..., start : start + size]
            start += size
            if name in shapes:
                part = _ops.reshape(part, (-1,) + shapes[name])
            if activation == "softmax":
                part = _ops.softmax(part, axis=-1)
            values[name] = part
        return values

    def build_output_projection(self, index):
        """The output projection; `index` gives its kernel its own draw."""
        self.output_projection = keras.layers.Dense(
            self.output_units,
            activation=self.output_activation,
            kernel_initializer=fresh_initializer(self.kernel_initializer, index),
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name="output_projection",
        )
        self.output_projection.build((None, self.controller_size + self.reads_width))

    def controller_weights(self):
        """The LSTM controller's kernels as one `[input + reads + units, 4 units]`
        matrix (input, then recurrent rows) and its bias; `None` for the dense
        controller. Loops that run many steps fetch it once (`step_constants`)."""
        if self.controller_type != "lstm":
            return None
        controller = self.controller
        kernel = _ops.concatenate(
            [_value(controller.kernel), _value(controller.recurrent_kernel)], axis=0
        )
        return kernel, _value(controller.bias)

    def step_constants(self):
        """`StepConstants` for every step of the next sequence."""
        return StepConstants(controller=self.controller_weights(), projection=None)

    def run_controller(self, inputs, reads, controller_state, training=None,
                       weights=None):
        """`(hidden, new controller state)` from `[inputs, reads]`.

        The LSTM step is Keras' `LSTMCell` (sigmoid gates, tanh, gate order
        i, f, c, o) as one matrix product of `[inputs, reads, h]` and three
        activations: on torch each Keras op costs its dispatch, and the
        cell's own step takes 14. `weights`: `controller_weights()`, if
        the caller has it already.
        """
        reads = _ops.reshape(reads, (-1, self.reads_width))
        if self.controller_type != "lstm":
            # Not `__call__`: the caller has set the dtype scope, and torch
            # pays for every layer call at every step.
            return dense(self.controller, _ops.concatenate([inputs, reads], axis=-1)), []
        kernel, bias = weights or self.controller_weights()
        h, c = controller_state
        units = self.controller_size
        z = _ops.matmul(_ops.concatenate([inputs, reads, h], axis=-1), kernel) + bias
        gates = _ops.sigmoid(z)
        c = gates[:, units : 2 * units] * c + gates[:, :units] * _ops.tanh(
            z[:, 2 * units : 3 * units]
        )
        h = gates[:, 3 * units :] * _ops.tanh(c)
        return h, [h, c]

    def read_out(self, hidden, reads):
        """The cell's output: the projection of `[hidden, reads]`."""
        return dense(
            self.output_projection,
            _ops.concatenate([hidden, _ops.reshape(reads, (-1, self.reads_width))], axis=-1),
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.requested_output_size or input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            memory_size=self.memory_size,
            memory_dim=self.memory_dim,
            controller_size=self.controller_size,
            num_read_heads=self.num_read_heads,
            output_size=self.requested_output_size,
            controller=self.controller_type,
            output_activation=keras.activations.serialize(self.output_activation),
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            remat=self.remat,
        )
        return config
