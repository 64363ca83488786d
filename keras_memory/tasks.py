"""Synthetic tasks for memory layers: seeded data and their metrics.

Generators return NumPy arrays (or a `keras.utils.PyDataset` of them) that
feed `model.fit` directly on every backend.
"""

import keras
import numpy as np
from keras import ops

from keras_memory import _validation as check


def key_value_lookup(
    num_examples,
    num_memories=8,
    key_dim=8,
    num_classes=4,
    noise=0.05,
    seed=None,
):
    """Find the memory whose key matches the query and answer its value.

    Each memory is `[key, one_hot(value)]`; the query is a noisy copy of one
    memory's key followed by zeros where the value would be. The answer is
    the value stored beside that key, so a model must attend to the right
    memory and read from it.

    Args:
        num_examples: int >= 1.
        num_memories: int >= 1, memories per example.
        key_dim: int >= 1, size of each key (random unit vectors).
        num_classes: int >= 1, number of distinct values.
        noise: float >= 0, standard deviation of the noise on the query key.
        seed: int or `None`, for `numpy.random.default_rng`.

    Returns:
        `((query, memories), answers)`: query `[num_examples, key_dim +
        num_classes]`, memories `[num_examples, num_memories, key_dim +
        num_classes]` (float32) and answers `[num_examples]` (int32).
    """
    num_examples = check.positive_int("num_examples", num_examples)
    num_memories = check.positive_int("num_memories", num_memories)
    key_dim = check.positive_int("key_dim", key_dim)
    num_classes = check.positive_int("num_classes", num_classes)
    if not noise >= 0:
        raise ValueError(f"`noise` must be >= 0, received noise={noise!r}.")
    rng = np.random.default_rng(seed)
    keys = rng.normal(size=(num_examples, num_memories, key_dim))
    # Unit keys: the best dot-product match is then the nearest key.
    keys /= np.linalg.norm(keys, axis=-1, keepdims=True)
    values = rng.integers(0, num_classes, size=(num_examples, num_memories))
    memories = np.concatenate([keys, np.eye(num_classes)[values]], axis=-1)
    target_slot = rng.integers(0, num_memories, size=num_examples)
    rows = np.arange(num_examples)
    query_key = keys[rows, target_slot] + noise * rng.normal(
        size=(num_examples, key_dim)
    )
    query = np.concatenate([query_key, np.zeros((num_examples, num_classes))], -1)
    answers = values[rows, target_slot].astype("int32")
    return (query.astype("float32"), memories.astype("float32")), answers


def copy_sequences(
    batch_size,
    min_length=1,
    max_length=20,
    num_bits=8,
    pad_to=None,
    seed=None,
):
    """One batch of Graves' copy task, padded to a common length.

    Each example draws a length L in `[min_length, max_length]`: L random
    `num_bits`-bit vectors, then a delimiter (an extra input channel set
    to 1), then L blank steps during which the model must output the
    vectors again.

    Args:
        batch_size: int >= 1.
        min_length, max_length: ints, 1 <= min_length <= max_length.
        num_bits: int >= 1, bits per vector.
        pad_to: total time steps; default `2 * max_length + 1`. Steps after
            an example's `2L + 1` are zeros with zero weight; since the model
            is causal, they do not change the outputs that count.
        seed: int, `numpy.random.Generator` or `None`.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 1]`,
        targets `[batch, T, num_bits]` (the vectors in the output phase,
        zeros elsewhere), weights `[batch, T]` (1 in the output phase).
    """
    batch_size = check.positive_int("batch_size", batch_size)
    min_length = check.positive_int("min_length", min_length)
    max_length = check.positive_int("max_length", max_length)
    num_bits = check.positive_int("num_bits", num_bits)
    if min_length > max_length:
        raise ValueError(
            "`min_length` must be <= `max_length`, received "
            f"min_length={min_length} and max_length={max_length}."
        )
    needed = 2 * max_length + 1
    total = needed if pad_to is None else check.positive_int("pad_to", pad_to)
    if total < needed:
        raise ValueError(
            f"`pad_to` must be >= 2 * max_length + 1 = {needed}, received "
            f"pad_to={pad_to}."
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, size=batch_size)
    bits = rng.integers(0, 2, size=(batch_size, max_length, num_bits)).astype("float32")
    inputs = np.zeros((batch_size, total, num_bits + 1), "float32")
    targets = np.zeros((batch_size, total, num_bits), "float32")
    weights = np.zeros((batch_size, total), "float32")
    for row, length in enumerate(lengths):
        inputs[row, :length, :num_bits] = bits[row, :length]
        inputs[row, length, num_bits] = 1.0
        targets[row, length + 1 : 2 * length + 1] = bits[row, :length]
        weights[row, length + 1 : 2 * length + 1] = 1.0
    return inputs, targets, weights


class CopyTask(keras.utils.PyDataset):
    """Endless, seeded copy-task batches for `model.fit`.

    Yields `(inputs, targets, weights)` from `copy_sequences`; `fit` uses
    the weights as sample weights, so only the output phase is scored.

    Args:
        batch_size: int >= 1.
        steps_per_epoch: int >= 1, batches per epoch (`len(dataset)`).
        min_length, max_length, num_bits, pad_to: see `copy_sequences`.
        seed: int or `None`. Batch `i` of epoch `e` is the same for the
            same seed, whatever order the batches are asked in.
        **kwargs: `keras.utils.PyDataset` arguments (`workers`, ...).
    """

    def __init__(
        self,
        batch_size,
        steps_per_epoch,
        min_length=1,
        max_length=20,
        num_bits=8,
        pad_to=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.batch_size = check.positive_int("batch_size", batch_size)
        self.steps_per_epoch = check.positive_int("steps_per_epoch", steps_per_epoch)
        self.options = dict(
            min_length=min_length, max_length=max_length, num_bits=num_bits,
            pad_to=pad_to,
        )
        copy_sequences(1, seed=0, **self.options)  # validates the options now
        self.seed = 0 if seed is None else seed
        self.epoch = 0

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return copy_sequences(self.batch_size, seed=rng, **self.options)

    def on_epoch_end(self):
        self.epoch += 1


@keras.saving.register_keras_serializable(package="keras_memory")
class BitErrorsPerSequence(keras.metrics.Metric):
    """Mean number of wrong bits per sequence, the NTM papers' error figure.

    A bit is wrong when the prediction is on the other side of the
    threshold (0.5 for probabilities, 0 for logits). Only steps with a
    non-zero sample weight count (pass the task's weights to `fit`), and
    the total is divided by the number of sequences.

    Args:
        from_logits: bool, predictions are logits (threshold 0).
        name, dtype: as for every Keras metric.

    Example:

    >>> metric = BitErrorsPerSequence()
    >>> y_true = np.array([[[1.0, 0.0], [1.0, 1.0]]])
    >>> y_pred = np.array([[[0.9, 0.8], [0.2, 0.7]]])
    >>> metric.update_state(y_true, y_pred, sample_weight=np.array([[1.0, 0.0]]))
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
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        wrong = ops.cast(
            ops.not_equal(y_pred > threshold, y_true > 0.5), self.dtype
        )
        wrong = ops.sum(wrong, axis=-1)  # [batch, time]
        if sample_weight is not None:
            weight = ops.cast(ops.convert_to_tensor(sample_weight), self.dtype)
            wrong = wrong * ops.cast(weight > 0, self.dtype)
        self.errors.assign_add(ops.sum(wrong))
        self.sequences.assign_add(ops.cast(ops.shape(y_true)[0], self.dtype))

    def result(self):
        return self.errors / ops.maximum(self.sequences, 1.0)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}
