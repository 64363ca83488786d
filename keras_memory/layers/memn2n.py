"""End-to-End Memory Network on text: `MemN2N` (Sukhbaatar et al., 2015,
section 4) and the paper's random noise, `insert_empty_memories`.

Inputs are word ids (0 = padding): a query `[batch, J]` and a story
`[batch, N, J]` of `N` sentences. Every hop embeds the words with its own
word embeddings (shared according to the weight tying mode, as in
`MemoryNetwork`), turns each sentence into one vector with a sentence
encoding (bag of words or position encoding), adds a temporal encoding per
memory slot, and attends. The answer is a softmax over the vocabulary.
"""

import math

import keras
from keras import ops

from keras_memory import _backend
from keras_memory import _validation as check
from keras_memory._compat import upgrade_config
from keras_memory._kernels import KernelOptions
from keras_memory.layers.encodings import ENCODINGS
from keras_memory.layers.encodings import sentence_weights
from keras_memory.layers.hops import WEIGHT_TYING_MODES
from keras_memory.layers.hops import TiedWeights
from keras_memory.layers.hops import make_tied_embeddings
from keras_memory.layers.memory_network import split_pair


def _check_ids(name, tensor, vocab_size):
    """The word ids as int32, each in `0..vocab_size - 1`.

    Raises `TypeError` unless they are integers and, where the values can
    be read (eager calls), `ValueError` for an id outside the vocabulary.
    In traced calls (`jit`, `tf.function`) such an id reads as padding
    (id 0): no error can be raised there, and no NaN comes out.
    """
    dtype = keras.backend.standardize_dtype(getattr(tensor, "dtype", "int32"))
    if "int" not in dtype:
        raise TypeError(
            f"`{name}` must hold integer word ids, received {name} with "
            f"dtype {dtype}."
        )
    # One id type for every backend's gather (tensorflow's refuses uint8).
    ids = tensor if dtype == "int32" else ops.cast(tensor, "int32")
    if not _backend.holds_values(ids):
        in_range = ops.logical_and(ops.greater_equal(ids, 0), ops.less(ids, vocab_size))
        return ops.where(in_range, ids, ops.zeros_like(ids))
    if math.prod(ops.shape(ids)):
        low, high = (int(v) for v in ops.convert_to_numpy(ops.stack([ops.min(ids), ops.max(ids)])))
        if low < 0 or high >= vocab_size:
            bad = low if low < 0 else high
            raise ValueError(
                f"`{name}` holds word id {bad}, outside the vocabulary: ids run from "
                f"0 (padding) to vocab_size - 1 = {vocab_size - 1}."
            )
    return ids


EMPTY_SLOT_MODES = ("masked", "null")


def insert_empty_memories(story_ids, slot_mask, rate, seed=None):
    """The paper's random noise: empty memories inserted among the sentences.

    As the paper's released code does it: a story of `n` sentences gets `b`
    empty slots, `b` drawn uniformly from `0..ceil(rate * n)`, at random
    places among its first `n + b` slots; the sentences keep their order
    and move back past the empty slots before them, so a sentence's
    temporal vector is no longer exactly "this many sentences ago". The
    oldest sentences that move past the last slot fall out of the memory
    (the code gives them the last slot's time instead). The inserted slots
    are empty memories like the padding after the story: masked, or null
    memories under `MemN2N(empty_slots="null")`.

    Args:
        story_ids: int `[batch, N, J]`.
        slot_mask: boolean `[batch, N]`, `True` where a sentence is.
        rate: float in `[0, 1)`.
        seed: a `keras.random.SeedGenerator` or int.

    Returns:
        `(story_ids, slot_mask)` of the same shapes.
    """
    batch, memory_size, sentence_len = ops.shape(story_ids)
    count = ops.sum(ops.cast(slot_mask, "int32"), axis=1)  # n
    most = ops.ceil(ops.cast(count, "float32") * rate)
    blanks = ops.floor(keras.random.uniform((batch,), seed=seed) * (most + 1.0))
    spread = ops.cast(count, "float32") + blanks  # <= 2 N
    # Keep n of the first n + b positions (the n smallest random keys among
    # them) on a line twice the memory long; positions past N fall out.
    # Ranks come from comparing keys, not sorting them (sorts are slow on
    # CPUs and these lines are short); equal keys rank by position, so the
    # ranks are a permutation, as a stable sort's are.
    line = ops.arange(2 * memory_size, dtype="float32")[None, :]
    keys = keras.random.uniform((batch, 2 * memory_size), seed=seed)
    keys = ops.where(line < spread[:, None], keys, 2.0)
    shown = keys[:, :memory_size, None]  # [batch, N, 1]
    others = keys[:, None, :]  # [batch, 1, 2N]
    earlier = line < ops.arange(memory_size, dtype="float32")[:, None]  # [N, 2N]
    ahead = ops.logical_or(
        others < shown, ops.logical_and(ops.equal(others, shown), earlier[None])
    )
    rank = ops.sum(ops.cast(ahead, "int32"), axis=2)
    kept = rank < count[:, None]
    # The i-th kept slot shows the i-th sentence (stories need not be
    # packed): slot p holds sentence number order[p].
    index = ops.maximum(ops.cumsum(ops.cast(kept, "int32"), axis=1) - 1, 0)
    order = ops.cumsum(ops.cast(slot_mask, "int32"), axis=1) - 1
    holds = ops.logical_and(
        slot_mask[:, None, :], ops.equal(order[:, None, :], index[:, :, None])
    )
    slots = ops.arange(memory_size, dtype="int32")[None, None, :]
    source = ops.sum(ops.where(holds, slots, 0), axis=2)
    moved = ops.take_along_axis(
        story_ids, ops.repeat(source[:, :, None], sentence_len, axis=2), axis=1
    )
    return ops.where(kept[:, :, None], moved, ops.zeros_like(moved)), kept


@keras.saving.register_keras_serializable(package="keras_memory")
class MemN2N(keras.layers.Layer):
    """End-to-End Memory Network over sentences of word ids.

        u_1 = enc(B q)
        m_i^k = enc(A_k x_i) + T_A^k(i),  c_i^k = enc(C_k x_i) + T_C^k(i)
        u_{k+1} = u_k + sum_i softmax(u_k . m_i^k)_i c_i^k
        logits = W u_{K+1}

    `enc` is the sentence encoding (`"position_centered"`,
    `"position_padded"`, `"position"` or `"bag_of_words"`, see
    `keras_memory.encodings`). Weight tying follows `MemoryNetwork`:
    `"adjacent"` (A_{k+1} = C_k, B = A_1, W^T = C_K, and the temporal
    matrices tied the same way), `"layerwise"` or `None`.

    Args:
        vocab_size: int >= 2, number of word ids (id 0 is padding).
        memory_dim: int >= 1, embedding size `d`. Default 20.
        num_hops: int >= 1. Default 3.
        weight_tying: `"adjacent"` (default), `"layerwise"` or `None`.
        encoding: `"position_centered"` (default), `"position_padded"`
            (the paper's code), `"position"` (the paper's formula, half the
            scale) or `"bag_of_words"`; see `keras_memory.encodings`.
        temporal_encoding: bool, learned per-slot vectors. Default `True`;
            needs a known number of memory slots.
        memory_size: int >= 1 or `None` (taken from the input shape).
        use_softmax: bool, the starting state of the hops' softmax; `False`
            starts linear (see `LinearStart`). The current state lives in
            the non-trainable variable `softmax_gate` and is saved with the
            weights.
        random_noise: float in `[0, 1)`, rate of empty memories inserted
            during training (the paper uses 0.1; see
            `insert_empty_memories`). Default 0.
        empty_slots: what the hops do with memory slots that hold no
            sentence. `"masked"` (default): they are left out of the
            softmax. `"null"`: they stay in it as null memories, with score
            0 and nothing to read (no word, no temporal vector), as in the
            paper's released code; attention can land on "nothing" (the
            bAbI yes/no tasks need it: bench/README.md). The number of
            null memories is the number of empty slots, so `memory_size`
            matters.
        return_attention: bool; also return the attention of every hop.
        seed: int or `None`, seed of the random noise.
        kernel_initializer: default `N(0, 0.1)` as in the paper.
        kernel_regularizer, kernel_constraint: for every weight matrix.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: list `[query, story]`, integer word ids, query `[batch, J]`
            and story `[batch, N, J]`. Id 0 is padding: padding words are
            left out of sentence encodings; slots with no word are empty
            memories (see `empty_slots`). An id outside `0..vocab_size - 1`
            raises `ValueError` in an eager call; in a traced one (`jit`,
            `tf.function`: `fit` and `predict` on jax and tensorflow), where
            nothing can be raised, it reads as padding.
        training: applies `random_noise` when true.

    Returns:
        Logits `[batch, vocab_size]`, or `(logits, attention)` with attention
        `[batch, num_hops, N]` when `return_attention=True`.

    Examples:
        >>> import numpy as np
        >>> layer = MemN2N(vocab_size=30, memory_dim=8, num_hops=2)
        >>> query = np.array([[4, 5, 0]])
        >>> story = np.array([[[6, 7, 8], [9, 0, 0], [0, 0, 0]]])
        >>> tuple(layer([query, story]).shape)
        (1, 30)
    """

    def __init__(
        self,
        vocab_size,
        memory_dim=20,
        num_hops=3,
        weight_tying="adjacent",
        encoding="position_centered",
        temporal_encoding=True,
        memory_size=None,
        use_softmax=True,
        random_noise=0.0,
        empty_slots="masked",
        return_attention=False,
        seed=None,
        kernel_initializer=None,
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check.positive_int("vocab_size", vocab_size, minimum=2)
        self.memory_dim = check.positive_int("memory_dim", memory_dim)
        self.num_hops = check.positive_int("num_hops", num_hops)
        self.weight_tying = check.choice(
            "weight_tying", weight_tying, WEIGHT_TYING_MODES
        )
        self.encoding = check.choice("encoding", encoding, ENCODINGS)
        self.temporal_encoding = bool(temporal_encoding)
        self.memory_size = check.optional_positive_int("memory_size", memory_size)
        self.use_softmax = bool(use_softmax)
        self.random_noise = check.fraction("random_noise", random_noise)
        self.empty_slots = check.choice("empty_slots", empty_slots, EMPTY_SLOT_MODES)
        self.return_attention = bool(return_attention)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.kernels = KernelOptions(
            self, kernel_initializer, kernel_regularizer, kernel_constraint
        )

    @classmethod
    def from_config(cls, config):
        return cls(**upgrade_config(config))

    def _check_shapes(self, query_shape, story_shape):
        check.rank("query", query_shape, 2, "([batch, sentence_len])")
        check.rank("story", story_shape, 3, "([batch, memory_size, sentence_len])")
        check.dim("story", story_shape, 2, query_shape[1], "sentence_len")
        check.dim("story", story_shape, 1, self.memory_size, "memory_size")
        if query_shape[0] is not None and story_shape[0] is not None and (
            query_shape[0] != story_shape[0]
        ):
            raise ValueError(
                "`query` and `story` must have the same batch size, received "
                f"query with shape {query_shape} and story with shape "
                f"{story_shape}."
            )

    def _split(self, inputs):
        return split_pair("MemN2N", inputs, "[query, story]")

    def build(self, input_shape):
        query_shape, story_shape = self._split(input_shape)
        query_shape = check.shape_of("query", query_shape)
        story_shape = check.shape_of("story", story_shape)
        self._check_shapes(query_shape, story_shape)
        if self.memory_size is None:
            self.memory_size = story_shape[1]
        if self.temporal_encoding and self.memory_size is None:
            raise ValueError(
                "temporal_encoding=True needs a known number of memory slots: "
                "pass memory_size or give the story a static shape, received "
                f"story with shape {story_shape}."
            )
        words = (self.vocab_size, self.memory_dim)
        self.word_embeddings, hop_pairs = make_tied_embeddings(
            self.kernels.make, self.weight_tying, self.num_hops, words, prefix="word_"
        )
        self.temporal_embeddings = []
        if self.temporal_encoding:
            self.temporal_embeddings, _ = make_tied_embeddings(
                self.kernels.make, self.weight_tying, self.num_hops,
                (self.memory_size, self.memory_dim), prefix="temporal_",
            )
        self.tied = TiedWeights.make(
            self.kernels.make, self.weight_tying, self.word_embeddings, hop_pairs,
            self.memory_dim, self.vocab_size,
        )
        self.softmax_gate = self.add_weight(
            name="softmax_gate",
            shape=(),
            initializer=keras.initializers.Constant(float(self.use_softmax)),
            trainable=False,
        )

    def set_softmax(self, enabled):
        """Puts the hops' softmax in (`True`) or takes it out (`False`)."""
        self.softmax_gate.assign(1.0 if enabled else 0.0)

    @property
    def softmax_enabled(self):
        return bool(ops.convert_to_numpy(self.softmax_gate) > 0.5)

    def _encode(self, embedding, ids, weights):
        return ops.sum(weights * ops.take(embedding, ids, axis=0), axis=-2)

    def call(self, inputs, training=None):
        query, story = self._split(inputs)
        query = _check_ids("query", query, self.vocab_size)
        story = _check_ids("story", story, self.vocab_size)
        self._check_shapes(check.shape_of("query", query), check.shape_of("story", story))
        story_words = ops.not_equal(story, 0)
        slot_mask = ops.any(story_words, axis=-1)
        if training and self.random_noise > 0:
            story, slot_mask = insert_empty_memories(
                story, slot_mask, self.random_noise, self.seed_generator
            )
            story_words = ops.not_equal(story, 0)
        dtype = self.compute_dtype
        story_weights = sentence_weights(story_words, self.memory_dim, self.encoding, dtype)
        # Null slots: zero keys score 0, zero values read nothing.
        null_out = ops.cast(slot_mask, dtype)[:, :, None] if self.empty_slots == "null" else None
        embedded = []
        for index, embedding in enumerate(self.word_embeddings):
            memories = self._encode(embedding, story, story_weights)
            if self.temporal_embeddings:
                memories = memories + self.temporal_embeddings[index]
            if null_out is not None:
                memories = memories * null_out
            embedded.append(memories)
        query_weights = sentence_weights(
            ops.not_equal(query, 0), self.memory_dim, self.encoding, dtype
        )
        logits, attention = self.tied.run(
            self._encode(self.tied.query_embedding, query, query_weights),
            embedded,
            slot_mask if self.empty_slots == "masked" else None,
            self.softmax_gate,
        )
        return (logits, attention) if self.return_attention else logits

    def compute_output_shape(self, input_shape):
        query_shape, story_shape = self._split(input_shape)
        logits = (query_shape[0], self.vocab_size)
        if self.return_attention:
            return logits, (story_shape[0], self.num_hops, story_shape[1])
        return logits

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "memory_dim": self.memory_dim,
                "num_hops": self.num_hops,
                "weight_tying": self.weight_tying,
                "encoding": self.encoding,
                "temporal_encoding": self.temporal_encoding,
                "memory_size": self.memory_size,
                "use_softmax": self.use_softmax,
                "random_noise": self.random_noise,
                "empty_slots": self.empty_slots,
                "return_attention": self.return_attention,
                "seed": self.seed,
                **self.kernels.get_config(),
            }
        )
        return config
