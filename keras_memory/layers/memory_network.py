"""End-to-End Memory Networks (Sukhbaatar et al., 2015) on dense memories.

`MemoryHop` is one hop of attention over a set of memories; `MemoryNetwork`
stacks `num_hops` of them between a query embedding and an output
projection, with the paper's weight tying schemes (`keras_memory.layers.hops`).
"""

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory._compat import upgrade_config
from keras_memory._kernels import KernelOptions
from keras_memory.layers.hops import WEIGHT_TYING_MODES
from keras_memory.layers.hops import TiedWeights
from keras_memory.layers.hops import make_tied_embeddings
from keras_memory.layers.hops import memory_attention
from keras_memory.layers.hops import memory_read


def _embed(memories, embedding):
    """`[batch, N, input_dim]` x `[input_dim, d]` -> `[batch, N, d]`."""
    return ops.einsum("bni,id->bnd", memories, embedding)


def split_pair(layer_name, inputs, expected="[query, memories]"):
    """Unpacks a two-input list or raises a ValueError that says how."""
    single_shape = isinstance(inputs, (list, tuple)) and any(
        item is None or isinstance(item, int) for item in inputs
    )
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2 or single_shape:
        raise ValueError(
            f"{layer_name} must be called on a list `{expected}`, "
            f"received inputs={inputs!r}."
        )
    return inputs[0], inputs[1]


def _check_pair_shapes(
    query_shape, memories_shape, query_dim, input_dim, memory_size=None
):
    """Validates `[batch, query_dim]` and `[batch, N, input_dim]` shapes."""
    check.rank("query", query_shape, 2, "([batch, features])")
    check.rank("memories", memories_shape, 3, "([batch, memory_size, features])")
    if memories_shape[-1] is None:
        raise ValueError(
            "`memories` must have a known last (feature) dimension, "
            f"received memories with shape {memories_shape}."
        )
    check.dim("query", query_shape, -1, query_dim, "features")
    check.dim("memories", memories_shape, -1, input_dim, "features")
    check.dim("memories", memories_shape, 1, memory_size, "memory_size")
    q_batch, m_batch = query_shape[0], memories_shape[0]
    if q_batch is not None and m_batch is not None and q_batch != m_batch:
        raise ValueError(
            "`query` and `memories` must have the same batch size, received "
            f"query with shape {query_shape} and memories with shape "
            f"{memories_shape}."
        )


def _memory_mask(mask, memory_mask, memories_shape):
    """Picks the memory mask from Keras' propagated masks or the argument."""
    if memory_mask is None and isinstance(mask, (list, tuple)) and len(mask) == 2:
        memory_mask = mask[1]
    if memory_mask is None:
        return None
    mask_shape = check.shape_of("memory_mask", memory_mask)
    expected = tuple(memories_shape[:2])
    if len(mask_shape) != 2 or any(
        a is not None and b is not None and a != b
        for a, b in zip(mask_shape, expected)
    ):
        raise ValueError(
            "`memory_mask` must have shape [batch, memory_size] = "
            f"{expected}, received memory_mask with shape {mask_shape}."
        )
    return memory_mask


class _LinearMemoryLayer(keras.layers.Layer):
    """Shared argument handling of the two memory-network layers."""

    def __init__(
        self,
        memory_dim,
        memory_size=None,
        return_attention=False,
        kernel_initializer=None,
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.memory_dim = check.positive_int("memory_dim", memory_dim)
        self.memory_size = check.optional_positive_int("memory_size", memory_size)
        self.return_attention = bool(return_attention)
        self.kernels = KernelOptions(
            self, kernel_initializer, kernel_regularizer, kernel_constraint
        )
        self.supports_masking = True

    def _checked_inputs(self, inputs, mask, memory_mask, query_dim):
        """Unpacks and validates `[query, memories]`; picks the memory mask."""
        query, memories = split_pair(type(self).__name__, inputs)
        memories_shape = check.shape_of("memories", memories)
        _check_pair_shapes(
            check.shape_of("query", query),
            memories_shape,
            query_dim,
            self.input_dim,
            self.memory_size,
        )
        # Integer (or bool) inputs are numbers like any other: cast them, as
        # Keras' own layers do, rather than fail inside a backend matmul.
        query, memories = (
            x if "float" in keras.backend.standardize_dtype(x.dtype)
            else ops.cast(x, self.compute_dtype)
            for x in (query, memories)
        )
        memory_mask = _memory_mask(mask, memory_mask, memories_shape)
        if memory_mask is not None:
            # Masked slots hold zeros from here on: whatever they held (NaN
            # included) reaches neither the output nor the gradients.
            keep = ops.expand_dims(ops.cast(memory_mask, "bool"), -1)
            memories = ops.where(keep, memories, ops.zeros_like(memories))
        return query, memories, memory_mask

    @classmethod
    def from_config(cls, config):
        return cls(**upgrade_config(config))

    def compute_mask(self, inputs, mask=None):
        # The outputs have no memory axis left to mask.
        return [None, None] if self.return_attention else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "memory_dim": self.memory_dim,
                "memory_size": self.memory_size,
                "return_attention": self.return_attention,
                **self.kernels.get_config(),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_memory")
class MemoryHop(_LinearMemoryLayer):
    """One hop of an End-to-End Memory Network.

    The hop embeds every memory twice, with an input embedding A (for
    attention) and an output embedding C (for reading), attends with the
    current state `u`, and adds what it read:

        p = softmax(u . A m_i),   o = sum_i p_i C m_i,   returns u + o

    Args:
        memory_dim: int >= 1, size `d` of the state `u` and of the embedded
            memories.
        use_softmax: bool; `False` drops the softmax over memories (the
            paper's linear start). Default `True`.
        memory_size: int >= 1 to accept only that many memory slots, or
            `None` (default) for any number.
        return_attention: bool; also return the attention `p`.
        kernel_initializer: initializer of A and C; default `N(0, 0.1)` as in
            the paper.
        kernel_regularizer, kernel_constraint: for A and C.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[u, memories]`, `u` `[batch, memory_dim]`, `memories`
            `[batch, memory_size, input_dim]`. `memory_size` may change
            from call to call.
        mask: masks propagated by Keras; the memories' mask
            `[batch, memory_size]` (`False` = padding) is honoured.
        memory_mask: an explicit `[batch, memory_size]` boolean mask, used
            instead of a propagated one.

    Returns:
        `[batch, memory_dim]`, or `(state, attention)` with attention
        `[batch, memory_size]` when `return_attention=True`.

    Examples:
        >>> import numpy as np
        >>> hop = MemoryHop(4)
        >>> u = np.zeros((2, 4), "float32")
        >>> memories = np.ones((2, 5, 3), "float32")
        >>> tuple(hop([u, memories]).shape)
        (2, 4)
    """

    def __init__(
        self,
        memory_dim,
        use_softmax=True,
        memory_size=None,
        return_attention=False,
        kernel_initializer=None,
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(
            memory_dim, memory_size=memory_size, return_attention=return_attention,
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
            kernel_constraint=kernel_constraint, **kwargs,
        )
        self.use_softmax = bool(use_softmax)

    def build(self, input_shape):
        query_shape, memories_shape = split_pair("MemoryHop", input_shape)
        query_shape = check.shape_of("query", query_shape)
        memories_shape = check.shape_of("memories", memories_shape)
        _check_pair_shapes(
            query_shape, memories_shape, self.memory_dim, None, self.memory_size
        )
        self.input_dim = memories_shape[-1]
        embedding_shape = (self.input_dim, self.memory_dim)
        self.input_embedding = self.kernels.make("input_embedding", embedding_shape)
        self.output_embedding = self.kernels.make("output_embedding", embedding_shape)

    def call(self, inputs, mask=None, memory_mask=None):
        query, memories, memory_mask = self._checked_inputs(
            inputs, mask, memory_mask, query_dim=self.memory_dim
        )
        keys = _embed(memories, self.input_embedding)
        values = _embed(memories, self.output_embedding)
        attention = memory_attention(query, keys, memory_mask, self.use_softmax)
        state = query + memory_read(attention, values)
        return (state, attention) if self.return_attention else state

    def compute_output_shape(self, input_shape):
        query_shape, memories_shape = split_pair("MemoryHop", input_shape)
        state_shape = (query_shape[0], self.memory_dim)
        if self.return_attention:
            return state_shape, (memories_shape[0], memories_shape[1])
        return state_shape

    def get_config(self):
        config = super().get_config()
        config["use_softmax"] = self.use_softmax
        return config


@keras.saving.register_keras_serializable(package="keras_memory")
class MemoryNetwork(_LinearMemoryLayer):
    """End-to-End Memory Network: query embedding, K hops, output projection.

        u_1 = B q
        u_{k+1} = u_k + o_k            (H u_k + o_k with layerwise tying)
        o_k = sum_i softmax(u_k . A_k m_i)_i C_k m_i
        output = activation(W u_{K+1})

    Weight tying (`weight_tying`), as in the paper:

    - `None` (default): every hop has its own A_k and C_k; B and W are
      separate. `2K + 2` weight matrices.
    - `"adjacent"`: A_{k+1} = C_k, B = A_1 and W^T = C_K, so `K + 1`
      embedding matrices. Needs `output_dim == input_dim`.
    - `"layerwise"`: one A and one C for all hops, a learned linear map H
      between hops, separate B and W: 5 weight matrices.

    Args:
        memory_dim: int >= 1, embedding size `d`. Default 128.
        num_hops: int >= 1, number of hops K. Default 3.
        output_dim: int >= 1 or `None` (the input dimension).
        weight_tying: `None`, `"adjacent"` or `"layerwise"`.
        memory_size: int >= 1 to accept only that many memory slots, or
            `None` (default) for any number.
        output_activation: activation applied to `W u`; default `None`
            (logits).
        use_softmax: bool; `False` for the paper's linear start (see
            `keras_memory.memory_network` docs).
        return_attention: bool; also return the attention of every hop.
        kernel_initializer: default `N(0, 0.1)` as in the paper.
        kernel_regularizer, kernel_constraint: for every weight matrix.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[query, memories]`, query `[batch, input_dim]`,
            memories `[batch, memory_size, input_dim]`; `memory_size` may
            change from call to call.
        mask: masks propagated by Keras; the memories' mask
            `[batch, memory_size]` (`False` = padding) is honoured.
        memory_mask: an explicit `[batch, memory_size]` boolean mask.

    Returns:
        `[batch, output_dim]`, or `(output, attention)` with attention
        `[batch, num_hops, memory_size]` when `return_attention=True`.

    Examples:
        >>> import numpy as np
        >>> net = MemoryNetwork(memory_dim=8, num_hops=2, output_dim=3)
        >>> query = np.ones((2, 6), "float32")
        >>> memories = np.ones((2, 10, 6), "float32")
        >>> tuple(net([query, memories]).shape)
        (2, 3)
    """

    def __init__(
        self,
        memory_dim=128,
        num_hops=3,
        output_dim=None,
        weight_tying=None,
        output_activation=None,
        use_softmax=True,
        memory_size=None,
        return_attention=False,
        kernel_initializer=None,
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(
            memory_dim, memory_size=memory_size, return_attention=return_attention,
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
            kernel_constraint=kernel_constraint, **kwargs,
        )
        self.num_hops = check.positive_int("num_hops", num_hops)
        self.output_dim = check.optional_positive_int("output_dim", output_dim)
        self.weight_tying = check.choice(
            "weight_tying", weight_tying, WEIGHT_TYING_MODES
        )
        self.output_activation = keras.activations.get(output_activation)
        self.use_softmax = bool(use_softmax)

    def _output_dim(self, input_dim):
        return self.output_dim if self.output_dim is not None else input_dim

    def build(self, input_shape):
        query_shape, memories_shape = split_pair("MemoryNetwork", input_shape)
        query_shape = check.shape_of("query", query_shape)
        memories_shape = check.shape_of("memories", memories_shape)
        _check_pair_shapes(
            query_shape, memories_shape, memories_shape[-1], None, self.memory_size
        )
        self.input_dim = input_dim = memories_shape[-1]
        output_dim = self._output_dim(input_dim)
        if self.weight_tying == "adjacent" and output_dim != input_dim:
            raise ValueError(
                "weight_tying='adjacent' ties the output projection to the "
                "last output embedding, so `output_dim` must equal the input "
                f"dimension {input_dim}; received output_dim={output_dim}. "
                "Use weight_tying=None or 'layerwise' for another output size."
            )
        embedding = (input_dim, self.memory_dim)
        # Every variable is created once; `hop_pairs` says which pair of
        # `memory_embeddings` each hop reads, so tied matrices are shared
        # and each embedded memory is computed once per call.
        self.memory_embeddings, hop_pairs = make_tied_embeddings(
            self.kernels.make, self.weight_tying, self.num_hops, embedding
        )
        self.tied = TiedWeights.make(
            self.kernels.make, self.weight_tying, self.memory_embeddings, hop_pairs,
            self.memory_dim, output_dim,
        )

    def call(self, inputs, mask=None, memory_mask=None):
        query, memories, memory_mask = self._checked_inputs(
            inputs, mask, memory_mask, query_dim=self.input_dim
        )
        embedded = [_embed(memories, e) for e in self.memory_embeddings]
        logits, attention = self.tied.run(
            ops.einsum("bi,id->bd", query, self.tied.query_embedding),
            embedded,
            memory_mask,
            self.use_softmax,
        )
        output = self.output_activation(logits)
        return (output, attention) if self.return_attention else output

    def compute_output_shape(self, input_shape):
        query_shape, memories_shape = split_pair("MemoryNetwork", input_shape)
        output_shape = (query_shape[0], self._output_dim(memories_shape[-1]))
        if self.return_attention:
            return output_shape, (
                memories_shape[0],
                self.num_hops,
                memories_shape[1],
            )
        return output_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_hops": self.num_hops,
                "output_dim": self.output_dim,
                "weight_tying": self.weight_tying,
                "output_activation": keras.activations.serialize(
                    self.output_activation
                ),
                "use_softmax": self.use_softmax,
            }
        )
        return config
