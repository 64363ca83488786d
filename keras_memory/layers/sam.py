"""Sparse Access Memory (Rae et al. 2016, "Scaling Memory-Augmented Neural
Networks with Sparse Reads and Writes"): `SAMCell`, one time step for
`keras.layers.RNN`, and `SAM`, the sequence layer on the shared recurrent
core (`keras_memory.recurrent`)."""

import collections

import keras

from keras_memory import _ops
from keras_memory import _validation as check
from keras_memory import addressing
from keras_memory import recurrent
from keras_memory.addressing.sparse import SparseWeights
from keras_memory.layers.controller_cell import ControllerCell

SAMState = collections.namedtuple(
    "SAMState",
    ["output", "controller", "reads", "memory", "row_norms", "last_access",
     "read_weights", "read_rows", "write_weights", "write_rows", "time"],
)
SAMState.__doc__ = """The parts of a `SAMCell` state, with named fields.

Shapes: B batch, N `memory_size`, M `memory_dim`, R `num_read_heads`, K
`num_reads_per_head`.

- output: `[B, output_size]`, the last output.
- controller: list of controller states (`[h, c]` for the LSTM).
- reads: `[B, R, M]`, the last read words.
- memory: `[B, N, M]`.
- row_norms: `[B, N]`, each row's squared norm (kept, so that a step
  scores the rows with one product over the memory; a step sets the rows
  it writes anew). An `initial_state` with a memory of its own must carry
  that memory's squared norms here.
- last_access: `[B, N]`, the time each row was last read or written with
  a weight above `addressing.sparse.ACCESS_THRESHOLD` (0: never).
- read_weights, read_rows: `[B, R, K]`, the last step's reads: their
  weights, and the rows (as floats: a state holds one dtype; exact up to
  2 ** 24 rows).
- write_weights, write_rows: `[B, 1, R K + 1]`, the last write (the rows
  read the step before, then the least recently used row).
- time: `[B, 1]`, the steps taken.
"""

StepStart = collections.namedtuple(
    "StepStart", ["hidden", "controller_state", "interface", "time", "previous_read",
                  "least_used", "write"])
StepStart.__doc__ = """What a `SAMCell` step has before its memory access
(`SAMCell.start_step`): the controller output and state, the interface
parts, the step's time `[B, 1]`, the last reads and the least recently
used row, and this step's write (`SparseWeights`)."""

# The interface vector, in order: (name, size as a function of (R, M),
# activation).
INTERFACE = (
    ("read_keys", lambda r, m: r * m, None),
    ("read_strengths", lambda r, m: r, "oneplus"),
    ("write_vector", lambda r, m: m, None),
    ("write_gate", lambda r, m: 1, "sigmoid"),
    ("interpolation_gate", lambda r, m: 1, "sigmoid"),
)


@keras.saving.register_keras_serializable(package="keras_memory")
class SAMCell(ControllerCell):
    """One step of a Sparse Access Memory, for `keras.layers.RNN`.

    The controller sees `[input, previous read words]`; one projection of
    its output is the interface: a key and a `oneplus` strength per read
    head, a write vector, a write gate and an interpolation gate. Each
    step first writes, then reads, touching `O(R K)` rows of the `N`:

    - write: the weights interpolate the last step's read weights (mean
      over heads) and the least recently used row by the interpolation
      gate, scaled by the write gate; the least recently used row is
      erased first (`addressing.sam_write_weights`, `sparse_write`);
    - read: each head reads the `num_reads_per_head` rows most similar to
      its key, by a softmax over those rows alone
      (`addressing.sparse_content_read`);
    - usage: every row read or written above a small weight gets the
      current time as its last access (`addressing.touch`).

    The choice of rows is one scan of the `N` similarities without
    gradient (exact); the gradient of a step flows through the rows chosen
    only. With `num_reads_per_head = N` the reads are the dense content
    reads.

    Args:
        memory_size: int >= 1, memory rows N. Default 128.
        memory_dim: int >= 1, row width M. Default 32.
        controller_size: int >= 1, controller units. Default 256.
        num_read_heads: int >= 1, R. Default 1.
        num_reads_per_head: int, K, `1 <= K <= memory_size`. Default 4.
        output_size: int >= 1 or `None` (the input size).
        controller: `"lstm"` (default) or `"dense"`.
        output_activation: activation of the output projection (default
            `None`: logits).
        kernel_initializer, kernel_regularizer: for the interface and
            output projections.
        remat: `False` (default), `True` or `"auto"`, as for `NTMCell`. A
            sparse step's gradient needs only the rows it touched, where
            recomputing it would keep every step's whole memory: leave it
            `False`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments and returns: as for `NTMCell`, with the state a flat
    list of the `SAMState` parts. Every sequence starts from a zero memory
    that no step has accessed. The cell computes in float32 (or float64):
    its state holds row indices and times.

    Examples:
        >>> cell = SAMCell(memory_size=64, memory_dim=8, controller_size=16,
        ...                num_read_heads=2, num_reads_per_head=3)
        >>> cell.build((None, 5))
        >>> state = cell.unpack_state(cell.get_initial_state(batch_size=2))
        >>> tuple(state.read_rows.shape), tuple(state.write_rows.shape)
        ((2, 2, 3), (2, 1, 7))
    """

    # keras_memory.plotting.plot_trace draws these over the rows they name
    # (`write_rows`, `read_rows`): only the rows touched.
    plotted_fields = ("write_weights", "read_weights")

    def __init__(
        self,
        memory_size=128, memory_dim=32, controller_size=256,
        num_read_heads=1, num_reads_per_head=4,
        output_size=None, controller="lstm", output_activation=None,
        kernel_initializer="glorot_uniform", kernel_regularizer=None,
        remat=False,
        **kwargs,
    ):
        super().__init__(
            memory_size, memory_dim, controller_size, num_read_heads, output_size,
            controller, output_activation, kernel_initializer, kernel_regularizer,
            remat, **kwargs,
        )
        if self.dtype_policy.compute_dtype in ("float16", "bfloat16"):
            raise ValueError(
                "`dtype` must compute in float32 or float64 for SAMCell (its state holds "
                "row indices and access times, exact in float32 up to 2 ** 24; half "
                "precision loses them past 2048), received "
                f"dtype={self.dtype_policy.name!r}."
            )
        self.num_reads_per_head = check.positive_int("num_reads_per_head", num_reads_per_head)
        if self.num_reads_per_head > self.memory_size:
            raise ValueError(
                f"`num_reads_per_head` must be at most memory_size={self.memory_size}, "
                f"received num_reads_per_head={num_reads_per_head}."
            )

    # The interface's parts: (name, size as a function of (R, M), activation).
    interface_parts = INTERFACE

    @property
    def interface_sizes(self):
        return [size(self.num_read_heads, self.memory_dim) for _, size, _ in self.interface_parts]

    @property
    def interface_shapes(self):
        """Per-sequence shapes of the interface parts that have more than one
        axis."""
        r, m = self.num_read_heads, self.memory_dim
        return {"read_keys": (r, m), "read_strengths": (r, 1), "write_vector": (1, m)}

    @property
    def state_shape(self):
        n, m = self.memory_size, self.memory_dim
        r, k = self.num_read_heads, self.num_reads_per_head
        return SAMState(
            output=(self.output_size,),
            controller=self.controller_state_shape,
            reads=(r, m),
            memory=(n, m),
            row_norms=(n,),
            last_access=(n,),
            read_weights=(r, k),
            read_rows=(r, k),
            write_weights=(1, r * k + 1),
            write_rows=(1, r * k + 1),
            time=(1,),
        )

    def build(self, input_shape):
        self.build_controller(input_shape)
        self.build_interface(sum(self.interface_sizes))
        self.build_output_projection(1)

    def interface_parameters(self, hidden):
        """`{name: tensor}` for the names of `INTERFACE`: `read_keys` `[B, R,
        M]`, `read_strengths` `[B, R, 1]`, `write_vector` `[B, 1, M]`, the
        gates `[B, 1]`."""
        parts = [(name, size, activation) for (name, _, activation), size
                 in zip(self.interface_parts, self.interface_sizes)]
        return self.split_interface(hidden, parts, self.interface_shapes)

    def start_step(self, inputs, state, training=None, constants=None):
        """What a step does before its memory access: the controller, the
        interface and the write weights, as a `StepStart`."""
        hidden, controller_state = self.run_controller(
            inputs, state.reads, state.controller, training,
            weights=constants.controller if constants else None,
        )
        interface = self.interface_parameters(hidden)
        previous_read = SparseWeights(state.read_weights, _ops.cast(state.read_rows, "int32"))
        least_used = addressing.least_recently_used(state.last_access)
        write = addressing.sam_write_weights(
            previous_read, least_used, interface["write_gate"],
            interface["interpolation_gate"])
        return StepStart(hidden, controller_state, interface, state.time + 1.0,
                         previous_read, least_used, write)

    def step(self, inputs, state, training=None, constants=None):
        """One time step on a `SAMState`: `(output, new SAMState)`."""
        start = self.start_step(inputs, state, training, constants)
        access = addressing.sam_access(
            state.memory, start.write, start.interface["write_vector"], start.least_used,
            start.interface["read_keys"], start.interface["read_strengths"],
            self.num_reads_per_head, row_norms=state.row_norms)
        return self.end_step(start, state, access, SAMState)

    def end_step(self, start, state, access, state_class, **fields):
        """The output and the new state (a `state_class`, with `fields` beside
        the `SAMState` ones) after a step's memory access: `start` the
        `StepStart`, `access` a `SAMAccess` (or any result with its
        fields). Every row the write or the reads accessed gets the step's
        time as its last access (one scatter)."""
        batch = keras.ops.shape(state.last_access)[0]
        write, read = start.write, access.read_weights
        accessed = SparseWeights(*(
            _ops.concatenate([_ops.reshape(a, (batch, -1)), _ops.reshape(b, (batch, -1))], -1)
            for a, b in zip(write, read)))
        output = self.read_out(start.hidden, access.read_words)
        dtype = state.memory.dtype
        return output, state_class(
            output=output,
            controller=start.controller_state,
            reads=access.read_words,
            memory=access.memory,
            row_norms=access.row_norms,
            last_access=addressing.touch(state.last_access, accessed, start.time[:, 0]),
            read_weights=_ops.cast(read.weights, dtype),
            read_rows=_ops.cast(read.rows, dtype),
            write_weights=_ops.cast(write.weights, dtype),
            write_rows=_ops.cast(write.rows, dtype),
            time=start.time,
            **fields,
        )

    def get_config(self):
        return {**super().get_config(), "num_reads_per_head": self.num_reads_per_head}


@keras.saving.register_keras_serializable(package="keras_memory")
class SAM(recurrent.MemoryRNN):
    """Sparse Access Memory over sequences: `RNN(SAMCell(...))`.

    Takes every `SAMCell` argument and the usual `keras.layers.RNN` ones
    (`return_sequences`, `return_state`, `go_backwards`, `stateful`,
    `unroll`, `zero_output_for_mask`), on the shared recurrent core.

    Examples:
        >>> import numpy as np
        >>> layer = SAM(memory_size=256, memory_dim=8, controller_size=16,
        ...             return_sequences=True)
        >>> tuple(layer(np.zeros((2, 7, 5), "float32")).shape)
        (2, 7, 5)
    """

    cell_class = SAMCell
    cell_name = "sam_cell"
