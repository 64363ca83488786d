"""Memories of hashed buckets (locality-sensitive hashing): `HashedMemory`, a
layer over learned slots, and `HashedMemoryCell`, a recurrent memory that
writes as it reads (moving-average writes)."""

import collections
import math

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory.addressing.hashing import ema_write
from keras_memory.addressing.hashing import hashed_lookup
from keras_memory.layers._token_memory import TokenMemory
from keras_memory.recurrent import MemoryCell

def _hash_bits(num_buckets):
    num_buckets = check.positive_int("num_buckets", num_buckets)
    bits = round(math.log2(num_buckets))
    if 2**bits != num_buckets or bits > 30:
        raise ValueError(
            "`num_buckets` must be a power of two up to 2 ** 30 (a key's bucket "
            f"is its sign bits), received num_buckets={num_buckets}."
        )
    return bits


def _add_projections(layer, features):
    """The fixed random hash directions, `[num_tables, bits, features]`."""
    return layer.add_weight(
        name="projections", shape=(layer.num_tables, layer.bits, features),
        initializer=keras.initializers.RandomNormal(seed=layer.seed), trainable=False)


def _read_buckets(slots, buckets):
    """The mean over tables of the rows `buckets [B, T]` pick from `slots [T, S,
    V]`: `[B, V]`, `O(B * T * V)` whatever S."""
    tables, size, width = slots.shape
    rows = ops.cast(buckets, "int32") + ops.arange(tables, dtype="int32")[None, :] * size
    return ops.mean(ops.take(ops.reshape(slots, (tables * size, width)), rows, axis=0), axis=1)


@keras.saving.register_keras_serializable(package="keras_memory")
class HashedMemory(TokenMemory):
    """A memory of `num_tables` tables of `num_buckets` slots; each token reads
    the bucket it hashes to in every table.

    A token hashes to one bucket per table
    (`keras_memory.addressing.hashed_lookup`: the sign bits of fixed random
    projections of its features, so similar tokens share buckets; the hash
    has no gradient) and reads the mean over tables of those buckets' rows:
    `O(num_tables * value_dim)` a token, whatever `num_buckets`.

    With `decay=None` (default) the slots are a trainable weight, learned
    by gradient like an embedding table. With a `decay` the slots are
    written instead of trained: each training call moves every bucket hit
    towards the mean value its tokens write (a learned projection of the
    tokens, `slot <- decay * slot + (1 - decay) * mean`,
    `keras_memory.addressing.ema_write`) and reads the written slots, so the
    gradient reaches the value projection; masked tokens do not write.

    Args:
        num_buckets: int, slots per table, a power of two.
        value_dim: int >= 1 or `None` (the input's features): the width of a
            slot and of the output.
        num_tables: int >= 1. Default 4.
        decay: `None` (learned slots), or a float in `[0, 1)`: written slots,
            what a write keeps of the old slot.
        seed: int or `None`, for the hash projections.
        slot_initializer: for the slots. Default normal, stddev 0.02.
        kernel_initializer: for the value projection (with `decay`).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `[..., features]`.
        mask: optional, over the leading axes; passed through. Masked tokens
            read zeros' buckets and, with `decay`, write nothing.
        training: with `decay`, whether to write.

    Returns:
        `[..., value_dim]`.

    Examples:
        >>> import numpy as np
        >>> layer = HashedMemory(num_buckets=256, value_dim=8, num_tables=2)
        >>> tuple(layer(np.ones((2, 5, 3), "float32")).shape)
        (2, 5, 8)
        >>> tuple(layer.slots.shape)
        (2, 256, 8)
    """

    def __init__(self, num_buckets, value_dim=None, num_tables=4, decay=None, seed=None,
                 slot_initializer=None, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(value_dim=value_dim, **kwargs)
        self.bits = _hash_bits(num_buckets)
        self.num_buckets = num_buckets
        self.num_tables = check.positive_int("num_tables", num_tables)
        self.decay = None if decay is None else check.fraction("decay", decay)
        self.seed = seed
        self.slot_initializer = keras.initializers.get(
            slot_initializer or keras.initializers.RandomNormal(stddev=0.02))
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build_memory(self, features):
        self.projections = _add_projections(self, features)
        self.slots = self.add_weight(
            name="slots", shape=(self.num_tables, self.num_buckets, self.output_dim),
            initializer=self.slot_initializer, trainable=self.decay is None)
        if self.decay is not None:
            self.value = keras.layers.Dense(
                self.output_dim, name="value", dtype=self.dtype_policy,
                kernel_initializer=self.kernel_initializer)
            self.value.build((None, features))

    def call(self, inputs, mask=None, training=None):
        tokens, leading = self.tokens(inputs)
        weights = None
        if mask is not None:
            weights = ops.reshape(ops.cast(mask, tokens.dtype), (-1,))
            tokens = ops.where(weights[:, None] > 0, tokens, ops.zeros_like(tokens))
        buckets = hashed_lookup(tokens, self.projections)
        slots = ops.convert_to_tensor(self.slots)
        if self.decay is not None and training:
            slots = ema_write(slots, buckets, self.value(tokens), self.decay, weights)
            self.slots.assign(ops.stop_gradient(slots))
        outputs = ops.cast(_read_buckets(slots, buckets), self.compute_dtype)
        return self.untokens(outputs, leading)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_buckets=self.num_buckets, num_tables=self.num_tables, decay=self.decay,
            seed=self.seed,
            slot_initializer=keras.initializers.serialize(self.slot_initializer),
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


HashedState = collections.namedtuple("HashedState", ["output", "slots", "buckets"])
HashedState.__doc__ = """The state of a `HashedMemoryCell`.

- output: `[batch, value_dim]`, the last read.
- slots: `[batch, num_tables, num_buckets, value_dim]`, each sequence's
  buckets.
- buckets: `[batch, num_tables]`, the buckets the last step read and wrote
  (as floats: a state holds one dtype; recorded for `keras_memory.trace`).
"""


@keras.saving.register_keras_serializable(package="keras_memory")
class HashedMemoryCell(MemoryCell):
    """A memory of `num_buckets` slots per table that each step reads, then
    writes, at the buckets its input hashes to.

    At each step the input hashes to one bucket per table
    (`keras_memory.addressing.hashed_lookup`: the sign bits of fixed random
    projections, so similar inputs share buckets; the hash has no
    gradient, so nothing learns the keys: put a trained projection in
    front if the inputs need one). The cell
    outputs the average over tables of those buckets' contents (what was
    written under similar keys before), then moves each of them towards a
    projection of the input: `slot <- decay * slot + (1 - decay) * value`.
    Reads are differentiable with respect to what was written; the choice of
    buckets is not.

    Args:
        num_buckets: int, buckets per table, a power of two.
        value_dim: int >= 1, the width of a bucket and of the output.
        num_tables: int >= 1. Default 4.
        decay: float in `[0, 1)`, how much of a bucket a write keeps.
            Default 0.5.
        seed: int or `None`, for the hash projections.
        kernel_initializer: for the value projection.
        remat: as for `keras_memory.MemoryCell`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments and returns: as for any `MemoryCell` (`HashedState`).

    Examples:
        >>> import keras, numpy as np
        >>> cell = HashedMemoryCell(num_buckets=16, value_dim=4, num_tables=2)
        >>> layer = keras.layers.RNN(cell, return_sequences=True)
        >>> tuple(layer(np.ones((2, 5, 3), "float32")).shape)
        (2, 5, 4)
    """

    def __init__(self, num_buckets, value_dim, num_tables=4, decay=0.5, seed=None,
                 kernel_initializer="glorot_uniform", remat="auto", **kwargs):
        super().__init__(remat=remat, **kwargs)
        self.bits = _hash_bits(num_buckets)
        self.num_buckets = num_buckets
        self.value_dim = check.positive_int("value_dim", value_dim)
        self.num_tables = check.positive_int("num_tables", num_tables)
        self.decay = check.fraction("decay", decay)
        self.seed = seed
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    @property
    def state_shape(self):
        return HashedState(
            output=(self.value_dim,),
            slots=(self.num_tables, self.num_buckets, self.value_dim),
            buckets=(self.num_tables,),
        )

    def build(self, input_shape):
        features = input_shape[-1]
        self.value = keras.layers.Dense(
            self.value_dim, name="value", dtype=self.dtype_policy,
            kernel_initializer=self.kernel_initializer)
        self.value.build((None, features))
        self.projections = _add_projections(self, features)

    def step(self, inputs, state, training=None, constants=None):
        buckets = hashed_lookup(inputs, self.projections)  # [B, T]
        hit = ops.one_hot(buckets, self.num_buckets, dtype=state.slots.dtype)  # [B, T, S]
        read = ops.mean(ops.einsum("bts,btsv->btv", hit, state.slots), axis=1)
        value = self.value(inputs)
        moved = (1.0 - self.decay) * (value[:, None, None, :] - state.slots)
        slots = state.slots + hit[..., None] * moved
        return read, HashedState(read, slots, ops.cast(buckets, read.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_buckets=self.num_buckets, value_dim=self.value_dim,
            num_tables=self.num_tables, decay=self.decay,
            seed=self.seed,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
