"""`TokenMemory`: what the memory layers that read per token share.

A token memory maps `[..., features]` to `[..., value_dim]`, each token
on its own: it checks its float dtype policy and `value_dim`, checks the
features at build and at each call, flattens the leading axes into
tokens, passes masks through and knows its output shape. A subclass
builds its weights in `build_memory(features)` and reads in `call`
(`ProductKeyMemory`, `HashedMemory`).
"""

import keras
from keras import ops

from keras_memory import _validation as check


class TokenMemory(keras.layers.Layer):
    """Base of the per-token memory layers (not public)."""

    def __init__(self, value_dim=None, **kwargs):
        super().__init__(**kwargs)
        check.float_policy("dtype", self.dtype_policy)
        self.value_dim = check.optional_positive_int("value_dim", value_dim)
        self.supports_masking = True

    def build(self, input_shape):
        shape = check.shape_of("inputs", input_shape)
        if len(shape) < 2 or shape[-1] is None:
            raise ValueError(
                "`inputs` must be [..., features] with known features, received "
                f"inputs with shape {tuple(shape)}."
            )
        self.input_features = shape[-1]
        self.output_dim = self.value_dim or self.input_features
        self.build_memory(self.input_features)

    def build_memory(self, features):
        raise NotImplementedError

    def tokens(self, inputs):
        """`(tokens [T, features], leading shape)` of `inputs [..., features]`,
        built first if need be; the features must be those of the build."""
        shape = check.shape_of("inputs", inputs)
        if not self.built:
            self.build(shape)
        check.dim("inputs", shape, -1, self.input_features, "features")
        inputs = ops.convert_to_tensor(inputs)
        return ops.reshape(inputs, (-1, shape[-1])), tuple(ops.shape(inputs)[:-1])

    def untokens(self, outputs, leading):
        """`outputs [T, output_dim]` back to `[..., output_dim]`."""
        return ops.reshape(outputs, leading + (self.output_dim,))

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.value_dim or input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(value_dim=self.value_dim)
        return config
