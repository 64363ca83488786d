"""`memory_transformer`: the builder, its memory blocks, causality, saving,
and that it learns the fact task; `PositionEmbedding`."""

import keras
import numpy as np
import pytest
from layer_checks import run_layer_test, to_numpy

import keras_memory as km

VOCAB, LENGTH = 24, 6
SMALL = dict(hidden_dim=16, num_heads=2, memory_size=64)
PRODUCT_KEYS = dict(top_k=4, key_dim=8)


def tokens(batch=3, seed=0):
    return np.random.default_rng(seed).integers(1, VOCAB, size=(batch, LENGTH)).astype("int32")


@pytest.mark.parametrize("memory, options, memory_class", [
    ("product_key", PRODUCT_KEYS, km.ProductKeyMemory),
    ("hashed", dict(num_tables=2), km.HashedMemory),
    ("dense", {}, keras.Sequential),
])
def test_each_memory_sits_in_its_block_and_the_others_feed_forward(memory, options,
                                                                   memory_class):
    model = km.memory_transformer(VOCAB, LENGTH, num_layers=3, memory=memory,
                                  memory_blocks=[0, 2], **SMALL, **options)
    assert model.predict(tokens(), verbose=0).shape == (3, LENGTH, VOCAB)
    for index in (0, 2):
        assert isinstance(model.get_layer(f"memory_{index}"), memory_class)
    feed_forward = model.get_layer("feed_forward_1")
    assert feed_forward.layers[0].units == 4 * 16
    if memory == "dense":
        assert model.get_layer("memory_0").layers[0].units == 64


def test_the_default_memory_block_is_the_middle_one():
    model = km.memory_transformer(VOCAB, LENGTH, num_layers=4, **SMALL, **PRODUCT_KEYS)
    names = [layer.name for layer in model.layers]
    assert "memory_2" in names and "feed_forward_1" in names and "feed_forward_2" not in names


def test_a_token_sees_only_the_tokens_before_it():
    model = km.memory_transformer(VOCAB, LENGTH, **SMALL, **PRODUCT_KEYS)
    x = tokens()
    changed = x.copy()
    changed[:, 3] = (changed[:, 3] % (VOCAB - 1)) + 1
    before, after = model.predict(x, verbose=0), model.predict(changed, verbose=0)
    np.testing.assert_allclose(before[:, :3], after[:, :3], atol=1e-5)
    assert not np.allclose(before[:, 3:], after[:, 3:], atol=1e-3)


def test_a_shared_memory_is_one_layer_read_by_every_memory_block():
    model = km.memory_transformer(VOCAB, LENGTH, num_layers=2, memory_blocks=[0, 1],
                                  shared_memory=True, **SMALL, **PRODUCT_KEYS)
    memory = model.get_layer("memory")
    assert len(memory._inbound_nodes) == 2
    values = [w for w in model.weights if w.path.endswith("values")]
    assert len(values) == 1
    unshared = km.memory_transformer(VOCAB, LENGTH, num_layers=2, memory_blocks=[0, 1],
                                     **SMALL, **PRODUCT_KEYS)
    assert len([w for w in unshared.weights if w.path.endswith("values")]) == 2


def test_saved_with_sparse_updates_it_loads_with_the_same_outputs(tmp_path):
    model = km.memory_transformer(VOCAB, LENGTH, **SMALL, **PRODUCT_KEYS,
                                  value_learning_rate=0.1, max_tokens=4 * LENGTH)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = tokens(4)
    model.fit(x, x, epochs=1, verbose=0)
    path = str(tmp_path / "transformer.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


def test_it_learns_the_facts_of_the_fact_task():
    facts = km.tasks.fact_sequences(num_subjects=8, num_relations=2, num_objects=4, seed=0)
    keras.utils.set_random_seed(0)
    model = km.memory_transformer(facts.vocab_size, 2, hidden_dim=16, num_heads=2,
                                  num_layers=1, memory_size=64, top_k=4, key_dim=8)
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(facts.inputs, facts.targets, sample_weight=facts.weights,
                        batch_size=16, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    answers = np.argmax(model.predict(facts.inputs, verbose=0)[:, 1], -1)
    assert np.mean(answers == facts.targets[:, 1]) > 0.5  # chance is 1/4


def test_position_embedding_layer_checks(tmp_path):
    run_layer_test(km.PositionEmbedding, dict(max_length=5), input_shapes=[(None, 4, 3)],
                   expected_output_shapes=[(3, 4, 3)], tmp_path=tmp_path,
                   expected_num_trainable_weights=1)


def test_position_embedding_adds_a_vector_per_position():
    layer = km.PositionEmbedding(max_length=5)
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    outputs = to_numpy(layer(x))
    np.testing.assert_allclose(outputs, x + to_numpy(layer.positions)[None, :4], rtol=1e-6)
