"""Kernel initializer / regularizer / constraint handling shared by layers.

The memory-network layers create all their matrices the same way (the
paper's `N(0, 0.1)` by default) and serialise the same three arguments.

A Keras initializer that is unseeded or seeded with an int returns the
same values at every call, so one instance used for several matrices of
one shape makes them equal (every hop's embedding would start as the same
matrix). `fresh_initializer` gives each matrix its own draw.
"""

import keras

# Sukhbaatar et al. (2015) initialise every matrix from N(0, 0.1).
PAPER_INITIALIZER = {
    "class_name": "RandomNormal",
    "config": {"mean": 0.0, "stddev": 0.1, "seed": None},
}


def fresh_initializer(initializer, index=0):
    """A copy of `initializer` that draws values of its own.

    Args:
        initializer: a `keras.initializers.Initializer`.
        index: int, the matrix's number within its layer; an int-seeded
            initializer is copied with seed `seed + index`, so the matrices
            stay reproducible and differ from each other.

    Returns:
        An unseeded initializer copied with a new seed, an int-seeded one
        with `seed + index`; an initializer that draws nothing at random
        (`Zeros`, `Constant`...) or that holds a `SeedGenerator` (which
        already moves on at every call) is returned as it is.
    """
    if isinstance(getattr(initializer, "seed", None), keras.random.SeedGenerator):
        return initializer
    config = initializer.get_config()
    if "seed" not in config:
        return initializer
    if isinstance(config["seed"], int):
        config["seed"] += index
    return type(initializer).from_config(config)


class KernelArguments:
    """Mixin for a `keras.layers.Layer`: `kernel_*` arguments and `_kernel`."""

    def _set_kernel_arguments(self, initializer, regularizer, constraint):
        self.kernel_initializer = keras.initializers.get(
            initializer or PAPER_INITIALIZER
        )
        self.kernel_regularizer = keras.regularizers.get(regularizer)
        self.kernel_constraint = keras.constraints.get(constraint)

    def _kernel(self, name, shape):
        index = getattr(self, "_kernels_made", 0)
        self._kernels_made = index + 1
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=fresh_initializer(self.kernel_initializer, index),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )

    def _kernel_config(self):
        return {
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
        }
