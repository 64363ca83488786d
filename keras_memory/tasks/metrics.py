"""`BitErrorsPerSequence`, the error figure of the NTM papers."""

import keras
from keras import ops

from keras_memory.tasks.generators import NO_TARGET


def _step_weights(sample_weight, steps_shape):
    """`sample_weight` shaped like the steps (`[batch, time]` or `[batch]`).

    Accepts the steps' shape, that shape with a trailing 1, or `[batch]`
    (one weight per sequence, for every step); raises on anything else.
    """
    weight = ops.convert_to_tensor(sample_weight)
    shape = tuple(weight.shape)
    if len(shape) == len(steps_shape) + 1 and shape[-1] == 1:
        weight, shape = ops.squeeze(weight, -1), shape[:-1]
    same = len(shape) == len(steps_shape) and all(
        a is None or b is None or a == b for a, b in zip(shape, steps_shape)
    )
    per_sequence = len(shape) == 1 and shape[0] in (None, steps_shape[0])
    if same:
        return weight
    if per_sequence:
        return ops.reshape(weight, (-1,) + (1,) * (len(steps_shape) - 1))
    raise ValueError(
        f"`sample_weight` must have the shape of the steps {steps_shape} (or that "
        f"with a trailing 1), or one weight per sequence ({steps_shape[0]},), "
        f"received sample_weight with shape {shape}."
    )


@keras.saving.register_keras_serializable(package="keras_memory")
class BitErrorsPerSequence(keras.metrics.Metric):
    """Mean number of wrong bits per sequence, the NTM papers' error figure.

    A bit is wrong when the prediction is on the other side of the
    threshold (0.5 for probabilities, 0 for logits). Only the steps with a
    target count: steps whose targets are all `NO_TARGET` (0.5, what the
    task generators put outside the output phase and on padding) are
    skipped, and so are steps with a zero sample weight when Keras passes
    weights (`weighted_metrics=`). So `compile(metrics=[...])` and
    `compile(weighted_metrics=[...])` give the same figure on the tasks'
    batches. The total is divided by the number of sequences.

    Targets and predictions are `[batch, time, bits]` (or `[batch, bits]`,
    one step a sequence), of any number type; a sample weight is per step
    (`[batch, time]`, or with a trailing 1) or per sequence (`[batch]`).
    Other shapes raise a `ValueError`.

    Args:
        from_logits: bool, predictions are logits (threshold 0).
        name, dtype: as for every Keras metric.

    Examples:
        >>> import numpy as np
        >>> metric = BitErrorsPerSequence()
        >>> y_true = np.array([[[1.0, 0.0], [0.5, 0.5]]])   # step 2: no target
        >>> y_pred = np.array([[[0.9, 0.8], [0.2, 0.7]]])
        >>> metric.update_state(y_true, y_pred)
        >>> float(metric.result())
        1.0
    """

    def __init__(self, from_logits=False, name="bit_errors_per_sequence", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = bool(from_logits)
        self.errors = self.add_variable(shape=(), initializer="zeros", name="errors")
        self.sequences = self.add_variable(
            shape=(), initializer="zeros", name="sequences"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        threshold = 0.0 if self.from_logits else 0.5
        # Any number type (ints, bools) counts: compare in float32.
        y_true = ops.cast(ops.convert_to_tensor(y_true), "float32")
        y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
        true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
        if len(true_shape) not in (2, 3) or len(pred_shape) != len(true_shape) or any(
            a is not None and b is not None and a != b
            for a, b in zip(true_shape, pred_shape)
        ):
            raise ValueError(
                "`y_true` and `y_pred` must have one shape, [batch, time, bits] or "
                f"[batch, bits], received y_true with shape {true_shape} and y_pred "
                f"with shape {pred_shape}."
            )
        wrong = ops.cast(ops.not_equal(y_pred > threshold, y_true > 0.5), self.dtype)
        wrong = ops.sum(wrong, axis=-1)  # [batch, time] (or [batch])
        has_target = ops.any(ops.not_equal(y_true, NO_TARGET), axis=-1)
        wrong = wrong * ops.cast(has_target, self.dtype)
        if sample_weight is not None:
            weight = _step_weights(sample_weight, true_shape[:-1])
            wrong = wrong * ops.cast(weight > 0, self.dtype)
        self.errors.assign_add(ops.sum(wrong))
        self.sequences.assign_add(ops.cast(ops.shape(y_true)[0], self.dtype))

    def result(self):
        return self.errors / ops.maximum(self.sequences, 1.0)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}
