"""`keras_memory._validation`: shapes read from tensors, shapes and symbols."""

import numpy as np
import pytest

from keras_memory import _validation as check


class SymbolicDim:
    """Like jax.export's symbolic batch size: `int()` cannot resolve it."""

    def __int__(self):
        raise RuntimeError("Symbolic dimension 'batch' used where a constant is needed")


def test_shape_of_reads_tensors_and_shapes():
    assert check.shape_of("x", np.zeros((2, 3))) == (2, 3)
    assert check.shape_of("x", (None, np.int64(4))) == (None, 4)


def test_a_symbolic_dimension_is_unknown():
    assert check.shape_of("x", (SymbolicDim(), 5)) == (None, 5)


@pytest.mark.parametrize("shape", [3, ("2", 3), (2.5, 3)])
def test_what_is_no_shape_raises_naming_it(shape):
    with pytest.raises(TypeError, match="`x` must be a tensor or a shape tuple"):
        check.shape_of("x", shape)
