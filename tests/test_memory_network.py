"""MemoryHop and MemoryNetwork."""

import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import assert_all_close, run_layer_test, to_numpy

import keras_memory as km

B, N, D, E = 3, 5, 6, 4  # batch, memories, input features, memory_dim


# Slots masked out in the shared layer checks: the last two of row 0, the
# first of row 2 (batch B = 3, N = 5 slots).
SLOT_MASK = np.ones((B, N), bool)
SLOT_MASK[0, -2:] = False
SLOT_MASK[2, 0] = False


@pytest.mark.parametrize("return_attention", [False, True])
def test_memory_hop_layer_checks(tmp_path, return_attention):
    expected = [(B, E)] + ([(B, N)] if return_attention else [])
    run_layer_test(
        km.MemoryHop,
        {"memory_dim": E, "return_attention": return_attention},
        input_shapes=[(None, E), (None, N, D)],
        expected_output_shapes=expected,
        tmp_path=tmp_path,
        expected_num_trainable_weights=2,
        masks=[None, SLOT_MASK],
    )


@pytest.mark.parametrize(
    "weight_tying, output_dim, num_weights",
    [(None, 2, 2 * 3 + 2), ("adjacent", None, 3 + 1), ("layerwise", 2, 5)],
)
def test_memory_network_layer_checks(tmp_path, weight_tying, output_dim, num_weights):
    run_layer_test(
        km.MemoryNetwork,
        {
            "memory_dim": E,
            "num_hops": 3,
            "output_dim": output_dim,
            "weight_tying": weight_tying,
        },
        input_shapes=[(None, D), (None, N, D)],
        expected_output_shapes=[(B, output_dim or D)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=num_weights,
        masks=[None, SLOT_MASK],
    )


def test_memory_network_returns_attention_per_hop(tmp_path):
    run_layer_test(
        km.MemoryNetwork,
        {"memory_dim": E, "num_hops": 2, "return_attention": True},
        input_shapes=[(None, D), (None, N, D)],
        expected_output_shapes=[(B, D), (B, 2, N)],
        tmp_path=tmp_path,
    )


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_one_hop_matches_hand_computation():
    rng = np.random.default_rng(0)
    u = rng.normal(size=(2, 3)).astype("float32")
    memories = rng.normal(size=(2, 4, 2)).astype("float32")
    a = rng.normal(size=(2, 3)).astype("float32")
    c = rng.normal(size=(2, 3)).astype("float32")
    hop = km.MemoryHop(3, return_attention=True)
    hop.build([(None, 3), (None, 4, 2)])
    hop.set_weights([a, c])
    state, attention = to_numpy(hop([u, memories]))

    expected_p = _softmax(np.einsum("bd,bnd->bn", u, memories @ a))
    expected_state = u + np.einsum("bn,bnd->bd", expected_p, memories @ c)
    np.testing.assert_allclose(attention, expected_p, atol=1e-6)
    np.testing.assert_allclose(state, expected_state, atol=1e-6)


def test_tiny_hop_by_hand():
    # One memory dimension, two memories: every number can be checked on paper.
    hop = km.MemoryHop(1, return_attention=True)
    hop.build([(None, 1), (None, 2, 1)])
    hop.set_weights([np.array([[1.0]], "float32"), np.array([[2.0]], "float32")])
    u = np.array([[1.0]], "float32")
    memories = np.array([[[0.0], [np.log(3.0)]]], "float32")
    state, attention = to_numpy(hop([u, memories]))
    # scores 0 and ln 3 -> p = [1/4, 3/4]; o = 3/4 * 2 ln 3.
    np.testing.assert_allclose(attention, [[0.25, 0.75]], atol=1e-6)
    np.testing.assert_allclose(state, [[1.0 + 1.5 * np.log(3.0)]], atol=1e-6)


@pytest.mark.parametrize("unmasked", [1, 3, N])
def test_attention_sums_to_one_over_unmasked_slots(unmasked):
    rng = np.random.default_rng(unmasked)
    mask = np.zeros((B, N), bool)
    for row in range(B):
        mask[row, rng.choice(N, size=unmasked, replace=False)] = True
    net = km.MemoryNetwork(memory_dim=E, num_hops=2, return_attention=True)
    query = rng.normal(size=(B, D)).astype("float32") * 10
    memories = rng.normal(size=(B, N, D)).astype("float32") * 10
    _, attention = to_numpy(net([query, memories], memory_mask=mask))
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    assert np.all(attention[np.broadcast_to(~mask[:, None, :], attention.shape)] == 0)


def test_all_slots_masked_reads_nothing():
    hop = km.MemoryHop(E, return_attention=True)
    u = np.ones((B, E), "float32")
    memories = np.ones((B, N, D), "float32")
    state, attention = to_numpy(hop([u, memories], memory_mask=np.zeros((B, N), bool)))
    assert np.all(attention == 0)
    np.testing.assert_array_equal(state, u)


def test_masked_padding_equals_unpadded_memories():
    # A Masking layer upstream: padded slots must change nothing.
    rng = np.random.default_rng(3)
    query = keras.Input((D,))
    memories = keras.Input((None, D))
    net = km.MemoryNetwork(memory_dim=E, num_hops=2, name="net")
    model = keras.Model(
        [query, memories], net([query, keras.layers.Masking()(memories)])
    )
    q = rng.normal(size=(2, D)).astype("float32")
    m = rng.normal(size=(2, 3, D)).astype("float32")
    padded = np.concatenate([m, np.zeros((2, 4, D), "float32")], axis=1)
    assert_all_close(model([q, padded]), model([q, m]), atol=1e-6)
    # Without the mask the padding does change the answer.
    unmasked = to_numpy(net([q, padded]))
    assert not np.allclose(unmasked, to_numpy(net([q, m])), atol=1e-6)


def test_linear_start_drops_softmax():
    hop = km.MemoryHop(E, use_softmax=False, return_attention=True)
    rng = np.random.default_rng(0)
    u = rng.normal(size=(B, E)).astype("float32")
    memories = rng.normal(size=(B, N, D)).astype("float32")
    _, attention = to_numpy(hop([u, memories]))
    keys = memories @ ops.convert_to_numpy(hop.input_embedding)
    np.testing.assert_allclose(attention, np.einsum("bd,bnd->bn", u, keys), atol=1e-5)


def _weight_ids(net):
    return {id(w) for w in net.trainable_weights}


@pytest.mark.parametrize(
    "weight_tying, expected",
    [(None, 2 * 4 + 2), ("adjacent", 4 + 1), ("layerwise", 5)],
)
def test_weight_tying_counts(weight_tying, expected):
    net = km.MemoryNetwork(memory_dim=E, num_hops=4, weight_tying=weight_tying)
    net.build([(None, D), (None, N, D)])
    assert len(net.trainable_weights) == expected
    assert len(_weight_ids(net)) == expected
    assert net.count_params() == sum(
        int(np.prod(w.shape)) for w in net.trainable_weights
    )


def test_adjacent_tying_shares_output_projection_with_last_embedding():
    net = km.MemoryNetwork(memory_dim=E, num_hops=2, weight_tying="adjacent")
    rng = np.random.default_rng(0)
    q = rng.normal(size=(B, D)).astype("float32")
    m = rng.normal(size=(B, N, D)).astype("float32")
    before = to_numpy(net([q, m]))
    # Changing only the last embedding changes both C_K and W.
    last = net.memory_embeddings[-1]
    last.assign(ops.convert_to_numpy(last) * 2.0)
    assert not np.allclose(to_numpy(net([q, m])), before)
    assert [w.path.split("/")[-1] for w in net.trainable_weights] == [
        "embedding_0",
        "embedding_1",
        "embedding_2",
    ]


def test_weight_tying_round_trips_through_config():
    for mode in km.layers.hops.WEIGHT_TYING_MODES:
        net = km.MemoryNetwork(weight_tying=mode)
        assert km.MemoryNetwork.from_config(net.get_config()).weight_tying == mode


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"memory_dim": 0}, "memory_dim=0"),
        ({"memory_dim": -3}, "memory_dim=-3"),
        ({"num_hops": 0}, "num_hops=0"),
        ({"output_dim": 0}, "output_dim=0"),
        ({"weight_tying": "rnn"}, "weight_tying='rnn'"),
    ],
)
def test_memory_network_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        km.MemoryNetwork(**kwargs)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [({"memory_dim": 2.5}, "memory_dim=2.5"), ({"num_hops": "3"}, "num_hops='3'")],
)
def test_non_integer_sizes_raise_type_error(kwargs, fragment):
    with pytest.raises(TypeError, match=fragment):
        km.MemoryNetwork(**kwargs)


def test_memory_hop_rejects_bad_memory_dim():
    with pytest.raises(ValueError, match="memory_dim=0"):
        km.MemoryHop(0)


@pytest.mark.parametrize(
    "query_shape, memories_shape, fragment",
    [
        ((2, D), (2, N, D + 1), "query"),  # last dimensions differ
        ((2, 1, D), (2, N, D), "`query` must have rank 2"),
        ((2, D), (2, D), "`memories` must have rank 3"),
        ((3, D), (2, N, D), "same batch size"),
    ],
)
def test_memory_network_rejects_bad_shapes(query_shape, memories_shape, fragment):
    net = km.MemoryNetwork(memory_dim=E, num_hops=1)
    with pytest.raises(ValueError, match=fragment):
        net([np.ones(query_shape, "float32"), np.ones(memories_shape, "float32")])


def test_built_network_rejects_other_feature_size():
    net = km.MemoryNetwork(memory_dim=E, num_hops=1)
    net([np.ones((2, D), "float32"), np.ones((2, N, D), "float32")])
    with pytest.raises(ValueError, match="must have features 6"):
        net([np.ones((2, D + 1), "float32"), np.ones((2, N, D + 1), "float32")])


def test_memory_hop_rejects_state_of_wrong_size():
    hop = km.MemoryHop(E)
    with pytest.raises(ValueError, match="`query` must have features 4"):
        hop([np.ones((2, E + 1), "float32"), np.ones((2, N, D), "float32")])


def test_adjacent_tying_rejects_other_output_dim():
    net = km.MemoryNetwork(memory_dim=E, num_hops=2, weight_tying="adjacent", output_dim=2)
    with pytest.raises(ValueError, match="output_dim=2"):
        net.build([(None, D), (None, N, D)])


def test_bad_memory_mask_shape():
    hop = km.MemoryHop(E)
    with pytest.raises(ValueError, match="memory_mask"):
        hop([np.ones((2, E), "float32"), np.ones((2, N, D), "float32")],
            memory_mask=np.ones((2, N + 1), bool))


def test_inputs_must_be_a_pair():
    with pytest.raises(ValueError, match="list `\\[query, memories\\]`"):
        km.MemoryNetwork()(np.ones((2, D), "float32"))


def test_config_with_invalid_option_is_rejected_like_the_constructor():
    config = km.MemoryNetwork().get_config()
    config["weight_tying"] = "everything"
    # Keras' from_config wraps the constructor's ValueError in a TypeError
    # that carries the same message.
    with pytest.raises((ValueError, TypeError), match="weight_tying='everything'"):
        km.MemoryNetwork.from_config(config)


def test_two_hop_network_learns_which_memory_matches():
    keras.utils.set_random_seed(0)
    (query, memories), answers = km.tasks.key_value_lookup(
        3000, memory_size=4, key_dim=6, num_classes=4, seed=0
    )
    model = km.memory_network(
        query.shape[-1], memory_dim=32, num_hops=2, output_dim=4,
        weight_tying="layerwise",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit([query, memories], answers, epochs=12, batch_size=64, verbose=0)
    (test_query, test_memories), test_answers = km.tasks.key_value_lookup(
        500, memory_size=4, key_dim=6, num_classes=4, seed=1
    )
    logits = model.predict([test_query, test_memories], verbose=0)
    accuracy = np.mean(np.argmax(logits, -1) == test_answers)
    assert accuracy > 0.95, accuracy


def test_memory_hop_finite_difference_gradients():
    """Gradients of one hop with respect to u, the memories, A and C (float64)."""
    from gradients import check_gradients

    rng = np.random.default_rng(7)
    hop = km.MemoryHop(3, dtype="float64")
    hop.build([(None, 3), (None, 4, 2)])
    weights = np.arange(1.0, 4.0)

    def total(query, memories, input_embedding, output_embedding):
        state, _ = hop.stateless_call(
            [input_embedding, output_embedding], [], [query, memories]
        )
        return ops.sum(state * ops.convert_to_tensor(weights, dtype=state.dtype))

    check_gradients(total, [rng.normal(size=(2, 3)), rng.normal(size=(2, 4, 2)),
                            rng.normal(size=(2, 3)), rng.normal(size=(2, 3))])
