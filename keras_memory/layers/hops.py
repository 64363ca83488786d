"""The hops of an End-to-End Memory Network as functions on tensors, and the
weight tying that decides which matrices each hop reads (Sukhbaatar et al.,
2015, section 2.2). Used by `MemoryNetwork` (dense memories) and `MemN2N`
(word ids)."""

import keras
from keras import ops

from keras_memory.addressing import masked_softmax

WEIGHT_TYING_MODES = (None, "adjacent", "layerwise")


def memory_attention(query, memory_keys, mask=None, use_softmax=True):
    """Attention of a query over embedded memories, `p = softmax(u . m_i)`.

    Args:
        query: `[batch, memory_dim]`, the controller state `u`.
        memory_keys: `[batch, memory_size, memory_dim]`, memories embedded
            by the hop's input embedding A.
        mask: optional boolean `[batch, memory_size]`, `False` for padding.
        use_softmax: when `False` the raw scores are returned (the paper's
            "linear start"); masked slots are still zero. A scalar tensor
            (> 0.5: softmax) switches at run time without a new graph.

    Returns:
        `[batch, memory_size]` attention weights.

    Examples:
        >>> import numpy as np
        >>> query = np.array([[1.0, 0.0]], "float32")
        >>> keys = np.array([[[5.0, 0.0], [0.0, 5.0]]], "float32")
        >>> p = memory_attention(query, keys)
        >>> bool(p[0, 0] > 0.99)
        True
    """
    dtype = keras.backend.standardize_dtype(query.dtype)
    if dtype in ("float16", "bfloat16"):
        # Scores and softmax in float32, as Keras' attention layers compute
        # them under mixed precision: scores overflow float16 at 6.5e4.
        query, memory_keys = ops.cast(query, "float32"), ops.cast(memory_keys, "float32")
    # einsum rather than matmul: Keras' torch matmul computes float64 in float32.
    scores = ops.einsum("bd,bnd->bn", query, memory_keys)
    if isinstance(use_softmax, bool):
        weights = masked_softmax(scores, mask) if use_softmax else _masked(scores, mask)
    else:
        weights = ops.where(
            use_softmax > 0.5, masked_softmax(scores, mask), _masked(scores, mask)
        )
    return ops.cast(weights, dtype)


def _masked(scores, mask):
    # where, not a product: a masked slot's score is 0 even if it is NaN.
    if mask is None:
        return scores
    return ops.where(ops.cast(mask, "bool"), scores, ops.zeros_like(scores))


def memory_read(attention, memory_values):
    """Weighted sum of memories, `o = sum_i p_i c_i`.

    A masked slot has attention 0 (`memory_attention`), so it adds nothing
    as long as its value is finite: `MemoryHop` and `MemoryNetwork` zero
    masked memories before embedding them.

    Args:
        attention: `[batch, memory_size]`.
        memory_values: `[batch, memory_size, memory_dim]`, memories embedded
            by the hop's output embedding C.

    Returns:
        `[batch, memory_dim]`.

    Examples:
        >>> import numpy as np
        >>> attention = np.array([[0.25, 0.75]], "float32")
        >>> values = np.array([[[4.0, 0.0], [0.0, 4.0]]], "float32")
        >>> [round(float(v), 2) for v in memory_read(attention, values)[0]]
        [1.0, 3.0]
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


def make_tied_embeddings(make_kernel, weight_tying, num_hops, shape, prefix=""):
    """Creates the matrices `tied_embeddings` names with `make_kernel(name, shape)`.

    Returns:
        `(matrices, hop_pairs)`.
    """
    names, hop_pairs = tied_embeddings(weight_tying, num_hops)
    return [make_kernel(prefix + name, shape) for name in names], hop_pairs


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


class TiedWeights:
    """The matrices of a memory network's hops and read-out under one tying.

    Holds (does not own) the layer's variables: the memory embeddings, the
    query embedding B, the answer projection W and the hop transition H,
    the last three created by `TiedWeights.make` where the tying does not
    share them (adjacent tying uses the first and last memory embeddings).

    Attributes:
        weight_tying: `None`, `"adjacent"` or `"layerwise"`.
        embeddings: the memory embedding matrices `[input, d]`.
        hop_pairs: per hop, `(A index, C index)` into `embeddings`.
        query_embedding: B, `[input, d]`.
        output_kernel: W, `[d, output]`, or `None` (adjacent: C_K^T).
        hop_transition: H, `[d, d]`, or `None` (all but layerwise).
    """

    def __init__(self, weight_tying, embeddings, hop_pairs, query_embedding=None,
                 output_kernel=None, hop_transition=None):
        self.weight_tying = weight_tying
        self.embeddings = embeddings
        self.hop_pairs = hop_pairs
        self.query_embedding = (
            embeddings[0] if weight_tying == "adjacent" else query_embedding
        )
        self.output_kernel = output_kernel
        self.hop_transition = hop_transition

    @classmethod
    def make(cls, make_kernel, weight_tying, embeddings, hop_pairs, state_dim,
             output_dim):
        """Creates B, W and H where `weight_tying` needs them of their own."""
        extras = {}
        if weight_tying != "adjacent":
            extras["query_embedding"] = make_kernel(
                "query_embedding", tuple(embeddings[0].shape)
            )
            extras["output_kernel"] = make_kernel("output_kernel", (state_dim, output_dim))
        if weight_tying == "layerwise":
            extras["hop_transition"] = make_kernel(
                "hop_transition", (state_dim, state_dim)
            )
        return cls(weight_tying, embeddings, hop_pairs, **extras)

    def run(self, state, embedded, memory_mask, use_softmax):
        """Runs the hops from `u_1` and projects `u_{K+1}` to the outputs.

        Args:
            state: `[batch, d]`, the embedded query.
            embedded: list of `[batch, N, d]`, memories under each embedding.
            memory_mask: `[batch, N]` boolean or `None`.
            use_softmax: bool or scalar tensor.

        Returns:
            `(logits [batch, output], attention [batch, K, N])`.
        """
        state, attention = run_hops(
            state, embedded, self.hop_pairs, memory_mask, use_softmax,
            self.hop_transition,
        )
        if self.weight_tying == "adjacent":
            return ops.einsum("bd,id->bi", state, self.embeddings[-1]), attention
        return ops.einsum("bd,do->bo", state, self.output_kernel), attention
