"""`keras_memory.addressing.sparse_links` (the sparse DNC's temporal links and
`sdnc_access`) against the dense DNC functions, with float64 gradients."""

import numpy as np
import pytest
from gradients import analytic_gradients, check_gradients, native
from keras import ops

from keras_memory import addressing
from keras_memory.addressing import SparseLinks, SparseWeights

B, H, N, M, J, K = 2, 2, 7, 3, 3, 4


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def random_write(rng):
    """A one-head write of J rows (repeats allowed), weights summing below 1."""
    rows = rng.integers(0, N, (B, 1, J)).astype("int32")
    weights = rng.dirichlet(np.ones(J + 1), size=(B, 1))[..., :J].astype("float32")
    return SparseWeights(weights, rows)


def random_read(rng, k=K):
    return SparseWeights(rng.dirichlet(np.ones(k), size=(B, H)).astype("float32"),
                         rng.integers(0, N, (B, H, k)).astype("int32"))


def dense_precedence(precedence):
    return np_(addressing.dense_weights(SparseWeights(precedence.weights[:, None],
                                                      precedence.rows[:, None]), N))[:, 0]


def sparse_precedence(dense):
    """A dense `[B, N]` precedence as a sparse one of every row."""
    return SparseWeights(dense, np.tile(np.arange(N, dtype="int32"), (B, 1)))


def run_writes(steps, num_links=N, seed=0):
    """Sparse links and the dense DNC's link after the same random writes:
    `(links, precedence, dense link [B, N, N], dense precedence [B, N])`."""
    rng = np.random.default_rng(seed)
    links = addressing.empty_links(B, N, num_links)
    precedence = SparseWeights(np.zeros((B, num_links), "float32"),
                               np.zeros((B, num_links), "int32"))
    link, dense_precedence = np.zeros((B, 1, N, N), "float32"), np.zeros((B, 1, N), "float32")
    for _ in range(steps):
        write = random_write(rng)
        weights = np_(addressing.dense_weights(write, N))
        links = addressing.sparse_link_update(links, precedence, write)
        precedence = addressing.sparse_precedence_update(precedence, write)
        link = np_(addressing.link_update(link, dense_precedence, weights))
        dense_precedence = np_(addressing.precedence_update(dense_precedence, weights))
    return links, precedence, link[:, 0], dense_precedence[:, 0]


def test_with_every_link_kept_the_lists_are_the_dense_link_matrix():
    rng = np.random.default_rng(1)
    for steps in (1, 2, 6):
        links, precedence, link, dense_precedence = run_writes(steps)
        np.testing.assert_allclose(globals()["dense_precedence"](precedence),
                                   dense_precedence, atol=1e-6)
        for forward in (False, True):
            np.testing.assert_allclose(np_(addressing.dense_links(links, N, forward)), link,
                                       atol=1e-6, err_msg=f"forward={forward}")
        read = random_read(rng)
        dense_read = np_(addressing.dense_weights(read, N))
        for forward in (False, True):
            moved = addressing.dense_weights(addressing.follow_links(links, read, forward), N)
            expected = addressing.directional_read_weights(link[:, None], dense_read, forward)
            np.testing.assert_allclose(np_(moved), np_(expected)[:, :, 0], atol=1e-6)
    assert np.count_nonzero(link) > N  # the writes linked many rows


def test_each_list_keeps_its_strongest_links():
    """From no links, one write of 3 rows after a precedence of 2: every
    row keeps its K_L = 2 strongest links each way (forward, rows 3 and 6
    keep 2 of the 3 rows written)."""
    kept = SparseWeights(np.array([[0.5, 0.25]] * B, "float32"),
                         np.array([[3, 1], [6, 2]], "int32"))
    precedence = dense_precedence(kept)
    write = SparseWeights(np.array([[[0.5, 0.3, 0.15]]] * B, "float32"),
                          np.array([[[1, 4, 6]], [[0, 2, 5]]], "int32"))
    links = addressing.sparse_link_update(addressing.empty_links(B, N, 2), kept, write)
    weights = np_(addressing.dense_weights(write, N))[:, 0]
    dense = weights[:, :, None] * precedence[:, None, :] * (1 - np.eye(N))
    for b in range(B):
        for i in range(N):
            np.testing.assert_allclose(np.sort(np_(links.backward_weights)[b, i])[::-1],
                                       np.sort(dense[b, i])[::-1][:2], rtol=1e-6)
            np.testing.assert_allclose(np.sort(np_(links.forward_weights)[b, i])[::-1],
                                       np.sort(dense[b, :, i])[::-1][:2], rtol=1e-6)
    forward = np_(links.forward_rows)[0, 3][np_(links.forward_weights)[0, 3] > 0]
    assert set(forward) == {1, 4}


def test_link_gradients_equal_the_dense_links_with_every_link_kept():
    """Through a link update and the reads along it: the write weights, the
    precedence and the last reads get the dense DNC's gradients."""
    rng = np.random.default_rng(3)
    links, precedence, link, _ = run_writes(3, seed=4)
    write, read = random_write(rng), random_read(rng)
    # Every row preceding a little (a row never written has precedence 0,
    # where the sparse write has no gradient to give).
    precedence = (0.8 * dense_precedence(precedence)
                  + rng.uniform(0.01, 0.05, (B, N))).astype("float32")
    waves = ops.convert_to_tensor(np.sin(np.arange(B * H * N, dtype="float32")).reshape(B, H, N))

    def sparse(w, p, a):
        new = addressing.sparse_link_update(links, sparse_precedence(p),
                                            SparseWeights(w, write.rows))
        moved = [addressing.follow_links(new, SparseWeights(a, read.rows), forward)
                 for forward in (False, True)]
        return sum(ops.sum(addressing.dense_weights(m, N) * waves * (1 + f))
                   for f, m in enumerate(moved))

    def dense(w, p, a):
        w, p, a = (ops.convert_to_tensor(x) for x in (w, p, a))
        weights = ops.sum(w[..., None] * ops.one_hot(write.rows, N, dtype=w.dtype), axis=-2)
        new = addressing.link_update(ops.convert_to_tensor(link[:, None]), p[:, None], weights)
        last = ops.sum(a[..., None] * ops.one_hot(read.rows, N, dtype=a.dtype), axis=-2)
        return sum(ops.sum(addressing.directional_read_weights(new, last, forward)[:, :, 0]
                           * waves * (1 + f)) for f, forward in enumerate((False, True)))

    args = [write.weights, precedence, read.weights]
    np.testing.assert_allclose(np_(sparse(*args)), np_(dense(*args)), rtol=1e-5)
    for name, got, want in zip(("write", "precedence", "read"),
                               analytic_gradients(sparse, args),
                               analytic_gradients(dense, args)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_link_gradients_match_finite_differences_with_lists_cut_short():
    rng = np.random.default_rng(5)
    links, precedence, _, _ = run_writes(4, num_links=3, seed=6)
    parts = [np_(part).astype("float64") for part in links]
    write, read = random_write(rng), random_read(rng, k=2)
    rows = np_(precedence.rows)
    precedence = 0.8 * np_(precedence.weights) + rng.uniform(0.01, 0.05, rows.shape)

    def loss(w, p, a):
        links = SparseLinks(*map(native, parts))  # float64 tensors (NumPy's would be float32)
        new = addressing.sparse_link_update(links, SparseWeights(p, rows),
                                            SparseWeights(w, write.rows))
        moved = [addressing.follow_links(new, SparseWeights(a, read.rows), forward)
                 for forward in (False, True)]
        # Each entry's weight by a number of its row: empty entries add 0.
        return sum(ops.sum(m.weights * ops.sin(ops.cast(m.rows, m.weights.dtype) + 2 * f))
                   for f, m in enumerate(moved))

    check_gradients(loss, [write.weights, precedence, read.weights], rtol=1e-4, atol=1e-7)


def test_a_write_of_weight_one_leaves_no_link_into_its_row_and_no_nan():
    """`1 - w = 0`: the survival stops at its floor (`LEAST_SURVIVAL`), the
    links into the row vanish, and gradients stay finite."""
    links, precedence, _, _ = run_writes(3, seed=8)
    rows = np.array([[[2]], [[5]]], "int32")

    def loss(w):
        new = addressing.sparse_link_update(links, precedence, SparseWeights(w, rows))
        return ops.sum(addressing.dense_links(new, N)) + ops.sum(new.survival)

    new = addressing.sparse_link_update(links, precedence,
                                        SparseWeights(np.ones((B, 1, 1), "float32"), rows))
    dense = np_(addressing.dense_links(new, N))
    np.testing.assert_allclose(dense[0, :, 2], 0.0, atol=1e-20)
    np.testing.assert_allclose(dense[1, :, 5], 0.0, atol=1e-20)
    assert np.all(np.isfinite(np_(new.survival))) and np_(new.survival).min() < -60
    (grad,) = analytic_gradients(loss, [np.ones((B, 1, 1), "float32")])
    assert np.all(np.isfinite(grad))


def test_strongest_merges_repeated_rows_and_keeps_the_k_heaviest():
    sparse = SparseWeights(np.array([[[0.125, 0.25, 0.25, 0.0625, 0.375]]], "float32"),
                           np.array([[[3, 1, 3, 2, 0]]], "int32"))
    kept = addressing.strongest(sparse, 2)  # row 3 weighs 0.375 in all, as row 0 does
    np.testing.assert_allclose(np_(kept.weights), [[[0.375, 0.375]]])
    np.testing.assert_array_equal(np_(kept.rows), [[[0, 3]]])  # equal: lower row first
    few = addressing.strongest(SparseWeights(np.array([[[0.5, 0.5]]], "float32"),
                                             np.array([[[2, 2]]], "int32")), 2)
    np.testing.assert_allclose(np_(few.weights), [[[1.0, 0.0]]])  # one row: no double count


def sdnc_step(seed=7, num_reads=K, num_links=N):
    rng = np.random.default_rng(seed)
    links, precedence, link, _ = run_writes(3, num_links=num_links, seed=seed)
    memory = rng.normal(size=(B, N, M)).astype("float32")
    write = random_write(rng)
    read = random_read(rng, num_reads)
    keys = rng.normal(size=(B, H, M)).astype("float32")
    strengths = rng.uniform(1.0, 3.0, size=(B, H, 1)).astype("float32")
    modes = rng.dirichlet(np.ones(3), size=(B, H)).astype("float32")
    add = rng.normal(size=(B, 1, M)).astype("float32")
    erase = write.rows[:, 0, 0]
    args = dict(memory=memory, links=links, precedence=precedence, previous_read=read,
                write=write, add=add, erase_rows=erase, read_keys=keys,
                read_strengths=strengths, read_modes=modes)
    return args, link


def test_sdnc_access_with_everything_kept_reads_as_the_dense_dnc():
    args, link = sdnc_step(num_reads=N)
    access = addressing.sdnc_access(**args, num_reads=N)
    memory = addressing.sparse_write(args["memory"], args["write"], args["add"],
                                     args["erase_rows"])
    write = np_(addressing.dense_weights(args["write"], N))
    new_link = addressing.link_update(link[:, None],
                                      dense_precedence(args["precedence"])[:, None], write)
    last = np_(addressing.dense_weights(args["previous_read"], N))
    modes = args["read_modes"]
    expected = (modes[..., 0:1] * np_(addressing.directional_read_weights(new_link, last,
                                                                          False))[:, :, 0]
                + modes[..., 1:2] * np_(addressing.directional_read_weights(new_link, last,
                                                                            True))[:, :, 0]
                + modes[..., 2:] * np_(addressing.content_addressing(
                    args["read_keys"], memory, args["read_strengths"])))
    np.testing.assert_allclose(np_(addressing.dense_weights(access.read_weights, N)), expected,
                               atol=1e-6)
    np.testing.assert_allclose(np_(access.read_words), np_(addressing.read(memory, expected)),
                               atol=1e-5)
    np.testing.assert_allclose(np_(access.memory), np_(memory), atol=1e-6)
    np.testing.assert_allclose(np_(addressing.dense_links(access.links, N)),
                               np_(new_link)[:, 0], atol=1e-6)


def test_sdnc_access_keeps_k_rows_a_head_by_weight():
    args, _ = sdnc_step(num_reads=2, num_links=3)
    read = addressing.sdnc_access(**args, num_reads=2).read_weights
    weights = np_(read.weights)
    assert weights.shape == (B, H, 2)
    assert np.all(weights[..., 0] >= weights[..., 1]) and np.all(weights.sum(-1) <= 1 + 1e-6)
    assert np.all(np.isfinite(weights))


@pytest.mark.parametrize("call, fragment", [
    (lambda: addressing.sparse_link_update(
        addressing.empty_links(1, 3, 4), SparseWeights(np.zeros((1, 3)), np.zeros((1, 3))),
        SparseWeights(np.ones((1, 1, 1)), np.zeros((1, 1, 1), "int32"))), "at most N = 3"),
    (lambda: addressing.sparse_link_update(
        addressing.empty_links(1, 3, 2)._replace(backward_weights=np.zeros((1, 3, 1))),
        SparseWeights(np.zeros((1, 3)), np.zeros((1, 3))),
        SparseWeights(np.ones((1, 1, 1)), np.zeros((1, 1, 1), "int32"))),
     "links.backward_weights"),
    (lambda: addressing.sdnc_access(**{**sdnc_step()[0], "read_modes": np.ones((B, H, 2))},
                                    num_reads=2), "read_modes"),
])
def test_bad_arguments_are_refused_by_name(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()
