"""Sparse Access Memory as pure `keras.ops` functions (Rae et al. 2016,
"Scaling Memory-Augmented Neural Networks with Sparse Reads and Writes").

A head reads the `K` rows most similar to its key and nothing else; a
write touches the rows the heads read at the last step and the least
recently accessed row. A step's gradient then flows through `K` rows a
head, not `N`: the choice of rows is made on scores without gradient
(one scan of the `N` similarities, exact), and only the similarities of
the rows chosen are differentiated.

Shapes: B batch, H heads, N memory rows, M row width, K rows a head
reads. A sparse weighting is a `SparseWeights(weights [B, H, K], rows [B,
H, K])`: the weight of each row touched, and the row's index (int32).
"""

import collections
import functools

from keras import ops

from keras_memory import _backend
from keras_memory import _validation as check
from keras_memory.addressing import _top_k
from keras_memory.addressing.ntm import EPSILON
from keras_memory.addressing.ntm import cosine_similarity

SparseWeights = collections.namedtuple("SparseWeights", ["weights", "rows"])
SparseWeights.__doc__ = """A weighting over memory rows that is zero but on `rows`.

- weights: `[B, H, K]`, the weight of each row touched.
- rows: `[B, H, K]` int32 row indices (a row may appear more than once;
  its weights then add).
"""

SAMAccess = collections.namedtuple(
    "SAMAccess", ["read_words", "memory", "read_weights", "row_norms"])
SAMAccess.__doc__ = """The result of one SAM memory step (`sam_access`).

- read_words: `[B, H, M]`, what each head read.
- memory: `[B, N, M]`, the memory after the write.
- read_weights: `SparseWeights` `[B, H, K]`, by weight, highest first.
- row_norms: `[B, N]`, the squared norm of each row after the write
  (without gradient).
"""

# An access below this weight does not count as one (`touch`).
ACCESS_THRESHOLD = 0.005

# Rows are chosen on similarities rounded down to multiples of this: rows
# within it of each other count as equally similar and go lowest first.
# Rows equal in exact arithmetic (written alike) come out of two compiled
# programs, or two backends, a rounding apart; unrounded, which is read
# would follow the rounding.
SCORE_RESOLUTION = 2.0**-12


def _memory_shape(memory):
    shape = check.shape_of("memory", memory)
    check.rank("memory", shape, 3, "([batch, N, M])")
    return shape


def _with_heads(name, tensor, rank):
    """`tensor` with a head axis (added at 1 when it has `rank - 1` axes)."""
    shape = check.shape_of(name, tensor)
    if len(shape) == rank - 1:
        return ops.expand_dims(ops.convert_to_tensor(tensor), 1), True
    check.rank(name, shape, rank, "(with or without a head axis)")
    return ops.convert_to_tensor(tensor), False


def _flat_rows(rows, size):
    """Each sequence's row indices `rows [B, ...]` as indices into its rows
    of the batch's flattened `[B * size, ...]` tensor."""
    rows = ops.cast(rows, "int32")
    offsets = ops.arange(ops.shape(rows)[0], dtype="int32") * size
    return rows + ops.reshape(offsets, (-1,) + (1,) * (len(rows.shape) - 1))


def _scatter_rows(tensor, rows, updates, reduction):
    """`tensor [B, N, ...]` with `updates [B, R, ...]` scattered into each
    sequence's rows `rows [B, R]` (`reduction` as `ops.scatter_update`'s):
    one scatter for the batch, the other rows untouched."""
    shape = ops.shape(tensor)
    inner = tuple(shape[2:])
    flat = ops.scatter_update(
        ops.reshape(tensor, (-1,) + inner), ops.reshape(_flat_rows(rows, shape[1]), (-1, 1)),
        ops.reshape(updates, (-1,) + inner), reduction=reduction)
    return ops.reshape(flat, shape)


def gather_rows(memory, rows):
    """The rows `rows [B, ...]` (int) of each sequence's `memory [B, N, M]`:
    `[B, ..., M]`, differentiable with respect to `memory` (at those rows)."""
    batch, size, width = ops.shape(memory)
    return _backend.take_rows(ops.reshape(memory, (-1, width)), _flat_rows(rows, size))


def sparse_content_read(key, memory, strength, num_reads, epsilon=EPSILON):
    """The `num_reads` rows most similar to each key, and their softmax.

    Each head scores every row by cosine similarity without gradient, keeps
    the top `num_reads` (equal scores: the lower row first), and weighs them
    by `softmax(strength * cosine)` over those rows alone, the similarities
    of the rows kept differentiated again. With `num_reads = N` the weights
    equal `content_addressing`'s.

    Args:
        key: `[B, H, M]` (or `[B, M]`).
        memory: `[B, N, M]`.
        strength: `[B, H, 1]` (or `[B, 1]`), the key strength beta >= 0.
        num_reads: int, `1 <= num_reads <= N`.
        epsilon: added to the squared norms (a zero key or row has
            similarity 0, not NaN).

    Returns:
        `SparseWeights`, `[B, H, num_reads]` each (`[B, num_reads]` for a key
        without a head axis): by weight, highest first.

    Examples:
        >>> import numpy as np
        >>> memory = np.array([[[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]], "float32")
        >>> read = sparse_content_read(np.array([[1.0, 0.1]], "float32"), memory,
        ...                            np.array([[10.0]], "float32"), num_reads=2)
        >>> np.asarray(read.rows).tolist()
        [[0, 2]]
    """
    num_reads = _check_num_reads(memory, num_reads)
    key, squeeze = _with_heads("key", key, 3)
    strength, _ = _with_heads("strength", strength, 3)
    memory = ops.convert_to_tensor(memory)
    # The choice: every row scored, without gradient (one scan of N).
    scores = cosine_similarity(ops.stop_gradient(key), ops.stop_gradient(memory), epsilon)
    rows = _choose(scores, num_reads)
    logits = _logits(key, gather_rows(memory, rows), strength, epsilon)
    logits, rows = _top_k.by_score_then_index(logits, rows)
    weights = ops.softmax(logits, axis=-1)
    if squeeze:
        return SparseWeights(weights[:, 0], rows[:, 0])
    return SparseWeights(weights, rows)


def _check_num_reads(memory, num_reads):
    size = _memory_shape(memory)[1]
    num_reads = check.positive_int("num_reads", num_reads)
    if size is not None and num_reads > size:
        raise ValueError(
            f"`num_reads` must be at most the memory's N = {size} rows, received "
            f"num_reads={num_reads}."
        )
    return num_reads


def _choose(scores, num_reads):
    """The rows `[B, H, K]` of the `num_reads` highest scores, compared at
    `SCORE_RESOLUTION`, equal ones lowest row first; no gradient."""
    return _top_k.top_k_rows(ops.floor(ops.stop_gradient(scores) / SCORE_RESOLUTION),
                             num_reads)


def _logits(key, chosen, strength, epsilon):
    """`strength * cosine(key, row)` of the rows chosen `[B, H, K, M]`,
    differentiable: `[B, H, K]`."""
    key = ops.cast(key, chosen.dtype)
    dots = ops.sum(key[:, :, None, :] * chosen, axis=-1)
    norms = (ops.sum(key * key, axis=-1, keepdims=True) + epsilon) * (
        ops.sum(chosen * chosen, axis=-1) + epsilon)
    similarity = dots / ops.sqrt(norms)
    return ops.cast(strength, similarity.dtype) * similarity


def sparse_read(memory, sparse):
    """`sum_k weights[..., k] * memory[rows[..., k]]`: `[B, H, M]` (or `[B,
    M]`), `O(K * M)` a head whatever N.

    Examples:
        >>> import numpy as np
        >>> memory = np.arange(6, dtype="float32").reshape(1, 3, 2)
        >>> sparse = SparseWeights(np.array([[0.25, 0.75]], "float32"),
        ...                        np.array([[2, 0]], "int32"))
        >>> np.asarray(sparse_read(memory, sparse)).tolist()
        [[1.0, 2.0]]
    """
    _memory_shape(memory)
    weights = ops.convert_to_tensor(sparse.weights)
    chosen = gather_rows(ops.convert_to_tensor(memory), sparse.rows)
    return ops.sum(ops.cast(weights, chosen.dtype)[..., None] * chosen, axis=-2)


def dense_weights(sparse, memory_size):
    """A sparse weighting as the dense `[B, H, N]` (or `[B, N]`) it stands for
    (repeated rows add). `O(K * N)`: for checks and pictures, not for steps.
    """
    memory_size = check.positive_int("memory_size", memory_size)
    weights = ops.convert_to_tensor(sparse.weights)
    hot = ops.one_hot(ops.cast(sparse.rows, "int32"), memory_size, dtype=weights.dtype)
    return ops.sum(weights[..., None] * hot, axis=-2)


def least_recently_used(last_access):
    """Each sequence's row accessed longest ago: `[B]` int32, the argmin of
    `last_access [B, N]` (equal times: the lowest row)."""
    check.rank("last_access", check.shape_of("last_access", last_access), 2, "([batch, N])")
    last_access = ops.stop_gradient(ops.convert_to_tensor(last_access))
    size = last_access.shape[-1] or ops.shape(last_access)[-1]
    # Two reductions, not an argmin (XLA's is a tenth as fast at 65,536):
    # the oldest time, then the highest of N - row among the rows that hold it.
    oldest = ops.min(last_access, axis=-1, keepdims=True)
    rank = _top_k.lower_first(size, last_access.dtype)
    first = ops.max(ops.where(last_access <= oldest, rank, 0.0), axis=-1)
    return size - ops.cast(first, "int32")


def sam_write_weights(previous_read, least_used, write_gate, interpolation_gate):
    """The SAM write weighting: `write_gate * (interpolation_gate * w_read +
    (1 - interpolation_gate) * one_hot(least_used))`.

    `w_read` is the mean over read heads of the last step's read weights, so
    a write lands on the rows just read or on the least recently used row,
    as the gates choose; at most `H * K + 1` rows.

    Args:
        previous_read: `SparseWeights` `[B, H, K]`, the last step's reads.
        least_used: `[B]` int, `least_recently_used`.
        write_gate: `[B, 1]` in `[0, 1]`.
        interpolation_gate: `[B, 1]` in `[0, 1]`.

    Returns:
        `SparseWeights` `[B, 1, H * K + 1]`: the read rows, then the least
        used row.
    """
    weights = ops.convert_to_tensor(previous_read.weights)
    heads = weights.shape[1]
    batch = ops.shape(weights)[0]
    write_gate = ops.cast(write_gate, weights.dtype)
    interpolation_gate = ops.cast(interpolation_gate, weights.dtype)
    reads = ops.reshape(weights, (batch, -1)) / heads
    rows = ops.concatenate([
        ops.reshape(ops.cast(previous_read.rows, "int32"), (batch, -1)),
        ops.reshape(ops.cast(least_used, "int32"), (batch, 1))], axis=-1)
    weights = write_gate * ops.concatenate(
        [interpolation_gate * reads, 1.0 - interpolation_gate], axis=-1)
    return SparseWeights(weights[:, None], rows[:, None])


def sparse_write(memory, write, add, erase_rows):
    """Erases `erase_rows` (to zero), then adds `weights ⊗ add` at the write's
    rows: one scatter of `K + 1` rows a head, the rest of memory untouched.

    Args:
        memory: `[B, N, M]`.
        write: `SparseWeights` `[B, W, K]` (W write heads).
        add: `[B, W, M]`, what each write head adds.
        erase_rows: `[B]` int, the row each sequence erases first (SAM's
            least recently used row).

    Returns:
        The new `[B, N, M]` memory, differentiable with respect to `memory`,
        the write's weights and `add`.

    Examples:
        >>> import numpy as np
        >>> memory = np.ones((1, 3, 2), "float32")
        >>> write = SparseWeights(np.array([[[0.5, 1.0]]], "float32"),
        ...                       np.array([[[0, 2]]], "int32"))
        >>> new = sparse_write(memory, write, np.array([[[2.0, 2.0]]], "float32"),
        ...                    erase_rows=np.array([2]))
        >>> np.asarray(new)[0].tolist()
        [[2.0, 2.0], [1.0, 1.0], [2.0, 2.0]]
    """
    memory = ops.convert_to_tensor(memory)
    rows, added = _written(memory, write, add, erase_rows)
    return _erase_then_add(memory, rows, added)


def _written(memory, write, add, erase_rows):
    """A write as rows `[B, 1 + W * K]` (the erased row first) and what is
    added to all but the first `[B, W * K, M]`."""
    width = _memory_shape(memory)[2]
    weights = ops.cast(ops.convert_to_tensor(write.weights), memory.dtype)
    add = ops.cast(ops.convert_to_tensor(add), memory.dtype)
    batch = ops.shape(memory)[0]
    erase_rows = ops.reshape(ops.cast(erase_rows, "int32"), (batch, 1))
    added = ops.reshape(weights[..., None] * add[:, :, None, :], (batch, -1, width))
    rows = ops.concatenate(
        [erase_rows, ops.reshape(ops.cast(write.rows, "int32"), (batch, -1))], axis=-1)
    return rows, added


def _erase_then_add(memory, rows, added):
    """`memory` with row `rows[:, 0]` erased, then `added` added at the
    others: one scatter."""
    erased = gather_rows(memory, rows[:, :1])  # [B, 1, M]
    return _scatter_rows(memory, rows, ops.concatenate([-erased, added], axis=1), "add")


def _write_then_read(memory, added, rows, key, row_norms, num_reads, epsilon):
    """`_erase_then_add`, then the `num_reads` rows most similar to each key
    in the new memory: `(memory [B, N, M], read_rows [B, H, K], chosen [B,
    H, K, M], row_norms [B, N])`, by autodiff. `row_norms`: the squared
    norms before the write (None: computed from every row after it); the
    rows written get theirs anew."""
    memory = _erase_then_add(memory, rows, added)
    held = ops.stop_gradient(memory)
    if row_norms is None:
        row_norms = ops.sum(held * held, axis=-1)
    else:
        written = gather_rows(held, rows)
        row_norms = _scatter_rows(ops.stop_gradient(row_norms)[..., None], rows,
                                  ops.sum(written * written, axis=-1, keepdims=True),
                                  None)[..., 0]
    scores = cosine_similarity(ops.cast(ops.stop_gradient(key), held.dtype), held, epsilon,
                               row_norms=row_norms)
    read_rows = _choose(scores, num_reads)
    return memory, read_rows, gather_rows(memory, read_rows), row_norms


@functools.cache
def _write_then_read_in_place(num_reads, epsilon):
    """`_write_then_read` whose gradient with respect to the memory is the
    incoming one with the rows read added and the erased row zeroed: one
    gather of it, then one scatter into it, in place. Autodiff builds a
    dense `[B, N, M]` gradient for each of the step's two gathers and adds
    them; XLA copied the memory (forward) and its gradient (backward) to
    order reads and writes on them."""

    @ops.custom_gradient
    def step(memory, added, rows, key, row_norms):
        memory, read_rows, chosen, row_norms = _write_then_read(
            memory, added, rows, key, row_norms, num_reads, epsilon)

        def grad(*upstream, **kwargs):
            upstream = kwargs.get("upstream", upstream)
            upstream = upstream[0] if len(upstream) == 1 else upstream
            memory_grad, chosen_grad = upstream[0], upstream[2]
            batch, width = ops.shape(chosen)[0], ops.shape(chosen)[-1]
            read_flat = ops.reshape(read_rows, (batch, -1))
            chosen_grad = ops.reshape(chosen_grad, (batch, -1, width))
            # The total gradient at the rows written: the incoming one plus
            # the reads' at the same rows.
            same = ops.cast(ops.equal(rows[:, :, None], read_flat[:, None, :]),
                            chosen_grad.dtype)
            written = gather_rows(memory_grad, rows) + ops.matmul(same, chosen_grad)
            memory_grad = _scatter_rows(
                memory_grad, ops.concatenate([read_flat, rows[:, :1]], axis=1),
                ops.concatenate([chosen_grad, -written[:, :1]], axis=1), "add")
            return (memory_grad, written[:, 1:], None, ops.zeros_like(key),
                    ops.zeros_like(row_norms))

        return (memory, read_rows, chosen, row_norms), grad

    return step


def sam_access(memory, write, add, erase_rows, read_keys, read_strengths, num_reads,
               row_norms=None, epsilon=EPSILON):
    """One SAM memory step: `sparse_write`, then `sparse_content_read` and
    `sparse_read` of the memory written, touching `O(H K)` rows.

    Equal to those three in values and gradients. On jax and tensorflow
    the memory's gradient is added into the incoming one at the rows
    touched, in place: no dense `[B, N, M]` gradient a step, and no copy
    of the memory (every read of the new memory comes after its write).

    Args:
        memory: `[B, N, M]`.
        write: `SparseWeights` `[B, W, K_w]`; add: `[B, W, M]`;
        erase_rows: `[B]` int, as `sparse_write`'s.
        read_keys: `[B, H, M]`; read_strengths: `[B, H, 1]`, beta >= 0.
        num_reads: int K, `1 <= K <= N`.
        row_norms: optional `[B, N]`, the squared norm of each row of
            `memory` (the last step's `SAMAccess.row_norms`): then only the
            rows written get theirs anew, and the choice reads the memory
            once (a dot product a row), not twice. None: all computed.
        epsilon: added to the squared norms.

    Returns:
        `SAMAccess(read_words [B, H, M], memory [B, N, M], read_weights,
        row_norms [B, N])`.

    Examples:
        >>> import numpy as np
        >>> memory = np.array([[[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]], "float32")
        >>> write = SparseWeights(np.array([[[1.0]]], "float32"), np.array([[[1]]]))
        >>> access = sam_access(memory, write, np.array([[[1.0, 0.0]]], "float32"),
        ...                     erase_rows=np.array([1]),
        ...                     read_keys=np.array([[[1.0, 0.1]]], "float32"),
        ...                     read_strengths=np.array([[[10.0]]], "float32"), num_reads=2)
        >>> np.asarray(access.read_weights.rows).tolist()
        [[[0, 1]]]
    """
    num_reads = _check_num_reads(memory, num_reads)
    key, _ = _with_heads("read_keys", read_keys, 3)
    strength, _ = _with_heads("read_strengths", read_strengths, 3)
    memory = ops.convert_to_tensor(memory)
    rows, added = _written(memory, write, add, erase_rows)
    if row_norms is not None:
        check.has_shape("row_norms", row_norms, _memory_shape(memory)[:2])  # [batch, N]
        row_norms = ops.cast(row_norms, memory.dtype)
    if _backend.sparse_row_gradients():
        step = _write_then_read_in_place(num_reads, float(epsilon))
        if row_norms is None:  # the custom gradient takes tensors only
            row_norms = ops.sum(ops.square(ops.stop_gradient(memory)), axis=-1)
        memory, read_rows, chosen, row_norms = step(memory, added, rows, key, row_norms)
    else:
        memory, read_rows, chosen, row_norms = _write_then_read(
            memory, added, rows, key, row_norms, num_reads, epsilon)
    logits = _logits(key, chosen, strength, epsilon)
    read_words = ops.sum(ops.softmax(logits, axis=-1)[..., None] * chosen, axis=-2)
    logits, read_rows = _top_k.by_score_then_index(logits, read_rows)
    return SAMAccess(read_words, memory,
                     SparseWeights(ops.softmax(logits, axis=-1), read_rows), row_norms)


def touch(last_access, sparse, time, threshold=ACCESS_THRESHOLD):
    """Each row accessed with a weight above `threshold` gets `time` as its
    last access (the paper's usage: time since the last non-negligible
    access); the other rows keep theirs.

    Args:
        last_access: `[B, N]`, each row's last access time.
        sparse: `SparseWeights` `[B, H, K]` (or `[B, K]`), this step's reads
            or writes.
        time: `[B]` or a scalar, the current time (>= every last access).
        threshold: float >= 0.

    Returns:
        The new `[B, N]` last-access times.
    """
    shape = check.shape_of("last_access", last_access)
    check.rank("last_access", shape, 2, "([batch, N])")
    last_access = ops.convert_to_tensor(last_access)
    batch = ops.shape(last_access)[0]
    rows = ops.reshape(ops.cast(sparse.rows, "int32"), (batch, -1))
    weights = ops.reshape(ops.convert_to_tensor(sparse.weights), (batch, -1))
    time = ops.reshape(ops.cast(time, last_access.dtype), (-1, 1))
    # A row is stamped if any of its accesses is above the threshold, so that
    # every copy of a row accessed twice carries the same value: one scatter
    # that overwrites (torch's scatter with "max" is a Python loop).
    above = ops.cast(ops.cast(weights, last_access.dtype) > threshold, "float32")
    same = ops.cast(ops.equal(rows[:, :, None], rows[:, None, :]), "float32")
    stamped = ops.matmul(same, above[..., None])[..., 0] > 0
    held = gather_rows(last_access[..., None], rows)[..., 0]
    # Times have no gradient (nor, under XLA, a shape-dependent one to fail).
    return ops.stop_gradient(
        _scatter_rows(last_access, rows, ops.where(stamped, time, held), None))
