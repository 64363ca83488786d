"""`keras.ops` that take a shape, axes or a list of tensors, and `matmul`,
for per-step code.

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
from keras import KerasTensor

from keras_memory import _backend
from keras_memory import _keras_private


def matmul(x, y):
    """`keras.ops.matmul` for floats of one dtype: Python's `@`.

    On tensors `@` is each backend's own matrix product (`torch.matmul`,
    `jnp.matmul`, `tf.linalg.matmul`), without the dtype promotion Keras'
    op runs first (on torch it costs more than a step's small product
    itself).
    """
    if isinstance(x, KerasTensor) or isinstance(y, KerasTensor) or x.dtype != y.dtype:
        return ops.matmul(x, y)  # symbolic, or dtypes to promote
    return x @ y


def reshape(x, shape):
    """`keras.ops.reshape`."""
    if isinstance(x, KerasTensor):
        return ops.reshape(x, shape)
    return _keras_private.numpy.reshape(x, shape)


def transpose(x, axes):
    """`keras.ops.transpose`."""
    if isinstance(x, KerasTensor):
        return ops.transpose(x, axes)
    return _keras_private.numpy.transpose(x, axes)


def new_axis(x, axis):
    """`keras.ops.expand_dims(x, axis)` for one int axis: an index
    (`x[..., None]`) where that is cheaper (`_backend.axes_by_indexing`)."""
    if isinstance(x, KerasTensor):
        return ops.expand_dims(x, axis)
    if not _backend.axes_by_indexing():
        return _keras_private.numpy.expand_dims(x, axis)
    axis %= len(x.shape) + 1
    return x[(slice(None),) * axis + (None,)]


def drop_axis(x, axis):
    """`keras.ops.squeeze(x, axis)` for one int axis of size 1: an index
    (`x[:, 0]`) where that is cheaper (`_backend.axes_by_indexing`)."""
    if isinstance(x, KerasTensor):
        return ops.squeeze(x, axis)
    if not _backend.axes_by_indexing():
        return _keras_private.numpy.squeeze(x, axis)
    axis %= len(x.shape)
    return x[(slice(None),) * axis + (0,)]


def concatenate(tensors, axis):
    """`keras.ops.concatenate`."""
    if any(isinstance(x, KerasTensor) for x in tensors):
        return ops.concatenate(tensors, axis=axis)
    return _keras_private.numpy.concatenate(tensors, axis=axis)


def stack(tensors, axis):
    """`keras.ops.stack`."""
    if any(isinstance(x, KerasTensor) for x in tensors):
        return ops.stack(tensors, axis=axis)
    return _keras_private.numpy.stack(tensors, axis=axis)


def _direct(keras_op, backend_op):
    """`keras_op` on a `KerasTensor`, else the backend's function directly:
    the per-step activations skip `keras.ops`' walk for symbolic inputs
    (on torch a good part of a small step's op)."""

    def op(x, *args, **kwargs):
        if isinstance(x, KerasTensor):
            return keras_op(x, *args, **kwargs)
        return backend_op(x, *args, **kwargs)

    op.__name__ = keras_op.__name__
    op.__doc__ = f"`keras.ops.{keras_op.__name__}`."
    return op


sigmoid = _direct(ops.sigmoid, _keras_private.nn.sigmoid)
softplus = _direct(ops.softplus, _keras_private.nn.softplus)
relu = _direct(ops.relu, _keras_private.nn.relu)
tanh = _direct(ops.tanh, _keras_private.numpy.tanh)
log = _direct(ops.log, _keras_private.numpy.log)
sqrt = _direct(ops.sqrt, _keras_private.numpy.sqrt)
exp = _direct(ops.exp, _keras_private.numpy.exp)
sum = _direct(ops.sum, _keras_private.numpy.sum)  # keras.ops' name, as the others
prod = _direct(ops.prod, _keras_private.numpy.prod)
cast = _direct(ops.cast, _keras_private.core.cast)


def softmax(x, axis=-1):
    """`keras.ops.softmax` over one axis (an int)."""
    if isinstance(x, KerasTensor):
        return ops.softmax(x, axis=axis)
    return _keras_private.nn.softmax(x, axis=axis)
