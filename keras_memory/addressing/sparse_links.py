"""Sparse temporal links, the Sparse DNC's (Rae et al. 2016, "Scaling
Memory-Augmented Neural Networks with Sparse Reads and Writes", SDNC), as
pure `keras.ops` functions.

The DNC's link matrix `L [B, N, N]` (`L[i, j]`: how strongly row `i` was
written right after row `j`) is kept as lists: each row keeps its `K_L`
strongest links forward (the rows written right after it, a column of
`L`) and backward (the rows written right before it, a row of `L`),
`[B, N, K_L]` weights and row indices each. An entry of weight 0 is empty.
With `K_L = N` the lists hold `L` whole, and every function here equals
its dense counterpart (`link_update`, `directional_read_weights`).

A step rewrites the backward lists of the rows written (a scan of `N`
candidates each, the choice without gradient) and merges the written rows
into every forward list (`K_L + W` candidates a row): `O(N (K_L + W))`
a step, not `O(N^2)`, for `W` rows written. Reading follows `K_L` links
from each of the `K` rows a head read.

Shapes: B batch, N rows, H heads, K rows a head reads, K_L links a row
keeps, J rows a write touches.
"""

import collections

from keras import ops

from keras_memory import _backend
from keras_memory import _validation as check
from keras_memory.addressing import _top_k
from keras_memory.addressing.ntm import EPSILON
from keras_memory.addressing.sparse import SparseWeights
from keras_memory.addressing.sparse import gather_rows
from keras_memory.addressing.sparse import _scatter_rows
from keras_memory.addressing.sparse import dense_weights
from keras_memory.addressing.sparse import sam_access
from keras_memory.addressing.sparse import sparse_read

SparseLinks = collections.namedtuple(
    "SparseLinks", ["forward_weights", "forward_rows", "backward_weights", "backward_rows"])
SparseLinks.__doc__ = """The temporal links of a sparse DNC, `K_L` a row each way.

- forward_weights, forward_rows: `[B, N, K_L]`; for row `j`, the rows `i`
  written right after it and `L[i, j]`.
- backward_weights, backward_rows: `[B, N, K_L]`; for row `i`, the rows
  `j` it was written right after and `L[i, j]`.

Rows are int32 or floats holding integers (a cell's state holds one
dtype); an entry of weight 0 is empty, whatever its row.
"""


def empty_links(batch_size, memory_size, num_links, dtype="float32"):
    """`SparseLinks` of zeros: no row linked to any other."""
    zeros = ops.zeros((batch_size, memory_size, num_links), dtype)
    return SparseLinks(zeros, zeros, zeros, zeros)


def _check_links(links):
    """The links' shape `(B, N, K_L)`, after checking all four parts agree."""
    shape = check.shape_of("links.forward_weights", links.forward_weights)
    check.rank("links.forward_weights", shape, 3, "([batch, N, K_L])")
    for name in SparseLinks._fields[1:]:
        other = check.shape_of(f"links.{name}", getattr(links, name))
        if len(other) != 3 or any(None not in (a, b) and a != b for a, b in zip(other, shape)):
            raise ValueError(f"`links.{name}` must have the shape of links.forward_weights "
                             f"{tuple(shape)}, received {tuple(other)}.")
    if shape[1] is not None and shape[2] is not None and shape[2] > shape[1]:
        raise ValueError(f"`links` may keep at most N = {shape[1]} links a row, received "
                         f"{shape[2]}.")
    return shape


def _rows(rows):
    return ops.cast(rows, "int32")


def take_last(values, positions):
    """`values [..., X]` at `positions [..., P]` (int) along the last axis:
    `[..., P]`, differentiable in `values`. One flat gather (no
    `take_along_axis`, whose gradient XLA cannot compile in a loop of
    dynamic batch)."""
    shape = ops.shape(values)
    width = shape[-1]
    positions = _rows(positions)
    lead = ops.shape(positions)[:-1]
    count = 1
    for size in lead:
        count = count * size
    base = ops.reshape(ops.arange(count, dtype="int32") * width, tuple(lead) + (1,))
    taken = _backend.take_rows(ops.reshape(values, (-1, 1)), positions + base)
    return taken[..., 0]


def _first_occurrences(rows):
    """`[..., J]` bool: whether no earlier entry of the last axis has the row."""
    size = rows.shape[-1] or ops.shape(rows)[-1]
    same = ops.equal(rows[..., :, None], rows[..., None, :])
    earlier = ops.arange(size)[None, :] < ops.arange(size)[:, None]  # [j, j']: j' < j
    return ops.logical_not(ops.any(ops.logical_and(same, earlier), axis=-1))


def _write_rows(write, batch):
    """A one-head write as `(rows [B, J] int32, weights [B, J])`."""
    weights = ops.convert_to_tensor(write.weights)
    return (ops.reshape(_rows(write.rows), (batch, -1)), ops.reshape(weights, (batch, -1)))


def _dense_write(rows, weights, like):
    """The write weights as `[B, N]` (repeated rows add), zeros `like`."""
    return _scatter_rows(ops.zeros_like(like)[..., None], rows,
                         ops.cast(weights, like.dtype)[..., None], "add")[..., 0]


def _at(vector, rows):
    """`vector [B, N]` at `rows [B, ...]`: `[B, ...]`, differentiable."""
    return gather_rows(vector[..., None], rows)[..., 0]


def sparse_precedence_update(precedence, write):
    """`p <- (1 - sum w) p + w` for a sparse one-head write.

    Args:
        precedence: `[B, N]`.
        write: `SparseWeights` `[B, 1, J]` (or `[B, J]`).

    Returns:
        `[B, N]`.
    """
    precedence = ops.convert_to_tensor(precedence)
    check.rank("precedence", check.shape_of("precedence", precedence), 2, "([batch, N])")
    rows, weights = _write_rows(write, ops.shape(precedence)[0])
    weights = ops.cast(weights, precedence.dtype)
    total = ops.sum(weights, axis=-1, keepdims=True)
    return (1.0 - total) * precedence + _dense_write(rows, weights, precedence)


def sparse_link_update(links, precedence, write):
    """The links after a write: `L[i, j] <- (1 - w[i] - w[j]) L[i, j] + w[i]
    p[j]` (`i != j`), each list keeping its `K_L` strongest entries.

    The rows written get their backward lists anew, the strongest `K_L` of
    all `N` candidates (the choice without gradient, equal weights: the
    lower row); every forward list merges its decayed entries with the rows
    written. Every list's entries decay by the write weights at both ends.

    Args:
        links: `SparseLinks` `[B, N, K_L]`.
        precedence: `[B, N]`, the precedence before this write.
        write: `SparseWeights` `[B, 1, J]` (or `[B, J]`): one write head's
            weights, summing to at most 1.

    Returns:
        The new `SparseLinks` (rows int32).

    Examples:
        >>> import numpy as np
        >>> links = empty_links(1, 4, 2)
        >>> first = SparseWeights(np.array([[1.0]], "float32"), np.array([[2]]))
        >>> precedence = sparse_precedence_update(np.zeros((1, 4), "float32"), first)
        >>> then = SparseWeights(np.array([[1.0]], "float32"), np.array([[0]]))
        >>> links = sparse_link_update(links, precedence, then)
        >>> np.asarray(dense_links(links, 4))[0, 0].tolist()   # row 0 came after row 2
        [0.0, 0.0, 1.0, 0.0]
    """
    _, size, num_links = _check_links(links)
    size = size or ops.shape(links.forward_weights)[1]
    forward = ops.convert_to_tensor(links.forward_weights)
    dtype = forward.dtype
    backward = ops.cast(links.backward_weights, dtype)
    forward_rows, backward_rows = _rows(links.forward_rows), _rows(links.backward_rows)
    precedence = ops.cast(precedence, dtype)
    batch = ops.shape(forward)[0]
    rows, weights = _write_rows(write, batch)
    w = _dense_write(rows, weights, precedence)  # [B, N]
    written = _at(w, rows)  # [B, J]: each written row's whole weight
    first = _first_occurrences(rows)

    # Backward lists: the rows not written decay by the weight at the other
    # end (w[i] = 0) ...
    backward = backward * (1.0 - _at(w, backward_rows))
    # ... and each row written takes the strongest K_L of its whole row.
    old_weights, old_rows = gather_rows(ops.cast(links.backward_weights, dtype), rows), \
        _rows(gather_rows(ops.cast(backward_rows, dtype), rows))  # [B, J, K_L]
    columns = ops.arange(size, dtype="int32")
    held_w = ops.stop_gradient(w)
    dense_old = _scatter_rows(  # [B, J, N]: each written row's old links, dense
        ops.zeros((batch * ops.shape(rows)[1], size, 1), dtype),
        ops.reshape(old_rows, (-1, num_links)),
        ops.reshape(ops.stop_gradient(old_weights), (-1, num_links, 1)), "add")
    dense_old = ops.reshape(dense_old, (batch, -1, size))
    held_written = ops.stop_gradient(written)[..., None]
    scores = ((1.0 - held_written - held_w[:, None, :]) * dense_old
              + held_written * ops.stop_gradient(precedence)[:, None, :])
    own = ops.equal(columns[None, None, :], rows[..., None])
    chosen = _top_k.top_k_rows(ops.where(own, -1.0, scores), num_links)  # [B, J, K_L]
    kept = ops.sum(old_weights[..., None, :] * ops.cast(
        ops.equal(old_rows[..., None, :], chosen[..., None]), dtype), axis=-1)
    renewed = ((1.0 - written[..., None] - _at(w, chosen)) * kept
               + written[..., None] * _at(precedence, chosen))
    renewed = ops.where(ops.equal(chosen, rows[..., None]), 0.0, renewed)
    # Each row written once (the first of its copies), as a change added: an
    # overwriting scatter of repeated rows leaves which copy lands, and so
    # which one carries the gradient, to the backend.
    once = ops.cast(first, dtype)[..., None]
    backward = _scatter_rows(backward, rows, once * (renewed - gather_rows(backward, rows)),
                             "add")
    backward_rows = _scatter_rows(backward_rows, rows,
                                  ops.cast(once, "int32") * (chosen - old_rows), "add")

    # Forward lists: live entries decay and gain w[i] p[j] ...
    live = ops.stop_gradient(forward) > 0
    at_rows = _at(w, forward_rows)
    forward = ops.where(
        live, forward * (1.0 - at_rows - w[..., None]) + at_rows * precedence[..., None], 0.0)
    # ... and each row written that a list lacks joins it with w[i] p[j].
    present = ops.any(ops.logical_and(
        live[..., None], ops.equal(forward_rows[..., None], rows[:, None, None, :])), axis=-2)
    joins = ops.logical_and(ops.logical_and(first[:, None, :], ops.logical_not(present)),
                            ops.not_equal(rows[:, None, :], columns[None, :, None]))
    joining = ops.where(joins, written[:, None, :] * precedence[..., None], 0.0)  # [B, N, J]
    candidates = ops.concatenate([forward, joining], axis=-1)
    candidate_rows = ops.concatenate(
        [forward_rows, ops.broadcast_to(rows[:, None, :], ops.shape(joining))], axis=-1)
    chosen = _top_k.top_k_rows(ops.stop_gradient(candidates), num_links)
    return SparseLinks(take_last(candidates, chosen), take_last(candidate_rows, chosen),
                       backward, backward_rows)


def follow_links(links, read, forward):
    """A sparse read weighting moved one write along the links: `L w`
    forward, `L^T w` backward.

    Args:
        links: `SparseLinks` `[B, N, K_L]`.
        read: `SparseWeights` `[B, H, K]`, the last step's read weights.
        forward: bool.

    Returns:
        `SparseWeights` `[B, H, K * K_L]` (rows may repeat; their weights
        add).
    """
    table, table_rows = ((links.forward_weights, links.forward_rows) if forward
                         else (links.backward_weights, links.backward_rows))
    table = ops.convert_to_tensor(table)
    read_rows = _rows(read.rows)
    weights = ops.cast(read.weights, table.dtype)
    batch, heads = ops.shape(read_rows)[0], ops.shape(read_rows)[1]
    moved = weights[..., None] * gather_rows(table, read_rows)  # [B, H, K, K_L]
    rows = _rows(gather_rows(ops.cast(table_rows, table.dtype), read_rows))
    return SparseWeights(ops.reshape(moved, (batch, heads, -1)),
                         ops.reshape(rows, (batch, heads, -1)))


def strongest(sparse, k):
    """A sparse weighting with its repeated rows merged (weights added), cut
    to its `k` strongest rows: `SparseWeights` `[B, H, k]`, by weight,
    highest first (equal weights: the lower row first). The choice has no
    gradient; the weights kept do. If fewer than `k` rows are weighted, the
    rest are empty (weight 0)."""
    rows = _rows(sparse.rows)
    weights = ops.convert_to_tensor(sparse.weights)
    same = ops.equal(rows[..., :, None], rows[..., None, :])
    merged = ops.matmul(ops.cast(same, weights.dtype), weights[..., None])[..., 0]
    first = _first_occurrences(rows)
    scores = ops.where(first, ops.stop_gradient(merged), -1.0)
    chosen = _top_k.top_k_rows(scores, k)
    kept = ops.where(take_last(scores, chosen) >= 0, take_last(merged, chosen), 0.0)
    kept, kept_rows = _top_k.by_score_then_index(kept, take_last(rows, chosen))
    return SparseWeights(kept, kept_rows)


def dense_links(links, memory_size, forward=False):
    """The link matrix `L [B, N, N]` the lists stand for, from the backward
    lists (or the forward ones). `O(N^2)`: for checks and pictures."""
    if forward:  # list j holds column j of L
        columns = dense_weights(SparseWeights(links.forward_weights,
                                              _rows(links.forward_rows)), memory_size)
        return ops.transpose(columns, (0, 2, 1))
    return dense_weights(SparseWeights(links.backward_weights, _rows(links.backward_rows)),
                         memory_size)


SDNCAccess = collections.namedtuple(
    "SDNCAccess", ["read_words", "memory", "read_weights", "row_norms", "links", "precedence"])
SDNCAccess.__doc__ = """The result of one sparse DNC memory step (`sdnc_access`).

- read_words: `[B, H, M]`.
- memory: `[B, N, M]`, after the write.
- read_weights: `SparseWeights` `[B, H, K]`, by weight, highest first.
- row_norms: `[B, N]`, each row's squared norm (without gradient).
- links: `SparseLinks` `[B, N, K_L]`, after the write.
- precedence: `[B, N]`, after the write.
"""


def sdnc_access(memory, links, precedence, previous_read, write, add, erase_rows,
                read_keys, read_strengths, read_modes, num_reads, row_norms=None,
                epsilon=EPSILON):
    """One sparse DNC memory step: the SAM write, the links and precedence
    it leaves, then reads mixing backward, forward and content modes.

    In the DNC's order: the write (`sam_access`: erase `erase_rows`, add
    `write.weights ⊗ add`), the links (`sparse_link_update`) and
    precedence; then each head's read weights `read_modes[..., 0] *
    backward + read_modes[..., 1] * forward + read_modes[..., 2] * content`,
    where backward and forward follow the new links from `previous_read`
    and content is the top `num_reads` rows of the new memory; the result
    is cut to its `num_reads` strongest rows (`strongest`) and read.

    With `num_reads = N` and `K_L = N` the read weights are the dense
    DNC's for the same write weights.

    Args:
        memory: `[B, N, M]`; links: `SparseLinks` `[B, N, K_L]`;
            precedence: `[B, N]`: the last step's.
        previous_read: `SparseWeights` `[B, H, K]`, the last step's reads.
        write: `SparseWeights` `[B, 1, J]`; add: `[B, 1, M]`; erase_rows:
            `[B]` int: as `sam_access`'s.
        read_keys: `[B, H, M]`; read_strengths: `[B, H, 1]`.
        read_modes: `[B, H, 3]`, backward, forward and content, each row
            summing to 1.
        num_reads: int K, `1 <= K <= N`.
        row_norms: optional `[B, N]`, as for `sam_access`.
        epsilon: added to the squared norms.

    Returns:
        An `SDNCAccess`.
    """
    _check_links(links)
    modes_shape = check.shape_of("read_modes", read_modes)
    if len(modes_shape) != 3 or modes_shape[-1] != 3:
        raise ValueError("`read_modes` must have shape [batch, heads, 3] (backward, forward, "
                         f"content), received shape {tuple(modes_shape)}.")
    new_links = sparse_link_update(links, precedence, write)
    precedence = sparse_precedence_update(precedence, write)
    _, memory, content, row_norms = sam_access(
        memory, write, add, erase_rows, read_keys, read_strengths, num_reads,
        row_norms=row_norms, epsilon=epsilon)
    read_modes = ops.cast(read_modes, memory.dtype)
    moves = [follow_links(new_links, previous_read, forward=False),
             follow_links(new_links, previous_read, forward=True), content]
    mixed = SparseWeights(
        ops.concatenate([read_modes[..., mode:mode + 1] * ops.cast(move.weights, memory.dtype)
                         for mode, move in enumerate(moves)], axis=-1),
        ops.concatenate([_rows(move.rows) for move in moves], axis=-1))
    read = strongest(mixed, num_reads)
    return SDNCAccess(sparse_read(memory, read), memory, read, row_norms, new_links,
                      precedence)
