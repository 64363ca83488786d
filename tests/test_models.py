"""The builders: memory_network, memn2n, ntm."""

import keras
import numpy as np
import pytest
from babi_data import write_task
from layer_checks import assert_all_close
from ntm_data import SMALL, B, I, sequences

import keras_memory as km
from keras_memory.datasets import babi

D, E = 6, 8  # memory network: input features, embedding width


def test_builder_shapes_and_names():
    model = km.ntm(I, **SMALL, output_size=2)
    assert model.inputs[0].shape == (None, None, I)
    out = model.predict(sequences(time=3), verbose=0)
    assert out.shape == (B, 3, 2)
    fixed = km.ntm(I, **SMALL, sequence_length=3, return_sequences=False)
    assert fixed.predict(sequences(time=3), verbose=0).shape == (B, I)


def test_builder_mask_value_skips_padded_steps():
    model = km.ntm(I, **SMALL, mask_value=-1.0)
    x = sequences(batch=2, time=4)
    padded = np.concatenate([x, -np.ones((2, 3, I), "float32")], axis=1)
    np.testing.assert_allclose(model.predict(padded, verbose=0)[:, :4],
                               model.predict(x, verbose=0), atol=1e-6)


def test_functional_model_learns_with_fit():
    keras.utils.set_random_seed(1)
    model = km.ntm(I, **SMALL, output_activation=None)
    x = sequences(batch=16, time=5)
    y = (x > 0).astype("float32")  # echo the signs of the inputs
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses


def test_padding_to_a_bucket_leaves_the_scored_outputs_unchanged():
    from keras_memory import tasks

    model = km.ntm(9, **SMALL, output_size=8)
    inputs, targets, weights = tasks.copy_sequences(3, 2, 4, seed=0)  # T = 9
    padded, _, padded_weights = tasks.copy_sequences(3, 2, 4, pad_to=15, seed=0)
    np.testing.assert_array_equal(padded[:, :9], inputs)
    short = model.predict(inputs, verbose=0)
    long = model.predict(padded, verbose=0)
    np.testing.assert_allclose(long[:, :9], short, atol=1e-6)
    assert padded_weights[:, 9:].sum() == 0


def test_builder_accepts_different_memory_counts():
    model = km.memory_network(D, memory_dim=E, num_hops=2, output_dim=3)
    assert [t.name for t in model.inputs] == ["query", "memories"]
    q = np.ones((2, D), "float32")
    for count in (1, 4, 9):
        out = model.predict({"query": q, "memories": np.ones((2, count, D), "float32")},
                            verbose=0)
        assert out.shape == (2, 3)


def test_builder_with_fixed_memory_count_rejects_other_counts():
    model = km.memory_network(D, memory_dim=E, num_hops=1, memory_size=4)
    assert model.inputs[1].shape == (None, 4, D)
    # Keras' own input check or ours, depending on the backend; both name
    # the memories input and the shape received.
    with pytest.raises(ValueError, match=r"memories.*\(2, 5, 6\)"):
        model.predict([np.ones((2, D), "float32"), np.ones((2, 5, D), "float32")],
                      verbose=0)


def test_memn2n_builder_learns_a_tiny_qa_task(tmp_path):
    write_task(tmp_path, train_count=600, test_count=200)
    train = babi.load_task(1, "train", data_dir=tmp_path)
    test = babi.load_task(1, "test", data_dir=tmp_path)
    vocabulary = babi.Vocabulary.build(train + test)
    sentence_len = babi.sentence_length(train + test)
    data = babi.vectorize(train, vocabulary, memory_size=5, sentence_len=sentence_len)
    held = babi.vectorize(test, vocabulary, memory_size=5, sentence_len=sentence_len)
    keras.utils.set_random_seed(0)
    model = km.memn2n(len(vocabulary), sentence_len, memory_size=5, memory_dim=16,
                      num_hops=2)
    model.compile(keras.optimizers.Adam(0.02),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit({"query": data["queries"], "stories": data["stories"]}, data["answers"],
              epochs=12, batch_size=32, verbose=0)
    _, accuracy = model.evaluate({"query": held["queries"], "stories": held["stories"]},
                                 held["answers"], verbose=0)
    assert accuracy > 0.95
    path = tmp_path / "memn2n.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    inputs = {"query": held["queries"][:8], "stories": held["stories"][:8]}
    assert_all_close(loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
