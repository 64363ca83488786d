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
    order = ops.argsort(rank, axis=-1)
    return (ops.take_along_axis(scores, order, axis=-1),
            ops.take_along_axis(indices, order, axis=-1))
