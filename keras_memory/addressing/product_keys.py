"""Product-key search as pure `keras.ops` functions (Lample et al., 2019).

A memory of `N = n * n` slots keeps, per head, two sets of `n` sub-keys of
half the key width. Slot `i * n + j` has the key `[c_i, c'_j]` (the
concatenation of sub-key `i` of the first set and `j` of the second), so a
query `q = [q1, q2]` scores it `q1 . c_i + q2 . c'_j`. The best `k` slots
are among the pairs of the best `k` sub-keys of each half: two searches
over `n` sub-keys and one over `k * k` sums find the exact top `k` of all
`N` slots in `O(n * D + k^2)` a query, never `O(N)`.

Shapes: B queries (any leading axes flattened by the caller), H heads,
D key width (even), n sub-keys per half, k = `top_k`.
"""

from keras import ops

from keras_memory import _validation as check
from keras_memory.addressing import _top_k


def _check_search(queries, sub_keys, top_k):
    """The sizes `(heads, key_dim, n)` after checking the arguments."""
    query_shape = check.shape_of("queries", queries)
    check.rank("queries", query_shape, 3, "([batch, heads, key_dim])")
    key_shape = check.shape_of("sub_keys", sub_keys)
    check.rank("sub_keys", key_shape, 4, "([heads, 2, n, key_dim / 2])")
    heads, halves, n, half = key_shape
    if halves != 2:
        raise ValueError(
            "`sub_keys` must hold two halves on its second axis ([heads, 2, n, "
            f"key_dim / 2]), received sub_keys with shape {tuple(key_shape)}."
        )
    check.dim("queries", query_shape, 1, heads, "heads (sub_keys' first axis)")
    check.dim("queries", query_shape, 2, 2 * half, "key_dim (twice sub_keys' last axis)")
    top_k = check.positive_int("top_k", top_k)
    if n is not None and top_k > n:
        raise ValueError(
            f"`top_k` must be at most the n = {n} sub-keys of each half, "
            f"received top_k={top_k}."
        )
    return heads, 2 * half, n, top_k


def product_key_search(queries, sub_keys, top_k):
    """The exact top `top_k` slots of a product-key memory for each query.

    Args:
        queries: `[B, H, D]`.
        sub_keys: `[H, 2, n, D / 2]`: per head, the sub-keys of the first
            and of the second half; the memory has `N = n * n` slots, slot
            `i * n + j` keyed by `[sub_keys[h, 0, i], sub_keys[h, 1, j]]`.
        top_k: int, `1 <= top_k <= n`.

    Returns:
        `(scores [B, H, top_k], indices [B, H, top_k])`: each query's best
        slots and their scores `q[:D/2] . c_i + q[D/2:] . c'_j`, by score,
        highest first; equal scores by slot index, lowest first (which of
        several slots tied at the k-th score is returned is the backend's
        top-k choice). `indices` are int32 in `[0, N)`. The scores are differentiable with respect
        to the queries and the sub-keys (through the slots chosen); the
        choice itself is not.

    Examples:
        >>> import numpy as np
        >>> queries = np.array([[[1.0, 0.0, 0.0, 1.0]]], "float32")  # B=1, H=1, D=4
        >>> sub_keys = np.eye(2, dtype="float32")[None, None].repeat(2, axis=1)
        >>> scores, indices = product_key_search(queries, sub_keys, top_k=2)
        >>> np.asarray(scores).tolist(), np.asarray(indices).tolist()
        ([[[2.0, 1.0]]], [[[1, 0]]])
    """
    heads, key_dim, n, top_k = _check_search(queries, sub_keys, top_k)
    queries = ops.convert_to_tensor(queries)
    sub_keys = ops.cast(ops.convert_to_tensor(sub_keys), queries.dtype)
    half = key_dim // 2
    # Scores of every sub-key of each half: [B, H, n] twice.
    first = ops.einsum("bhd,hnd->bhn", queries[..., :half], sub_keys[:, 0])
    second = ops.einsum("bhd,hnd->bhn", queries[..., half:], sub_keys[:, 1])
    first_scores, first_rows = _top_k.top_k(first, top_k)
    second_scores, second_rows = _top_k.top_k(second, top_k)
    # Every pair of the two shortlists: [B, H, k * k] sums and slot indices.
    sums = ops.reshape(
        first_scores[..., :, None] + second_scores[..., None, :], (-1, heads, top_k * top_k)
    )
    slots = ops.reshape(
        first_rows[..., :, None] * n + second_rows[..., None, :], (-1, heads, top_k * top_k)
    )
    scores, chosen = _top_k.top_k(sums, top_k)
    indices = ops.take_along_axis(slots, chosen, axis=-1)
    return _top_k.by_score_then_index(scores, indices)
