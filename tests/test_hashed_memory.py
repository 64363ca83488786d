"""`HashedMemoryCell`: a recurrent memory on the `MemoryCell` base."""

import keras
import numpy as np
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
