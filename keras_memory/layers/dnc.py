"""Differentiable Neural Computer (Graves et al., 2016): `DNCCell`, one time
step for `keras.layers.RNN`, and `DNC`, the sequence layer on the shared
recurrent core (`keras_memory.recurrent`)."""

import collections

import keras

from keras_memory import _validation as check
from keras_memory import addressing
from keras_memory import recurrent
from keras_memory.layers.controller_cell import ControllerCell

DNCState = collections.namedtuple(
    "DNCState",
    ["output", "controller", "reads", "memory", "usage", "link", "precedence",
     "read_weights", "write_weights", "read_modes"],
)
DNCState.__doc__ = """The parts of a `DNCCell` state, with named fields.

Shapes: B batch, N `memory_size`, M `memory_dim`, R `num_read_heads`,
W `num_write_heads`.

- output: `[B, output_size]`, the last output (repeated at masked steps).
- controller: list of controller states (`[h, c]` for the LSTM, each
  `[B, controller_size]`; empty for the dense controller).
- reads: `[B, R, M]`, the last read words.
- memory: `[B, N, M]`.
- usage: `[B, N]`, in [0, 1].
- link: `[B, W, N, N]`, the temporal link matrices (zero diagonal).
- precedence: `[B, W, N]`.
- read_weights: `[B, R, N]`; write_weights: `[B, W, N]`.
- read_modes: `[B, R, 2W + 1]`, the last step's mix of backward, forward
  and content reads (recorded for `keras_memory.trace`).

`DNCCell.state_shape` is this tuple with each field's per-sequence shape;
`keras.layers.RNN` carries the state flat (a list of 2-D tensors, in this
order), and `unpack_state` / `pack_state` convert.
"""

# The interface vector, in order: (name, size as a function of (R, W, M),
# activation). Strengths are `oneplus` (>= 1), gates sigmoid, read modes a
# softmax over the 2W + 1 modes of each read head; keys and write vectors
# are linear, as in deepmind/dnc.
INTERFACE = (
    ("read_keys", lambda r, w, m: r * m, None),
    ("read_strengths", lambda r, w, m: r, "oneplus"),
    ("write_keys", lambda r, w, m: w * m, None),
    ("write_strengths", lambda r, w, m: w, "oneplus"),
    ("erase_vectors", lambda r, w, m: w * m, "sigmoid"),
    ("write_vectors", lambda r, w, m: w * m, None),
    ("free_gates", lambda r, w, m: r, "sigmoid"),
    ("allocation_gates", lambda r, w, m: w, "sigmoid"),
    ("write_gates", lambda r, w, m: w, "sigmoid"),
    ("read_modes", lambda r, w, m: r * (2 * w + 1), "softmax"),
)


@keras.saving.register_keras_serializable(package="keras_memory")
class DNCCell(ControllerCell):
    """One step of a Differentiable Neural Computer, for `keras.layers.RNN`.

    The controller sees `[input, previous read words]`; one projection of
    its output is the interface vector, split into named parts (keys and
    `oneplus` strengths for the read and write heads, erase and write
    vectors, free, allocation and write gates, read modes). They drive one
    memory step (`keras_memory.addressing.dnc_access`: usage, dynamic
    allocation, erase and write, temporal links, backward / forward /
    content reads). The cell outputs a projection of `[controller output,
    read words]`.

    Args:
        memory_size: int >= 1, memory rows N. Default 128.
        memory_dim: int >= 1, row width M. Default 32.
        controller_size: int >= 1, controller units. Default 256.
        num_read_heads: int >= 1, R. Default 1.
        num_write_heads: int >= 1, W. Default 1.
        output_size: int >= 1 or `None` (the input size).
        controller: `"lstm"` (default) or `"dense"` (feed-forward, tanh).
        output_activation: activation of the output projection (default
            `None`: logits).
        kernel_initializer, kernel_regularizer: for the interface and
            output projections (the controller keeps Keras' defaults).
        remat: `"auto"` (default), `True` or `False`, as for `NTMCell`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments and returns: as for `NTMCell`, with the state a flat
    list of the `DNCState` parts.

    The state is O(W N^2) numbers per sequence (the link matrices); every
    sequence starts from zeros, an empty, unused memory.

    Examples:
        >>> cell = DNCCell(memory_size=16, memory_dim=8, controller_size=32,
        ...                num_read_heads=2)
        >>> cell.build((None, 3))                   # 3 input features per step
        >>> state = cell.unpack_state(cell.get_initial_state(batch_size=2))
        >>> tuple(state.link.shape), tuple(state.read_modes.shape)
        ((2, 1, 16, 16), (2, 2, 3))
    """

    # keras_memory.plotting.plot_trace draws these over the memory rows.
    plotted_fields = ("write_weights", "read_weights", "usage")

    def __init__(
        self,
        memory_size=128, memory_dim=32, controller_size=256,
        num_read_heads=1, num_write_heads=1,
        output_size=None, controller="lstm", output_activation=None,
        kernel_initializer="glorot_uniform", kernel_regularizer=None,
        remat="auto",
        **kwargs,
    ):
        super().__init__(
            memory_size, memory_dim, controller_size, num_read_heads, output_size,
            controller, output_activation, kernel_initializer, kernel_regularizer,
            remat, **kwargs,
        )
        self.num_write_heads = check.positive_int("num_write_heads", num_write_heads)

    @property
    def interface_sizes(self):
        """Widths of the interface vector's parts, in `INTERFACE` order."""
        sizes = (self.num_read_heads, self.num_write_heads, self.memory_dim)
        return [size(*sizes) for _, size, _ in INTERFACE]

    @property
    def state_shape(self):
        """`DNCState` of per-sequence shapes (the output's is `None` until
        the cell is built, unless `output_size` is given)."""
        n, m = self.memory_size, self.memory_dim
        r, w = self.num_read_heads, self.num_write_heads
        return DNCState(
            output=(self.output_size,),
            controller=self.controller_state_shape,
            reads=(r, m),
            memory=(n, m),
            usage=(n,),
            link=(w, n, n),
            precedence=(w, n),
            read_weights=(r, n),
            write_weights=(w, n),
            read_modes=(r, 2 * w + 1),
        )

    def build(self, input_shape):
        self.build_controller(input_shape)
        self.build_interface(sum(self.interface_sizes))
        self.build_output_projection(1)

    def interface_parameters(self, hidden):
        """The activated interface vector, a dict of its named parts.

        Args:
            hidden: `[batch, controller_size]`, the controller output.

        Returns:
            `{name: tensor}` for the names of `INTERFACE`, shaped per head
            (`read_keys` `[batch, R, M]`, `read_strengths` `[batch, R]`,
            ..., `read_modes` `[batch, R, 2W + 1]`).
        """
        r, w, m = self.num_read_heads, self.num_write_heads, self.memory_dim
        per_head = {"read_keys": (r, m), "write_keys": (w, m), "erase_vectors": (w, m),
                    "write_vectors": (w, m), "read_modes": (r, 2 * w + 1)}
        parts = [(name, size, activation) for (name, _, activation), size
                 in zip(INTERFACE, self.interface_sizes)]
        return self.split_interface(hidden, parts, per_head)

    def step(self, inputs, state, training=None, constants=None):
        """One time step on a `DNCState`: `(output, new DNCState)`.

        `constants`: `step_constants()`, when the loop has it already.
        """
        hidden, controller_state = self.run_controller(
            inputs, state.reads, state.controller, training,
            weights=constants.controller if constants else None,
        )
        interface = self.interface_parameters(hidden)
        access = addressing.dnc_access(
            state.memory, state.usage, state.link, state.precedence,
            state.read_weights, state.write_weights, **interface, validate=False,
        )
        output = self.read_out(hidden, access.read_words)
        return output, DNCState(
            output=output,
            controller=controller_state,
            reads=access.read_words,
            memory=access.memory,
            usage=access.usage,
            link=access.link,
            precedence=access.precedence,
            read_weights=access.read_weights,
            write_weights=access.write_weights,
            read_modes=interface["read_modes"],
        )

    def get_config(self):
        return {**super().get_config(), "num_write_heads": self.num_write_heads}


@keras.saving.register_keras_serializable(package="keras_memory")
class DNC(recurrent.MemoryRNN):
    """Differentiable Neural Computer over sequences: `RNN(DNCCell(...))`.

    Takes every `DNCCell` argument and the usual `keras.layers.RNN` ones
    (`return_sequences`, `return_state`, `go_backwards`, `stateful`,
    `unroll`, `zero_output_for_mask`); the loop over time is the shared
    recurrent core's (`keras_memory.recurrent`): under a mask, steps masked
    for the whole batch are skipped.

    Args:
        cell arguments: `memory_size`, `memory_dim`, `controller_size`,
            `num_read_heads`, `num_write_heads`, `output_size`, `controller`,
            `output_activation`, `kernel_initializer`, `kernel_regularizer`,
            `remat`: see `DNCCell`.
        sequence arguments: `return_sequences`, `return_state`,
            `go_backwards`, `stateful`, `unroll`, `zero_output_for_mask`,
            `**kwargs`: as for `NTM`.

    Call arguments: as for `NTM` (`sequences`, `initial_state`, `mask`,
    `training`).

    Examples:
        >>> import numpy as np
        >>> layer = DNC(memory_size=16, memory_dim=8, return_state=True)
        >>> output, *states = layer(np.zeros((2, 7, 5), "float32"))
        >>> final = layer.cell.unpack_state(states)     # a DNCState
        >>> tuple(output.shape), tuple(final.usage.shape)
        ((2, 5), (2, 16))
    """

    cell_class = DNCCell
    cell_name = "dnc_cell"
