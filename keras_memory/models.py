"""Builders: functional `keras.Model`s around memory layers.

`memory_network` and `ntm` mirror the specification's `build/1`;
`memn2n` is the bAbI model of Sukhbaatar et al. (2015); `dnc` is `ntm`'s
counterpart for the Differentiable Neural Computer, `sam` for Sparse Access
Memory, `sdnc` for the sparse DNC; `memory_transformer`
is a causal transformer with large memory layers in place of feed-forward
layers (Lample et al. 2019; Berges et al. 2024).
"""

import keras

from keras_memory import _validation as check
from keras_memory.layers.dnc import DNC
from keras_memory.layers.hashed_memory import HashedMemory
from keras_memory.layers.memn2n import MemN2N
from keras_memory.layers.memory_network import MemoryNetwork
from keras_memory.layers.ntm import NTM
from keras_memory.layers.positions import PositionEmbedding
from keras_memory.layers.product_key_memory import ProductKeyMemory
from keras_memory.layers.sam import SAM
from keras_memory.layers.sdnc import SDNC


def memory_network(
    input_dim,
    memory_dim=128,
    num_hops=3,
    output_dim=None,
    memory_size=None,
    name="memory_network",
    **layer_kwargs,
):
    """A functional `keras.Model` around one `MemoryNetwork` layer.

    Args:
        input_dim: int >= 1, feature size of the query and of each memory.
        memory_dim: int >= 1, embedding size. Default 128.
        num_hops: int >= 1. Default 3.
        output_dim: int >= 1 or `None` (= `input_dim`).
        memory_size: int >= 1 to fix the number of memory slots, or `None`
            (default) to accept any number at each call.
        name: model name.
        **layer_kwargs: passed to `MemoryNetwork` (`weight_tying`,
            `output_activation`, ...).

    Returns:
        A `keras.Model` with inputs named `query` `[batch, input_dim]` and
        `memories` `[batch, memory_size, input_dim]`, and output
        `[batch, output_dim]`.

    Examples:
        >>> import numpy as np
        >>> model = memory_network(6, memory_dim=8, num_hops=2, output_dim=3)
        >>> out = model.predict({"query": np.ones((2, 6)),
        ...                      "memories": np.ones((2, 4, 6))}, verbose=0)
        >>> out.shape
        (2, 3)
    """
    input_dim = check.positive_int("input_dim", input_dim)
    memory_size = check.optional_positive_int("memory_size", memory_size)
    query = keras.Input((input_dim,), name="query")
    memories = keras.Input((memory_size, input_dim), name="memories")
    outputs = MemoryNetwork(
        memory_dim=memory_dim,
        num_hops=num_hops,
        output_dim=output_dim,
        memory_size=memory_size,
        name="memory_network_layer",
        **layer_kwargs,
    )([query, memories])
    return keras.Model([query, memories], outputs, name=name)


def memn2n(vocab_size, sentence_len, memory_size=50, linear_start=False,
           name="memn2n", **layer_kwargs):
    """The bAbI model of the paper as a functional `keras.Model`.

    Args:
        vocab_size: int >= 2 (`len(vocabulary)`).
        sentence_len: int >= 1, words per sentence (padded).
        memory_size: int >= 1, memory slots. Default 50.
        linear_start: bool; start with the softmax taken out of the hops
            (train with the `LinearStart` callback to put it back).
        name: model name.
        **layer_kwargs: passed to `MemN2N`, with its defaults: `memory_dim`
            (20), `num_hops` (3), `weight_tying` (`"adjacent"`), `encoding`
            (`"position_centered"`), `temporal_encoding` (`True`),
            `random_noise` (0; the paper's RN uses 0.1), `empty_slots`
            (`"masked"`; `"null"` as in the paper's code),
            `return_attention`, `seed`, `kernel_regularizer`...

    Returns:
        A `keras.Model` with int32 inputs `{"query": [batch, sentence_len],
        "stories": [batch, memory_size, sentence_len]}` (the keys of
        `keras_memory.datasets.babi.vectorize`'s `"queries"` and
        `"stories"`) and answer logits `[batch, vocab_size]`; compile it with
        `SparseCategoricalCrossentropy(from_logits=True)`.

    Examples:
        >>> import numpy as np
        >>> model = memn2n(vocab_size=12, sentence_len=4, memory_size=5, memory_dim=8)
        >>> logits = model.predict({"query": np.ones((2, 4), "int32"),
        ...                         "stories": np.ones((2, 5, 4), "int32")}, verbose=0)
        >>> logits.shape
        (2, 12)
    """
    sentence_len = check.positive_int("sentence_len", sentence_len)
    memory_size = check.positive_int("memory_size", memory_size)
    query = keras.Input((sentence_len,), dtype="int32", name="query")
    stories = keras.Input((memory_size, sentence_len), dtype="int32", name="stories")
    outputs = MemN2N(
        vocab_size=vocab_size,
        memory_size=memory_size,
        use_softmax=not linear_start,
        name="memn2n_layer",
        **layer_kwargs,
    )([query, stories])
    return keras.Model({"query": query, "stories": stories}, outputs, name=name)


def ntm(
    input_size,
    memory_size=128,
    memory_dim=32,
    controller_size=256,
    num_heads=1,
    output_size=None,
    sequence_length=None,
    mask_value=None,
    name="ntm",
    **layer_kwargs,
):
    """A functional `keras.Model` around one `NTM` layer.

    Args:
        input_size: int >= 1, features per time step.
        memory_size, memory_dim, controller_size, num_heads, output_size:
            see `NTMCell`.
        sequence_length: int >= 1 to fix the number of time steps, or
            `None` (default) for any length.
        mask_value: `None` (default), or a float: time steps whose inputs
            all equal it are padding (a `keras.layers.Masking` layer), left
            out of the state and skipped when the whole batch is padding.
            With the task generators' `padding_value`, one compiled graph
            then serves every sequence length at the cost of the real one.
        name: model name.
        **layer_kwargs: more `NTM` arguments (`controller`, `memory_init`,
            `output_activation`, `return_sequences`, ...). `return_sequences`
            defaults to `True` here.

    Returns:
        A `keras.Model` from `[batch, time, input_size]` (input named
        `inputs`) to `[batch, time, output_size]`.

    Examples:
        >>> import numpy as np
        >>> model = ntm(3, memory_size=8, memory_dim=4, controller_size=8)
        >>> model.predict(np.zeros((2, 5, 3)), verbose=0).shape
        (2, 5, 3)
    """
    return _sequence_model(
        NTM, name, input_size, sequence_length, mask_value, memory_size=memory_size,
        memory_dim=memory_dim, controller_size=controller_size, num_heads=num_heads,
        output_size=output_size, **layer_kwargs,
    )


def dnc(input_size, sequence_length=None, mask_value=None, name="dnc", **layer_kwargs):
    """A functional `keras.Model` around one `DNC` layer.

    Args:
        input_size: int >= 1, features per time step.
        sequence_length, mask_value, name: as for `ntm`.
        **layer_kwargs: `DNC` arguments, with its defaults: `memory_size`
            (128), `memory_dim` (32), `controller_size` (256),
            `num_read_heads` (1), `num_write_heads` (1), `output_size` (the
            input size), `controller`, `output_activation`, ...;
            `return_sequences` defaults to `True` here.

    Returns:
        A `keras.Model`, as `ntm` does.

    Examples:
        >>> import numpy as np
        >>> model = dnc(3, memory_size=8, memory_dim=4, controller_size=8)
        >>> model.predict(np.zeros((2, 5, 3)), verbose=0).shape
        (2, 5, 3)
    """
    return _sequence_model(DNC, name, input_size, sequence_length, mask_value,
                           **layer_kwargs)


def sam(input_size, sequence_length=None, mask_value=None, name="sam", **layer_kwargs):
    """A functional `keras.Model` around one `SAM` layer (Sparse Access Memory).

    Args:
        input_size: int >= 1, features per time step.
        sequence_length, mask_value, name: as for `ntm`.
        **layer_kwargs: `SAM` arguments, with its defaults: `memory_size`
            (128), `memory_dim` (32), `controller_size` (256),
            `num_read_heads` (1), `num_reads_per_head` (4), `output_size`
            (the input size), ...; `return_sequences` defaults to `True`.

    Returns:
        A `keras.Model`, as `ntm` does.

    Examples:
        >>> import numpy as np
        >>> model = sam(3, memory_size=1024, memory_dim=4, controller_size=8)
        >>> model.predict(np.zeros((2, 5, 3)), verbose=0).shape
        (2, 5, 3)
    """
    return _sequence_model(SAM, name, input_size, sequence_length, mask_value,
                           **layer_kwargs)


def sdnc(input_size, sequence_length=None, mask_value=None, name="sdnc", **layer_kwargs):
    """A functional `keras.Model` around one `SDNC` layer (the sparse DNC).

    Args:
        input_size: int >= 1, features per time step.
        sequence_length, mask_value, name: as for `ntm`.
        **layer_kwargs: `SDNC` arguments, with its defaults: `memory_size`
            (128), `memory_dim` (32), `controller_size` (256),
            `num_read_heads` (1), `num_reads_per_head` (4), `num_links` (8),
            `output_size` (the input size), ...; `return_sequences`
            defaults to `True`.

    Returns:
        A `keras.Model`, as `ntm` does.

    Examples:
        >>> import numpy as np
        >>> model = sdnc(3, memory_size=1024, memory_dim=4, controller_size=8, num_links=4)
        >>> model.predict(np.zeros((2, 5, 3)), verbose=0).shape
        (2, 5, 3)
    """
    return _sequence_model(SDNC, name, input_size, sequence_length, mask_value,
                           **layer_kwargs)


def _sequence_model(layer_class, name, input_size, sequence_length, mask_value,
                    **layer_kwargs):
    """`Input` -> optional `Masking(mask_value)` -> `layer_class(...)` (named
    `<name>_layer`, `return_sequences=True` unless told), as a model."""
    input_size = check.positive_int("input_size", input_size)
    sequence_length = check.optional_positive_int("sequence_length", sequence_length)
    if mask_value is not None:
        mask_value = check.real_number("mask_value", mask_value, allow_nan=False)
    layer_kwargs.setdefault("return_sequences", True)
    layer = layer_class(name=f"{name}_layer", **layer_kwargs)
    inputs = keras.Input((sequence_length, input_size), name="inputs")
    sequences = inputs
    if mask_value is not None:
        sequences = keras.layers.Masking(mask_value, name="padding_mask")(inputs)
    return keras.Model(inputs, layer(sequences), name=name)


MEMORY_KINDS = ("product_key", "hashed", "dense")


def memory_transformer(
    vocab_size,
    sequence_length,
    hidden_dim=128,
    num_layers=2,
    num_heads=4,
    memory="product_key",
    memory_size=65536,
    memory_heads=4,
    memory_blocks=None,
    feed_forward_dim=None,
    shared_memory=False,
    dropout=0.0,
    name="memory_transformer",
    **memory_kwargs,
):
    """A small causal transformer whose chosen blocks have a memory layer in
    place of the feed-forward layer.

    Tokens are embedded, positions added (`PositionEmbedding`), then each
    of `num_layers` pre-norm blocks adds causal self-attention and then its
    feed-forward part: a `Dense(feed_forward_dim, gelu) -> Dense(hidden_dim)`
    layer, or in the blocks `memory_blocks` names, the memory:

    - `"product_key"`: `ProductKeyMemory(memory_size, value_dim=hidden_dim,
      **memory_kwargs)`;
    - `"hashed"`: `HashedMemory(num_buckets=memory_size,
      value_dim=hidden_dim, **memory_kwargs)`;
    - `"dense"`: a feed-forward layer of `memory_size` hidden units (each
      unit is a key and its output row a value, a memory that reads all
      of its slots), to compare at equal compute.

    Args:
        vocab_size: int >= 2.
        sequence_length: int >= 1, the most tokens a sequence may have.
        hidden_dim: int >= 1. Default 128.
        num_layers: int >= 1. Default 2.
        num_heads: int >= 1, attention heads; divides `hidden_dim`.
        memory: one of `"product_key"`, `"hashed"`, `"dense"`.
        memory_size: int, the memory's slots (`"hashed"`: buckets per
            table). Default 65,536.
        memory_heads: int >= 1, the product-key memory's query heads
            (its `num_heads`). Default 4.
        memory_blocks: block indices (0-based) with the memory; default the
            middle block, `num_layers // 2`.
        feed_forward_dim: hidden units of the other blocks' feed-forward
            layers; default `4 * hidden_dim`.
        shared_memory: bool; one memory layer (one table) read by every
            memory block (Memory Layers at Scale), not one each. Not with
            sparse value updates (`value_learning_rate`), which take the
            rows one call read.
        dropout: float in `[0, 1)`, after attention and feed-forward.
        name: model name.
        **memory_kwargs: more memory layer arguments (`top_k`, `key_dim`,
            `gated`, `value_learning_rate`, `max_tokens`, `num_tables`,
            `seed`, ...).

    Returns:
        A `keras.Model` from int tokens `[batch, time]` (input named
        `tokens`) to next-token logits `[batch, time, vocab_size]`; compile
        it with `SparseCategoricalCrossentropy(from_logits=True)`.

    Examples:
        >>> import numpy as np
        >>> model = memory_transformer(20, 6, hidden_dim=16, memory_size=64, top_k=4,
        ...                            key_dim=8)
        >>> model.predict(np.ones((2, 6), "int32"), verbose=0).shape
        (2, 6, 20)
    """
    vocab_size = check.positive_int("vocab_size", vocab_size, minimum=2)
    sequence_length = check.positive_int("sequence_length", sequence_length)
    hidden_dim = check.positive_int("hidden_dim", hidden_dim)
    num_layers = check.positive_int("num_layers", num_layers)
    num_heads = check.positive_int("num_heads", num_heads)
    if hidden_dim % num_heads:
        raise ValueError(
            f"`num_heads` must divide `hidden_dim`, received num_heads={num_heads} and "
            f"hidden_dim={hidden_dim}."
        )
    memory = check.choice("memory", memory, MEMORY_KINDS)
    memory_size = check.positive_int("memory_size", memory_size)
    blocks = [num_layers // 2] if memory_blocks is None else list(memory_blocks)
    for block in blocks:
        if not isinstance(block, int) or not 0 <= block < num_layers:
            raise ValueError(
                f"`memory_blocks` must hold block indices in [0, {num_layers}), received "
                f"memory_blocks={memory_blocks}."
            )
    feed_forward_dim = check.positive_int(
        "feed_forward_dim", feed_forward_dim or 4 * hidden_dim)
    dropout = check.fraction("dropout", dropout)
    if shared_memory and memory_kwargs.get("value_learning_rate") is not None:
        raise ValueError(
            "`shared_memory=True` cannot take sparse value updates "
            "(`value_learning_rate`): they take the rows of one call a training step; "
            "received both."
        )

    def make_memory(index):
        layer_name = "memory" if shared_memory else f"memory_{index}"
        if memory == "product_key":
            return ProductKeyMemory(memory_size, value_dim=hidden_dim,
                                    num_heads=memory_heads, name=layer_name, **memory_kwargs)
        if memory == "hashed":
            return HashedMemory(memory_size, value_dim=hidden_dim, name=layer_name,
                                **memory_kwargs)
        return _feed_forward(memory_size, hidden_dim, layer_name)

    shared = make_memory(None) if shared_memory else None
    tokens = keras.Input((sequence_length,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, hidden_dim, name="token_embedding")(tokens)
    x = PositionEmbedding(sequence_length, name="position_embedding")(x)
    for index in range(num_layers):
        normed = keras.layers.LayerNormalization(name=f"attention_norm_{index}")(x)
        attended = keras.layers.MultiHeadAttention(
            num_heads, hidden_dim // num_heads, dropout=dropout, name=f"attention_{index}",
        )(normed, normed, use_causal_mask=True)
        x = keras.layers.Add(name=f"attention_residual_{index}")(
            [x, keras.layers.Dropout(dropout)(attended)])
        normed = keras.layers.LayerNormalization(name=f"feed_forward_norm_{index}")(x)
        if index in blocks:
            part = shared or make_memory(index)
        else:
            part = _feed_forward(feed_forward_dim, hidden_dim, f"feed_forward_{index}")
        x = keras.layers.Add(name=f"feed_forward_residual_{index}")(
            [x, keras.layers.Dropout(dropout)(part(normed))])
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(tokens, logits, name=name)


def _feed_forward(units, hidden_dim, name):
    return keras.Sequential(
        [keras.layers.Dense(units, activation="gelu"), keras.layers.Dense(hidden_dim)],
        name=name)
