"""DNC memory as pure `keras.ops` functions (Graves et al., 2016).

Dynamic allocation (`allocation`, `write_allocation`, `usage_update`),
temporal links (`precedence_update`, `link_update`,
`directional_read_weights`) and `dnc_access`, one whole DNC memory step.
They follow google-deepmind/dnc (`addressing.py`, `access.py`) in meaning
and argument order, on already-activated interface values.

Shapes: B batch, N rows, M row width, R read heads, W write heads.
"""

import collections

import keras
from keras import ops

from keras_memory import _ops
from keras_memory import _validation as check
from keras_memory.addressing import _products as products
from keras_memory.addressing.ntm import EPSILON
from keras_memory.addressing.ntm import _tensors
from keras_memory.addressing.ntm import content_addressing
from keras_memory.addressing.ntm import read
from keras_memory.addressing.ntm import write

DNCAccess = collections.namedtuple(
    "DNCAccess",
    ["read_words", "memory", "usage", "link", "precedence", "read_weights",
     "write_weights"],
)
DNCAccess.__doc__ = """The result of one DNC memory step (`dnc_access`).

- read_words: `[B, R, M]`, what each read head read from the new memory.
- memory: `[B, N, M]`, after erase and add.
- usage: `[B, N]`, in [0, 1]: how used each row is.
- link: `[B, W, N, N]`, per write head, `link[i, j]`: how strongly row i
  was written right after row j (zero diagonal).
- precedence: `[B, W, N]`, how much each row was the last one written.
- read_weights: `[B, R, N]`.
- write_weights: `[B, W, N]`.
"""


def _check_access(memory, **tensors):
    """Raises unless every `dnc_access` input has its documented shape."""
    check.has_shape("memory", memory, (None, None, None))
    batch, rows, width = memory.shape
    check.has_shape("read_weights", tensors["read_weights"], (batch, None, rows))
    check.has_shape("write_weights", tensors["write_weights"], (batch, None, rows))
    reads = tensors["read_weights"].shape[1]
    writes = tensors["write_weights"].shape[1]
    modes = None if writes is None else 2 * writes + 1
    shapes = {
        "usage": (batch, rows), "link": (batch, writes, rows, rows),
        "precedence": (batch, writes, rows), "read_keys": (batch, reads, width),
        "read_strengths": (batch, reads), "write_keys": (batch, writes, width),
        "write_strengths": (batch, writes), "erase_vectors": (batch, writes, width),
        "write_vectors": (batch, writes, width), "free_gates": (batch, reads),
        "allocation_gates": (batch, writes), "write_gates": (batch, writes),
        "read_modes": (batch, reads, modes),
    }
    for name, shape in shapes.items():
        check.has_shape(name, tensors[name], shape)


def allocation(usage, epsilon=EPSILON):
    """Where to write next: the least used rows first.

    `a[phi_j] = (1 - u[phi_j]) * prod_{i<j} u[phi_i]`, with `phi` the rows
    sorted from least to most used (ties: the lower row first). Usage is
    first clamped to `epsilon + (1 - epsilon) * usage`, so that a fully
    used memory still allocates (a little) and gradients stay finite.

    Args:
        usage: `[B, N]`, in [0, 1].
        epsilon: the clamp.

    Returns:
        `[B, N]` allocation weights, summing to at most 1.

    Examples:
        >>> import numpy as np
        >>> weights = allocation(np.array([[1.0, 0.0, 0.5]], "float32"))
        >>> [round(float(w), 3) for w in weights[0]]
        [0.0, 1.0, 0.0]
    """
    (usage,) = _tensors(usage)
    check.has_shape("usage", usage, (None, None))
    dtype = keras.backend.standardize_dtype(usage.dtype)
    # Products of many usages underflow in half precision: compute in float32.
    compute_dtype = "float32" if dtype in ("float16", "bfloat16") else dtype
    if compute_dtype != dtype:
        usage = ops.cast(usage, compute_dtype)
    usage = epsilon + (1.0 - epsilon) * usage
    size = usage.shape[-1] or ops.shape(usage)[-1]
    # No sort: prod_{i<j} u[phi_i] for row n is the product of the usages of
    # the rows before n in the order (less used, or as used and lower), as
    # exp(sum of their logs) (u >= epsilon); `earlier[b, m, n]` is 1 where
    # row m comes before row n. This is as differentiable as a sort (the
    # order is piecewise constant), and XLA's CPU sort was a tenth of a DNC
    # training step.
    rows = ops.arange(size)
    lower = rows[:, None] < rows  # [N, N]: row m has the lower index
    # Comparisons as operators: each backend's own, no Keras op to dispatch.
    row_usage, column_usage = _ops.new_axis(usage, 2), _ops.new_axis(usage, 1)
    earlier = _ops.cast(
        (row_usage < column_usage) | ((row_usage <= column_usage) & lower), compute_dtype
    )
    before = _ops.exp(products.vector_matrix(_ops.log(usage), earlier))
    weights = (1.0 - usage) * before
    return weights if compute_dtype == dtype else ops.cast(weights, dtype)


def write_allocation(usage, write_gates, epsilon=EPSILON):
    """Allocation weights of every write head.

    Head i allocates on the usage left by the heads before it, as if they
    had written where they allocate: `u <- u + (1 - u) * g_i * a_i`.

    Args:
        usage: `[B, N]`.
        write_gates: `[B, W]`, in [0, 1].

    Returns:
        `[B, W, N]`, not yet scaled by the write gates.
    """
    usage, write_gates = _tensors(usage, write_gates)
    check.has_shape("usage", usage, (None, None))
    check.has_shape("write_gates", write_gates, (usage.shape[0], None))
    weights = []
    num_writes = write_gates.shape[-1]
    for head in range(num_writes):
        head_allocation = allocation(usage, epsilon)
        weights.append(head_allocation)
        if head + 1 < num_writes:  # the usage the next head allocates on
            gate = write_gates[:, head : head + 1]
            usage = usage + (1.0 - usage) * gate * head_allocation
    if num_writes == 1:
        return _ops.new_axis(weights[0], 1)
    return _ops.stack(weights, axis=1)


def usage_update(usage, write_weights, free_gates, read_weights):
    """Usage after the last step's writes and the reads the free gates free.

    `u <- u + (1 - u) * (1 - prod_w (1 - w_w))`, then
    `u <- u * prod_r (1 - f_r * w_r)`.

    Args:
        usage: `[B, N]`, the previous usage.
        write_weights: `[B, W, N]`, the previous step's write weights.
        free_gates: `[B, R]`, in [0, 1].
        read_weights: `[B, R, N]`, the previous step's read weights.

    Returns:
        `[B, N]`, in [0, 1].
    """
    usage, write_weights, free_gates, read_weights = _tensors(
        usage, write_weights, free_gates, read_weights
    )
    if write_weights.shape[1] == 1:
        written = _ops.drop_axis(write_weights, 1)
    else:
        written = 1.0 - products.product_over_heads(1.0 - write_weights)
    usage = usage + (1.0 - usage) * written
    kept = products.product_over_heads(1.0 - _ops.new_axis(free_gates, 2) * read_weights)
    return usage * kept


def precedence_update(precedence, write_weights):
    """`p <- (1 - sum_n w) * p + w`, per write head.

    Args:
        precedence: `[B, W, N]`.
        write_weights: `[B, W, N]`.

    Returns:
        `[B, W, N]`.
    """
    precedence, write_weights = _tensors(precedence, write_weights)
    total = _ops.sum(write_weights, axis=-1, keepdims=True)
    return (1.0 - total) * precedence + write_weights


def link_update(link, precedence, write_weights):
    """Temporal links: `L[i, j] <- (1 - w[i] - w[j]) L[i, j] + w[i] p[j]`.

    Args:
        link: `[B, W, N, N]`.
        precedence: `[B, W, N]`, the precedence before this step's write.
        write_weights: `[B, W, N]`.

    Returns:
        `[B, W, N, N]` with a zero diagonal (no row links to itself).
    """
    link, precedence, write_weights = _tensors(link, precedence, write_weights)
    if products.compiled():
        link = (
            link
            - products.scale_rows(write_weights, link)
            - products.scale_columns(link, write_weights)
            + products.outer(write_weights, precedence)
        )
    else:  # the fewest [N, N] ops
        kept = _ops.new_axis(1.0 - write_weights, -1) - _ops.new_axis(write_weights, -2)
        link = kept * link + products.outer(write_weights, precedence)
    size = link.shape[-1] or ops.shape(link)[-1]
    off_diagonal = 1.0 - ops.eye(size, dtype=link.dtype)
    return link * off_diagonal


def directional_read_weights(link, read_weights, forward):
    """Read weights moved one write along the links, per write head.

    Args:
        link: `[B, W, N, N]`.
        read_weights: `[B, R, N]`, the previous read weights.
        forward: bool; `True` follows writes forward in time (`L w`),
            `False` backward (`L^T w`).

    Returns:
        `[B, R, W, N]`.
    """
    link, read_weights = _tensors(link, read_weights)
    return _ops.transpose(_follow_links(link, read_weights, forward), (0, 2, 1, 3))


def _follow_links(link, read_weights, forward):
    """`directional_read_weights` as `[B, W, R, N]`, the layout of a batched
    matrix product; given the link of one write head without its axis
    (`[B, N, N]`), `[B, R, N]`. `dnc_access` takes either as it is."""
    if len(link.shape) == 4:
        read_weights = _ops.new_axis(read_weights, 1)
    if forward:
        return products.matmul_transposed(read_weights, link)
    return _ops.matmul(read_weights, link)


def dnc_access(memory, usage, link, precedence, read_weights, write_weights, *,
               read_keys, read_strengths, write_keys, write_strengths,
               erase_vectors, write_vectors, free_gates, allocation_gates,
               write_gates, read_modes, validate=True):
    """One whole DNC memory step on already-activated interface values.

    In deepmind's order: usage from the previous weights; write weights
    `write_gate * (allocation_gate * allocation + (1 - allocation_gate) *
    content)`; erase then add; links and precedence; read weights mixing
    backward (`read_modes[..., :W]`), forward (`[..., W:2W]`) and content
    (`[..., 2W]`) modes on the new memory; the read words.

    Args:
        memory: `[B, N, M]`; usage: `[B, N]`; link: `[B, W, N, N]`;
            precedence: `[B, W, N]`; read_weights: `[B, R, N]`;
            write_weights: `[B, W, N]`: the previous state.
        read_keys: `[B, R, M]`; read_strengths: `[B, R]` (used as given:
            `softmax(strength * cosine)`).
        write_keys: `[B, W, M]`; write_strengths: `[B, W]`.
        erase_vectors: `[B, W, M]`, in [0, 1]; write_vectors: `[B, W, M]`.
        free_gates: `[B, R]`; allocation_gates, write_gates: `[B, W]`; all
            in [0, 1].
        read_modes: `[B, R, 2W + 1]`, each row summing to 1.
        validate: convert NumPy inputs and check every shape first
            (default). With `False` every input must already be a backend
            tensor of its documented shape: `DNCCell`, whose state and
            interface have them by construction, skips the check at every
            step.

    Returns:
        A `DNCAccess`.
    """
    if validate:
        memory, usage, link, precedence, read_weights, write_weights = _tensors(
            memory, usage, link, precedence, read_weights, write_weights
        )
        (read_keys, read_strengths, write_keys, write_strengths, erase_vectors,
         write_vectors, free_gates, allocation_gates, write_gates, read_modes) = _tensors(
            read_keys, read_strengths, write_keys, write_strengths, erase_vectors,
            write_vectors, free_gates, allocation_gates, write_gates, read_modes
        )
        _check_access(
            memory, usage=usage, link=link, precedence=precedence,
            read_weights=read_weights, write_weights=write_weights, read_keys=read_keys,
            read_strengths=read_strengths, write_keys=write_keys,
            write_strengths=write_strengths, erase_vectors=erase_vectors,
            write_vectors=write_vectors, free_gates=free_gates,
            allocation_gates=allocation_gates, write_gates=write_gates,
            read_modes=read_modes,
        )
    return _access(memory, usage, link, precedence, read_weights, write_weights,
                   read_keys, read_strengths, write_keys, write_strengths, erase_vectors,
                   write_vectors, free_gates, allocation_gates, write_gates, read_modes)


def _access(memory, usage, link, precedence, read_weights, write_weights, read_keys,
            read_strengths, write_keys, write_strengths, erase_vectors, write_vectors,
            free_gates, allocation_gates, write_gates, read_modes):
    """`dnc_access` on tensors of the right shapes."""
    num_writes = write_weights.shape[1]
    usage = usage_update(usage, write_weights, free_gates, read_weights)
    write_content = content_addressing(write_keys, memory, _ops.new_axis(write_strengths, -1))
    allocated = write_allocation(usage, write_gates * allocation_gates)  # [B, W, N]
    allocation_gates = _ops.new_axis(allocation_gates, -1)
    write_weights = _ops.new_axis(write_gates, -1) * (
        allocation_gates * allocated + (1.0 - allocation_gates) * write_content
    )
    memory = write(memory, write_weights, erase_vectors, write_vectors)
    link = link_update(link, precedence, write_weights)
    precedence = precedence_update(precedence, write_weights)
    read_content = content_addressing(read_keys, memory, _ops.new_axis(read_strengths, -1))
    if num_writes == 1:  # scale the one direction of each mode: no sums
        one_link = _ops.drop_axis(link, 1)
        read_weights = (
            read_modes[..., 0:1] * _follow_links(one_link, read_weights, forward=False)
            + read_modes[..., 1:2] * _follow_links(one_link, read_weights, forward=True)
            + read_modes[..., 2:] * read_content
        )
    else:
        backward = _follow_links(link, read_weights, forward=False)  # [B, W, R, N]
        forward = _follow_links(link, read_weights, forward=True)
        read_weights = (
            ops.einsum("brw,bwrn->brn", read_modes[..., :num_writes], backward)
            + ops.einsum("brw,bwrn->brn", read_modes[..., num_writes : 2 * num_writes],
                         forward)
            + read_modes[..., 2 * num_writes :] * read_content
        )
    return DNCAccess(read(memory, read_weights), memory, usage, link, precedence,
                     read_weights, write_weights)
