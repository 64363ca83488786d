"""`keras_memory._ops`: keras.ops without the per-call symbolic walk."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_memory import _backend
from keras_memory import _ops

X = np.arange(24, dtype="float32").reshape(2, 3, 4)
CASES = {
    "reshape": (lambda m, x: m.reshape(x, (-1, 4, 3)), lambda x: ops.reshape(x, (-1, 4, 3))),
    "transpose": (lambda m, x: m.transpose(x, (0, 2, 1)), lambda x: ops.transpose(x, (0, 2, 1))),
    "concatenate": (lambda m, x: m.concatenate([x, 2 * x], axis=1),
                    lambda x: ops.concatenate([x, 2 * x], axis=1)),
    "stack": (lambda m, x: m.stack([x, 2 * x], axis=1), lambda x: ops.stack([x, 2 * x], axis=1)),
    "matmul": (lambda m, x: m.matmul(x, m.transpose(x, (0, 2, 1))),
               lambda x: ops.matmul(x, ops.transpose(x, (0, 2, 1)))),
    "sum": (lambda m, x: m.sum(x, axis=-1, keepdims=True),
            lambda x: ops.sum(x, axis=-1, keepdims=True)),
    "softmax": (lambda m, x: m.softmax(x / 10, axis=1), lambda x: ops.softmax(x / 10, axis=1)),
    **{name: (lambda m, x, name=name: getattr(m, name)(x / 10 - 1),
              lambda x, name=name: getattr(ops, name)(x / 10 - 1))
       for name in ("sigmoid", "softplus", "relu", "tanh")},
    **{name: (lambda m, x, name=name: getattr(m, name)(x + 1),
              lambda x, name=name: getattr(ops, name)(x + 1))
       for name in ("log", "sqrt")},
    **{f"new_axis_{axis}": (lambda m, x, axis=axis: m.new_axis(x, axis),
                            lambda x, axis=axis: ops.expand_dims(x, axis))
       for axis in (1, 2, -1, -2)},
    **{f"drop_axis_{axis}": (lambda m, x, axis=axis: m.drop_axis(m.new_axis(x, axis), axis),
                             lambda x: x)
       for axis in (1, -1, -2)},
}


@pytest.mark.parametrize("indexing", [True, False])
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_op_is_keras_ops_on_tensors_and_on_symbolic_inputs(monkeypatch, name, indexing):
    # New and dropped axes by index (jax, torch) or as ops (tensorflow).
    monkeypatch.setattr(_backend, "axes_by_indexing", lambda: indexing)
    ours, theirs = CASES[name]
    x = ops.convert_to_tensor(X)
    expected = ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(ops.convert_to_numpy(ours(_ops, x)), expected, rtol=1e-6)
    symbolic = ours(_ops, keras.KerasTensor((None, 3, 4)))
    if name == "matmul":  # a symbolic operand with a tensor
        other = ops.transpose(x, (0, 2, 1))
        assert isinstance(_ops.matmul(keras.KerasTensor((None, 3, 4)), other), keras.KerasTensor)
    assert isinstance(symbolic, keras.KerasTensor)
    assert symbolic.shape[1:] == expected.shape[1:]
