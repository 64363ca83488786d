"""`keras_memory.addressing.product_key_search` against brute force over all
N slots, in NumPy."""

import numpy as np
import pytest
from gradients import check_gradients
from keras import ops

from keras_memory import addressing


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def brute_force(queries, sub_keys, top_k):
    """Every slot's score, then the top k by score, ties to the lower slot."""
    half = queries.shape[-1] // 2
    first = np.einsum("bhd,hnd->bhn", queries[..., :half], sub_keys[:, 0])
    second = np.einsum("bhd,hnd->bhn", queries[..., half:], sub_keys[:, 1])
    every = (first[..., :, None] + second[..., None, :]).reshape(*first.shape[:2], -1)
    order = np.argsort(-every, axis=-1, kind="stable")[..., :top_k]
    return np.take_along_axis(every, order, axis=-1), order


@pytest.mark.parametrize("batch, heads, n, key_dim, top_k", [
    (5, 1, 4, 2, 1), (4, 2, 6, 8, 3), (3, 3, 16, 6, 16), (2, 4, 9, 4, 5),
])
def test_the_search_is_the_exact_top_k_over_all_slots(batch, heads, n, key_dim, top_k):
    rng = np.random.default_rng(batch * 100 + n)
    queries = rng.normal(size=(batch, heads, key_dim)).astype("float32")
    sub_keys = rng.normal(size=(heads, 2, n, key_dim // 2)).astype("float32")
    scores, indices = addressing.product_key_search(queries, sub_keys, top_k)
    want_scores, want_indices = brute_force(queries, sub_keys, top_k)
    np.testing.assert_allclose(np_(scores), want_scores, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np_(indices), want_indices)
    assert np_(indices).dtype == np.int32


@pytest.mark.parametrize("half_scores, expected", [
    ([1.0, 2.0, -5.0], [4, 1, 3]),  # ties (1, 0) = slot 3 and (0, 1) = slot 1
    ([2.0, 1.0, -5.0], [0, 1, 3]),  # ties (0, 1) = slot 1 and (1, 0) = slot 3
])
def test_equal_scores_come_by_slot_index_lowest_first(half_scores, expected):
    """Two slots tie at 3 below the best: whichever order a backend's top-k
    gives tied pairs (lower or higher candidate first), the result lists
    the lower slot first."""
    queries = np.array([[[1.0, 1.0]]], "float32")  # D=2, one head, n=3
    half_keys = [[score] for score in half_scores]  # sub-key i scores half_scores[i]
    sub_keys = np.array([[half_keys, half_keys]], "float32")
    scores, indices = addressing.product_key_search(queries, sub_keys, top_k=3)
    np.testing.assert_allclose(np_(scores), [[[4.0, 3.0, 3.0]]])
    np.testing.assert_array_equal(np_(indices), [[expected]])


def test_zero_queries_give_finite_scores_and_distinct_slots():
    sub_keys = np.random.default_rng(0).normal(size=(2, 2, 5, 3)).astype("float32")
    scores, indices = addressing.product_key_search(np.zeros((4, 2, 6), "float32"),
                                                    sub_keys, top_k=4)
    np.testing.assert_array_equal(np_(scores), 0.0)
    indices = np_(indices)
    assert all(len(set(row)) == 4 for row in indices.reshape(-1, 4))
    assert indices.min() >= 0 and indices.max() < 25


def test_scores_differentiate_as_the_sum_of_the_two_half_products():
    rng = np.random.default_rng(3)
    queries = rng.normal(size=(2, 2, 4))
    sub_keys = rng.normal(size=(2, 2, 5, 2))
    weights = rng.normal(size=(2, 2, 3))

    def loss(q, k):
        scores, _ = addressing.product_key_search(q, k, top_k=3)
        return ops.sum(scores * ops.convert_to_tensor(weights, dtype=scores.dtype))

    check_gradients(loss, [queries, sub_keys])


@pytest.mark.parametrize("queries_shape, keys_shape, top_k, message", [
    ((2, 1, 4), (1, 2, 3, 2), 4, r"`top_k` must be at most the n = 3"),
    ((2, 1, 4), (1, 2, 3, 3), 2, r"key_dim \(twice sub_keys' last axis\) 6"),
    ((2, 2, 4), (1, 2, 3, 2), 2, r"heads \(sub_keys' first axis\) 1"),
    ((2, 1, 4), (1, 3, 3, 2), 2, r"two halves"),
    ((2, 4), (1, 2, 3, 2), 2, r"`queries` must have rank 3"),
])
def test_bad_shapes_are_refused_by_name(queries_shape, keys_shape, top_k, message):
    with pytest.raises(ValueError, match=message):
        addressing.product_key_search(np.zeros(queries_shape, "float32"),
                                      np.zeros(keys_shape, "float32"), top_k)
