"""`ProductKeyMemory`: a large memory layer with product keys (Lample et al.,
2019, "Large Memory Layers with Product Keys"; Berges et al., 2024,
"Memory Layers at Scale")."""

import math

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory._kernels import fresh_initializer
from keras_memory.addressing.product_keys import product_key_search


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
class ProductKeyMemory(keras.layers.Layer):
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
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check.float_policy("dtype", self.dtype_policy)
        self.num_sub_keys = _perfect_square_root(memory_size)
        self.memory_size = memory_size
        self.value_dim = check.optional_positive_int("value_dim", value_dim)
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
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.supports_masking = True

    def build(self, input_shape):
        shape = check.shape_of("inputs", input_shape)
        if len(shape) < 2 or shape[-1] is None:
            raise ValueError(
                "`inputs` must be [..., features] with known features, received "
                f"inputs with shape {tuple(shape)}."
            )
        features = shape[-1]
        self.output_dim = self.value_dim or features
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
        self.values = self.add_weight(
            name="values",
            shape=(self.memory_size, self.output_dim),
            initializer=keras.initializers.RandomNormal(stddev=self.output_dim ** -0.5),
        )
        if self.gated:
            self.gate = keras.layers.Dense(
                self.output_dim, name="gate",
                kernel_initializer=fresh_initializer(self.kernel_initializer, 1), **dense)
            self.gate.build((None, features))
            self.output_projection = keras.layers.Dense(
                self.output_dim, name="output",
                kernel_initializer=fresh_initializer(self.kernel_initializer, 2), **dense)
            self.output_projection.build((None, self.output_dim))

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

    def call(self, inputs, mask=None):
        shape = check.shape_of("inputs", inputs)
        check.dim("inputs", shape, -1, self.query.kernel.shape[0], "features")
        leading = ops.shape(inputs)[:-1]
        tokens = ops.reshape(inputs, (-1, shape[-1]))
        weights, slots = self.read(tokens)
        rows = ops.take(self.values, slots, axis=0)  # [T, H, k, value_dim]
        outputs = ops.einsum("thk,thkv->tv", ops.cast(weights, rows.dtype), rows)
        if self.gated:
            outputs = self.output_projection(outputs * ops.silu(self.gate(tokens)))
        return ops.reshape(outputs, tuple(leading) + (self.output_dim,))

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.value_dim or input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            memory_size=self.memory_size,
            value_dim=self.value_dim,
            num_heads=self.num_heads,
            top_k=self.top_k,
            key_dim=self.key_dim,
            query_norm=self.query_norm,
            gated=self.gated,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config
