"""MemN2N and its random noise."""

import keras
import numpy as np
import pytest
from babi_data import B, D, J, N, V, ids
from keras import ops
from layer_checks import assert_all_close, run_layer_test, to_numpy

import keras_memory as km
from keras_memory.layers.memn2n import insert_empty_memories


@pytest.mark.parametrize(
    "weight_tying, temporal, num_weights",
    [
        ("adjacent", True, 2 * (3 + 1)),
        ("layerwise", True, 2 + 2 + 3),
        (None, False, 2 * 3 + 2),
    ],
)
def test_memn2n_layer_checks(tmp_path, weight_tying, temporal, num_weights):
    run_layer_test(
        km.MemN2N,
        {"vocab_size": V, "memory_dim": D, "num_hops": 3, "weight_tying": weight_tying,
         "temporal_encoding": temporal},
        input_shapes=[(None, J), (None, N, J)],
        input_dtypes=["int32", "int32"],
        expected_output_shapes=[(B, V)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=num_weights,
    )


def test_memn2n_layer_checks_with_attention_noise_and_bag_of_words(tmp_path):
    run_layer_test(
        km.MemN2N,
        {"vocab_size": V, "memory_dim": D, "num_hops": 2, "encoding": "bag_of_words",
         "random_noise": 0.2, "use_softmax": False, "return_attention": True, "seed": 3,
         "empty_slots": "null"},
        input_shapes=[(None, J), (None, N, J)],
        input_dtypes=["int32", "int32"],
        expected_output_shapes=[(B, V), (B, 2, N)],
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("empty_slots", ["masked", "null"])
def test_padding_words_and_empty_slots_do_not_change_the_answer(empty_slots):
    layer = km.MemN2N(V, memory_dim=D, num_hops=2, return_attention=True,
                      empty_slots=empty_slots)
    query, story = ids()
    logits, attention = to_numpy(layer([query, story]))
    if empty_slots == "masked":
        assert np.all(attention[:, :, -1] == 0)
    else:  # a null memory: score 0 against any state, so exp(0) / sum
        assert np.all(attention[:, :, -1] > 0)
        scores = np.log(attention / attention[:, :, -1:])
        assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    # The temporal vectors of the empty slot and the embedding of word 0 are
    # never read (except as the logit of answering "<pad>", column 0).
    for temporal in layer.temporal_embeddings:
        values = ops.convert_to_numpy(temporal).copy()
        values[-1] = 50.0
        temporal.assign(values)
    for words in layer.word_embeddings:
        values = ops.convert_to_numpy(words).copy()
        values[0] = -50.0
        words.assign(values)
    assert_all_close(to_numpy(layer([query, story])[0])[:, 1:], logits[:, 1:], atol=1e-5)


def test_null_slots_score_zero_and_read_nothing():
    query, story = ids()
    null = km.MemN2N(V, memory_dim=D, num_hops=1, return_attention=True,
                     empty_slots="null")
    logits, attention = to_numpy(null([query, story]))
    masked = km.MemN2N.from_config({**null.get_config(), "empty_slots": "masked"})
    masked([query, story])
    masked.set_weights(null.get_weights())
    _, masked_attention = to_numpy(masked([query, story]))
    # One hop: the sentences keep their relative weights; the empty slot
    # takes exp(0) of the softmax mass and adds nothing to the read.
    share = attention[:, 0, :-1].sum(-1, keepdims=True)
    np.testing.assert_allclose(attention[:, 0, :-1] / share, masked_attention[:, 0, :-1],
                               rtol=1e-4, atol=1e-6)
    words, temporal, answer = (ops.convert_to_numpy(w) for w in (
        null.word_embeddings[0], null.temporal_embeddings[0], null.word_embeddings[1]))
    weights = to_numpy(km.encodings.sentence_weights(story != 0, D))
    memories = (weights * words[story]).sum(-2) + temporal  # [B, N, D]
    values = (weights * answer[story]).sum(-2) + ops.convert_to_numpy(
        null.temporal_embeddings[1])
    u = (to_numpy(km.encodings.sentence_weights(query != 0, D)) * words[query]).sum(-2)
    scores = np.einsum("bd,bnd->bn", u, memories)
    scores[:, -1] = 0.0
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(attention[:, 0], expected, rtol=1e-4, atol=1e-6)
    state = u + np.einsum("bn,bnd->bd", expected[:, :-1], values[:, :-1])
    np.testing.assert_allclose(logits, state @ answer.T, rtol=1e-4, atol=1e-5)


def test_adjacent_tying_shares_embeddings_between_hops():
    layer = km.MemN2N(V, memory_dim=D, num_hops=3)
    layer([*ids()])
    names = [w.path.split("/")[-1] for w in layer.trainable_weights]
    assert names == [f"word_embedding_{j}" for j in range(4)] + [
        f"temporal_embedding_{j}" for j in range(4)]
    assert layer.tied.hop_pairs == ((0, 1), (1, 2), (2, 3))


def test_linear_attention_is_the_raw_score_and_the_switch_needs_no_rebuild():
    layer = km.MemN2N(V, memory_dim=D, num_hops=1, use_softmax=False,
                      return_attention=True)
    query, story = ids()
    _, linear = to_numpy(layer([query, story]))
    assert not np.allclose(linear.sum(-1), 1.0)
    assert not layer.softmax_enabled
    layer.set_softmax(True)
    _, soft = to_numpy(layer([query, story]))
    np.testing.assert_allclose(soft.sum(-1), 1.0, atol=1e-5)
    # Softmax of the linear scores over the unmasked slots.
    scores = linear[:, 0, :-1]
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(soft[:, 0, :-1], expected, rtol=1e-4, atol=1e-6)


def test_random_noise_moves_sentences_back_and_keeps_their_order():
    rng = np.random.default_rng(0)
    slots, batch = 12, 200
    story = np.zeros((batch, slots, 2), "int32")
    count = rng.integers(1, 10, size=batch)  # sentences per story
    for row, n in enumerate(count):
        story[row, :n, 0] = np.arange(1, n + 1)
        story[row, :n, 1] = 7
    mask = story.any(-1)
    same, same_mask = to_numpy(insert_empty_memories(story, mask, 0.0, seed=1))
    np.testing.assert_array_equal(same, story)
    np.testing.assert_array_equal(same_mask, mask)
    noisy, noisy_mask = to_numpy(insert_empty_memories(story, mask, 0.3, seed=1))
    assert noisy.shape == story.shape
    np.testing.assert_array_equal(noisy_mask, noisy.any(-1))  # blanks are empty
    moved = 0
    for row, n in enumerate(count):
        # Every sentence is kept, in order, and pushed back by the blanks
        # before it; at most ceil(0.3 n) blanks, all within the first n + b.
        np.testing.assert_array_equal(noisy[row][noisy_mask[row]], story[row, :n])
        last = np.flatnonzero(noisy_mask[row])[-1]
        assert last - (n - 1) <= np.ceil(0.3 * n)
        moved += last > n - 1
    assert 0.2 < moved / batch < 0.9
    # A full memory: the most recent sentences stay, in order; the oldest
    # ones that the blanks push past the last slot fall out.
    full = np.zeros((batch, slots, 2), "int32")
    full[:, :, 0] = np.arange(1, slots + 1)
    out, out_mask = to_numpy(insert_empty_memories(full, full.any(-1), 0.3, seed=3))
    kept = out_mask.sum(-1)
    assert kept.min() >= slots - np.ceil(0.3 * slots) and kept.mean() < slots
    for row in range(batch):
        np.testing.assert_array_equal(out[row][out_mask[row]], full[row, : kept[row]])
    # A story with a hole keeps its sentences in order too.
    holed = story[:1].copy()
    holed[0, 0] = 0
    out, out_mask = to_numpy(insert_empty_memories(holed, holed.any(-1), 0.3, seed=2))
    np.testing.assert_array_equal(out[0][out_mask[0]], holed[0][holed[0].any(-1)])


def test_random_noise_keeps_every_sentence_once_when_keys_tie(monkeypatch):
    # Random keys that tie (here: only 4 distinct values) still rank as a
    # permutation: no sentence is shown twice and none beyond the story's.
    rng = np.random.default_rng(0)
    batch, slots = 64, 10
    mask = np.ones((batch, slots), bool)
    mask[:, 7:] = np.sort(rng.random((batch, 3)) < 0.5, axis=1)[:, ::-1]
    story = rng.integers(1, 9, (batch, slots, 3)) * mask[:, :, None]
    uniform = keras.random.uniform
    monkeypatch.setattr(keras.random, "uniform",
                        lambda shape, seed=None: ops.floor(uniform(shape, seed=seed) * 4) / 4)
    out, out_mask = to_numpy(insert_empty_memories(story, mask, 0.3, seed=1))
    count, kept = mask.sum(1), out_mask.sum(1)
    assert np.all(kept <= count) and np.all(kept >= count - 3) and np.any(kept < count)
    for row in range(batch):
        np.testing.assert_array_equal(out[row][out_mask[row]], story[row, : kept[row]])


def test_noise_applies_in_training_only():
    layer = km.MemN2N(V, memory_dim=D, num_hops=2, random_noise=0.5, seed=0)
    query, story = ids(batch=16)
    inference = to_numpy(layer([query, story]))
    assert_all_close(layer([query, story], training=False), inference)
    assert not np.allclose(to_numpy(layer([query, story], training=True)), inference)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: km.MemN2N(1), ValueError, "vocab_size=1"),
        (lambda: km.MemN2N(V, memory_dim=0), ValueError, "memory_dim=0"),
        (lambda: km.MemN2N(V, weight_tying="all"), ValueError, "weight_tying='all'"),
        (lambda: km.MemN2N(V, encoding="bow"), ValueError, "encoding='bow'"),
        (lambda: km.MemN2N(V, random_noise=1.5), ValueError, "random_noise=1.5"),
        (lambda: km.MemN2N(V, empty_slots="zero"), ValueError, "empty_slots='zero'"),
        (lambda: km.MemN2N(V, random_noise="0.1"), TypeError, "random_noise='0.1'"),
        (lambda: km.MemN2N(V)([np.ones((2, J), "float32"), np.ones((2, N, J), "int32")]),
         TypeError, "`query` must hold integer word ids"),
        (lambda: km.MemN2N(V)([np.ones((2, J), "int32"), np.ones((2, N, J + 1), "int32")]),
         ValueError, "sentence_len"),
        (lambda: km.MemN2N(V)([np.ones((2, J), "int32"), np.ones((2, J), "int32")]),
         ValueError, "`story` must have rank 3"),
        (lambda: km.MemN2N(V)(np.ones((2, J), "int32")), ValueError, r"\[query, story\]"),
        (lambda: km.memn2n(V, 0), ValueError, "sentence_len=0"),
        (lambda: km.LinearStart(patience=0), ValueError, "patience=0"),
    ],
)
def test_memn2n_rejects_bad_input(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_memn2n_rejects_a_different_memory_count_than_it_was_built_with():
    model = km.memn2n(V, J, memory_size=N, memory_dim=D)
    with pytest.raises(ValueError, match="memory_size"):
        model.get_layer("memn2n_layer")([np.ones((2, J), "int32"),
                                         np.ones((2, N + 1, J), "int32")])


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int64"])
def test_any_integer_id_type_gives_the_int32_output(dtype):
    rng = np.random.default_rng(0)
    query = rng.integers(0, 10, size=(2, 3))
    story = rng.integers(0, 10, size=(2, 4, 3))
    layer = km.MemN2N(vocab_size=10, memory_dim=4, memory_size=4)
    expected = ops.convert_to_numpy(layer([query.astype("int32"), story.astype("int32")]))
    result = ops.convert_to_numpy(layer([query.astype(dtype), story.astype(dtype)]))
    np.testing.assert_allclose(result, expected, atol=1e-6)
