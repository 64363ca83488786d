"""The hops and weight tying as functions (keras_memory.layers.hops)."""

import numpy as np
import pytest
from keras import ops

from keras_memory.layers import hops


def test_tied_embeddings_name_the_matrices_and_pair_them_per_hop():
    names, pairs = hops.tied_embeddings("adjacent", 3)
    assert names == ["embedding_0", "embedding_1", "embedding_2", "embedding_3"]
    assert pairs == ((0, 1), (1, 2), (2, 3))  # A_{k+1} = C_k
    names, pairs = hops.tied_embeddings("layerwise", 3)
    assert names == ["input_embedding", "output_embedding"] and pairs == ((0, 1),) * 3
    names, pairs = hops.tied_embeddings(None, 2)
    assert len(names) == 4 and pairs == ((0, 1), (2, 3))


@pytest.mark.parametrize("use_softmax", [True, False])
def test_masked_slots_get_exactly_zero_attention_softmax_or_linear(use_softmax):
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 4)).astype("float32")
    keys = rng.normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[True, True, False, True, False], [False] * 4 + [True]])
    attention = ops.convert_to_numpy(
        hops.memory_attention(query, keys, mask, use_softmax=use_softmax)
    )
    assert np.all(attention[~mask] == 0)
    scores = np.einsum("bd,bnd->bn", query, keys)
    if use_softmax:
        np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-6)
    else:  # linear start: the raw scores where unmasked
        np.testing.assert_allclose(attention[mask], scores[mask], atol=1e-5)


def test_run_hops_adds_what_each_hop_reads():
    state = ops.convert_to_tensor(np.array([[1.0, 0.0]], "float32"))
    # Slot 0 matches the state.
    memories = ops.convert_to_tensor(np.array([[[10.0, 0.0], [0.0, 10.0]]], "float32"))
    final, attention = hops.run_hops(state, [memories], ((0, 0),), None, True)
    np.testing.assert_allclose(ops.convert_to_numpy(attention)[0, 0], [1.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(ops.convert_to_numpy(final), [[11.0, 0.0]], atol=1e-3)
