"""Numeric extremes: no NaN or Inf in outputs or gradients (issue: reliability).

Gradients are checked through one SGD step: a NaN or Inf gradient leaves a
NaN or Inf weight behind, on any backend.
"""

import keras
import numpy as np
import pytest
from gradients import analytic_gradients
from keras import ops
from layer_checks import to_numpy

import keras_memory as km
from keras_memory import addressing


def assert_finite(*values):
    for value in keras.tree.flatten(to_numpy(values)):
        assert np.all(np.isfinite(value)), value


def assert_finite_training_step(model, inputs, outputs):
    targets = keras.tree.map_structure(np.zeros_like, to_numpy(outputs))
    model.compile(keras.optimizers.SGD(1e-3), "mse")
    loss = model.train_on_batch(inputs, targets)
    assert np.all(np.isfinite(loss))
    for weight in model.trainable_weights:
        assert np.all(np.isfinite(ops.convert_to_numpy(weight))), weight.path


# -- addressing --------------------------------------------------------------

B, N, M = 2, 6, 4
RNG = np.random.default_rng(0)


def _address_inputs(memory, key, beta, gamma):
    return [
        key.astype("float32"),
        np.full((B, 1), beta, "float32"),
        np.full((B, 1), 0.5, "float32"),
        np.array([[0.1, 0.8, 0.1]] * B, "float32"),
        np.full((B, 1), gamma, "float32"),
        np.full((B, N), 1.0 / N, "float32"),
        memory.astype("float32"),
    ]


MEMORIES = {
    "zero memory": np.zeros((B, N, M)),
    "identical rows": np.tile(RNG.normal(size=(B, 1, M)), (1, N, 1)),
    "random": RNG.normal(size=(B, N, M)),
}
KEYS = {"zero key": np.zeros((B, M)), "random key": RNG.normal(size=(B, M))}


@pytest.mark.parametrize("memory_name", list(MEMORIES))
@pytest.mark.parametrize("key_name", list(KEYS))
@pytest.mark.parametrize("beta, gamma", [(1.0, 1.0), (1e4, 1.0), (1.0, 100.0), (1e4, 100.0)])
def test_address_is_finite_with_its_gradients(memory_name, key_name, beta, gamma):
    args = _address_inputs(MEMORIES[memory_name], KEYS[key_name], beta, gamma)
    weights = to_numpy(addressing.address(*args))
    assert_finite(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-4)
    gradients = analytic_gradients(
        lambda *a: ops.sum(addressing.address(*a) * ops.arange(N, dtype="float32")), args
    )
    assert_finite(gradients)


# -- NTM ---------------------------------------------------------------------


def small_ntm(memory_size=8, shift_range=1, **kwargs):
    return km.ntm(3, memory_size=memory_size, memory_dim=4, controller_size=8,
                  shift_range=shift_range, **kwargs)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_extreme_controller_outputs_keep_heads_finite(scale):
    head = km.NTMWriteHead()
    controller = np.full((B, 8), scale, "float32")
    memory = RNG.normal(size=(B, N, M)).astype("float32")
    previous = np.full((B, N), 1.0 / N, "float32")
    head([controller, memory, previous])
    kernel = np.full(head.kernel.shape, 1.0, "float32")  # pre-activations +-8e4
    head.kernel.assign(kernel)
    assert_finite(head([controller, memory, previous]))
    gradients = analytic_gradients(
        lambda c: ops.sum(keras.tree.flatten(head([c, memory, previous]))[0]), [controller]
    )
    assert_finite(gradients)


@pytest.mark.parametrize("length", [1, 1000])
def test_length_one_and_length_1000_sequences(length):
    model = km.ntm(3, memory_size=4, memory_dim=2, controller_size=4, controller="dense")
    inputs = RNG.uniform(size=(1, length, 3)).astype("float32")
    outputs = model(inputs)
    assert tuple(outputs.shape) == (1, length, 3)
    assert_finite(outputs)
    assert_finite_training_step(model, inputs, outputs)


def test_single_memory_slot_ntm():
    model = small_ntm(memory_size=1, shift_range=0)
    inputs = RNG.uniform(size=(2, 5, 3)).astype("float32")
    outputs = model.predict(inputs, verbose=0)
    assert_finite(outputs)
    assert_finite_training_step(model, inputs, outputs)


# -- memory networks ---------------------------------------------------------


def test_single_memory_slot_and_all_but_one_masked():
    layer = km.MemoryNetwork(memory_dim=4, num_hops=2, return_attention=True)
    query = keras.Input((6,))
    memories = keras.Input((None, 6))
    model = keras.Model([query, memories], layer([query, memories]))
    one = [RNG.normal(size=(2, 6)).astype("float32"),
           RNG.normal(size=(2, 1, 6)).astype("float32")]
    _, attention = model.predict(one, verbose=0)
    np.testing.assert_allclose(attention, 1.0, atol=1e-6)
    assert_finite_training_step(model, one, model.predict(one, verbose=0))
    many = RNG.normal(size=(2, 5, 6)).astype("float32")
    mask = np.zeros((2, 5), bool)
    mask[:, 3] = True
    output, attention = to_numpy(layer([one[0], many], memory_mask=mask))
    np.testing.assert_allclose(attention[:, :, 3], 1.0, atol=1e-6)
    assert np.all(attention[:, :, [0, 1, 2, 4]] == 0)
    assert_finite(output)


def test_every_slot_masked_gives_zero_attention_not_nan():
    layer = km.MemoryHop(4, return_attention=True)
    state, attention = to_numpy(layer(
        [np.ones((2, 4), "float32"), np.ones((2, 3, 6), "float32")],
        memory_mask=np.zeros((2, 3), bool)))
    assert np.all(attention == 0)
    np.testing.assert_allclose(state, 1.0)


def test_memn2n_with_one_sentence_and_huge_embeddings():
    model = km.memn2n(9, 3, memory_size=4, memory_dim=5)
    story = np.zeros((2, 4, 3), "int32")
    story[:, 0, :2] = [3, 4]  # one sentence, three empty slots
    inputs = {"query": np.array([[5, 6, 0]] * 2, "int32"), "stories": story}
    for weight in model.trainable_weights:
        weight.assign(np.full(weight.shape, 30.0, "float32"))  # scores ~1e7
    outputs = model.predict(inputs, verbose=0)
    assert_finite(outputs)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_policies_run_finite_with_float32_variables(policy):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        models = [
            (small_ntm(), RNG.uniform(size=(2, 6, 3)).astype("float32")),
            (km.memory_network(6, memory_dim=4, num_hops=2),
             [RNG.normal(size=(2, 6)).astype("float32"),
              RNG.normal(size=(2, 5, 6)).astype("float32")]),
            (km.memn2n(9, 3, memory_size=4, memory_dim=5),
             {"query": np.array([[5, 6, 0]] * 2, "int32"),
              "stories": np.array([[[3, 4, 0]] * 4] * 2, "int32")}),
        ]
        for model, inputs in models:
            assert all(w.dtype == "float32" for w in model.weights)
            outputs = model(inputs)
            half = "float16" if policy == "mixed_float16" else "bfloat16"
            assert keras.backend.standardize_dtype(outputs.dtype) == half
            assert_finite(ops.cast(outputs, "float32"))
            assert_finite_training_step(model, inputs, ops.cast(outputs, "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
