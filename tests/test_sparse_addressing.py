"""`keras_memory.addressing.sparse` (Sparse Access Memory) against NumPy and
the dense content read, with float64 gradients."""

import numpy as np
import pytest
from gradients import analytic_gradients, check_gradients
from keras import ops

from keras_memory import addressing
from keras_memory.addressing import SparseWeights

B, H, N, M = 2, 3, 9, 4


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def cosine(key, memory, epsilon=1e-6):
    """`[B, H, N]` cosine of each head's key with each row."""
    dots = np.einsum("bhm,bnm->bhn", key, memory)
    norms = ((key ** 2).sum(-1)[..., None] + epsilon) * ((memory ** 2).sum(-1)[:, None] + epsilon)
    return dots / np.sqrt(norms)


def data(seed=0):
    rng = np.random.default_rng(seed)
    key = rng.normal(size=(B, H, M)).astype("float32")
    memory = rng.normal(size=(B, N, M)).astype("float32")
    strength = rng.uniform(1.0, 5.0, size=(B, H, 1)).astype("float32")
    return key, memory, strength


def test_it_reads_the_k_most_similar_rows_by_their_softmax():
    key, memory, strength = data()
    read = addressing.sparse_content_read(key, memory, strength, num_reads=3)
    scores = cosine(key, memory)
    expected_rows = np.argsort(-scores, axis=-1)[..., :3]
    np.testing.assert_array_equal(np_(read.rows), expected_rows)
    logits = strength * np.take_along_axis(scores, expected_rows, -1)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(np_(read.weights), weights / weights.sum(-1, keepdims=True),
                               rtol=1e-5, atol=1e-6)
    assert np_(read.rows).dtype == np.int32


@pytest.mark.parametrize("heads", [True, False])
def test_with_every_row_read_it_equals_the_dense_content_read(heads):
    key, memory, strength = data(1)
    if not heads:
        key, strength = key[:, 0], strength[:, 0]
    sparse = addressing.sparse_content_read(key, memory, strength, num_reads=N)
    dense = addressing.content_addressing(key, memory, strength)
    np.testing.assert_allclose(np_(addressing.dense_weights(sparse, N)), np_(dense),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np_(addressing.sparse_read(memory, sparse)),
                               np_(addressing.read(memory, dense)), rtol=1e-5, atol=1e-6)


def test_zero_memory_and_zero_keys_read_evenly_without_nan():
    memory = np.zeros((B, N, M), "float32")
    key = np.zeros((B, H, M), "float32")
    read = addressing.sparse_content_read(key, memory, np.ones((B, H, 1), "float32"), 4)
    np.testing.assert_allclose(np_(read.weights), 0.25)
    np.testing.assert_array_equal(np.sort(np_(read.rows), -1), np_(read.rows))
    assert np.all(np.isfinite(np_(addressing.sparse_read(memory, read))))
    grads = analytic_gradients(
        lambda k, m: ops.sum(addressing.sparse_read(
            m, addressing.sparse_content_read(k, m, ops.ones((B, H, 1), "float64"), 4))),
        [key.astype("float64"), memory.astype("float64")])
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_gradients_match_finite_differences_and_reach_only_the_rows_read():
    key, memory, strength = (a.astype("float64") for a in data(2))

    def loss(k, m, s):
        read = addressing.sparse_content_read(k, m, s, num_reads=3)
        return ops.sum(addressing.sparse_read(m, read) * ops.cos(ops.arange(M, dtype="float64")))

    check_gradients(loss, [key, memory, strength], rtol=1e-4, atol=1e-7)
    _, memory_grad, _ = analytic_gradients(loss, [key, memory, strength])
    rows = np_(addressing.sparse_content_read(key, memory, strength, 3).rows)
    read = np.zeros((B, N), bool)
    for b in range(B):
        read[b, rows[b].reshape(-1)] = True
    assert np.all(memory_grad[~read] == 0) and np.all(np.abs(memory_grad[read]).sum(-1) > 0)


def test_sparse_read_and_dense_weights_against_numpy():
    rng = np.random.default_rng(3)
    memory = rng.normal(size=(B, N, M)).astype("float32")
    rows = rng.integers(0, N, size=(B, H, 2)).astype("int32")
    rows[0, 0] = [5, 5]  # a repeated row: its weights add
    weights = rng.uniform(size=(B, H, 2)).astype("float32")
    sparse = SparseWeights(weights, rows)
    expected = np.einsum("bhk,bhkm->bhm", weights, memory[np.arange(B)[:, None, None], rows])
    np.testing.assert_allclose(np_(addressing.sparse_read(memory, sparse)), expected,
                               rtol=1e-6)
    dense = np_(addressing.dense_weights(sparse, N))
    assert dense.shape == (B, H, N)
    np.testing.assert_allclose(dense[0, 0, 5], weights[0, 0].sum(), rtol=1e-6)
    np.testing.assert_allclose(np.einsum("bhn,bnm->bhm", dense, memory), expected, rtol=1e-5)


def test_the_least_recently_used_row_is_the_oldest_and_the_lowest_on_ties():
    last_access = np.array([[3.0, 1.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]], "float32")
    np.testing.assert_array_equal(np_(addressing.least_recently_used(last_access)), [1, 0])


def test_write_weights_interpolate_the_last_reads_and_the_least_used_row():
    previous = SparseWeights(np.array([[[0.6, 0.4], [1.0, 0.0]]], "float32"),
                             np.array([[[2, 5], [7, 2]]], "int32"))
    write = addressing.sam_write_weights(previous, np.array([4]), np.array([[0.5]]),
                                         np.array([[0.8]]))
    np.testing.assert_array_equal(np_(write.rows), [[[2, 5, 7, 2, 4]]])
    np.testing.assert_allclose(np_(write.weights),
                               [[[0.5 * 0.8 * 0.3, 0.5 * 0.8 * 0.2, 0.5 * 0.8 * 0.5, 0.0,
                                  0.5 * 0.2]]], rtol=1e-6)
    dense = np_(addressing.dense_weights(write, 9))[0, 0]
    np.testing.assert_allclose(dense.sum(), 0.5, rtol=1e-6)  # the write gate's total


def reference_write(memory, weights, rows, add, erase_rows):
    new = memory.copy()
    for b in range(memory.shape[0]):
        new[b, erase_rows[b]] = 0.0
        for w in range(rows.shape[1]):
            for k in range(rows.shape[2]):
                new[b, rows[b, w, k]] += weights[b, w, k] * add[b, w]
    return new


def test_a_write_erases_the_least_used_row_then_adds_and_leaves_the_rest():
    rng = np.random.default_rng(4)
    memory = rng.normal(size=(B, N, M)).astype("float32")
    rows = np.array([[[1, 4, 1]], [[0, 3, 8]]], "int32")  # row 1 twice; 8 also erased
    weights = rng.uniform(size=(B, 1, 3)).astype("float32")
    add = rng.normal(size=(B, 1, M)).astype("float32")
    erase_rows = np.array([6, 8])
    new = np_(addressing.sparse_write(memory, SparseWeights(weights, rows), add, erase_rows))
    np.testing.assert_allclose(new, reference_write(memory, weights, rows, add, erase_rows),
                               rtol=1e-6, atol=1e-6)
    touched = np.zeros((B, N), bool)
    touched[0, [1, 4, 6]] = touched[1, [0, 3, 8]] = True
    np.testing.assert_array_equal(new[~touched], memory[~touched])


def test_write_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    memory = rng.normal(size=(B, 5, 3))
    weights = rng.uniform(size=(B, 1, 2))
    add = rng.normal(size=(B, 1, 3))
    rows = np.array([[[1, 3]], [[2, 2]]], "int32")

    def loss(m, w, a):
        new = addressing.sparse_write(m, SparseWeights(w, rows), a, np.array([3, 0]))
        return ops.sum(new * ops.sin(ops.reshape(ops.arange(30, dtype="float64"), (2, 5, 3))))

    check_gradients(loss, [memory, weights, add])


def test_touch_stamps_the_rows_accessed_above_the_threshold():
    last_access = np.array([[5.0, 1.0, 2.0, 0.0]], "float32")
    sparse = SparseWeights(np.array([[[0.9, 0.001], [0.5, 0.2]]], "float32"),
                           np.array([[[3, 0], [3, 1]]], "int32"))
    new = np_(addressing.touch(last_access, sparse, np.array([7.0])))
    np.testing.assert_array_equal(new, [[5.0, 7.0, 2.0, 7.0]])
    # A row accessed twice, once below the threshold, once above: stamped,
    # whichever comes first.
    for order in ([2, 2, 1], [1, 2, 2]):
        weights = [0.5, 0.001, 0.001] if order[0] == 2 else [0.001, 0.001, 0.5]
        sparse = SparseWeights(np.array([[weights]], "float32"), np.array([[order]], "int32"))
        new = np_(addressing.touch(last_access, sparse, np.array([7.0])))
        np.testing.assert_array_equal(new, [[5.0, 1.0, 7.0, 0.0]])


@pytest.mark.parametrize("call, fragment", [
    (lambda: addressing.sparse_content_read(np.ones((1, 2)), np.ones((1, 3, 2)),
                                            np.ones((1, 1)), num_reads=4),
     "num_reads"),
    (lambda: addressing.sparse_content_read(np.ones((1, 2)), np.ones((3, 2)),
                                            np.ones((1, 1)), num_reads=1),
     "memory"),
    (lambda: addressing.least_recently_used(np.ones(3)), "last_access"),
    (lambda: addressing.sam_access(
        np.ones((1, 3, 2)), SparseWeights(np.ones((1, 1, 1)), np.zeros((1, 1, 1), "int32")),
        np.ones((1, 1, 2)), np.zeros(1, "int32"), np.ones((1, 1, 2)), np.ones((1, 1, 1)), 1,
        row_norms=np.ones((1, 4))), "row_norms"),
])
def test_bad_arguments_are_refused_by_name(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_equal_scores_at_the_kth_place_go_to_the_lowest_rows_on_every_backend():
    memory = np.zeros((2, 1000, 3), "float32")
    memory[0, 500] = [1.0, 0.0, 0.0]
    memory[1, [7, 900]] = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    key = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], "float32")
    read = addressing.sparse_content_read(key, memory, np.ones((2, 1), "float32"), 4)
    # Row 500 (900) first; then the zero rows 0, 1, 2, whose similarity 0
    # ties with hundreds of others (row 7's is 0 too).
    np.testing.assert_array_equal(np_(read.rows), [[500, 0, 1, 2], [900, 0, 1, 2]])


def sam_step(seed=6, dtype="float64"):
    """A step whose write and reads meet: rows 1 and 4 written and read
    again (the keys are their contents), row 6 erased and written."""
    rng = np.random.default_rng(seed)
    memory = rng.normal(size=(B, N, M))
    rows = np.array([[[1, 4, 6]], [[0, 3, 8]]], "int32")
    erase_rows = np.array([6, 8])
    weights = rng.uniform(size=(B, 1, 3))
    add = rng.normal(size=(B, 1, M))
    keys = np.stack([memory[0, [1, 4, 2]], memory[1, [3, 0, 5]]]) + 0.1 * rng.normal(
        size=(B, H, M))
    strengths = rng.uniform(1.0, 3.0, size=(B, H, 1))
    floats = [np.asarray(a, dtype) for a in (memory, weights, add, keys, strengths)]
    return floats, rows, erase_rows


def _sam_outputs(access):
    """One number from everything a step returns (reads, memory, weights)."""
    words, memory, read = access.read_words, access.memory, access.read_weights
    shape = ops.shape(memory)
    waves = ops.sin(ops.reshape(ops.arange(shape[0] * shape[1] * shape[2], dtype=memory.dtype),
                                shape))
    return (ops.sum(ops.square(words)) + ops.sum(memory * waves)
            + ops.sum(read.weights * ops.cast(read.rows, read.weights.dtype)))


@pytest.mark.parametrize("norms_given", [False, True])
def test_sam_access_is_a_write_then_a_sparse_read_in_values_and_gradients(norms_given):
    """The one-step function (on jax and tensorflow, its own in-place
    gradient) against the three functions it stands for, autodiff through
    them; with the rows' squared norms given (only the written rows' are
    computed anew) or not."""
    (memory, weights, add, keys, strengths), rows, erase_rows = sam_step(dtype="float32")
    norms = (memory ** 2).sum(-1) if norms_given else None

    def fused(m, w, a, k, s):
        return addressing.sam_access(m, SparseWeights(w, rows), a, erase_rows, k, s, 2,
                                     row_norms=norms)

    def composed(m, w, a, k, s):
        new = addressing.sparse_write(m, SparseWeights(w, rows), a, erase_rows)
        read = addressing.sparse_content_read(k, new, s, 2)
        return addressing.SAMAccess(addressing.sparse_read(new, read), new, read,
                                    ops.sum(new * new, axis=-1))

    args = [memory, weights, add, keys, strengths]
    one, three = fused(*args), composed(*args)
    np.testing.assert_array_equal(np_(one.read_weights.rows), np_(three.read_weights.rows))
    assert set(np_(one.read_weights.rows)[0].ravel()) & {1, 4}  # reads the rows written
    for a, b in zip((one.read_words, one.memory, one.read_weights.weights, one.row_norms),
                    (three.read_words, three.memory, three.read_weights.weights,
                     three.row_norms)):
        np.testing.assert_allclose(np_(a), np_(b), rtol=1e-6, atol=1e-6)
    expected = analytic_gradients(lambda *a: _sam_outputs(composed(*a)), args)
    for name, got, want in zip(("memory", "weights", "add", "keys", "strengths"),
                               analytic_gradients(lambda *a: _sam_outputs(fused(*a)), args),
                               expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=name)


def test_sam_access_gradients_match_finite_differences():
    floats, rows, erase_rows = sam_step()

    def loss(m, w, a, k, s):
        return _sam_outputs(addressing.sam_access(m, SparseWeights(w, rows), a, erase_rows,
                                                  k, s, 2))

    check_gradients(loss, floats)
