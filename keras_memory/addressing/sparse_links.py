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

A write decays every link into a row it writes by `1 - w`. That decay is
kept once a row (`survival`: the log of the part of a link into the row
that the writes have left), and each entry keeps the row's survival when
it was set (its stamp): an entry's weight now is its weight then times
`exp(survival - stamp)`. A step then changes only the lists of the `J`
rows written and the `K_P` rows of the precedence, and the survival of
the rows written: `O((J + K_P) K_L)`, whatever `N`, with no `[N, N]`
tensor and no scan of `N`. Reading follows `K_L` links from each of the
`K` rows a head read.

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
    "SparseLinks", ["forward_weights", "forward_rows", "forward_stamps", "backward_weights",
                    "backward_rows", "backward_stamps", "survival"])
SparseLinks.__doc__ = """The temporal links of a sparse DNC, `K_L` a row each way.

- forward_weights, forward_rows, forward_stamps: `[B, N, K_L]`; for row
  `j`, the rows `i` written right after it and `L[i, j]` when set.
- backward_weights, backward_rows, backward_stamps: `[B, N, K_L]`; for
  row `i`, the rows `j` it was written right after and `L[i, j]` when set.
- survival: `[B, N]`, for each row the log of the part of a link into it
  that the writes since the start left (`log prod (1 - w)`, <= 0); a
  stamp is the survival of the entry's row when the entry was set, and
  the entry's weight now is its weight times `exp(survival - stamp)`.

Rows are int32 or floats holding integers (a cell's state holds one
dtype); an entry of weight 0 is empty, whatever its row.
"""

# The least a link survives one write: `log(1 - w)` is kept above log of it.
LEAST_SURVIVAL = 1e-30


def empty_links(batch_size, memory_size, num_links, dtype="float32"):
    """`SparseLinks` of zeros: no row linked to any other."""
    zeros = ops.zeros((batch_size, memory_size, num_links), dtype)
    return SparseLinks(zeros, zeros, zeros, zeros, zeros, zeros,
                       ops.zeros((batch_size, memory_size), dtype))


def _check_links(links):
    """The links' shape `(B, N, K_L)`, after checking all parts agree."""
    shape = check.shape_of("links.forward_weights", links.forward_weights)
    check.rank("links.forward_weights", shape, 3, "([batch, N, K_L])")
    for name in SparseLinks._fields[1:]:  # the shape of links.forward_weights
        check.has_shape(f"links.{name}", getattr(links, name),
                        shape[:2] if name == "survival" else shape)
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


def _first_occurrences(rows, valid=None):
    """`[..., J]` bool: whether no earlier entry of the last axis has the row
    (among the `valid` ones, and itself valid, when `valid` is given)."""
    size = rows.shape[-1] or ops.shape(rows)[-1]
    same = ops.equal(rows[..., :, None], rows[..., None, :])
    earlier = ops.arange(size)[None, :] < ops.arange(size)[:, None]  # [j, j']: j' < j
    repeated = ops.logical_and(same, earlier)
    if valid is None:
        return ops.logical_not(ops.any(repeated, axis=-1))
    repeated = ops.logical_and(repeated, valid[..., None, :])
    return ops.logical_and(valid, ops.logical_not(ops.any(repeated, axis=-1)))


def _write_rows(write, batch):
    """A one-head write as `(rows [B, J] int32, weights [B, J])`."""
    weights = ops.convert_to_tensor(write.weights)
    return (ops.reshape(_rows(write.rows), (batch, -1)), ops.reshape(weights, (batch, -1)))


def _at(vector, rows):
    """`vector [B, N]` at `rows [B, ...]`: `[B, ...]`, differentiable."""
    return gather_rows(vector[..., None], rows)[..., 0]


def _weight_at(rows, written_rows, written):
    """The write's whole weight at `rows [B, X, Y]`, from its `written [B,
    J]` at `written_rows [B, J]`: `[B, X, Y]`, no `[B, N]` tensor."""
    hit = ops.equal(rows[..., None], written_rows[:, None, None, :])
    return ops.sum(ops.where(hit, written[:, None, None, :], 0.0), axis=-1)


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


def _lists(links, forward):
    """`(weights, rows, stamps)`: the forward lists, or the backward ones."""
    if forward:
        return links.forward_weights, links.forward_rows, links.forward_stamps
    return links.backward_weights, links.backward_rows, links.backward_stamps


def _now(weights, rows, stamps, survival):
    """Entries' weights now: `weights * exp(survival[rows] - stamps)`."""
    return weights * ops.exp(_at(survival, rows) - stamps)


def _renew(tables, owners, ok, survival, new_survival, merge):
    """The lists `tables = (weights, rows, stamps) [B, N, L]` of `owners
    [B, X]` replaced where `ok [B, X]` (each row once) by `merge(their
    weights now, their rows)`, stamped with `new_survival`: each as a change
    added, so that the other rows are untouched (in place)."""
    weights, rows, stamps = tables
    old = gather_rows(weights, owners)
    old_rows = _rows(gather_rows(ops.cast(rows, weights.dtype), owners))
    old_stamps = gather_rows(stamps, owners)
    new, new_rows = merge(_now(old, old_rows, old_stamps, survival), old_rows)
    new_stamps = _at(new_survival, new_rows)
    ok = ok[..., None]
    return (_scatter_rows(weights, owners, ops.where(ok, new - old, 0.0), "add"),
            _scatter_rows(rows, owners, ops.cast(ops.where(ok, new_rows - old_rows, 0),
                                                 rows.dtype), "add"),
            _scatter_rows(stamps, owners, ops.where(ok, new_stamps - old_stamps, 0.0), "add"))


def sparse_link_update(links, precedence, write):
    """The links after a write: `L[i, j] <- (1 - w[i] - w[j]) L[i, j] + w[i]
    p[j]` (`i != j`), each list keeping its `K_L` strongest entries.

    Every link into a row written decays by `1 - w` (kept in the rows'
    survival); the lists of the rows written and of the precedence's rows
    are taken as they are now, decay by both ends' weights, and merge their
    new links: the rows written gain links back to the precedence's rows,
    the precedence's rows links forward to the rows written (the choice
    without gradient; equal weights: the lower row). `O((J + K_P) K_L)`
    a step for `J` rows written, whatever `N`.

    Args:
        links: `SparseLinks` `[B, N, K_L]`.
        precedence: `SparseWeights` `[B, K_P]`, the precedence before this
            write (`sparse_precedence_update`).
        write: `SparseWeights` `[B, 1, J]` (or `[B, J]`): one write head's
            weights, summing to at most 1.

    Returns:
        The new `SparseLinks` (rows as given: int32, or floats).

    Examples:
        >>> import numpy as np
        >>> empty = SparseWeights(np.zeros((1, 2), "float32"), np.zeros((1, 2), "int32"))
        >>> first = SparseWeights(np.array([[1.0]], "float32"), np.array([[2]]))
        >>> precedence = sparse_precedence_update(empty, first)
        >>> then = SparseWeights(np.array([[0.5]], "float32"), np.array([[0]]))
        >>> links = sparse_link_update(empty_links(1, 4, 2), precedence, then)
        >>> np.asarray(dense_links(links, 4))[0, 0].tolist()   # row 0 came after row 2
        [0.0, 0.0, 0.5, 0.0]
    """
    _, _, num_links = _check_links(links)
    forward = ops.convert_to_tensor(links.forward_weights)
    dtype = forward.dtype
    survival = ops.cast(links.survival, dtype)
    preceding, preceding_rows = _precedence(precedence)
    batch = ops.shape(forward)[0]
    rows, weights = _write_rows(write, batch)
    weights = ops.cast(weights, dtype)
    first = _first_occurrences(rows)
    total = _weight_at(rows[:, None, :], rows, weights)[:, 0]  # [B, J]: a row's whole weight
    written = ops.where(first, total, 0.0)  # each row once
    # Every link into a row written keeps 1 - w of itself.
    # `where`, not `maximum`: Keras' torch maximum computes float64 in float32.
    survived = ops.where(written < 1.0 - LEAST_SURVIVAL, 1.0 - written, LEAST_SURVIVAL)
    new_survival = _scatter_rows(survival[..., None], rows, ops.log(survived)[..., None],
                                 "add")[..., 0]
    valid = _first_occurrences(preceding_rows, ops.stop_gradient(preceding) > 0)
    preceding = ops.where(valid, ops.cast(preceding, dtype), 0.0)

    def weight_at(query):
        return _weight_at(query, rows, written)

    def link_back(now, now_rows):  # row i written: gains w[i] p[j] for the rows j before
        now = now * (1.0 - total[..., None] - weight_at(now_rows))
        return _merge(now, now_rows, rows, total[..., None] * preceding[:, None, :],
                      ops.broadcast_to(preceding_rows[:, None, :],
                                       ops.shape(now_rows)[:2] + ops.shape(preceding_rows)[1:]),
                      num_links)

    backward = _renew((ops.cast(links.backward_weights, dtype), links.backward_rows,
                       ops.cast(links.backward_stamps, dtype)),
                      rows, first, survival, new_survival, link_back)
    # The rows of the precedence link forward to the rows written (w[i] p[j]);
    # the other rows written only decay by their own weight.
    owners = ops.concatenate([preceding_rows, rows], axis=-1)
    owner_weights = ops.concatenate([preceding, ops.zeros_like(written)], axis=-1)
    ok = _first_occurrences(owners, ops.concatenate([valid, first], axis=-1))

    def link_forward(now, now_rows):  # row j: gains w[i] p[j] for the rows i written
        own = weight_at(owners[..., None])
        now = now * (1.0 - own - weight_at(now_rows))
        return _merge(now, now_rows, owners, written[:, None, :] * owner_weights[..., None],
                      ops.broadcast_to(rows[:, None, :],
                                       ops.shape(now_rows)[:2] + ops.shape(rows)[1:]),
                      num_links)

    forward = _renew((forward, links.forward_rows, ops.cast(links.forward_stamps, dtype)),
                     owners, ok, survival, new_survival, link_forward)
    return SparseLinks(*forward, *backward, new_survival)


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
    table, table_rows, stamps = _lists(links, forward)
    table = ops.convert_to_tensor(table)
    read_rows = _rows(read.rows)
    weights = ops.cast(read.weights, table.dtype)
    batch, heads = ops.shape(read_rows)[0], ops.shape(read_rows)[1]
    rows = _rows(gather_rows(ops.cast(table_rows, table.dtype), read_rows))
    now = _now(gather_rows(table, read_rows), rows,
               gather_rows(ops.cast(stamps, table.dtype), read_rows),
               ops.cast(links.survival, table.dtype))
    moved = weights[..., None] * now  # [B, H, K, K_L]
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
    weights, rows, stamps = _lists(links, forward)
    weights = ops.convert_to_tensor(weights)
    rows = _rows(rows)
    now = _now(weights, rows, ops.cast(stamps, weights.dtype),
               ops.cast(links.survival, weights.dtype))
    dense = dense_weights(SparseWeights(now, rows), memory_size)
    return ops.transpose(dense, (0, 2, 1)) if forward else dense  # list j: column j


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
    # [batch, heads, (backward, forward, content)]; the links: sparse_link_update.
    check.has_shape("read_modes", read_modes, (None, None, 3))
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
