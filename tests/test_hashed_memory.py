"""`HashedMemoryCell` (a recurrent memory on the `MemoryCell` base) and
`HashedMemory` (a layer over learned or written slots)."""

import keras
import numpy as np
from gradients import weight_gradients
from layer_checks import run_layer_test, to_numpy

import keras_memory as km

T, I = 5, 3
SMALL = dict(num_buckets=8, value_dim=4, num_tables=2, seed=1)
STEP_MASK = np.ones((3, T), bool)
STEP_MASK[0, 3:] = False
STEP_MASK[:, 4] = False


class HashedMemory(km.MemoryRNN):
    cell_class = km.HashedMemoryCell


def test_hashed_memory_cell_layer_checks(tmp_path):
    run_layer_test(
        km.HashedMemoryCell, SMALL,
        input_shapes=[(None, T, I)],
        expected_output_shapes=[(3, T, 4)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=2,
        wrap=lambda cell: keras.layers.RNN(cell, return_sequences=True,
                                           dtype=cell.dtype_policy),
        masks=[STEP_MASK],
        nan_in_masked_slots=False,  # Keras' loop: see run_layer_test
    )


def test_on_memory_rnn_it_matches_keras_loop_under_a_mask():
    x = np.random.default_rng(0).normal(size=(3, T, I)).astype("float32")
    ours = HashedMemory(**SMALL, return_sequences=True)
    theirs = keras.layers.RNN(km.HashedMemoryCell(**SMALL), return_sequences=True)
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(to_numpy(ours(x, mask=STEP_MASK)),
                               to_numpy(theirs(x, mask=STEP_MASK)), atol=1e-6)


def test_a_step_reads_what_similar_keys_wrote_before():
    """The same input twice: the second step reads, in every table, the
    bucket the first wrote: `(1 - decay) * value`."""
    cell = km.HashedMemoryCell(**SMALL, decay=0.25)
    x = np.random.default_rng(1).normal(size=(2, 1, I)).astype("float32")
    layer = keras.layers.RNN(cell, return_sequences=True)
    outputs = to_numpy(layer(np.concatenate([x, x], axis=1)))
    np.testing.assert_allclose(outputs[:, 0], 0.0)
    value = to_numpy(cell.value(x[:, 0]))
    np.testing.assert_allclose(outputs[:, 1], 0.75 * value, rtol=1e-5, atol=1e-6)


def test_trace_records_the_buckets_and_slots():
    inputs = keras.Input((None, I))
    model = keras.Model(inputs, HashedMemory(**SMALL, return_sequences=True)(inputs))
    x = np.random.default_rng(2).normal(size=(2, T, I)).astype("float32")
    record = km.trace(model, x)
    assert record["slots"].shape == (2, T, 2, 8, 4)
    assert record["buckets"].shape == (2, T, 2)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-6)


# `HashedMemory`: the layer over learned or written slots.

LAYER = dict(num_buckets=16, value_dim=4, num_tables=3, seed=3)
TOKEN_MASK = np.ones((3, 4), bool)
TOKEN_MASK[0, 2:] = False


def test_hashed_memory_layer_checks_learned_slots(tmp_path):
    run_layer_test(
        km.HashedMemory, LAYER, input_shapes=[(None, 4, 6)],
        expected_output_shapes=[(3, 4, 4)], tmp_path=tmp_path,
        expected_num_trainable_weights=1, masks=[TOKEN_MASK],
        static_weights=("slots",),  # 12 tokens need not hit all 48 rows
    )


def test_hashed_memory_layer_checks_written_slots(tmp_path):
    run_layer_test(
        km.HashedMemory, {**LAYER, "decay": 0.5}, input_shapes=[(None, 4, 6)],
        expected_output_shapes=[(3, 4, 4)], tmp_path=tmp_path,
        expected_num_trainable_weights=2, masks=[TOKEN_MASK],
    )


def _slots_and_buckets(layer, tokens):
    buckets = to_numpy(km.addressing.hashed_lookup(tokens, to_numpy(layer.projections)))
    return to_numpy(layer.slots), buckets


def test_a_token_reads_the_mean_of_its_buckets_over_tables():
    layer = km.HashedMemory(**LAYER)
    x = np.random.default_rng(4).normal(size=(5, 6)).astype("float32")
    outputs = to_numpy(layer(x))
    slots, buckets = _slots_and_buckets(layer, x)
    expected = np.mean([slots[t, buckets[:, t]] for t in range(3)], axis=0)
    np.testing.assert_allclose(outputs, expected, rtol=1e-6)


def test_learned_slots_get_gradient_only_at_the_buckets_read():
    layer = km.HashedMemory(**LAYER)
    x = np.random.default_rng(5).normal(size=(2, 6)).astype("float32")
    layer.build(x.shape)
    (grad,) = weight_gradients(layer, x)
    _, buckets = _slots_and_buckets(layer, x)
    hit = np.zeros((3, 16), bool)
    for t in range(3):
        hit[t, buckets[:, t]] = True
    assert np.all(np.abs(grad).sum(-1)[hit] > 0)
    assert np.all(grad[~hit] == 0)


def test_written_slots_move_towards_the_tokens_values_in_training_only():
    layer = km.HashedMemory(**LAYER, decay=0.25)
    x = np.random.default_rng(6).normal(size=(1, 6)).astype("float32")
    layer.build(x.shape)
    before = to_numpy(layer.slots)
    inferred = to_numpy(layer(x, training=False))
    np.testing.assert_array_equal(to_numpy(layer.slots), before)
    trained = to_numpy(layer(x, training=True))
    slots, buckets = _slots_and_buckets(layer, x)
    value = to_numpy(layer.value(x))[0]
    for t in range(3):
        np.testing.assert_allclose(
            slots[t, buckets[0, t]], 0.25 * before[t, buckets[0, t]] + 0.75 * value,
            rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained, np.mean(slots[np.arange(3), buckets[0]], 0)[None],
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(trained, inferred)
    untouched = np.ones((3, 16), bool)
    untouched[np.arange(3), buckets[0]] = False
    np.testing.assert_array_equal(slots[untouched], before[untouched])


def test_masked_tokens_write_nothing():
    layer = km.HashedMemory(**LAYER, decay=0.25)
    x = np.random.default_rng(7).normal(size=(1, 2, 6)).astype("float32")
    x[0, 1] = np.nan
    layer.build(x.shape)
    before = to_numpy(layer.slots)
    layer(x[:, :1], training=True)
    expected = to_numpy(layer.slots)
    layer.slots.assign(before)
    layer(x, mask=np.array([[True, False]]), training=True)
    np.testing.assert_allclose(to_numpy(layer.slots), expected, rtol=1e-6)
