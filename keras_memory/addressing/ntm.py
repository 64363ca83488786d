"""NTM addressing as pure `keras.ops` functions (Graves et al., 2014).

The NTM addresses memory in four stages, each a function here:

    content_addressing -> interpolate -> circular_shift -> sharpen

and `address` runs them in order. `read` and `write` use the resulting
weights. Every function works on any backend, inside or outside `jit`, and
is safe on degenerate input (zero keys, zero memory, one-hot weights, large
sharpness): no NaN, by construction, through epsilons in norms and a
log-space sharpening.

Shapes. `batch` is the batch axis, `N` the number of memory rows, `M` the
row width. Every function also accepts a leading *head axis*: pass
`[batch, heads, ...]` instead of `[batch, ...]` for `key`, `strength`,
`gate`, `sharpening`, `shift`, `weights`, `erase` and `add`, and the result gets
the same head axis (the memory stays `[batch, N, M]`, shared by the heads).
"""

import keras
from keras import ops

from keras_memory import _ops
from keras_memory.addressing import _products as products

EPSILON = 1e-6


def masked_softmax(logits, mask=None):
    """Softmax over the last axis that gives masked entries exactly zero.

    Args:
        logits: float tensor `[..., N]`.
        mask: optional boolean tensor broadcastable to `logits`; `False`
            marks padding. A row whose entries are all masked gets all
            zeros (never NaN).

    Returns:
        Tensor `[..., N]`; the unmasked entries of each row sum to 1.
    """
    (logits,) = _tensors(logits)
    if mask is None:
        # One op, stable (it subtracts the maximum), and the cheapest on
        # backends that pay per op.
        return _ops.softmax(logits, axis=-1)
    mask = ops.cast(mask, "bool")
    _check_broadcastable("mask", mask, "logits", logits)
    # float16 overflows at 6.5e4; wider types have range to spare.
    is_half = keras.backend.standardize_dtype(logits.dtype) == "float16"
    floor = -3e4 if is_half else -1e9
    logits = ops.where(mask, logits, ops.cast(floor, logits.dtype))
    # The softmax over the floored logits, masked entries then dropped and
    # the rest renormalised: the softmax over the unmasked entries alone.
    # (No `ops.max`, which refuses an empty batch or row on some backends.)
    weights = ops.softmax(logits, axis=-1) * ops.cast(mask, logits.dtype)
    total = ops.sum(weights, axis=-1, keepdims=True)
    # `total` is about 1 unless every entry is masked; then the row is all 0.
    # (ops.where, not ops.maximum: Keras' torch maximum returns float32.)
    return weights / ops.where(total > 0, total, 1.0)


def _check_broadcastable(name, tensor, target_name, target):
    """Raises unless `tensor` broadcasts to `target`'s shape (static sizes)."""
    shape, target_shape = tuple(tensor.shape), tuple(target.shape)
    fits = len(shape) <= len(target_shape) and all(
        a is None or b is None or a in (1, b)
        for a, b in zip(reversed(shape), reversed(target_shape))
    )
    if not fits:
        raise ValueError(
            f"`{name}` must broadcast to the shape of `{target_name}` "
            f"{target_shape}, received {name} with shape {shape}."
        )


def _tensors(*values):
    """Accepts NumPy arrays and Python lists as well as backend tensors."""
    # Backend tensors pass as they are: converting one again costs more than
    # the op it feeds on a small step of an eager backend.
    return [value if ops.is_tensor(value) else ops.convert_to_tensor(value)
            for value in values]


def _add_head_axis(tensor):
    """`[batch, X]` -> `([batch, 1, X], True)`; `[batch, H, X]` unchanged."""
    if len(tensor.shape) == 2:
        return _ops.new_axis(tensor, 1), True
    return tensor, False


def cosine_similarity(key, memory, epsilon=EPSILON, row_norms=None):
    """Cosine similarity of a key with every memory row.

    Args:
        key: `[batch, M]` (or `[batch, heads, M]`).
        memory: `[batch, N, M]`.
        epsilon: added under the square root of each norm, so a zero key or
            a zero row has similarity 0 instead of NaN.
        row_norms: optional `[batch, N]`, the rows' squared norms when known
            (a SAM keeps them): then the memory is read once, for the dots.

    Returns:
        `[batch, N]` (or `[batch, heads, N]`), values in [-1, 1].
    """
    key, memory = _tensors(key, memory)
    key, squeeze = _add_head_axis(key)
    dtype = keras.backend.standardize_dtype(memory.dtype)
    if dtype in ("float16", "bfloat16"):
        # Norms of rows near zero are ~1e-3, their products ~1e-6, and the
        # gradient of the division their square: half precision flushes it
        # to zero and divides by it. The scores are float32 (as Keras'
        # attention layers compute theirs under mixed precision).
        key, memory = ops.cast(key, "float32"), ops.cast(memory, "float32")
    dots = products.matmul_transposed(key, memory)  # [b, h, N]
    key_norms = products.squared_norms(key) + epsilon  # [b, h, 1], squared
    if row_norms is None:
        row_norms = products.squared_norms(memory, keepdims=False)  # [b, N]
    row_norms = _ops.new_axis(ops.cast(row_norms, dots.dtype) + epsilon, 1)  # [b, 1, N]
    # One square root of the product of the squared norms: one op fewer.
    similarity = dots / _ops.sqrt(key_norms * row_norms)
    if dtype != keras.backend.standardize_dtype(similarity.dtype):
        similarity = ops.cast(similarity, dtype)
    # An index where that is cheaper than ops.squeeze (_ops.drop_axis).
    return _ops.drop_axis(similarity, 1) if squeeze else similarity


def content_addressing(key, memory, strength, epsilon=EPSILON):
    """Content weights `softmax(beta * cosine(key, memory_i))` over the rows.

    Args:
        key: `[batch, M]` (or `[batch, heads, M]`).
        memory: `[batch, N, M]`.
        strength: the key strength beta >= 0, `[batch, 1]` (or
            `[batch, heads, 1]`).
        epsilon: see `cosine_similarity`.

    Returns:
        `[batch, N]` (or `[batch, heads, N]`) weights summing to 1. A zero
        key or a zero memory gives uniform weights.
    """
    (strength,) = _tensors(strength)
    return masked_softmax(strength * cosine_similarity(key, memory, epsilon))


def interpolate(content_weights, previous_weights, gate):
    """Blend content and previous weights: `g * w_c + (1 - g) * w_prev`.

    Args:
        content_weights: `[batch, N]` (or `[batch, heads, N]`).
        previous_weights: same shape, the head's weights at the last step.
        gate: `[batch, 1]` (or `[batch, heads, 1]`), in [0, 1].

    Returns:
        Weights of the same shape.
    """
    content_weights, previous_weights, gate = _tensors(
        content_weights, previous_weights, gate
    )
    return gate * content_weights + (1.0 - gate) * previous_weights


def circular_shift(weights, shift):
    """Rotate weights by a distribution over shifts, wrapping around.

    `w~(i) = sum_j w(j) s(i - j)`: with the shift weights s ordered from shift
    `-R` to `+R`, a one-hot shift of `+1` moves the focus from row `i` to
    row `i + 1` (and from the last row to row 0). For `R = 1` the order is
    `[shift_left, stay, shift_right]`.

    Args:
        weights: `[batch, N]` (or `[batch, heads, N]`).
        shift: the shift weights s, `[batch, 2R + 1]` (or
            `[batch, heads, 2R + 1]`), a distribution over shifts `-R..R`,
            with `2R + 1 <= N`.

    Returns:
        Weights of the same shape as `weights`.
    """
    weights, shift = _tensors(weights, shift)
    width = shift.shape[-1]
    num_rows = weights.shape[-1]
    if width is None or width % 2 != 1:
        raise ValueError(
            "`shift` must have an odd, static last dimension 2R + 1, "
            f"received shift with shape {tuple(shift.shape)}."
        )
    if num_rows is not None and width > num_rows:
        raise ValueError(
            f"`shift` covers {width} shifts but `weights` has only "
            f"{num_rows} rows; 2R + 1 must be <= N. Received shift "
            f"with shape {tuple(shift.shape)} and weights with shape "
            f"{tuple(weights.shape)}."
        )
    radius = width // 2
    if radius == 0:
        return weights * shift
    # The weights with R rows wrapped around each end, then one slice per
    # shift: `padded[R - r + i] = w(i - r)`, as `ops.roll` by r would give,
    # with one Keras op instead of 2R (backends that run op by op pay per op).
    padded = _ops.concatenate([weights[..., -radius:], weights, weights[..., :radius]],
                              axis=-1)
    size = ops.shape(weights)[-1] if num_rows is None else num_rows
    shifted = 0.0
    for index in range(width):
        start = 2 * radius - index  # R - r, for the shift r = index - R
        shifted = shifted + padded[..., start : start + size] * shift[
            ..., index : index + 1
        ]
    return shifted


def sharpen(weights, sharpening, epsilon=EPSILON):
    """Sharpen weights: `w^gamma / sum(w^gamma)`, computed in log space.

    Args:
        weights: `[batch, N]` (or `[batch, heads, N]`), non-negative
            (negative entries are treated as 0).
        sharpening: gamma >= 1, `[batch, 1]` (or `[batch, heads, 1]`).
        epsilon: added to the weights before the log, so zero weights and
            large sharpening (100 and beyond) stay finite.

    Returns:
        Weights of the same shape, summing to 1.
    """
    weights, sharpening = _tensors(weights, sharpening)
    # relu: weights that rounding (or a caller) made negative count as 0
    # instead of turning the log into NaN.
    return masked_softmax(sharpening * _ops.log(_ops.relu(weights) + epsilon))


def address(key, strength, gate, shift, sharpening, previous_weights, memory):
    """The four addressing stages in order (the fields of `HeadParameters`).

    Args:
        key: `[batch, M]`; strength (beta), gate (g), sharpening (gamma):
        `[batch, 1]`; shift (s): `[batch, 2R + 1]`; previous_weights: `[batch, N]`;
        memory: `[batch, N, M]`. Each may carry a head axis (module docs).

    Returns:
        `[batch, N]` (or `[batch, heads, N]`) weights summing to 1.
    """
    content = content_addressing(key, memory, strength)
    gated = interpolate(content, previous_weights, gate)
    shifted = circular_shift(gated, shift)
    return sharpen(shifted, sharpening)


def read(memory, weights):
    """Read a weighted sum of memory rows: `r = sum_i w(i) M(i)`.

    Args:
        memory: `[batch, N, M]`.
        weights: `[batch, N]` (or `[batch, heads, N]`).

    Returns:
        `[batch, M]` (or `[batch, heads, M]`).
    """
    memory, weights = _tensors(memory, weights)
    weights, squeeze = _add_head_axis(weights)
    reads = _ops.matmul(weights, memory)
    return _ops.drop_axis(reads, 1) if squeeze else reads


def write(memory, weights, erase, add):
    """Erase then add: `M * (1 - w e^T) + w a^T`.

    With a head axis, the heads write at once as in Graves et al.: the
    erase factors multiply, `M * prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T`.

    Args:
        memory: `[batch, N, M]`.
        weights: `[batch, N]` (or `[batch, heads, N]`).
        erase: `[batch, M]` (or `[batch, heads, M]`), in [0, 1].
        add: `[batch, M]` (or `[batch, heads, M]`).

    Returns:
        The new memory, `[batch, N, M]`.
    """
    memory, weights, erase, add = _tensors(memory, weights, erase, add)
    weights, _ = _add_head_axis(weights)
    erase, _ = _add_head_axis(erase)
    add, _ = _add_head_axis(add)
    erase_factors = 1.0 - products.outer(weights, erase)  # [b, h, N, M]
    keep = products.product_over_heads(erase_factors)
    if weights.shape[1] == 1:  # one head: an outer product, no sum over heads
        return memory * keep + products.outer(_ops.drop_axis(weights, 1), _ops.drop_axis(add, 1))
    added = ops.einsum("bhn,bhm->bnm", weights, add)
    return memory * keep + added
