"""`ProductKeyMemory`: the layer checks, what it reads, the gate, errors."""

import keras
import numpy as np
import pytest
from gradients import weight_gradients
from keras import ops
from layer_checks import run_layer_test, to_numpy

import keras_memory as km
from keras_memory import addressing

SMALL = dict(memory_size=16, num_heads=2, top_k=3, key_dim=4)


@pytest.mark.parametrize("options, num_weights", [
    ({"value_dim": 5}, 2 + 2 + 1 + 1),  # query, query norm, sub-keys, values
    ({"query_norm": False, "gated": True}, 2 + 1 + 1 + 2 + 2),
])
def test_product_key_memory_layer_checks(tmp_path, options, num_weights):
    run_layer_test(
        km.ProductKeyMemory,
        {**SMALL, **options},
        input_shapes=[(None, 4, 6)],
        expected_output_shapes=[(3, 4, options.get("value_dim", 6))],
        tmp_path=tmp_path,
        expected_num_trainable_weights=num_weights,
    )


def test_each_token_reads_the_softmax_of_its_top_slots_summed_over_heads():
    layer = km.ProductKeyMemory(**SMALL, value_dim=5, query_norm=False)
    x = np.random.default_rng(0).normal(size=(2, 3, 6)).astype("float32")
    outputs = to_numpy(layer(x))
    tokens = x.reshape(-1, 6)
    queries = (tokens @ to_numpy(layer.query.kernel) + to_numpy(layer.query.bias))
    scores, slots = addressing.product_key_search(
        queries.reshape(-1, 2, 4), to_numpy(layer.sub_keys), 3)
    scores, slots = to_numpy(scores), to_numpy(slots)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    values = to_numpy(layer.values)
    expected = np.einsum("thk,thkv->tv", weights, values[slots]).reshape(2, 3, 5)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)


def test_the_gate_multiplies_the_read_by_silu_of_the_input():
    layer = km.ProductKeyMemory(**SMALL, gated=True)
    x = np.random.default_rng(1).normal(size=(4, 6)).astype("float32")
    outputs = to_numpy(layer(x))
    plain = km.ProductKeyMemory(**SMALL)
    plain.build((None, 6))
    for name in ("query", "query_normalization"):
        getattr(plain, name).set_weights(getattr(layer, name).get_weights())
    plain.sub_keys.assign(to_numpy(layer.sub_keys))
    plain.values.assign(to_numpy(layer.values))
    read = to_numpy(plain(x))
    gate = x @ to_numpy(layer.gate.kernel) + to_numpy(layer.gate.bias)
    gated = read * gate / (1 + np.exp(-gate))
    expected = gated @ to_numpy(layer.output_projection.kernel) + to_numpy(
        layer.output_projection.bias)
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_only_the_rows_read_get_a_gradient():
    layer = km.ProductKeyMemory(**SMALL, value_dim=3)
    x = np.random.default_rng(2).normal(size=(2, 6)).astype("float32")
    layer(x)
    _, slots = layer.read(ops.convert_to_tensor(x))
    read = set(to_numpy(slots).ravel().tolist())
    grads = dict(zip([v.path for v in layer.trainable_variables],
                     weight_gradients(layer, x)))
    values_grad = grads[layer.values.path]
    touched = set(np.flatnonzero(np.abs(values_grad).sum(-1)).tolist())
    assert touched == read


def test_masks_pass_through_and_half_precision_scores_stay_float32():
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(9, 6, mask_zero=True)(inputs)
    memory = km.ProductKeyMemory(**SMALL, dtype="mixed_float16")
    outputs = memory(embedded)
    assert memory.compute_mask(embedded, ops.ones((1, 3), "bool")) is not None
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(outputs))
    result = model.predict(np.array([[1, 2, 0]], "int32"), verbose=0)
    assert np.all(np.isfinite(result))
    weights, _ = memory.read(ops.ones((2, 6), "float16"))
    assert keras.backend.standardize_dtype(weights.dtype) == "float32"


# -- sparse value updates ---------------------------------------------------------


def test_sparse_value_updates_train_like_a_dense_table_under_sgd():
    """Rows read several times in a batch sum their gradients; the table
    takes the last step's update at the next call."""
    x = np.random.default_rng(3).normal(size=(6, 2, 6)).astype("float32")
    y = np.random.default_rng(4).normal(size=(6, 2, 3)).astype("float32")
    keras.utils.set_random_seed(5)
    dense_in = keras.Input((2, 6))
    dense_layer = km.ProductKeyMemory(**SMALL, value_dim=3)
    dense = keras.Model(dense_in, dense_layer(dense_in))
    sparse_in = keras.Input((2, 6))
    sparse_layer = km.ProductKeyMemory(**SMALL, value_dim=3, value_learning_rate=0.5,
                                       max_tokens=12)
    sparse = keras.Model(sparse_in, sparse_layer(sparse_in))
    sparse_layer.query.set_weights(dense_layer.query.get_weights())
    sparse_layer.query_normalization.set_weights(dense_layer.query_normalization.get_weights())
    sparse_layer.sub_keys.assign(to_numpy(dense_layer.sub_keys))
    sparse_layer.values.assign(to_numpy(dense_layer.values))
    for model in (dense, sparse):
        model.compile(keras.optimizers.SGD(0.5), "mse")
    before = to_numpy(dense_layer.values)
    for _ in range(3):
        dense.train_on_batch(x, y)
        sparse.train_on_batch(x, y)
    np.testing.assert_allclose(sparse.predict(x, verbose=0), dense.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(to_numpy(sparse_layer.values), to_numpy(dense_layer.values),
                               rtol=1e-4, atol=1e-6)
    assert not np.allclose(to_numpy(sparse_layer.values), before)
    assert all(w is not sparse_layer.values for w in sparse.trainable_weights)


def test_sparse_updates_touch_only_the_rows_read_and_apply_once():
    x = np.random.default_rng(6).normal(size=(2, 6)).astype("float32")
    inputs = keras.Input((6,))
    layer = km.ProductKeyMemory(**SMALL, value_dim=3, value_learning_rate=1.0,
                                max_tokens=2)
    model = keras.Model(inputs, layer(inputs))
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = to_numpy(layer.values)
    _, slots = layer.read(ops.convert_to_tensor(x))  # what the step reads
    model.train_on_batch(x, np.ones((2, 3), "float32"))
    model.predict(x, verbose=0)  # takes the pending update
    once = to_numpy(layer.values)
    model.predict(x, verbose=0)  # nothing more to take
    np.testing.assert_array_equal(to_numpy(layer.values), once)
    changed = set(np.flatnonzero(np.any(once != before, axis=-1)).tolist())
    assert changed == set(to_numpy(slots).ravel().tolist())


def test_a_saved_sparse_model_reloads_with_its_pending_update(tmp_path):
    x = np.random.default_rng(7).normal(size=(4, 6)).astype("float32")
    inputs = keras.Input((6,))
    layer = km.ProductKeyMemory(**SMALL, value_dim=3, value_learning_rate=0.3,
                                max_tokens=4)
    model = keras.Model(inputs, layer(inputs))
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, np.ones((4, 3), "float32"), epochs=2, batch_size=4, verbose=0)
    path = str(tmp_path / "sparse.keras")
    model.save(path)  # the last step's update is still pending
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


def test_a_training_step_past_max_tokens_is_refused_by_name():
    inputs = keras.Input((6,))
    layer = km.ProductKeyMemory(**SMALL, value_learning_rate=0.1, max_tokens=2)
    model = keras.Model(inputs, layer(inputs))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="`max_tokens` must cover the tokens"):
        model.train_on_batch(np.ones((3, 6), "float32"), np.ones((3, 6), "float32"))


def test_slot_usage_sums_each_slots_read_weights_over_tokens_and_heads():
    layer = km.ProductKeyMemory(**SMALL, value_dim=5)
    x = np.random.default_rng(9).normal(size=(7, 6)).astype("float32")
    usage = to_numpy(layer.slot_usage(x))
    weights, slots = (to_numpy(t) for t in layer.read(x))
    expected = np.zeros(16)
    np.add.at(expected, slots.reshape(-1), weights.reshape(-1))
    np.testing.assert_allclose(usage, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(usage.sum(), 7 * 2, rtol=1e-5)


def test_usage_statistics_of_even_and_of_one_slot_usage():
    from keras_memory.layers.product_key_memory import usage_statistics

    even = usage_statistics(np.ones(16))
    assert even["fraction_read"] == 1.0 and abs(even["kl_from_uniform"]) < 1e-12
    one = usage_statistics(np.eye(16)[3] * 5.0)
    assert one["fraction_read"] == 1 / 16
    np.testing.assert_allclose(one["kl_from_uniform"], np.log(16))
    with pytest.raises(ValueError, match="usage"):
        usage_statistics(np.zeros(16))
