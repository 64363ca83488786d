"""Broadcast products in the form the running backend computes fastest.

The memory functions multiply vectors into matrices (outer products, rows
or columns scaled by a vector) and sum products (norms, vector-matrix
products). Both forms below are the same numbers (up to float rounding):

- as `einsum`s, for jax: XLA's CPU compiler runs these, and the sums their
  gradients make, as dot kernels, faster than the fused
  multiply-and-reduce it makes of a broadcast (bench/README.md);
- as broadcasts, for torch and tensorflow, which run op by op (tensorflow
  without `jit_compile`): there each `einsum` costs several elementwise
  ops. New axes come from `_ops.new_axis`: an index on torch and jax, no
  Keras op to dispatch at every step; `expand_dims` on tensorflow, whose
  gradient is a reshape.

Products of a transposed operand (`matmul_transposed`: cosine scores, the
DNC's forward reads along its links) are `einsum`s except on torch, and
`product_over_heads` is one `prod` on torch only: see
`keras_memory/_backend.py` for why.
"""

import keras
from keras import ops

from keras_memory import _backend
from keras_memory import _ops


def compiled():
    """Whether the einsum forms are the faster ones (module docs)."""
    return _backend.einsum_products()


def outer(a, b):
    """`[..., I], [..., J] -> [..., I, J]`: `a[..., i] * b[..., j]`."""
    if compiled():
        return ops.einsum("...i,...j->...ij", a, b)
    return _ops.new_axis(a, -1) * _ops.new_axis(b, -2)


def scale_rows(weights, matrix):
    """`[..., I], [..., I, J] -> [..., I, J]`: row i times `weights[i]`."""
    if compiled():
        return ops.einsum("...i,...ij->...ij", weights, matrix)
    return _ops.new_axis(weights, -1) * matrix


def scale_columns(matrix, weights):
    """`[..., I, J], [..., J] -> [..., I, J]`: column j times `weights[j]`."""
    if compiled():
        return ops.einsum("...ij,...j->...ij", matrix, weights)
    return matrix * _ops.new_axis(weights, -2)


def squared_norms(tensor, keepdims=True):
    """`[..., X] -> [..., 1]` (`[...]` without `keepdims`): the sum of
    squares along the last axis."""
    if compiled():
        norms = ops.einsum("...x,...x->...", tensor, tensor)
        return _ops.new_axis(norms, -1) if keepdims else norms
    return _ops.sum(tensor * tensor, axis=-1, keepdims=keepdims)


def matmul_transposed(a, b):
    """`[..., I, K], [..., J, K] -> [..., I, J]`: `a @ b^T` (b's last two
    axes swapped; leading axes broadcast).

    An `einsum` where that saves the transpose
    (`_backend.einsum_contractions`), else `@`.
    """
    if _backend.einsum_contractions():
        return ops.einsum("...ik,...jk->...ij", a, b)
    rank = len(b.shape)
    return _ops.matmul(a, _ops.transpose(b, tuple(range(rank - 2)) + (rank - 1, rank - 2)))


def vector_matrix(vector, matrix):
    """`[..., I], [..., I, J] -> [..., J]`: `sum_i vector[i] * matrix[i, j]`.

    A contraction, which every backend runs as a batched matrix product
    (faster than a broadcast and a sum): an `einsum` for jax, elsewhere
    `@` on a one-row matrix (no einsum parsing at every step).
    """
    if compiled():
        return ops.einsum("...i,...ij->...j", vector, matrix)
    return _ops.drop_axis(_ops.matmul(_ops.new_axis(vector, -2), matrix), -2)


def product_over_heads(tensor):
    """`[B, H, ...] -> [B, ...]`: the product over axis 1, whose size is static.

    On torch one `prod`, given its dtype (Keras' torch `prod` computes
    float64 in float32 otherwise); elsewhere a chain of `H - 1` multiplies
    (`_backend.prod_reductions`).
    """
    if tensor.shape[1] == 1:
        return _ops.drop_axis(tensor, 1)
    if not _backend.prod_reductions():
        result = tensor[:, 0]
        for head in range(1, tensor.shape[1]):
            result = result * tensor[:, head]
        return result
    return _ops.prod(tensor, axis=1, dtype=keras.backend.standardize_dtype(tensor.dtype))
