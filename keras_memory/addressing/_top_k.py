"""Exact top-k with the choice kept out of the gradient, and one order of
equal scores on every backend (product-key search, sparse content reads)."""

from keras import ops


def top_k(scores, k):
    """`ops.top_k` with the choice kept out of the gradient: the values are
    gathered again from `scores`, so the gradient flows to the k entries."""
    _, rows = ops.top_k(ops.stop_gradient(scores), k, sorted=True)
    rows = ops.cast(rows, "int32")
    return ops.take_along_axis(scores, rows, axis=-1), rows


def by_score_then_index(scores, indices):
    """The k results reordered: score descending, then index ascending.

    Each result's rank is the number of results ahead of it (a higher score,
    or the same score and a lower index): `O(k^2)` comparisons a query, the
    same order on every backend whatever its `top_k` does with ties.
    """
    held = ops.stop_gradient(scores)
    ahead = ops.logical_or(
        held[..., None, :] > held[..., :, None],
        ops.logical_and(held[..., None, :] == held[..., :, None],
                        indices[..., None, :] < indices[..., :, None]),
    )
    rank = ops.sum(ops.cast(ahead, "int32"), axis=-1)  # [B, H, k], a permutation
    # Result i goes to place rank[i]: a k x k one-hot product, where
    # take_along_axis broadcasts with a dynamic shape that XLA (tensorflow's
    # jit_compile) cannot differentiate inside a loop.
    moves = ops.one_hot(rank, ops.shape(rank)[-1], dtype=scores.dtype)  # [..., i, place]
    return (ops.sum(moves * scores[..., None], axis=-2),
            ops.cast(ops.sum(ops.cast(moves, "int32") * indices[..., None], axis=-2),
                     indices.dtype))


def lower_first(size, dtype="float32"):
    """`[size]`: `size, size - 1, ..., 1`, a key that ranks the lower index
    higher (among equal scores)."""
    return ops.cast(size - ops.arange(size), dtype)


def top_k_rows(scores, k):
    """The indices `[..., k]` (int32) of the `k` largest `scores` over the last
    axis, equal scores by lowest index, the same on every backend; no
    gradient. Indices come in increasing order.

    `ops.top_k` alone leaves which of several equal scores at the k-th
    place it returns to the backend (torch picks others than jax and
    tensorflow). Here the rows above the k-th score are all taken, and the
    rest come from the rows equal to it, lowest first: two top-k scans of
    the scores and a sort of the k indices. Indices are exact in float32
    keys up to 2^23 rows.
    """
    held = ops.stop_gradient(scores)
    size = held.shape[-1] or ops.shape(held)[-1]
    # The k-th largest is the least of the k largest; slicing the last of a
    # sorted top-k instead made XLA sort every score (100x slower at 65,536).
    kth = ops.min(ops.top_k(held, k, sorted=False)[0], axis=-1, keepdims=True)
    # Keys: every row above the k-th score (fewer than k of them) outranks
    # every row equal to it, and among each the lower row ranks higher.
    rank = lower_first(size)  # N .. 1
    keys = ops.where(held > kth, rank + ops.cast(size, "float32"),
                     ops.where(held == kth, rank, 0.0))
    rows = ops.top_k(keys, k, sorted=False)[1]
    return ops.sort(ops.cast(rows, "int32"), axis=-1)
