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


@pytest.mark.parametrize("length", [1, 500])
def test_length_one_and_length_500_sequences(length):
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


def test_memn2n_word_ids_outside_the_vocabulary():
    """Eager calls raise; traced calls (jax, tensorflow) read them as padding."""
    model = km.memn2n(9, 3, memory_size=4, memory_dim=5)
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    query = np.array([[5, 6, 0]] * 2, "int32")
    story = np.array([[[3, 4, 0], [2, 7, 1], [0, 0, 0], [0, 0, 0]]] * 2, "int32")
    bad = story.copy()
    bad[0, 1, 1], bad[1, 0, 0] = 9, -1  # one past the vocabulary; "-1 as padding"
    padded = np.where((bad < 0) | (bad >= 9), 0, bad)
    with pytest.raises(ValueError, match="word id (9|-1)"):
        model({"query": query, "stories": bad})
    if keras.backend.backend() == "torch":  # torch runs eagerly: predict and fit check too
        with pytest.raises(ValueError, match="vocab_size - 1 = 8"):
            model.predict({"query": query, "stories": bad}, verbose=0)
        return
    np.testing.assert_allclose(
        model.predict({"query": query, "stories": bad}, verbose=0),
        model.predict({"query": query, "stories": padded}, verbose=0), atol=1e-6)
    assert model.predict({"query": query, "stories": bad}, verbose=0).std() > 0
    model.train_on_batch({"query": query, "stories": bad}, np.array([1, 2]))
    assert_finite([w.value for w in model.weights])


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
            # The loss-scale optimizer skips a step whose gradients are not
            # finite: after a few steps, every weight must have moved.
            before = [ops.convert_to_numpy(w) for w in model.trainable_weights]
            targets = keras.tree.map_structure(
                lambda o: np.ones(o.shape, "float32"), to_numpy(outputs)
            )
            for _ in range(4):
                model.train_on_batch(inputs, targets)
            unmoved = [w.path for w, b in zip(model.trainable_weights, before)
                       if np.array_equal(ops.convert_to_numpy(w), b)]
            assert not unmoved, f"{model.name}: {unmoved} never moved"
    finally:
        keras.config.set_dtype_policy(previous)


def test_an_ntm_with_a_mixed_float16_layer_policy_trains_finite():
    # Without the global policy there is no loss scaling: a half-precision
    # backward pass that divides by a flushed zero shows up as NaN weights.
    model = km.ntm(3, memory_size=8, memory_dim=4, controller_size=8, dtype="mixed_float16")
    inputs = RNG.normal(size=(4, 5, 3)).astype("float32")
    assert_finite_training_step(model, inputs, np.zeros((4, 5, 3), "float32"))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("layer_class", [km.NTM, km.DNC])
def test_half_precision_layers_build_and_run_finite(layer_class, dtype):
    """Pure half precision, variables included, with the LSTM controller
    (the orthogonal initializer has no half-precision QR on jax and torch:
    it draws in float32)."""
    layer = layer_class(memory_size=6, memory_dim=3, controller_size=5, dtype=dtype,
                        return_sequences=True)
    outputs = layer(RNG.normal(size=(2, 4, 3)).astype("float32"))
    assert {keras.backend.standardize_dtype(w.dtype) for w in layer.weights} == {dtype}
    assert keras.backend.standardize_dtype(outputs.dtype) == dtype
    assert_finite(ops.cast(outputs, "float32"))


SMALL_RNN = dict(memory_size=4, memory_dim=3, controller_size=5)
EMPTY_BATCH = {
    "NTM": (lambda: km.NTM(**SMALL_RNN, return_sequences=True),
            np.zeros((0, 3, 4), "float32"), (0, 3, 4)),
    "DNC": (lambda: km.DNC(**SMALL_RNN), np.zeros((0, 3, 4), "float32"), (0, 4)),
    "SDNC": (lambda: km.SDNC(**SMALL_RNN, num_reads_per_head=2, num_links=2),
             np.zeros((0, 3, 4), "float32"), (0, 4)),
    "MemoryNetwork": (lambda: km.MemoryNetwork(memory_dim=4),
                      [np.zeros((0, 4), "float32"), np.zeros((0, 5, 4), "float32")], (0, 4)),
    "MemN2N": (lambda: km.MemN2N(vocab_size=10, memory_dim=4, memory_size=5),
               [np.zeros((0, 3), "int32"), np.zeros((0, 5, 3), "int32")], (0, 10)),
}


@pytest.mark.parametrize("name", sorted(EMPTY_BATCH))
def test_an_empty_batch_gives_an_empty_output(name):
    make, inputs, expected = EMPTY_BATCH[name]
    assert tuple(make()(inputs).shape) == expected


def test_an_ntm_with_return_state_on_an_empty_batch_returns_empty_states():
    layer = km.NTM(**SMALL_RNN, return_state=True)
    outputs = layer(np.zeros((0, 3, 4), "float32"))
    assert [tuple(o.shape) for o in outputs] == [(0, s) for s in [4] + layer.cell.state_size]


def test_zero_memory_slots_read_nothing_like_a_fully_masked_memory():
    query = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    layer = km.MemoryNetwork(memory_dim=4, num_hops=2)
    empty = to_numpy(layer([query, np.zeros((2, 0, 4), "float32")]))
    masked = to_numpy(layer([query, np.ones((2, 3, 4), "float32")],
                            mask=[None, np.zeros((2, 3), bool)]))
    assert_finite(empty)
    np.testing.assert_allclose(empty, masked, atol=1e-6)


@pytest.mark.parametrize("layer_class, options", [
    (km.MemoryNetwork, {"num_hops": 2}),
    (km.MemoryNetwork, {"num_hops": 2, "use_softmax": False}),
    (km.MemoryHop, {}),
])
def test_nan_in_a_masked_slot_does_not_reach_the_output(layer_class, options):
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 4)).astype("float32")
    clean = rng.normal(size=(2, 3, 4)).astype("float32")
    clean[:, 2] = 0.0
    poisoned = clean.copy()
    poisoned[:, 2] = np.nan
    mask = np.array([[True, True, False]] * 2)
    layer = layer_class(memory_dim=4, **options)
    expected = to_numpy(layer([query, clean], mask=[None, mask]))
    result = to_numpy(layer([query, poisoned], mask=[None, mask]))
    assert_finite(result)
    np.testing.assert_allclose(result, expected, atol=1e-6)


@pytest.mark.parametrize("layer_class", [km.MemoryNetwork, km.MemoryHop])
def test_integer_inputs_are_read_as_numbers(layer_class):
    rng = np.random.default_rng(0)
    query = rng.integers(-3, 3, size=(2, 4))
    memories = rng.integers(-3, 3, size=(2, 3, 4))
    layer = layer_class(memory_dim=4)
    as_floats = to_numpy(layer([query.astype("float32"), memories.astype("float32")]))
    as_ints = to_numpy(layer([query.astype("int32"), memories.astype("int32")]))
    np.testing.assert_allclose(as_ints, as_floats, atol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_memory_network_scores_beyond_float16_range_stay_finite(policy):
    # Inputs x2000: hop scores reach ~1e5, past float16's 6.5e4; the scores
    # and the softmax run in float32.
    rng = np.random.default_rng(0)
    query = (rng.normal(size=(2, 6)) * 2000).astype("float32")
    memories = (rng.normal(size=(2, 5, 6)) * 2000).astype("float32")
    keras.utils.set_random_seed(0)
    layer = km.MemoryNetwork(num_hops=3, dtype=policy, return_attention=True)
    state, attention = layer([query, memories])
    assert_finite(ops.cast(state, "float32"), ops.cast(attention, "float32"))
    np.testing.assert_allclose(to_numpy(ops.sum(ops.cast(attention, "float32"), -1)), 1.0,
                               atol=1e-2)
