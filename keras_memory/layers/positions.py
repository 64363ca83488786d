"""`PositionEmbedding`: learned position vectors added to token embeddings."""

import keras
from keras import ops

from keras_memory import _validation as check


@keras.saving.register_keras_serializable(package="keras_memory")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position to `[batch, time, features]`.

    Args:
        max_length: int >= 1, the most positions (time steps) a call may
            have.
        initializer: for the position vectors. Default normal, stddev 0.02.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `[batch, time, features]`, `time <= max_length`.
        mask: passed through.

    Returns:
        `inputs + positions[:time]`, same shape.

    Examples:
        >>> import numpy as np
        >>> layer = PositionEmbedding(max_length=8)
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 5, 3)
    """

    def __init__(self, max_length, initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.max_length = check.positive_int("max_length", max_length)
        self.initializer = keras.initializers.get(
            initializer or keras.initializers.RandomNormal(stddev=0.02))
        self.supports_masking = True

    def build(self, input_shape):
        shape = check.shape_of("inputs", input_shape)
        check.rank("inputs", shape, 3, "([batch, time, features])")
        self.positions = self.add_weight(
            name="positions", shape=(self.max_length, shape[-1]),
            initializer=self.initializer)

    def call(self, inputs):
        length = check.shape_of("inputs", inputs)[1]
        if length is not None and length > self.max_length:
            raise ValueError(
                f"`inputs` must have at most max_length={self.max_length} time steps, "
                f"received inputs with {length}."
            )
        positions = ops.cast(self.positions[: ops.shape(inputs)[1]], inputs.dtype)
        return inputs + positions[None]

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(max_length=self.max_length,
                      initializer=keras.initializers.serialize(self.initializer))
        return config
