"""Finite-difference gradient checks on the current backend, in float64.

Tests may use the backends directly (the package may not): each backend's
own autodiff gives the analytic gradient.
"""

import contextlib

import keras
import numpy as np


@contextlib.contextmanager
def float64():
    """JAX computes in float32 unless x64 is enabled; the others need nothing."""
    if keras.backend.backend() == "jax":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


def _to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def native(array):
    """A float64 backend tensor (Keras would turn NumPy float64 into float32)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array, dtype="float64")
    if backend == "torch":
        import torch

        return torch.tensor(array, dtype=torch.float64)
    import tensorflow as tf

    return tf.constant(array, dtype="float64")


def analytic_gradients(fn, args):
    """Gradients of the scalar `fn(*args)` with respect to every arg."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        grads = jax.grad(fn, argnums=tuple(range(len(args))))(
            *[jnp.asarray(a) for a in args]
        )
        return [_to_numpy(g) for g in grads]
    if backend == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in args]
        fn(*tensors).backward()
        return [t.grad.detach().numpy() for t in tensors]
    if backend == "tensorflow":
        import tensorflow as tf

        variables = [tf.Variable(a) for a in args]
        with tf.GradientTape() as tape:
            value = fn(*variables)
        return [g.numpy() for g in tape.gradient(value, variables)]
    raise NotImplementedError(backend)


def check_gradients(fn, args, step=1e-6, rtol=1e-5, atol=1e-8):
    """Asserts autodiff matches central differences for every input entry."""
    args = [np.array(a, dtype="float64") for a in args]  # copies: torch needs positive strides
    with float64():
        analytic = analytic_gradients(fn, args)
        for index, arg in enumerate(args):
            numeric = np.zeros_like(arg)
            for position in np.ndindex(arg.shape):
                shifted = [a.copy() for a in args]
                shifted[index][position] += step
                above = float(_to_numpy(fn(*map(native, shifted))))
                shifted[index][position] -= 2 * step
                below = float(_to_numpy(fn(*map(native, shifted))))
                numeric[position] = (above - below) / (2 * step)
            assert np.all(np.isfinite(analytic[index]))
            np.testing.assert_allclose(
                analytic[index], numeric, rtol=rtol, atol=atol,
                err_msg=f"gradient of argument {index}",
            )


def weight_gradients(layer, *args, **kwargs):
    """Gradients of the sum of `layer(*args, **kwargs)`'s outputs with respect
    to the layer's trainable weights, on the running backend."""
    backend = keras.backend.backend()
    if not layer.trainable_variables:
        return []

    def total(outputs):
        return sum(keras.ops.sum(keras.ops.cast(o, "float32"))
                   for o in keras.tree.flatten(outputs))

    if backend == "jax":
        import jax

        non_trainable = [v.value for v in layer.non_trainable_variables]

        def loss(values):
            outputs, _ = layer.stateless_call(values, non_trainable, *args, **kwargs)
            return total(outputs)

        grads = jax.grad(loss)([v.value for v in layer.trainable_variables])
        return [_to_numpy(g) for g in grads]
    if backend == "torch":
        for variable in layer.trainable_variables:
            variable.value.grad = None
        total(layer(*args, **kwargs)).backward()
        return [_to_numpy(v.value.grad.detach()) for v in layer.trainable_variables]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = total(layer(*args, **kwargs))
    return [_to_numpy(g) for g in tape.gradient(value, layer.trainable_variables)]
