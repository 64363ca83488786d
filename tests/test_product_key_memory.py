"""`ProductKeyMemory`: the layer checks, what it reads, the gate, errors."""

import keras
import numpy as np
import pytest
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
    plain.sub_keys.assign(layer.sub_keys)
    plain.values.assign(layer.values)
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
    from gradients import weight_gradients

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
