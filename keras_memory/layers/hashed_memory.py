"""`HashedMemoryCell`: a recurrent memory of hashed buckets that writes as it
reads (locality-sensitive hashing; moving-average writes)."""

import collections
import math

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory.addressing.hashing import hashed_lookup
from keras_memory.recurrent import MemoryCell

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
        self.num_buckets = check.positive_int("num_buckets", num_buckets)
        bits = round(math.log2(self.num_buckets))
        if 2**bits != self.num_buckets or bits > 30:
            raise ValueError(
                "`num_buckets` must be a power of two up to 2 ** 30 (a key's bucket "
                f"is its sign bits), received num_buckets={num_buckets}."
            )
        self.bits = bits
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
        self.projections = self.add_weight(
            name="projections", shape=(self.num_tables, self.bits, features),
            initializer=keras.initializers.RandomNormal(seed=self.seed), trainable=False)

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
