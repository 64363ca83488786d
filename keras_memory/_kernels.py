"""Kernel initializer / regularizer / constraint handling shared by layers.

The memory-network layers create all their matrices the same way (the
paper's `N(0, 0.1)` by default) and serialise the same three arguments.
"""

import keras

# Sukhbaatar et al. (2015) initialise every matrix from N(0, 0.1).
PAPER_INITIALIZER = {
    "class_name": "RandomNormal",
    "config": {"mean": 0.0, "stddev": 0.1, "seed": None},
}


class KernelArguments:
    """Mixin for a `keras.layers.Layer`: `kernel_*` arguments and `_kernel`."""

    def _set_kernel_arguments(self, initializer, regularizer, constraint):
        self.kernel_initializer = keras.initializers.get(
            initializer or PAPER_INITIALIZER
        )
        self.kernel_regularizer = keras.regularizers.get(regularizer)
        self.kernel_constraint = keras.constraints.get(constraint)

    def _kernel(self, name, shape):
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )

    def _kernel_config(self):
        return {
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
        }
