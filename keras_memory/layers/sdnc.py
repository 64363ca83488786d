"""Sparse Differentiable Neural Computer (Rae et al. 2016, "Scaling
Memory-Augmented Neural Networks with Sparse Reads and Writes"): `SDNCCell`,
one time step for `keras.layers.RNN`, and `SDNC`, the sequence layer on the
shared recurrent core (`keras_memory.recurrent`)."""

import collections

import keras

from keras_memory import _ops
from keras_memory import _validation as check
from keras_memory import addressing
from keras_memory import recurrent
from keras_memory.addressing.sparse import SparseWeights
from keras_memory.addressing.sparse_links import SparseLinks
from keras_memory.layers import sam

SDNCState = collections.namedtuple(
    "SDNCState",
    ["output", "controller", "reads", "memory", "row_norms", "last_access",
     "precedence_weights", "precedence_rows", "forward_weights", "forward_rows",
     "forward_stamps", "backward_weights", "backward_rows", "backward_stamps", "survival",
     "read_weights", "read_rows", "write_weights", "write_rows", "read_modes", "time"],
)
SDNCState.__doc__ = """The parts of an `SDNCCell` state, with named fields.

Shapes: B batch, N `memory_size`, M `memory_dim`, R `num_read_heads`, K
`num_reads_per_head`, K_L `num_links`.

- output, controller, reads, memory, row_norms, last_access, read_weights,
  read_rows, write_weights, write_rows, time: as `SAMState`'s.
- precedence_weights, precedence_rows: `[B, K_L]`, the rows that were
  the last ones written, and how much (the `K_L` heaviest).
- forward_weights, forward_rows, forward_stamps: `[B, N, K_L]`, for each
  row the rows written right after it, the link weights and their stamps;
  backward_weights, backward_rows, backward_stamps: the rows written right
  before it; survival: `[B, N]` (`addressing.SparseLinks`: an entry's
  weight now is its weight times `exp(survival[row] - stamp)`). Rows are
  floats (exact up to 2 ** 24); an entry of weight 0 is empty.
- read_modes: `[B, R, 3]`, the last step's mix of backward, forward and
  content reads.
"""

# The interface vector: the SAM's, then each read head's modes.
INTERFACE = sam.INTERFACE + (("read_modes", lambda r, m: 3 * r, "softmax"),)


@keras.saving.register_keras_serializable(package="keras_memory")
class SDNCCell(sam.SAMCell):
    """One step of a sparse DNC, for `keras.layers.RNN`.

    A `SAMCell` whose reads also follow temporal links, as the DNC's do:
    the interface adds each read head's three read modes (a softmax over
    backward, forward and content). Each step

    - writes as the SAM does (the rows read last step or the least
      recently used one; `addressing.sam_write_weights`);
    - updates the temporal links, each row keeping its `num_links`
      strongest links forward and backward (`addressing.sparse_link_update`:
      `O(K_L)` work for each row written or preceding, whatever `N`, where
      the DNC's link matrix is `N x N`), and the precedence, its
      `num_links` heaviest rows;
    - reads, each head mixing the last step's reads moved one write back
      and forward along the links with the `num_reads_per_head` rows most
      similar to its key, cut to its `num_reads_per_head` strongest rows
      (`addressing.sdnc_access`).

    One write head. With `num_reads_per_head = num_links = memory_size`
    the reads are those the DNC's dense links and content addressing give
    for the same writes.

    Args:
        cell arguments: `memory_size`, `memory_dim`, `controller_size`,
            `num_read_heads`, `num_reads_per_head`, `output_size`,
            `controller`, `output_activation`, `kernel_initializer`,
            `kernel_regularizer`, `remat`: as for `SAMCell`.
        num_links: int K_L, `1 <= K_L <= memory_size`, the links a row keeps
            each way. Default 8.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments and returns: as for `SAMCell`, with the state a flat list
    of the `SDNCState` parts. Every sequence starts from a zero memory with
    no links.

    Examples:
        >>> cell = SDNCCell(memory_size=64, memory_dim=8, controller_size=16,
        ...                 num_reads_per_head=2, num_links=3)
        >>> cell.build((None, 5))
        >>> state = cell.unpack_state(cell.get_initial_state(batch_size=2))
        >>> tuple(state.forward_rows.shape), tuple(state.read_modes.shape)
        ((2, 64, 3), (2, 1, 3))
    """

    def __init__(
        self,
        memory_size=128, memory_dim=32, controller_size=256,
        num_read_heads=1, num_reads_per_head=4, num_links=8,
        output_size=None, controller="lstm", output_activation=None,
        kernel_initializer="glorot_uniform", kernel_regularizer=None,
        remat=False,
        **kwargs,
    ):
        super().__init__(
            memory_size, memory_dim, controller_size, num_read_heads, num_reads_per_head,
            output_size, controller, output_activation, kernel_initializer,
            kernel_regularizer, remat, **kwargs,
        )
        self.num_links = check.positive_int("num_links", num_links)
        if self.num_links > self.memory_size:
            raise ValueError(
                f"`num_links` must be at most memory_size={self.memory_size}, received "
                f"num_links={num_links}."
            )

    interface_parts = INTERFACE

    @property
    def state_shape(self):
        r, links = self.num_read_heads, (self.memory_size, self.num_links)
        shape = super().state_shape._asdict()
        return SDNCState(**shape, precedence_weights=(self.num_links,),
                         precedence_rows=(self.num_links,), forward_weights=links,
                         forward_rows=links, forward_stamps=links, backward_weights=links,
                         backward_rows=links, backward_stamps=links,
                         survival=(self.memory_size,), read_modes=(r, 3))

    @property
    def interface_shapes(self):
        """The `SAMCell`'s, and `read_modes` `[R, 3]`."""
        return {**super().interface_shapes, "read_modes": (self.num_read_heads, 3)}

    def step(self, inputs, state, training=None, constants=None):
        """One time step on an `SDNCState`: `(output, new SDNCState)`."""
        start = self.start_step(inputs, state, training, constants)
        links = SparseLinks(*(getattr(state, name) for name in SparseLinks._fields))
        precedence = SparseWeights(state.precedence_weights,
                                   _ops.cast(state.precedence_rows, "int32"))
        interface = start.interface
        access = addressing.sdnc_access(
            state.memory, links, precedence, start.previous_read, start.write,
            interface["write_vector"], start.least_used, interface["read_keys"],
            interface["read_strengths"], interface["read_modes"], self.num_reads_per_head,
            row_norms=state.row_norms)
        dtype = state.memory.dtype
        return self.end_step(
            start, state, access, SDNCState,
            precedence_weights=access.precedence.weights,
            precedence_rows=_ops.cast(access.precedence.rows, dtype),
            **{name: _ops.cast(part, dtype) for name, part in access.links._asdict().items()},
            read_modes=interface["read_modes"],
        )

    def get_config(self):
        return {**super().get_config(), "num_links": self.num_links}


@keras.saving.register_keras_serializable(package="keras_memory")
class SDNC(recurrent.MemoryRNN):
    """Sparse DNC over sequences: `RNN(SDNCCell(...))`.

    Takes every `SDNCCell` argument and the usual `keras.layers.RNN` ones
    (`return_sequences`, `return_state`, `go_backwards`, `stateful`,
    `unroll`, `zero_output_for_mask`), on the shared recurrent core.

    Examples:
        >>> import numpy as np
        >>> layer = SDNC(memory_size=256, memory_dim=8, controller_size=16,
        ...              num_links=4, return_sequences=True)
        >>> tuple(layer(np.zeros((2, 7, 5), "float32")).shape)
        (2, 7, 5)
    """

    cell_class = SDNCCell
    cell_name = "sdnc_cell"
