"""`keras_memory.addressing.hashed_lookup` and `ema_write` against NumPy."""

import numpy as np
import pytest
from gradients import analytic_gradients, float64
from keras import ops

from keras_memory import addressing


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def test_bucket_ids_are_the_sign_bits_of_each_tables_projections():
    rng = np.random.default_rng(0)
    keys = rng.normal(size=(7, 5)).astype("float32")
    projections = rng.normal(size=(3, 4, 5)).astype("float32")
    ids = np_(addressing.hashed_lookup(keys, projections))
    bits = np.einsum("bd,tkd->btk", keys, projections) > 0
    np.testing.assert_array_equal(ids, (bits * 2 ** np.arange(4)).sum(-1))
    assert ids.dtype == np.int32 and ids.min() >= 0 and ids.max() < 16


def test_keys_at_a_small_angle_share_buckets_more_often_than_random_ones():
    rng = np.random.default_rng(1)
    keys = rng.normal(size=(200, 16)).astype("float32")
    near = keys + 0.05 * rng.normal(size=keys.shape).astype("float32")
    other = rng.normal(size=keys.shape).astype("float32")
    projections = rng.normal(size=(4, 6, 16)).astype("float32")

    def shared(a, b):
        return np.mean(np_(addressing.hashed_lookup(a, projections))
                       == np_(addressing.hashed_lookup(b, projections)))

    assert shared(keys, near) > 0.8 > 0.1 > shared(keys, other)


def reference_write(slots, buckets, values, decay):
    new = slots.copy()
    for table in range(slots.shape[0]):
        for bucket in np.unique(buckets[:, table]):
            hit = buckets[:, table] == bucket
            new[table, bucket] = decay * slots[table, bucket] + (1 - decay) * values[hit].mean(0)
    return new


def test_ema_write_moves_each_bucket_hit_once_towards_the_mean_of_its_writes():
    rng = np.random.default_rng(2)
    slots = rng.normal(size=(3, 8, 4)).astype("float32")
    buckets = rng.integers(0, 8, size=(10, 3)).astype("int32")  # repeats certain
    values = rng.normal(size=(10, 4)).astype("float32")
    new = np_(addressing.ema_write(slots, buckets, values, decay=0.75))
    np.testing.assert_allclose(new, reference_write(slots, buckets, values, 0.75),
                               rtol=1e-5, atol=1e-6)
    untouched = np.ones((3, 8), bool)
    for table in range(3):
        untouched[table, buckets[:, table]] = False
    np.testing.assert_array_equal(new[untouched], slots[untouched])


def test_ema_write_gradients_are_the_closed_form_ones():
    """d/d slots: `decay` on each row hit (once, however many writes), 1
    elsewhere; d/d values: `(1 - decay) / writes` to the row, per table.
    (Central differences in float64 agree only to 1e-2 here: Keras' torch
    and jax segment sums round through float32.)"""
    rng = np.random.default_rng(3)
    slots = rng.normal(size=(2, 4, 3))
    values = rng.normal(size=(5, 3))
    buckets = np.array([[0, 1], [0, 3], [2, 1], [0, 1], [3, 3]], "int32")
    weights = rng.normal(size=(2, 4, 3))

    def loss(s, v):
        new = addressing.ema_write(s, buckets, v, decay=0.6)
        return ops.sum(new * ops.convert_to_tensor(weights, dtype=new.dtype))

    with float64():
        slots_grad, values_grad = analytic_gradients(loss, [slots, values])
    want_slots, want_values = weights.copy(), np.zeros_like(values)
    for table in range(2):
        for bucket in np.unique(buckets[:, table]):
            hit = buckets[:, table] == bucket
            want_slots[table, bucket] *= 0.6
            want_values[hit] += 0.4 / hit.sum() * weights[table, bucket]
    np.testing.assert_allclose(slots_grad, want_slots, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(values_grad, want_values, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("call, message", [
    (lambda: addressing.hashed_lookup(np.zeros((2, 3)), np.zeros((2, 4, 5))), "key_dim"),
    (lambda: addressing.hashed_lookup(np.zeros((2, 3)), np.zeros((2, 31, 3))), "1 to 30 bits"),
    (lambda: addressing.ema_write(np.zeros((2, 4, 3)), np.zeros((5, 3), "int32"),
                                  np.zeros((5, 3)), 0.5), "tables"),
    (lambda: addressing.ema_write(np.zeros((2, 4, 3)), np.zeros((5, 2), "int32"),
                                  np.zeros((4, 3)), 0.5), "the batch of buckets"),
    (lambda: addressing.ema_write(np.zeros((2, 4, 3)), np.zeros((5, 2), "int32"),
                                  np.zeros((5, 3)), 1.0), "decay"),
])
def test_bad_arguments_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()
