"""Sentence encodings of End-to-End Memory Networks (Sukhbaatar et al., 2015).

A memory (or the question) is a sentence of `J` word ids. Each word is
embedded to `d` numbers and the sentence becomes one vector `m`:

- bag of words: `m = sum_j A x_j`;
- position encoding (`"position"`): `m = sum_j l_j * A x_j` (elementwise),
  with `l_kj = (1 - j/J) - (k/d)(1 - 2j/J)`, `j = 1..J` the word position,
  `k = 1..d` the embedding dimension and `J` the number of words of that
  sentence (padding words do not count). This is the paper's formula; its
  weights average 1/2;
- centred position encoding (`"position_centered"`, the default):
  `2 l_kj = 1 + 4 (j/J - 1/2)(k/d - 1/2)`, the same shape scaled to average
  1 like bag of words, as the paper's released code scales it (under the
  paper's SGD schedule the scale matters: bench/README.md);
- position encoding over the padded length (`"position_padded"`), as the
  paper's released code computes it: `1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J)`
  with `J` the padded sentence length, the same for every sentence, so a
  word's weights depend on its position only, not on the sentence's length;
- temporal encoding adds a learned vector per memory slot, `m_i + T(i)`.

`sentence_weights` and `encode_sentences` are pure functions; the layers
`SentenceEncoding` and `TemporalEncoding` wrap them so a functional model can
put `keras.layers.Embedding(mask_zero=True)` -> `SentenceEncoding` ->
`TemporalEncoding` in front of `MemoryNetwork`.
"""

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory._kernels import KernelOptions

ENCODINGS = ("bag_of_words", "position", "position_centered", "position_padded")


def sentence_weights(word_mask, embed_dim, encoding="position_centered",
                     dtype="float32"):
    """Per-word weights that turn embedded words into a sentence vector.

    Args:
        word_mask: boolean `[..., J]`, `False` for padding words.
        embed_dim: int, the embedding size `d`.
        encoding: one of `ENCODINGS`, see the module docs.
        dtype: float dtype of the result.

    Returns:
        `[..., J, 1]` (bag of words: 1 for words, 0 for padding) or
        `[..., J, d]` (`l_kj`, `2 l_kj` when centred, the padded-length
        weights for `"position_padded"`; 0 for padding).
    """
    check.choice("encoding", encoding, ENCODINGS)
    present = ops.cast(word_mask, dtype)[..., None]
    if encoding == "bag_of_words":
        return present
    sentence_len = ops.shape(present)[-2]
    if encoding == "position_padded":
        padded = ops.cast(sentence_len, dtype)  # J, the same for every sentence
        position = ops.cast(ops.arange(1, sentence_len + 1), dtype)[:, None] - (padded + 1) / 2
        dimension = ops.cast(ops.arange(1, embed_dim + 1), dtype) - (embed_dim + 1) / 2
        return (1.0 + 4.0 * position * dimension / (embed_dim * padded)) * present
    num_words = ops.sum(present, axis=-2, keepdims=True)  # J of each sentence
    num_words = ops.where(num_words > 0, num_words, ops.ones_like(num_words))
    position = ops.cast(ops.arange(1, sentence_len + 1), dtype)[:, None]  # j
    dimension = ops.cast(ops.arange(1, embed_dim + 1), dtype) / embed_dim  # k/d
    relative = position / num_words  # j/J, [..., J, 1]
    weights = (1.0 - relative) - dimension * (1.0 - 2.0 * relative)
    if encoding == "position_centered":
        weights = 2.0 * weights
    return weights * present


def encode_sentences(embedded_words, word_mask, encoding="position_centered"):
    """Sentence vectors from embedded words.

    Args:
        embedded_words: float `[..., J, d]`.
        word_mask: boolean `[..., J]` (`False` = padding) or `None`.
        encoding: `"bag_of_words"`, `"position"`, `"position_centered"` or
            `"position_padded"`.

    Returns:
        `[..., d]`.
    """
    if word_mask is None:
        word_mask = ops.ones(ops.shape(embedded_words)[:-1], "bool")
    else:
        words_shape = check.shape_of("embedded_words", embedded_words)[:-1]
        mask_shape = check.shape_of("mask", word_mask)
        if len(mask_shape) != len(words_shape) or any(
            a is not None and b is not None and a != b
            for a, b in zip(mask_shape, words_shape)
        ):
            raise ValueError(
                f"The word mask must have the shape of the words {words_shape} "
                f"([..., sentence_len]), received mask with shape {mask_shape}."
            )
        # Padding words are zeros before any arithmetic: whatever they held
        # (NaN included) reaches neither the sentence nor the gradients.
        keep = ops.expand_dims(ops.cast(word_mask, "bool"), -1)
        embedded_words = ops.where(keep, embedded_words, ops.zeros_like(embedded_words))
    weights = sentence_weights(
        word_mask,
        embedded_words.shape[-1],
        encoding,
        keras.backend.standardize_dtype(embedded_words.dtype),
    )
    return ops.sum(weights * embedded_words, axis=-2)


@keras.saving.register_keras_serializable(package="keras_memory")
class SentenceEncoding(keras.layers.Layer):
    """Turns embedded words `[..., J, d]` into sentence vectors `[..., d]`.

    Padding words are skipped through the mask Keras propagates from
    `keras.layers.Embedding(mask_zero=True)` (or an explicit `mask`). The
    output mask marks sentences with at least one word, so empty memory
    slots stay masked downstream (for example in `MemoryNetwork`).

    Args:
        encoding: `"position_centered"` (default), `"position"`,
            `"position_padded"` or `"bag_of_words"`, see the module docs.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float `[batch, ..., J, d]`, rank >= 3.
        mask: boolean `[batch, ..., J]`, `False` for padding words.

    Returns:
        `[batch, ..., d]`, with mask `[batch, ...]`.

    Examples:
        >>> import numpy as np, keras
        >>> ids = np.array([[[3, 4, 0], [0, 0, 0]]])   # 1 story, 2 slots, J=3
        >>> words = keras.layers.Embedding(10, 8, mask_zero=True)
        >>> tuple(SentenceEncoding()(words(ids)).shape)
        (1, 2, 8)
    """

    def __init__(self, encoding="position_centered", **kwargs):
        super().__init__(**kwargs)
        self.encoding = check.choice("encoding", encoding, ENCODINGS)
        self.supports_masking = True

    def build(self, input_shape):
        shape = check.shape_of("inputs", input_shape)
        if len(shape) < 3:
            raise ValueError(
                "`inputs` must have rank >= 3 ([batch, ..., words, features]), "
                f"received inputs with shape {shape}."
            )

    def call(self, inputs, mask=None):
        check.float_dtype("inputs", inputs)
        return encode_sentences(inputs, mask, self.encoding)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return ops.any(mask, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-2]) + (input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


@keras.saving.register_keras_serializable(package="keras_memory")
class TemporalEncoding(keras.layers.Layer):
    """Adds a learned vector per memory slot: `m_i + T(i)`.

    Args:
        kernel_initializer: initializer of `T` `[memory_size, d]`; default
            `N(0, 0.1)` as in the paper.
        kernel_regularizer, kernel_constraint: for `T`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float `[batch, memory_size, d]`; `memory_size` and `d` must
            be known when the layer is built.
        mask: passed through unchanged.

    Returns:
        `[batch, memory_size, d]`.

    Examples:
        >>> import numpy as np
        >>> sentences = np.zeros((2, 5, 8), "float32")   # 5 slots, d = 8
        >>> tuple(TemporalEncoding()(sentences).shape)
        (2, 5, 8)
    """

    def __init__(self, kernel_initializer=None, kernel_regularizer=None,
                 kernel_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.kernels = KernelOptions(
            self, kernel_initializer, kernel_regularizer, kernel_constraint
        )
        self.supports_masking = True

    def build(self, input_shape):
        shape = check.shape_of("inputs", input_shape)
        check.rank("inputs", shape, 3, "([batch, memory_size, features])")
        if shape[1] is None or shape[2] is None:
            raise ValueError(
                "TemporalEncoding needs a known number of memory slots and "
                f"features, received inputs with shape {shape}."
            )
        self.temporal = self.kernels.make("temporal", shape[1:])

    def call(self, inputs):
        shape = check.shape_of("inputs", inputs)
        check.rank("inputs", shape, 3, "([batch, memory_size, features])")
        check.dim("inputs", shape, 1, self.temporal.shape[0], "memory_size")
        check.dim("inputs", shape, 2, self.temporal.shape[1], "features")
        return inputs + self.temporal

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), **self.kernels.get_config()}
