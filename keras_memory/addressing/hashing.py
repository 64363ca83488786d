"""Hashed memory as pure `keras.ops` functions: locality-sensitive bucket ids
from random projections, and exponential-moving-average writes to the
buckets hit.

A key hashes to one bucket per table: the sign bits of its projections on
that table's `bits` random directions (SimHash), so keys at a small angle
share buckets. Shapes: B keys, T tables, `bits` directions per table
(`2 ** bits` buckets), D key width, V value width.
"""

from keras import ops

from keras_memory import _validation as check


def hashed_lookup(keys, projections):
    """Bucket ids of `keys` in every table.

    Args:
        keys: `[B, D]`.
        projections: `[T, bits, D]`, each table's directions (`bits <= 30`).

    Returns:
        `[B, T]` int32 bucket ids in `[0, 2 ** bits)`: bit `b` of a key's id
        in table `t` is 1 where `keys . projections[t, b] > 0` (a zero key
        lands in bucket 0).

    Examples:
        >>> import numpy as np
        >>> projections = np.eye(2, dtype="float32")[None]   # 1 table, 2 bits
        >>> keys = np.array([[1.0, 1.0], [-1.0, 1.0], [0.0, 0.0]], "float32")
        >>> np.asarray(hashed_lookup(keys, projections)).tolist()
        [[3], [2], [0]]
    """
    key_shape = check.shape_of("keys", keys)
    check.rank("keys", key_shape, 2, "([batch, key_dim])")
    projection_shape = check.shape_of("projections", projections)
    check.rank("projections", projection_shape, 3, "([tables, bits, key_dim])")
    check.dim("projections", projection_shape, 2, key_shape[1], "key_dim (keys' last axis)")
    bits = projection_shape[1]
    if bits is None or not 1 <= bits <= 30:
        raise ValueError(
            "`projections` must have 1 to 30 bits per table on axis 1 (ids are "
            f"int32), received projections with shape {tuple(projection_shape)}."
        )
    keys = ops.convert_to_tensor(keys)
    projections = ops.cast(ops.convert_to_tensor(projections), keys.dtype)
    signs = ops.einsum("bd,tkd->btk", ops.stop_gradient(keys), projections) > 0
    weights = ops.convert_to_tensor([2**b for b in range(bits)], "int32")
    return ops.sum(ops.cast(signs, "int32") * weights, axis=-1)


def ema_write(slots, buckets, values, decay, weights=None):
    """`slot <- decay * slot + (1 - decay) * value` at the buckets hit.

    Args:
        slots: `[T, S, V]`, each table's `S` bucket rows.
        buckets: `[B, T]` int bucket ids (`hashed_lookup`).
        values: `[B, V]`, what each key writes (to its bucket in every table).
        decay: float in `[0, 1)`.
        weights: optional `[B]`, each key's weight in its buckets' means (a
            mask: 0 leaves out the key, whatever its value, even NaN).

    Returns:
        The new `[T, S, V]` slots: a bucket hit by several keys of the batch
        moves once, towards their (weighted) mean; a bucket whose keys all
        weigh 0, and every bucket not hit, is untouched. Differentiable with
        respect to `slots` and `values`.

    Examples:
        >>> import numpy as np
        >>> slots = np.zeros((1, 4, 2), "float32")
        >>> values = np.array([[1.0, 1.0], [3.0, 3.0]], "float32")
        >>> new = ema_write(slots, np.array([[2], [2]]), values, decay=0.5)
        >>> np.asarray(new)[0].tolist()
        [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    """
    decay = check.fraction("decay", decay)
    slot_shape = check.shape_of("slots", slots)
    check.rank("slots", slot_shape, 3, "([tables, buckets, value_dim])")
    bucket_shape = check.shape_of("buckets", buckets)
    check.rank("buckets", bucket_shape, 2, "([batch, tables])")
    check.dim("buckets", bucket_shape, 1, slot_shape[0], "tables (slots' first axis)")
    value_shape = check.shape_of("values", values)
    check.rank("values", value_shape, 2, "([batch, value_dim])")
    check.dim("values", value_shape, 0, bucket_shape[0], "the batch of buckets")
    check.dim("values", value_shape, 1, slot_shape[2], "value_dim (slots' last axis)")
    tables, size, width = slot_shape
    slots = ops.convert_to_tensor(slots)
    values = ops.cast(ops.convert_to_tensor(values), slots.dtype)
    if weights is None:
        weights = ops.ones((ops.shape(values)[0],), slots.dtype)
    else:
        weight_shape = check.shape_of("weights", weights)
        check.rank("weights", weight_shape, 1, "([batch])")
        check.dim("weights", weight_shape, 0, bucket_shape[0], "the batch of buckets")
        weights = ops.cast(ops.convert_to_tensor(weights), slots.dtype)
        values = ops.where(weights[:, None] > 0, values, ops.zeros_like(values))
    # Every (key, table) write as a row of the flattened [T * S, V] slots.
    rows = ops.reshape(
        ops.cast(buckets, "int32") + ops.arange(tables, dtype="int32")[None, :] * size, (-1,)
    )
    written = ops.reshape(
        ops.broadcast_to(values[:, None, :], (ops.shape(values)[0], tables, width)), (-1, width)
    )
    row_weights = ops.reshape(ops.broadcast_to(weights[:, None], (ops.shape(values)[0], tables)),
                              (-1,))
    means, representative = _mean_per_row(rows, written, row_weights)
    flat = ops.reshape(slots, (tables * size, width))
    old = ops.take(flat, rows, axis=0)
    # One write a row adds the row's change, the others add zeros: an added
    # scatter, whose gradient every backend defines alike for repeated rows
    # (a set scatter's goes to whichever write wins).
    change = (1.0 - decay) * (means - old)
    change = ops.where(representative[:, None], change, ops.zeros_like(change))
    flat = ops.scatter_update(flat, rows[:, None], change, reduction="add")
    return ops.reshape(flat, (tables, size, width))


def _mean_per_row(rows, written, weights):
    """For each write, the weighted mean of every write to its row, and
    whether it is its row's representative (one write a row, and only for a
    row with some weight): `O(W log W)` for W writes, whatever the number of
    rows."""
    order = ops.argsort(rows)
    sorted_rows = ops.take(rows, order)
    starts = ops.concatenate(
        [ops.ones((1,), "int32"),
         ops.cast(ops.not_equal(sorted_rows[1:], sorted_rows[:-1]), "int32")]
    )
    segments = ops.cumsum(starts) - 1
    count = ops.shape(rows)[0]
    sorted_weights = ops.take(weights, order)
    sums = ops.segment_sum(ops.take(written, order, axis=0) * sorted_weights[:, None],
                           segments, num_segments=count)
    totals = ops.segment_sum(sorted_weights, segments, num_segments=count)
    safe = ops.where(totals > 0, totals, ops.ones_like(totals))
    means = ops.take(sums / safe[:, None], segments, axis=0)
    weighed = ops.take(totals > 0, segments)
    back = ops.argsort(order)  # back to the writes' order
    representative = ops.logical_and(ops.cast(starts, "bool"), weighed)
    return ops.take(means, back, axis=0), ops.take(representative, back)
