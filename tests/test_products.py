"""addressing/_products.py: both forms (einsum, broadcast) against NumPy."""

import numpy as np
import pytest
from keras import ops

from keras_memory import _backend
from keras_memory.addressing import _products as products

RNG = np.random.default_rng(0)
A = RNG.normal(size=(2, 3, 4)).astype("float32")
B = RNG.normal(size=(2, 3, 5)).astype("float32")
MATRIX = RNG.normal(size=(2, 3, 4, 5)).astype("float32")

# The functions take backend tensors (the memory functions convert first).
CASES = {
    "outer": (lambda a, b, m: products.outer(a, b), A[..., :, None] * B[..., None, :]),
    "scale_rows": (lambda a, b, m: products.scale_rows(a, m), A[..., :, None] * MATRIX),
    "scale_columns": (lambda a, b, m: products.scale_columns(m, b), MATRIX * B[..., None, :]),
    "squared_norms": (lambda a, b, m: products.squared_norms(a),
                      np.sum(A**2, -1, keepdims=True)),
    "squared_norms_dropped": (lambda a, b, m: products.squared_norms(a, keepdims=False),
                              np.sum(A**2, -1)),
    "vector_matrix": (lambda a, b, m: products.vector_matrix(a, m),
                      np.einsum("bri,brij->brj", A, MATRIX)),
    "matmul_transposed": (lambda a, b, m: products.matmul_transposed(m, m),
                          np.einsum("bhik,bhjk->bhij", MATRIX, MATRIX)),
    "matmul_transposed_broadcast": (lambda a, b, m: products.matmul_transposed(b[:, None], m),
                                    np.einsum("bik,bhjk->bhij", B, MATRIX)),
    "product_over_heads": (lambda a, b, m: products.product_over_heads(m),
                           np.prod(MATRIX, axis=1)),
    "product_over_one_head": (lambda a, b, m: products.product_over_heads(m[:, :1]),
                              MATRIX[:, 0]),
}


@pytest.mark.parametrize("einsum_form", [True, False])
@pytest.mark.parametrize("name", sorted(CASES))
def test_both_forms_match_numpy(monkeypatch, name, einsum_form):
    # Every choice of form at once: jax's (einsums, multiplies) or torch's.
    monkeypatch.setattr(_backend, "einsum_products", lambda: einsum_form)
    monkeypatch.setattr(_backend, "einsum_contractions", lambda: einsum_form)
    monkeypatch.setattr(_backend, "prod_reductions", lambda: not einsum_form)
    compute, expected = CASES[name]
    tensors = [ops.convert_to_tensor(x) for x in (A, B, MATRIX)]
    result = ops.convert_to_numpy(compute(*tensors))
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
