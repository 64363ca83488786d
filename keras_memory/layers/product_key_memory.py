"""`ProductKeyMemory`: a large memory layer with product keys (Lample et al.,
2019, "Large Memory Layers with Product Keys"; Berges et al., 2024,
"Memory Layers at Scale")."""

import math

import keras
import numpy as np
from keras import ops

from keras_memory import _backend
from keras_memory import _validation as check
from keras_memory._kernels import fresh_initializer
from keras_memory.addressing.product_keys import product_key_search
from keras_memory.layers._token_memory import TokenMemory


def _perfect_square_root(memory_size):
    memory_size = check.positive_int("memory_size", memory_size)
    root = math.isqrt(memory_size)
    if root * root != memory_size:
        raise ValueError(
            "`memory_size` must be a perfect square n * n (the slots are the pairs "
            f"of n sub-keys of each half), received memory_size={memory_size}; the "
            f"nearest are {root * root} and {(root + 1) ** 2}."
        )
    return root


@keras.saving.register_keras_serializable(package="keras_memory")
class ProductKeyMemory(TokenMemory):
    """A key-value memory of `memory_size` slots that reads `top_k` per head.

    Each token's features give one query per head (a dense projection,
    normalised per head with `query_norm`); the exact top `top_k` slots of
    each head come from a product-key search
    (`keras_memory.addressing.product_key_search`: `O(sqrt(N))` work per
    query, never `O(N)`), their scores go through a softmax, and the
    token's output is the weighted sum of those slots' value rows, summed
    over heads. With `gated=True` (Memory Layers at Scale) the read is
    multiplied by `silu(W_g x)` and projected once more, `W_o (read *
    silu(W_g x))`. Scores and their softmax run in float32 under mixed
    precision.

    Args:
        memory_size: int, the number of slots N; a perfect square `n * n`.
        value_dim: int >= 1 or `None` (the input's features): the width of
            each value row and of the output.
        num_heads: int >= 1, queries per token. Default 4.
        top_k: int, slots read per head, `1 <= top_k <= sqrt(memory_size)`.
            Default 32.
        key_dim: even int >= 2, the query width per head (each half of it
            searches `n` sub-keys). Default 128.
        query_norm: bool; normalise each head's query (layer normalisation;
            the paper's batch normalisation serves the same end: it spreads
            the reads over more slots). Default `True`.
        gated: bool; the gated output of Memory Layers at Scale. Default
            `False`.
        value_learning_rate: `None` (default: the value table is an ordinary
            weight, which the model's optimizer updates with a dense
            gradient, every row of it), or a float > 0: sparse updates. The
            table is then updated by the layer, row by row, by SGD with
            this learning rate on the rows the last training step read
            (duplicates summed); the optimizer never sees the table, so
            keeps no moments for it. Needs `max_tokens`.
        max_tokens: int >= 1, with `value_learning_rate`: the most tokens
            (batch size times sequence length) one training step reads.
        kernel_initializer: for the query, gate and output projections.
        kernel_regularizer: for the same.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[..., features]` (a batch of tokens, any leading axes).
        mask: optional; passed through unchanged (the layer reads per token).

    Returns:
        `[..., value_dim]`.

    Examples:
        >>> import numpy as np
        >>> layer = ProductKeyMemory(memory_size=64, value_dim=8, num_heads=2,
        ...                          top_k=4, key_dim=16)
        >>> tuple(layer(np.zeros((2, 5, 12), "float32")).shape)
        (2, 5, 8)
        >>> tuple(layer.values.shape), tuple(layer.sub_keys.shape)
        ((64, 8), (2, 2, 8, 8))
    """

    def __init__(
        self,
        memory_size,
        value_dim=None,
        num_heads=4,
        top_k=32,
        key_dim=128,
        query_norm=True,
        gated=False,
        value_learning_rate=None,
        max_tokens=None,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(value_dim=value_dim, **kwargs)
        self.num_sub_keys = _perfect_square_root(memory_size)
        self.memory_size = memory_size
        self.num_heads = check.positive_int("num_heads", num_heads)
        self.top_k = check.positive_int("top_k", top_k)
        if self.top_k > self.num_sub_keys:
            raise ValueError(
                f"`top_k` must be at most sqrt(memory_size) = {self.num_sub_keys} (the "
                f"sub-keys of each half), received top_k={top_k}."
            )
        self.key_dim = check.positive_int("key_dim", key_dim, minimum=2)
        if self.key_dim % 2:
            raise ValueError(
                "`key_dim` must be even (a query splits into two halves), received "
                f"key_dim={key_dim}."
            )
        self.query_norm = bool(query_norm)
        self.gated = bool(gated)
        self.value_learning_rate = None
        if value_learning_rate is not None:
            self.value_learning_rate = check.non_negative_float(
                "value_learning_rate", value_learning_rate)
            if max_tokens is None:
                raise ValueError(
                    "`max_tokens` must be given with `value_learning_rate` (sparse "
                    "updates keep room for the rows of max_tokens tokens), received "
                    "max_tokens=None."
                )
        self.max_tokens = check.optional_positive_int("max_tokens", max_tokens)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build_memory(self, features):
        dense = dict(kernel_regularizer=self.kernel_regularizer, dtype=self.dtype_policy)
        # Each projection draws its own kernel (one initializer instance
        # returns the same values at every call).
        self.query = keras.layers.Dense(
            self.num_heads * self.key_dim, name="query",
            kernel_initializer=fresh_initializer(self.kernel_initializer, 0), **dense)
        self.query.build((None, features))
        if self.query_norm:
            self.query_normalization = keras.layers.LayerNormalization(
                name="query_norm", dtype=self.dtype_policy)
            self.query_normalization.build((None, self.num_heads, self.key_dim))
        half = self.key_dim // 2
        self.sub_keys = self.add_weight(
            name="sub_keys",
            shape=(self.num_heads, 2, self.num_sub_keys, half),
            initializer=keras.initializers.RandomUniform(-half ** -0.5, half ** -0.5),
        )
        sparse = self.value_learning_rate is not None
        self.values = self.add_weight(
            name="values",
            shape=(self.memory_size, self.output_dim),
            initializer=keras.initializers.RandomNormal(stddev=self.output_dim ** -0.5),
            trainable=not sparse,
        )
        if sparse:
            self._build_sparse_updates()
        if self.gated:
            self.gate = keras.layers.Dense(
                self.output_dim, name="gate",
                kernel_initializer=fresh_initializer(self.kernel_initializer, 1), **dense)
            self.gate.build((None, features))
            self.output_projection = keras.layers.Dense(
                self.output_dim, name="output",
                kernel_initializer=fresh_initializer(self.kernel_initializer, 2), **dense)
            self.output_projection.build((None, self.output_dim))

    def _build_sparse_updates(self):
        """What the next call needs to update the rows the last training step
        read.

        `read_gradients` is a trainable weight the optimizer overwrites with
        its gradient (`overwrite_with_gradient`): each token's read adds it
        and takes it away again (`+ g - stop_gradient(g)`), so its gradient
        is the loss's gradient with respect to each token's read, `[tokens,
        value_dim]`. A row's gradient is its read weight times that:
        `pending_rows` and `pending_weights` hold which row each
        (token, head, slot) read and with what weight; `applied` a checksum
        of the gradient the table last took, so that none applies twice.
        """
        reads = self.max_tokens * self.num_heads * self.top_k
        self.read_gradients = self.add_weight(
            name="read_gradients", shape=(self.max_tokens, self.output_dim),
            initializer="zeros")
        self.read_gradients.overwrite_with_gradient = True
        self.pending_rows = self.add_weight(
            name="pending_rows", shape=(reads,), initializer="zeros", dtype="int32",
            trainable=False)
        self.pending_weights = self.add_weight(
            name="pending_weights", shape=(reads,), initializer="zeros", trainable=False)
        self.applied = self.add_weight(
            name="applied", shape=(), initializer="zeros", trainable=False)

    def apply_pending_update(self):
        """Updates the table rows the last training step read, once: `row -=
        value_learning_rate * read weight * gradient of the token's read`,
        summed over repeated rows. Every call of a sparse layer runs it
        first."""
        gradients = ops.stop_gradient(ops.convert_to_tensor(self.read_gradients))
        gradients = ops.cast(gradients, "float32")
        checksum = ops.sum(gradients) + ops.sum(gradients * gradients)
        fresh = ops.cast(ops.not_equal(checksum, self.applied), "float32")
        weights = ops.reshape(ops.convert_to_tensor(self.pending_weights),
                              (self.max_tokens, self.num_heads * self.top_k, 1))
        step = (-self.value_learning_rate * fresh) * weights * gradients[:, None, :]
        _backend.add_to_rows(self.values, self.pending_rows,
                             ops.reshape(step, (-1, self.output_dim)))
        self.applied.assign(checksum)

    def read(self, tokens):
        """`(weights [T, H, k], slots [T, H, k])` of `[T, features]` tokens: the
        softmax of each head's top-k scores (float32) and the slots read."""
        queries = ops.reshape(self.query(tokens), (-1, self.num_heads, self.key_dim))
        if self.query_norm:
            queries = self.query_normalization(queries)
        scores, slots = product_key_search(
            ops.cast(queries, "float32"), ops.cast(self.sub_keys, "float32"), self.top_k
        )
        return ops.softmax(scores, axis=-1), slots

    def slot_usage(self, inputs):
        """`[memory_size]` float32: the read weight each slot gets from
        `inputs [..., features]`, summed over tokens and heads (each token
        gives each head weight 1). A diagnostic, `O(memory_size)`: see
        `keras_memory.layers.product_key_memory.usage_statistics`."""
        tokens, _ = self.tokens(inputs)
        weights, slots = self.read(tokens)
        return ops.segment_sum(ops.reshape(weights, (-1,)), ops.reshape(slots, (-1,)),
                               num_segments=self.memory_size)

    def call(self, inputs, mask=None, training=None):
        tokens, leading = self.tokens(inputs)
        sparse = self.value_learning_rate is not None
        if sparse:
            self.apply_pending_update()
        weights, slots = self.read(tokens)
        rows = ops.take(self.values, slots, axis=0)  # [T, H, k, value_dim]
        outputs = ops.einsum("thk,thkv->tv", ops.cast(weights, rows.dtype), rows)
        if sparse and training:
            outputs = self._with_read_gradients(outputs, weights, slots)
        if self.gated:
            outputs = self.output_projection(outputs * ops.silu(self.gate(tokens)))
        return self.untokens(outputs, leading)

    def _with_read_gradients(self, reads, weights, slots):
        """`reads [T, value_dim]`, unchanged, but differentiable through
        `read_gradients`; the slots read and their weights become pending."""
        tokens = reads.shape[0]
        if tokens is not None and tokens > self.max_tokens:
            raise ValueError(
                f"`max_tokens` must cover the tokens of a training step: "
                f"max_tokens={self.max_tokens}, and this step reads for {tokens} tokens."
            )
        used = ops.shape(reads)[0]
        room = [[0, (self.max_tokens - used) * self.num_heads * self.top_k]]
        self.pending_rows.assign(ops.pad(ops.reshape(slots, (-1,)), room))
        self.pending_weights.assign(
            ops.pad(ops.reshape(ops.stop_gradient(weights), (-1,)), room))
        probe = ops.cast(ops.convert_to_tensor(self.read_gradients)[:used], reads.dtype)
        return reads + probe - ops.stop_gradient(probe)

    def get_config(self):
        config = super().get_config()
        config.update(
            memory_size=self.memory_size,
            num_heads=self.num_heads,
            top_k=self.top_k,
            key_dim=self.key_dim,
            query_norm=self.query_norm,
            gated=self.gated,
            value_learning_rate=self.value_learning_rate,
            max_tokens=self.max_tokens,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config


def usage_statistics(usage):
    """How evenly a memory's slots are read (Lample et al. 2019, section 4.4).

    Args:
        usage: `[memory_size]` non-negative read weights per slot
            (`ProductKeyMemory.slot_usage`).

    Returns:
        dict: `fraction_read`, the fraction of slots with any weight, and
        `kl_from_uniform`, the KL divergence (nats) of the normalised usage
        from the uniform distribution: 0 when every slot is read alike,
        `log(memory_size)` when one slot takes every read.

    Examples:
        >>> stats = usage_statistics([1.0, 1.0, 0.0, 0.0])
        >>> round(stats["fraction_read"], 2), round(stats["kl_from_uniform"], 4)
        (0.5, 0.6931)
    """
    usage = np.asarray(ops.convert_to_numpy(ops.convert_to_tensor(usage, "float32")),
                       "float64")
    if usage.ndim != 1 or usage.size == 0 or (usage < 0).any() or usage.sum() <= 0:
        raise ValueError(
            "`usage` must be a non-empty [memory_size] of non-negative weights with a "
            f"positive sum, received usage with shape {usage.shape} and sum {usage.sum()}."
        )
    share = usage / usage.sum()
    read = share > 0
    kl = float(np.sum(share[read] * np.log(share[read] * usage.size)))
    return {"fraction_read": float(read.mean()), "kl_from_uniform": kl}
