import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import run_layer_test, to_numpy

import keras_memory as km
from keras_memory.layers.encodings import encode_sentences, sentence_weights


def paper_position_encoding(num_words, embed_dim):
    """l_kj = (1 - j/J) - (k/d)(1 - 2j/J), written out with loops."""
    table = np.zeros((num_words, embed_dim))
    for j in range(1, num_words + 1):
        for k in range(1, embed_dim + 1):
            table[j - 1, k - 1] = (1 - j / num_words) - (k / embed_dim) * (
                1 - 2 * j / num_words
            )
    return table


def test_position_encoding_matches_the_formula_and_skips_padding():
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    weights = to_numpy(sentence_weights(mask, 5, "position"))
    assert weights.shape == (2, 4, 5)
    np.testing.assert_allclose(weights[0, :3], paper_position_encoding(3, 5), atol=1e-6)
    np.testing.assert_allclose(weights[1, :2], paper_position_encoding(2, 5), atol=1e-6)
    assert not weights[0, 3].any() and not weights[1, 2:].any()
    # One hand value: J=3, d=5, j=1, k=2: (1 - 1/3) - (2/5)(1 - 2/3) = 0.5333...
    assert weights[0, 0, 1] == pytest.approx(8 / 15, abs=1e-6)


def test_centred_position_encoding_is_twice_the_formula_with_mean_one():
    mask = np.array([[True] * 4 + [False]])
    centred = to_numpy(sentence_weights(mask, 6, "position_centered"))
    np.testing.assert_allclose(centred[0, :4], 2 * paper_position_encoding(4, 6), atol=1e-6)
    assert not centred[0, 4].any()
    # 1 + 4 (j/J - 1/2)(k/d - 1/2): exactly 1 at j = J/2 or k = d/2.
    assert centred[0, 1, 2] == pytest.approx(1 + 4 * (2 / 4 - 0.5) * (3 / 6 - 0.5))


def test_padded_position_encoding_depends_on_the_position_only():
    mask = np.array([[True, True, True, True], [True, True, False, False]])
    weights = to_numpy(sentence_weights(mask, 3, "position_padded"))
    J, d = 4, 3  # the padded length, for both sentences
    expected = np.array([[1 + 4 * (k - (d + 1) / 2) * (j - (J + 1) / 2) / (d * J)
                          for k in range(1, d + 1)] for j in range(1, J + 1)])
    np.testing.assert_allclose(weights[0], expected, atol=1e-6)
    np.testing.assert_allclose(weights[1, :2], expected[:2], atol=1e-6)  # same words
    assert not weights[1, 2:].any()
    # One hand value: j=1, k=1: 1 + 4 (-1)(-1.5) / 12 = 1.5.
    assert weights[0, 0, 0] == pytest.approx(1.5)


def test_bag_of_words_sums_the_words():
    words = np.arange(2 * 3 * 4, dtype="float32").reshape(2, 3, 4)
    mask = np.array([[True, True, False], [True, False, False]])
    encoded = to_numpy(encode_sentences(words, mask, "bag_of_words"))
    np.testing.assert_allclose(encoded[0], words[0, 0] + words[0, 1])
    np.testing.assert_allclose(encoded[1], words[1, 0])


def test_empty_sentence_encodes_to_zero_without_nan():
    words = np.ones((1, 3, 4), "float32")
    for encoding in ("position", "bag_of_words"):
        encoded = to_numpy(encode_sentences(words, np.zeros((1, 3), bool), encoding))
        assert np.all(encoded == 0)


def test_sentence_encoding_layer_checks(tmp_path):
    run_layer_test(
        km.SentenceEncoding,
        {"encoding": "position"},
        input_shapes=[(None, 5, 3, 4)],
        expected_output_shapes=[(3, 5, 4)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=0,
        masks=[np.arange(3)[None, None, :] < np.array([3, 1, 2, 0, 2])[None, :, None]
               * np.ones((3, 1, 1), bool)],
    )


def test_temporal_encoding_layer_checks(tmp_path):
    run_layer_test(
        km.TemporalEncoding,
        {},
        input_shapes=[(None, 5, 4)],
        expected_output_shapes=[(3, 5, 4)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=1,
    )


def test_encodings_compose_with_memory_network_and_mask_empty_slots():
    """Embedding -> SentenceEncoding -> TemporalEncoding -> MemoryNetwork."""
    query = keras.Input((3,), dtype="int32")
    story = keras.Input((4, 3), dtype="int32")
    words = keras.layers.Embedding(10, 6, mask_zero=True)
    memories = km.TemporalEncoding()(km.SentenceEncoding()(words(story)))
    question = km.SentenceEncoding("bag_of_words")(words(query))
    logits = km.MemoryNetwork(memory_dim=8, num_hops=2, output_dim=5)([question, memories])
    model = keras.Model([query, story], logits)
    queries = np.array([[1, 2, 0]])
    stories = np.array([[[3, 4, 0], [5, 0, 0], [0, 0, 0], [0, 0, 0]]])
    expected = model.predict([queries, stories], verbose=0)
    (temporal,) = [x for x in model.layers if isinstance(x, km.TemporalEncoding)]
    values = ops.convert_to_numpy(temporal.temporal).copy()
    values[2:] = 100.0  # vectors of the two empty slots: must not matter
    temporal.temporal.assign(values)
    np.testing.assert_allclose(model.predict([queries, stories], verbose=0), expected,
                               atol=1e-6)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: km.SentenceEncoding("tfidf"), ValueError, "encoding='tfidf'"),
        (lambda: km.SentenceEncoding()(np.ones((2, 4), "float32")), ValueError, "rank >= 3"),
        (lambda: km.SentenceEncoding()(np.ones((2, 4, 3), "int32")), TypeError, "floating"),
        (lambda: km.TemporalEncoding()(np.ones((2, 4), "float32")), ValueError, "rank 3"),
    ],
)
def test_encoding_layers_reject_bad_input(make, error, message):
    with pytest.raises(error, match=message):
        make()
