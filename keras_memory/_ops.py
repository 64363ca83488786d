"""`keras.ops` that take a shape, axes or a list of tensors, for per-step code.

Before it runs, every `keras.ops` call walks its arguments for symbolic
`KerasTensor`s. A tensor is checked in a moment, but a tuple or a list is
flattened with `keras.tree` first, and on torch that goes through torch's
pytree: it costs more than the reshape itself. Memory cells call these
ops at every time step, which made such walks a third of a DNC training
step on torch. Given tensors, the functions here call the running
backend's implementation directly (what `keras.ops` calls after its
check); given a `KerasTensor` (a model being built symbolically), they
are `keras.ops`.
"""

from keras import ops
from keras.src import backend as _keras_backend
from keras.src.backend.common.keras_tensor import KerasTensor


def reshape(x, shape):
    """`keras.ops.reshape`."""
    if isinstance(x, KerasTensor):
        return ops.reshape(x, shape)
    return _keras_backend.numpy.reshape(x, shape)


def transpose(x, axes):
    """`keras.ops.transpose`."""
    if isinstance(x, KerasTensor):
        return ops.transpose(x, axes)
    return _keras_backend.numpy.transpose(x, axes)


def concatenate(tensors, axis):
    """`keras.ops.concatenate`."""
    if any(isinstance(x, KerasTensor) for x in tensors):
        return ops.concatenate(tensors, axis=axis)
    return _keras_backend.numpy.concatenate(tensors, axis=axis)


def stack(tensors, axis):
    """`keras.ops.stack`."""
    if any(isinstance(x, KerasTensor) for x in tensors):
        return ops.stack(tensors, axis=axis)
    return _keras_backend.numpy.stack(tensors, axis=axis)
