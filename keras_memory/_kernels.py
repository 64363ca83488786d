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


class KernelOptions:
    """The `kernel_*` arguments of one layer's matrices, and a maker of them.

    Args:
        layer: the `keras.layers.Layer` the matrices belong to.
        initializer: initializer (default `N(0, 0.1)`, the paper's);
            each matrix made gets its own draw (`fresh_initializer`).
        regularizer, constraint: for every matrix.
    """

    def __init__(self, layer, initializer=None, regularizer=None, constraint=None):
        self.layer = layer
        self.initializer = keras.initializers.get(initializer or PAPER_INITIALIZER)
        self.regularizer = keras.regularizers.get(regularizer)
        self.constraint = keras.constraints.get(constraint)
        self.made = 0

    def make(self, name, shape):
        """A new weight of the layer, `shape`, drawing its own start."""
        index, self.made = self.made, self.made + 1
        return self.layer.add_weight(
            name=name,
            shape=shape,
            initializer=fresh_initializer(self.initializer, index),
            regularizer=self.regularizer,
            constraint=self.constraint,
        )

    def get_config(self):
        """The layer's `kernel_initializer`, `kernel_regularizer` and
        `kernel_constraint`, serialised."""
        return {
            "kernel_initializer": keras.initializers.serialize(self.initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.regularizer),
            "kernel_constraint": keras.constraints.serialize(self.constraint),
        }


class Float32Draw(keras.initializers.Initializer):
    """Draws with `initializer` in float32, then casts to the weight's dtype.

    Some initializers have no half-precision kernels on some backends (the
    orthogonal initializer's QR on jax and torch): a half-precision layer
    draws in float32 instead.
    """

    def __init__(self, initializer):
        self.initializer = keras.initializers.get(initializer)

    def __call__(self, shape, dtype=None):
        return keras.ops.cast(self.initializer(shape, dtype="float32"), dtype)

    def get_config(self):
        return {"initializer": keras.initializers.serialize(self.initializer)}


def is_half(dtype):
    """Whether `dtype` is float16 or bfloat16."""
    return str(dtype) in ("float16", "bfloat16")
