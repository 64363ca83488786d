"""Sparse temporal links, the Sparse DNC's (Rae et al. 2016, "Scaling
Memory-Augmented Neural Networks with Sparse Reads and Writes", SDNC), as
pure `keras.ops` functions.

The DNC's link matrix `L [B, N, N]` (`L[i, j]`: how strongly row `i` was
written right after row `j`) is kept as lists: each row keeps its `K_L`
strongest links forward (the rows written right after it, a column of
`L`) and backward (the rows written right before it, a row of `L`),
`[B, N, K_L]` weights and row indices each; the precedence keeps its `K_P`
heaviest rows. An entry of weight 0 is empty. With `K_L = K_P = N` the
lists hold `L` and the precedence whole, and every function here equals
its dense counterpart (`link_update`, `precedence_update`,
`directional_read_weights`).

A step decays every entry (`O(N K_L)` elementwise) and merges new links
into the lists of the `J` rows written and the `K_P` rows of the
precedence only: no scan of `N`, no `[N, N]` tensor. Reading follows `K_L`
links from each of the `K` rows a head read.

Shapes: B batch, N rows, H heads, K rows a head reads, K_L links a row
keeps, K_P rows the precedence keeps, J rows a write touches.
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


def _precedence(precedence):
    """A sparse precedence as `(weights [B, K_P], rows [B, K_P] int32)`,
    checked."""
    weights = ops.convert_to_tensor(precedence.weights)
    check.rank("precedence.weights", check.shape_of("precedence.weights", weights), 2,
               "([batch, K_P])")
    return weights, _rows(precedence.rows)


def sparse_precedence_update(precedence, write):
    """`p <- (1 - sum w) p + w` for a sparse one-head write, keeping the `K_P`
    heaviest rows of `p`.

    Args:
        precedence: `SparseWeights` `[B, K_P]`, how much each row was the
            last one written (`K_P = N` keeps it whole).
        write: `SparseWeights` `[B, 1, J]` (or `[B, J]`).

    Returns:
        `SparseWeights` `[B, K_P]`, by weight, highest first.
    """
    weights, rows = _precedence(precedence)
    written_rows, written = _write_rows(write, ops.shape(weights)[0])
    written = ops.cast(written, weights.dtype)
    total = ops.sum(written, axis=-1, keepdims=True)
    kept = strongest(SparseWeights(
        ops.concatenate([(1.0 - total) * weights, written], axis=-1)[:, None],
        ops.concatenate([rows, written_rows], axis=-1)[:, None]), weights.shape[-1]
        or ops.shape(weights)[-1])
    return SparseWeights(kept.weights[:, 0], kept.rows[:, 0])


def _merge(weights, rows, owners, added, added_rows, k):
    """Link lists `weights, rows [..., L]` (an entry of weight 0 is empty;
    the others have distinct rows) with `added [..., A]` at `added_rows`
    (distinct where `added` is not 0): an entry whose row is added gains
    the weight, an added row the list lacks joins it, except the list's
    own row (`owners [...]`). The `k` strongest: `(weights, rows) [..., k]`.
    """
    live = ops.stop_gradient(weights) > 0
    match = ops.logical_and(ops.equal(rows[..., :, None], added_rows[..., None, :]),
                            live[..., :, None])  # [..., L, A]
    gained = ops.where(live, weights + ops.sum(
        ops.where(match, added[..., None, :], 0.0), axis=-1), 0.0)
    joins = ops.logical_and(ops.logical_not(ops.any(match, axis=-2)),
                            ops.not_equal(added_rows, owners[..., None]))
    candidates = ops.concatenate([gained, ops.where(joins, added, 0.0)], axis=-1)
    candidate_rows = ops.concatenate([rows, added_rows], axis=-1)
    chosen = _top_k.top_k_rows(ops.stop_gradient(candidates), k)
    return take_last(candidates, chosen), take_last(candidate_rows, chosen)


def _renew(table, table_rows, rows, valid, merge):
    """`table, table_rows [B, N, L]` with the lists of `rows [B, R]` replaced
    by `merge(their weights, their rows)` where `valid [B, R]`: each as a
    change added (a row listed twice, or not valid, changes nothing more)."""
    weights = gather_rows(table, rows)
    old_rows = _rows(gather_rows(ops.cast(table_rows, table.dtype), rows))
    new_weights, new_rows = merge(weights, old_rows)
    once = ops.logical_and(valid, _first_occurrences(rows))[..., None]
    table = _scatter_rows(table, rows, ops.where(once, new_weights - weights, 0.0), "add")
    table_rows = _scatter_rows(table_rows, rows, ops.where(once, new_rows - old_rows, 0),
                               "add")
    return table, table_rows


def sparse_link_update(links, precedence, write):
    """The links after a write: `L[i, j] <- (1 - w[i] - w[j]) L[i, j] + w[i]
    p[j]` (`i != j`), each list keeping its `K_L` strongest entries.

    Every entry decays by the write weights at both ends; the rows written
    gain links back to the rows of the precedence, and the rows of the
    precedence links forward to the rows written, each list merging its
    entries with the new ones (the choice without gradient; equal weights:
    the lower row). `O(N K_L)` elementwise, and merges of `K_L + K_P` and
    `K_L + J` candidates for the `J` rows written and the `K_P` rows of
    the precedence: no scan of `N` rows, no `[N, N]` tensor.

    Args:
        links: `SparseLinks` `[B, N, K_L]`.
        precedence: `SparseWeights` `[B, K_P]`, the precedence before this
            write (`sparse_precedence_update`).
        write: `SparseWeights` `[B, 1, J]` (or `[B, J]`): one write head's
            weights, summing to at most 1.

    Returns:
        The new `SparseLinks` (rows int32).

    Examples:
        >>> import numpy as np
        >>> empty = SparseWeights(np.zeros((1, 2), "float32"), np.zeros((1, 2), "int32"))
        >>> first = SparseWeights(np.array([[1.0]], "float32"), np.array([[2]]))
        >>> precedence = sparse_precedence_update(empty, first)
        >>> then = SparseWeights(np.array([[1.0]], "float32"), np.array([[0]]))
        >>> links = sparse_link_update(empty_links(1, 4, 2), precedence, then)
        >>> np.asarray(dense_links(links, 4))[0, 0].tolist()   # row 0 came after row 2
        [0.0, 0.0, 1.0, 0.0]
    """
    _, _, num_links = _check_links(links)
    forward = ops.convert_to_tensor(links.forward_weights)
    dtype = forward.dtype
    backward = ops.cast(links.backward_weights, dtype)
    forward_rows, backward_rows = _rows(links.forward_rows), _rows(links.backward_rows)
    preceding, preceding_rows = _precedence(precedence)
    preceding = ops.cast(preceding, dtype)
    batch = ops.shape(forward)[0]
    rows, weights = _write_rows(write, batch)
    w = _dense_write(rows, weights, forward[..., 0])  # [B, N]
    written = ops.where(_first_occurrences(rows), _at(w, rows), 0.0)  # [B, J], once a row
    # The rows of the precedence that hold a weight, each once.
    live = ops.stop_gradient(preceding) > 0
    earlier_live = ops.logical_and(
        ops.equal(preceding_rows[..., :, None], preceding_rows[..., None, :]),
        ops.logical_and(live[..., None, :], ops.arange(ops.shape(live)[-1])[None, :]
                        < ops.arange(ops.shape(live)[-1])[:, None]))
    valid = ops.logical_and(live, ops.logical_not(ops.any(earlier_live, axis=-1)))
    preceding = ops.where(valid, preceding, 0.0)

    # Every entry decays by the weights at both of its ends.
    forward = ops.where(ops.stop_gradient(forward) > 0,
                        forward * (1.0 - _at(w, forward_rows) - w[..., None]), 0.0)
    backward = backward * (1.0 - _at(w, backward_rows) - w[..., None])
    # Row j of the precedence links forward to the rows i written: w[i] p[j].
    forward, forward_rows = _renew(
        forward, forward_rows, preceding_rows, valid,
        lambda old, old_rows: _merge(
            old, old_rows, preceding_rows, written[:, None, :] * preceding[..., None],
            ops.broadcast_to(rows[:, None, :], ops.shape(old_rows)[:2] + (ops.shape(rows)[1],)),
            num_links))
    # Row i written links back to the rows j of the precedence: w[i] p[j].
    backward, backward_rows = _renew(
        backward, backward_rows, rows, ops.ones_like(rows, dtype="bool"),
        lambda old, old_rows: _merge(
            old, old_rows, rows, _at(w, rows)[..., None] * preceding[:, None, :],
            ops.broadcast_to(preceding_rows[:, None, :],
                             ops.shape(old_rows)[:2] + (ops.shape(preceding_rows)[1],)),
            num_links))
    return SparseLinks(forward, forward_rows, backward, backward_rows)


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
- precedence: `SparseWeights` `[B, K_P]`, after the write.
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

    With `num_reads = N` and `K_L = K_P = N` the read weights are the dense
    DNC's for the same write weights.

    Args:
        memory: `[B, N, M]`; links: `SparseLinks` `[B, N, K_L]`;
            precedence: `SparseWeights` `[B, K_P]`: the last step's.
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
