"""End-to-End Memory Networks (Sukhbaatar et al., 2015).

`MemoryHop` is one hop of attention over a set of memories; `MemoryNetwork`
stacks `num_hops` of them between a query embedding and an output
projection, with the paper's weight tying schemes.
"""

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory._kernels import KernelArguments
from keras_memory.addressing import masked_softmax

WEIGHT_TYING_MODES = (None, "adjacent", "layerwise")


def memory_attention(query, memory_keys, mask=None, use_softmax=True):
    """Attention of a query over embedded memories, `p = softmax(u . m_i)`.

    Args:
        query: `[batch, memory_dim]`, the controller state `u`.
        memory_keys: `[batch, num_memories, memory_dim]`, memories embedded
            by the hop's input embedding A.
        mask: optional boolean `[batch, num_memories]`, `False` for padding.
        use_softmax: when `False` the raw scores are returned (the paper's
            "linear start"); masked slots are still zero. A scalar tensor
            (> 0.5: softmax) switches at run time without a new graph.

    Returns:
        `[batch, num_memories]` attention weights.
    """
    # einsum rather than matmul: Keras' torch matmul computes float64 in float32.
    scores = ops.einsum("bd,bnd->bn", query, memory_keys)
    if isinstance(use_softmax, bool):
        return masked_softmax(scores, mask) if use_softmax else _masked(scores, mask)
    return ops.where(
        use_softmax > 0.5, masked_softmax(scores, mask), _masked(scores, mask)
    )


def _masked(scores, mask):
    return scores if mask is None else scores * ops.cast(mask, scores.dtype)


def memory_read(attention, memory_values):
    """Weighted sum of memories, `o = sum_i p_i c_i`.

    Args:
        attention: `[batch, num_memories]`.
        memory_values: `[batch, num_memories, memory_dim]`, memories embedded
            by the hop's output embedding C.

    Returns:
        `[batch, memory_dim]`.
    """
    return ops.einsum("bn,bnd->bd", attention, memory_values)


def tied_embeddings(weight_tying, num_hops):
    """Which memory embeddings exist and which pair `(A_k, C_k)` each hop reads.

    Returns:
        `(names, hop_pairs)`: the names of the embedding matrices to create
        and, per hop, the indices of its input (A) and output (C) embedding
        in `names`. With `"adjacent"` tying the query embedding B is
        `names[0]` and the answer projection is `names[-1]` transposed.
    """
    hops = range(1, num_hops + 1)
    if weight_tying == "adjacent":
        names = [f"embedding_{j}" for j in range(num_hops + 1)]
        return names, tuple((k - 1, k) for k in hops)
    if weight_tying == "layerwise":
        return ["input_embedding", "output_embedding"], ((0, 1),) * num_hops
    names = []
    for k in hops:
        names += [f"input_embedding_{k}", f"output_embedding_{k}"]
    return names, tuple((2 * k - 2, 2 * k - 1) for k in hops)


def run_hops(state, embedded, hop_pairs, memory_mask, use_softmax,
             hop_transition=None):
    """The hops of a memory network on memories embedded once per matrix.

    Args:
        state: `[batch, d]`, the embedded query `u_1`.
        embedded: list of `[batch, N, d]`, the memories under each embedding.
        hop_pairs: per hop, `(key_index, value_index)` into `embedded`.
        memory_mask: `[batch, N]` boolean or `None`.
        use_softmax: bool or scalar tensor, see `memory_attention`.
        hop_transition: optional `[d, d]` matrix H (layerwise tying).

    Returns:
        `(u_{K+1} [batch, d], attention [batch, K, N])`.
    """
    attentions = []
    for key_index, value_index in hop_pairs:
        attention = memory_attention(
            state, embedded[key_index], memory_mask, use_softmax
        )
        read = memory_read(attention, embedded[value_index])
        if hop_transition is not None:
            state = ops.einsum("bd,de->be", state, hop_transition)
        state = state + read
        attentions.append(attention)
    return state, ops.stack(attentions, axis=1)


class TiedHops(KernelArguments):
    """Mixin: the tying-dependent variables and read-out of a memory network.

    Used by `MemoryNetwork` (dense memories) and `MemN2N` (word ids). The
    layer sets `weight_tying` and `num_hops`; `_build_tied_embeddings`
    creates one matrix per name of `tied_embeddings` and
    `_build_tied_extras` the matrices that only untied modes have: the query
    embedding B and the answer projection W (adjacent tying uses the first
    and last memory embeddings instead) and, for layerwise tying, the hop
    transition H.
    """

    def _build_tied_embeddings(self, shape, prefix=""):
        names, self._hop_embeddings = tied_embeddings(
            self.weight_tying, self.num_hops
        )
        return [self._kernel(prefix + name, shape) for name in names]

    def _build_tied_extras(self, embedding_shape, state_dim, output_dim):
        if self.weight_tying != "adjacent":
            self.query_embedding = self._kernel("query_embedding", embedding_shape)
            self.output_kernel = self._kernel("output_kernel", (state_dim, output_dim))
        if self.weight_tying == "layerwise":
            self.hop_transition = self._kernel(
                "hop_transition", (state_dim, state_dim)
            )

    def _query_kernel(self, embeddings):
        """B: `embeddings[0]` under adjacent tying, else `query_embedding`."""
        if self.weight_tying == "adjacent":
            return embeddings[0]
        return self.query_embedding

    def _tied_hops(self, state, embedded, memory_mask, use_softmax, embeddings):
        """Runs the hops from `u_1` and projects `u_{K+1}` to the outputs.

        Args:
            state: `[batch, d]`, the embedded query.
            embedded: list of `[batch, N, d]`, memories under each embedding.
            memory_mask: `[batch, N]` boolean or `None`.
            use_softmax: bool or scalar tensor.
            embeddings: the memory embedding matrices `[input, d]`; under
                adjacent tying the last one, transposed, is the projection.

        Returns:
            `(logits [batch, output], attention [batch, K, N])`.
        """
        layerwise = self.weight_tying == "layerwise"
        state, attention = run_hops(
            state,
            embedded,
            self._hop_embeddings,
            memory_mask,
            use_softmax,
            self.hop_transition if layerwise else None,
        )
        if self.weight_tying == "adjacent":
            logits = ops.einsum("bd,id->bi", state, embeddings[-1])
        else:
            logits = ops.einsum("bd,do->bo", state, self.output_kernel)
        return logits, attention


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
    query_shape, memories_shape, query_dim, input_dim, num_memories=None
):
    """Validates `[batch, query_dim]` and `[batch, N, input_dim]` shapes."""
    check.rank("query", query_shape, 2, "([batch, features])")
    check.rank("memories", memories_shape, 3, "([batch, num_memories, features])")
    if memories_shape[-1] is None:
        raise ValueError(
            "`memories` must have a known last (feature) dimension, "
            f"received memories with shape {memories_shape}."
        )
    check.dim("query", query_shape, -1, query_dim, "features")
    check.dim("memories", memories_shape, -1, input_dim, "features")
    check.dim("memories", memories_shape, 1, num_memories, "num_memories")
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
            "`memory_mask` must have shape [batch, num_memories] = "
            f"{expected}, received memory_mask with shape {mask_shape}."
        )
    return memory_mask


class _LinearMemoryLayer(KernelArguments, keras.layers.Layer):
    """Shared argument handling of the two memory-network layers."""

    def __init__(
        self,
        memory_dim,
        num_memories=None,
        return_attention=False,
        kernel_initializer=None,
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.memory_dim = check.positive_int("memory_dim", memory_dim)
        self.num_memories = check.optional_positive_int("num_memories", num_memories)
        self.return_attention = bool(return_attention)
        self._set_kernel_arguments(
            kernel_initializer, kernel_regularizer, kernel_constraint
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
            self.num_memories,
        )
        return query, memories, _memory_mask(mask, memory_mask, memories_shape)

    def compute_mask(self, inputs, mask=None):
        # The outputs have no memory axis left to mask.
        return [None, None] if self.return_attention else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "memory_dim": self.memory_dim,
                "num_memories": self.num_memories,
                "return_attention": self.return_attention,
                **self._kernel_config(),
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
        num_memories: int >= 1 to accept only that many memory slots, or
            `None` (default) for any number.
        return_attention: bool; also return the attention `p`.
        kernel_initializer: initializer of A and C; default `N(0, 0.1)` as in
            the paper.
        kernel_regularizer, kernel_constraint: for A and C.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[u, memories]`, `u` `[batch, memory_dim]`, `memories`
            `[batch, num_memories, input_dim]`. `num_memories` may change
            from call to call.
        mask: masks propagated by Keras; the memories' mask
            `[batch, num_memories]` (`False` = padding) is honoured.
        memory_mask: an explicit `[batch, num_memories]` boolean mask, used
            instead of a propagated one.

    Returns:
        `[batch, memory_dim]`, or `(state, attention)` with attention
        `[batch, num_memories]` when `return_attention=True`.

    Example:

    >>> import numpy as np
    >>> hop = MemoryHop(4)
    >>> u = np.zeros((2, 4), "float32")
    >>> memories = np.ones((2, 5, 3), "float32")
    >>> tuple(hop([u, memories]).shape)
    (2, 4)
    """

    def __init__(self, memory_dim, use_softmax=True, **kwargs):
        super().__init__(memory_dim, **kwargs)
        self.use_softmax = bool(use_softmax)

    def build(self, input_shape):
        query_shape, memories_shape = split_pair("MemoryHop", input_shape)
        query_shape = check.shape_of("query", query_shape)
        memories_shape = check.shape_of("memories", memories_shape)
        _check_pair_shapes(
            query_shape, memories_shape, self.memory_dim, None, self.num_memories
        )
        self.input_dim = memories_shape[-1]
        embedding_shape = (self.input_dim, self.memory_dim)
        self.input_embedding = self._kernel("input_embedding", embedding_shape)
        self.output_embedding = self._kernel("output_embedding", embedding_shape)

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
class MemoryNetwork(TiedHops, _LinearMemoryLayer):
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
        num_memories: int >= 1 to accept only that many memory slots, or
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
            memories `[batch, num_memories, input_dim]`; `num_memories` may
            change from call to call.
        mask: masks propagated by Keras; the memories' mask
            `[batch, num_memories]` (`False` = padding) is honoured.
        memory_mask: an explicit `[batch, num_memories]` boolean mask.

    Returns:
        `[batch, output_dim]`, or `(output, attention)` with attention
        `[batch, num_hops, num_memories]` when `return_attention=True`.

    Example:

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
        **kwargs,
    ):
        super().__init__(memory_dim, **kwargs)
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
            query_shape, memories_shape, memories_shape[-1], None, self.num_memories
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
        # Every variable is created once; `_hop_embeddings` says which pair
        # of `memory_embeddings` each hop reads, so tied matrices are shared
        # and each embedded memory is computed once per call.
        self.memory_embeddings = self._build_tied_embeddings(embedding)
        self._build_tied_extras(embedding, self.memory_dim, output_dim)

    def call(self, inputs, mask=None, memory_mask=None):
        query, memories, memory_mask = self._checked_inputs(
            inputs, mask, memory_mask, query_dim=self.input_dim
        )
        embedded = [_embed(memories, e) for e in self.memory_embeddings]
        query_kernel = self._query_kernel(self.memory_embeddings)
        logits, attention = self._tied_hops(
            ops.einsum("bi,id->bd", query, query_kernel),
            embedded,
            memory_mask,
            self.use_softmax,
            self.memory_embeddings,
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


def memory_network(
    input_dim,
    memory_dim=128,
    num_hops=3,
    output_dim=None,
    num_memories=None,
    name="memory_network",
    **layer_kwargs,
):
    """Builds a functional `keras.Model` around one `MemoryNetwork` layer.

    Mirrors the specification's `build/1`.

    Args:
        input_dim: int >= 1, feature size of the query and of each memory.
        memory_dim: int >= 1, embedding size. Default 128.
        num_hops: int >= 1. Default 3.
        output_dim: int >= 1 or `None` (= `input_dim`).
        num_memories: int >= 1 to fix the number of memory slots, or `None`
            (default) to accept any number at each call.
        name: model name.
        **layer_kwargs: passed to `MemoryNetwork` (`weight_tying`,
            `output_activation`, ...).

    Returns:
        A `keras.Model` with inputs named `query` `[batch, input_dim]` and
        `memories` `[batch, num_memories, input_dim]`, and output
        `[batch, output_dim]`.
    """
    input_dim = check.positive_int("input_dim", input_dim)
    num_memories = check.optional_positive_int("num_memories", num_memories)
    query = keras.Input((input_dim,), name="query")
    memories = keras.Input((num_memories, input_dim), name="memories")
    outputs = MemoryNetwork(
        memory_dim=memory_dim,
        num_hops=num_hops,
        output_dim=output_dim,
        num_memories=num_memories,
        name="memory_network_layer",
        **layer_kwargs,
    )([query, memories])
    return keras.Model([query, memories], outputs, name=name)
