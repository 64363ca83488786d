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


def _generator(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _length_range(low_name, low, high_name, high):
    low = check.positive_int(low_name, low)
    high = check.positive_int(high_name, high)
    if low > high:
        raise ValueError(
            f"`{low_name}` must be <= `{high_name}`, received "
            f"{low_name}={low} and {high_name}={high}."
        )
    return low, high


def _padded_length(pad_to, needed):
    if pad_to is None:
        return needed
    total = check.positive_int("pad_to", pad_to)
    if total < needed:
        raise ValueError(
            f"`pad_to` must be >= {needed} time steps for these options, "
            f"received pad_to={pad_to}."
        )
    return total


# Target value of the steps without a target (input phase, padding): the
# middle of the 0/1 range. `BitErrorsPerSequence` skips those steps, so it
# counts the output phase only even under `compile(metrics=...)`, where
# Keras passes no sample weights.
NO_TARGET = 0.5


def _finished(inputs, targets, weights):
    targets[weights == 0] = NO_TARGET
    return inputs, targets, weights


def _empty_batch(batch_size, steps, input_channels, output_channels):
    return (
        np.zeros((batch_size, steps, input_channels), "float32"),
        np.zeros((batch_size, steps, output_channels), "float32"),
        np.zeros((batch_size, steps), "float32"),
    )


def copy_steps(max_length, **_):
    """Time steps a copy sequence of length `max_length` needs: `2L + 1`."""
    return 2 * max_length + 1


def copy_sequences(
    batch_size,
    min_length=1,
    max_length=20,
    num_bits=8,
    pad_to=None,
    seed=None,
    padding_value=0.0,
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
        padding_value: input value of the padding steps after each
            example's end (default 0). Pass e.g. -1 and put a
            `keras.layers.Masking(-1.0)` in front of the model (or
            `keras_memory.ntm(..., mask_value=-1.0)`) so that the model skips
            them.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 1]`,
        targets `[batch, T, num_bits]` (the vectors in the output phase,
        `NO_TARGET` = 0.5 elsewhere), weights `[batch, T]` (1 in the output
        phase).
    """
    batch_size = check.positive_int("batch_size", batch_size)
    min_length, max_length = _length_range(
        "min_length", min_length, "max_length", max_length
    )
    num_bits = check.positive_int("num_bits", num_bits)
    total = _padded_length(pad_to, copy_steps(max_length))
    rng = _generator(seed)
    lengths = rng.integers(min_length, max_length + 1, size=batch_size)
    bits = rng.integers(0, 2, size=(batch_size, max_length, num_bits)).astype("float32")
    inputs, targets, weights = _empty_batch(batch_size, total, num_bits + 1, num_bits)
    for row, length in enumerate(lengths):
        inputs[row, :length, :num_bits] = bits[row, :length]
        inputs[row, length, num_bits] = 1.0
        targets[row, length + 1 : 2 * length + 1] = bits[row, :length]
        weights[row, length + 1 : 2 * length + 1] = 1.0
        inputs[row, copy_steps(length) :] = padding_value
    return _finished(inputs, targets, weights)


def repeat_copy_steps(max_length, max_repeats, **_):
    """Time steps a repeat-copy sequence needs: `L + 1 + L * R + 1`."""
    return max_length * (max_repeats + 1) + 2


def repeat_copy_sequences(
    batch_size,
    min_length=1,
    max_length=10,
    min_repeats=1,
    max_repeats=10,
    num_bits=8,
    pad_to=None,
    seed=None,
    padding_value=0.0,
):
    """One batch of Graves' repeat-copy task.

    Each example draws a length L and a repeat count R: L random vectors,
    then a delimiter step that also carries `R / max_repeats` on its own
    input channel; the model must then output the vectors R times over and
    raise an end marker (an extra output channel) on the step after.

    Args:
        batch_size: int >= 1.
        min_length, max_length: the range of L.
        min_repeats, max_repeats: the range of R.
        num_bits: bits per vector.
        pad_to: total time steps; default `max_length * (max_repeats + 1) + 2`.
        seed: int, `numpy.random.Generator` or `None`.
        padding_value: input value of the padding steps after each
            example's end (default 0). Pass e.g. -1 and put a
            `keras.layers.Masking(-1.0)` in front of the model (or
            `keras_memory.ntm(..., mask_value=-1.0)`) so that the model skips
            them.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 2]`
        (bits, delimiter, repeat count), targets `[batch, T, num_bits + 1]`
        (bits, end marker; `NO_TARGET` off the output steps), weights
        `[batch, T]` (1 on the `L * R + 1` output steps).
    """
    batch_size = check.positive_int("batch_size", batch_size)
    min_length, max_length = _length_range(
        "min_length", min_length, "max_length", max_length
    )
    min_repeats, max_repeats = _length_range(
        "min_repeats", min_repeats, "max_repeats", max_repeats
    )
    num_bits = check.positive_int("num_bits", num_bits)
    total = _padded_length(pad_to, repeat_copy_steps(max_length, max_repeats))
    rng = _generator(seed)
    lengths = rng.integers(min_length, max_length + 1, size=batch_size)
    repeats = rng.integers(min_repeats, max_repeats + 1, size=batch_size)
    bits = rng.integers(0, 2, size=(batch_size, max_length, num_bits)).astype("float32")
    inputs, targets, weights = _empty_batch(
        batch_size, total, num_bits + 2, num_bits + 1
    )
    for row, (length, count) in enumerate(zip(lengths, repeats)):
        inputs[row, :length, :num_bits] = bits[row, :length]
        inputs[row, length, num_bits] = 1.0
        inputs[row, length, num_bits + 1] = count / max_repeats
        start, end = length + 1, length + 1 + length * count
        targets[row, start:end, :num_bits] = np.tile(bits[row, :length], (count, 1))
        targets[row, end, num_bits] = 1.0
        weights[row, start : end + 1] = 1.0
        inputs[row, end + 1 :] = padding_value
    return _finished(inputs, targets, weights)


def associative_recall_steps(max_items, item_length, **_):
    """Time steps an associative-recall sequence needs."""
    return (max_items + 1) * (item_length + 1) + 1 + item_length


def associative_recall_sequences(
    batch_size,
    min_items=2,
    max_items=6,
    item_length=3,
    num_bits=6,
    pad_to=None,
    seed=None,
    padding_value=0.0,
):
    """One batch of Graves' associative-recall task.

    Each example shows n items of `item_length` random vectors, each item
    after an item-marker step; then a query-marker step, a copy of one of
    the items but the last, and a second query-marker step. The model must
    then output the item that followed the query item.

    Args:
        batch_size: int >= 1.
        min_items, max_items: the range of n, `2 <= min_items <= max_items`.
        item_length: vectors per item.
        num_bits: bits per vector.
        pad_to: total time steps; default `associative_recall_steps(...)`.
        seed: int, `numpy.random.Generator` or `None`.
        padding_value: input value of the padding steps after each
            example's end (default 0). Pass e.g. -1 and put a
            `keras.layers.Masking(-1.0)` in front of the model (or
            `keras_memory.ntm(..., mask_value=-1.0)`) so that the model skips
            them.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 2]`
        (bits, item marker, query marker), targets `[batch, T, num_bits]`
        (`NO_TARGET` off the answer steps), weights `[batch, T]` (1 on the
        `item_length` answer steps).
    """
    batch_size = check.positive_int("batch_size", batch_size)
    min_items, max_items = _length_range("min_items", min_items, "max_items", max_items)
    if min_items < 2:
        raise ValueError(
            f"`min_items` must be >= 2 (a query and the item after it), "
            f"received min_items={min_items}."
        )
    item_length = check.positive_int("item_length", item_length)
    num_bits = check.positive_int("num_bits", num_bits)
    total = _padded_length(pad_to, associative_recall_steps(max_items, item_length))
    rng = _generator(seed)
    counts = rng.integers(min_items, max_items + 1, size=batch_size)
    items = rng.integers(
        0, 2, size=(batch_size, max_items, item_length, num_bits)
    ).astype("float32")
    inputs, targets, weights = _empty_batch(batch_size, total, num_bits + 2, num_bits)
    span = item_length + 1
    for row, count in enumerate(counts):
        for item in range(count):
            start = item * span
            inputs[row, start, num_bits] = 1.0
            inputs[row, start + 1 : start + span, :num_bits] = items[row, item]
        query = rng.integers(0, count - 1)
        start = count * span
        inputs[row, start, num_bits + 1] = 1.0
        inputs[row, start + 1 : start + span, :num_bits] = items[row, query]
        inputs[row, start + span, num_bits + 1] = 1.0
        answer = start + span + 1
        targets[row, answer : answer + item_length] = items[row, query + 1]
        weights[row, answer : answer + item_length] = 1.0
        inputs[row, answer + item_length :] = padding_value
    return _finished(inputs, targets, weights)


def priority_sort_steps(num_items, num_outputs, **_):
    """Time steps a priority-sort sequence needs: `n + 1 + k`."""
    return num_items + 1 + num_outputs


def priority_sort_sequences(
    batch_size,
    num_items=20,
    num_outputs=16,
    num_bits=8,
    pad_to=None,
    seed=None,
    padding_value=0.0,
):
    """One batch of Graves' priority-sort task.

    Each example shows `num_items` random vectors, each with a priority
    drawn uniformly from [-1, 1] on its own input channel, then a delimiter
    step; the model must output the `num_outputs` highest-priority vectors,
    highest first.

    Args:
        batch_size: int >= 1.
        num_items: vectors shown, n >= 1.
        num_outputs: vectors to output, `1 <= k <= n`.
        num_bits: bits per vector.
        pad_to: total time steps; default `n + 1 + k`.
        seed: int, `numpy.random.Generator` or `None`.
        padding_value: input value of the padding steps after each
            example's end (default 0). Pass e.g. -1 and put a
            `keras.layers.Masking(-1.0)` in front of the model (or
            `keras_memory.ntm(..., mask_value=-1.0)`) so that the model skips
            them.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 2]`
        (bits, priority, delimiter), targets `[batch, T, num_bits]`
        (`NO_TARGET` off the output steps), weights `[batch, T]` (1 on the
        k output steps).
    """
    batch_size = check.positive_int("batch_size", batch_size)
    num_outputs, num_items = _length_range(
        "num_outputs", num_outputs, "num_items", num_items
    )
    num_bits = check.positive_int("num_bits", num_bits)
    total = _padded_length(pad_to, priority_sort_steps(num_items, num_outputs))
    rng = _generator(seed)
    bits = rng.integers(0, 2, size=(batch_size, num_items, num_bits)).astype("float32")
    priorities = rng.uniform(-1.0, 1.0, size=(batch_size, num_items)).astype("float32")
    inputs, targets, weights = _empty_batch(batch_size, total, num_bits + 2, num_bits)
    inputs[:, :num_items, :num_bits] = bits
    inputs[:, :num_items, num_bits] = priorities
    inputs[:, num_items, num_bits + 1] = 1.0
    order = np.argsort(-priorities, axis=1)[:, :num_outputs]
    start = num_items + 1
    targets[:, start : start + num_outputs] = np.take_along_axis(
        bits, order[:, :, None], axis=1
    )
    weights[:, start : start + num_outputs] = 1.0
    inputs[:, start + num_outputs :] = padding_value
    return _finished(inputs, targets, weights)


def _one_size(rng, options, low_key, high_key):
    """Narrows `[options[low_key], options[high_key]]` to one drawn value."""
    value = int(rng.integers(options[low_key], options[high_key] + 1))
    return {**options, low_key: value, high_key: value}


def _narrow_repeat_copy(rng, options):
    options = _one_size(rng, options, "min_length", "max_length")
    return _one_size(rng, options, "min_repeats", "max_repeats")


# Each task: its generator, the time steps its options need, the option
# range whose values share a batch (None: one drawn value per batch), how a
# batch without such a range narrows its options, and Graves' defaults.
_TASKS = {
    "copy": (
        copy_sequences,
        copy_steps,
        ("min_length", "max_length"),
        None,
        {"min_length": 1, "max_length": 20, "num_bits": 8},
    ),
    "repeat_copy": (
        repeat_copy_sequences,
        repeat_copy_steps,
        None,
        _narrow_repeat_copy,
        {"min_length": 1, "max_length": 10, "min_repeats": 1, "max_repeats": 10,
         "num_bits": 8},
    ),
    "associative_recall": (
        associative_recall_sequences,
        associative_recall_steps,
        ("min_items", "max_items"),
        None,
        {"min_items": 2, "max_items": 6, "item_length": 3, "num_bits": 6},
    ),
    "priority_sort": (
        priority_sort_sequences,
        priority_sort_steps,
        None,
        lambda rng, o: o,
        {"num_items": 20, "num_outputs": 16, "num_bits": 8},
    ),
}
TASK_NAMES = tuple(_TASKS)


def task_channels(task, **options):
    """`(input_channels, output_channels)` of a task with these options."""
    generate = _TASKS[check.choice("task", task, TASK_NAMES)][0]
    inputs, targets, _ = generate(1, seed=0, **{**_TASKS[task][-1], **options})
    return inputs.shape[-1], targets.shape[-1]


class AlgorithmicTask(keras.utils.PyDataset):
    """Endless, seeded batches of an algorithmic task for `model.fit`.

    Each batch picks one of `buckets` fixed lengths and is padded to it, so
    that training over a range of lengths compiles `buckets` graphs at most
    instead of one per length. Within a batch, examples mix every size
    (copy length, item count) that fits the bucket; repeat copy draws one
    length and one repeat count per batch. Buckets are picked in proportion
    to the sizes they hold, so sizes stay uniform over the range.
    Padding steps carry zero weight and, the models being causal, do not
    change the outputs that count.

    Yields `(inputs, targets, weights)`; `fit` uses the weights as sample
    weights, so only the answer steps are scored.

    Args:
        task: `"copy"`, `"repeat_copy"`, `"associative_recall"` or
            `"priority_sort"`.
        batch_size: int >= 1.
        steps_per_epoch: int >= 1, batches per epoch (`len(dataset)`).
        buckets: int >= 1, groups of sizes: each batch draws its sizes from
            one group and is padded to the group's length, evenly spaced up
            to the longest sequence the options allow. 1 pads every batch to
            the maximum.
        pad: `"bucket"` (default): pad each batch to its bucket's length
            (one compiled graph per bucket); `"longest"`: pad every batch
            to the longest bucket length (one graph for all); an int
            `k >= 1`: pad each batch to the shortest of `k` evenly spaced
            lengths that fits it (`k` graphs), whatever the buckets (e.g.
            `buckets=20, pad=4`: one copy length per batch, 4 graphs). The
            lengths batches come in are `padded_lengths`. With
            `padding_value=-1.0` and a masked model (`ntm(...,
            mask_value=-1.0)`), `NTM` skips the steps where every sequence
            of the batch has ended (for free in the forward pass; in
            training, for little on jax, part of a step on tensorflow):
            e.g. `buckets=20, pad="longest"` gives one copy length per
            batch, one graph.
        seed: int or `None`. Batch `i` of epoch `e` is the same for the
            same seed, whatever order the batches are asked in. Batches 0
            and 1 of each epoch use the longest and the shortest bucket
            (Keras' TensorFlow adapter infers shapes from those two).
        **options: the task generator's options (`min_length`,
            `max_length`, `num_bits`, ...); defaults are Graves'.
        Also `workers`, `use_multiprocessing`, `max_queue_size`, as for
        `keras.utils.PyDataset`.
    """

    def __init__(self, task, batch_size, steps_per_epoch, buckets=4, seed=None,
                 pad="bucket", workers=1, use_multiprocessing=False,
                 max_queue_size=10, **options):
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing,
                         max_queue_size=max_queue_size)
        self.task = check.choice("task", task, TASK_NAMES)
        self.batch_size = check.positive_int("batch_size", batch_size)
        self.steps_per_epoch = check.positive_int("steps_per_epoch", steps_per_epoch)
        buckets = check.positive_int("buckets", buckets)
        if isinstance(pad, str) or pad is None:
            self.pad = check.choice("pad", pad, ("bucket", "longest"))
        else:
            self.pad = check.positive_int("pad", pad)
        self._generate, steps, size_keys, self._narrow, defaults = _TASKS[task]
        self.options = {**defaults, **options}
        self._generate(1, seed=0, **self.options)  # validates the options now
        longest = steps(**self.options)

        def spaced(count):
            return sorted({int(np.ceil(longest * (k + 1) / count)) for k in range(count)})

        self.bucket_lengths = spaced(buckets)
        if self.pad == "bucket":
            self.padded_lengths = self.bucket_lengths
        elif self.pad == "longest":
            self.padded_lengths = self.bucket_lengths[-1:]
        else:
            self.padded_lengths = spaced(self.pad)
        self._steps = steps
        # Sizes (lengths, item counts) that share a bucket are mixed within a
        # batch: {bucket length: (smallest size, largest size)}.
        self._size_keys = size_keys
        self._size_ranges = {}
        if size_keys is not None:
            low, high = (self.options[key] for key in size_keys)
            for size in range(low, high + 1):
                bucket = self.padded_length(
                    steps(**{**self.options, size_keys[0]: size, size_keys[1]: size})
                )
                first, _ = self._size_ranges.get(bucket, (size, size))
                self._size_ranges[bucket] = (first, size)
            self._size_weights = np.array(
                [b - a + 1 for a, b in self._size_ranges.values()], "float64"
            )
            self._size_weights /= self._size_weights.sum()
        self.seed = 0 if seed is None else seed
        self.epoch = 0

    def padded_length(self, needed, lengths=None):
        """The shortest of `lengths` (default `bucket_lengths`) >= `needed`."""
        return next(b for b in lengths or self.bucket_lengths if b >= needed)

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        # Keras' TensorFlow adapter infers the batch shapes from the first
        # two batches: give them the longest and the shortest bucket so that
        # it sees a time axis of variable length.
        wanted = None
        if index < 2 and len(self.bucket_lengths) > 1:
            wanted = self.bucket_lengths[-1 if index == 0 else 0]
        if self._size_keys is not None:
            options = self._mixed_sizes(rng, wanted)
        else:
            options = self._narrow(rng, self.options)
            for _ in range(1000 if wanted else 0):
                if self.padded_length(self._steps(**options)) == wanted:
                    break
                options = self._narrow(rng, self.options)
        pad_to = self.padded_length(self._steps(**options), self.padded_lengths)
        return self._generate(self.batch_size, pad_to=pad_to, seed=rng, **options)

    def _mixed_sizes(self, rng, wanted=None):
        """Options whose size range is one bucket's, drawn by its share of sizes."""
        buckets = list(self._size_ranges)
        if wanted is None or wanted not in self._size_ranges:
            wanted = buckets[rng.choice(len(buckets), p=self._size_weights)]
        low, high = self._size_ranges[wanted]
        return {**self.options, self._size_keys[0]: low, self._size_keys[1]: high}

    def on_epoch_end(self):
        self.epoch += 1


class CopyTask(AlgorithmicTask):
    """`AlgorithmicTask("copy", ...)`: copy-task batches for `model.fit`.

    Args:
        batch_size, steps_per_epoch, buckets, seed: see `AlgorithmicTask`.
        min_length, max_length, num_bits: see `copy_sequences`.
    """

    def __init__(self, batch_size, steps_per_epoch, min_length=1, max_length=20,
                 num_bits=8, **kwargs):
        super().__init__("copy", batch_size, steps_per_epoch, min_length=min_length,
                         max_length=max_length, num_bits=num_bits, **kwargs)


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

    Args:
        from_logits: bool, predictions are logits (threshold 0).
        name, dtype: as for every Keras metric.

    Example:

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
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        wrong = ops.cast(
            ops.not_equal(y_pred > threshold, y_true > 0.5), self.dtype
        )
        wrong = ops.sum(wrong, axis=-1)  # [batch, time]
        has_target = ops.any(ops.not_equal(y_true, NO_TARGET), axis=-1)
        wrong = wrong * ops.cast(has_target, self.dtype)
        if sample_weight is not None:
            weight = ops.cast(ops.convert_to_tensor(sample_weight), self.dtype)
            wrong = wrong * ops.cast(weight > 0, self.dtype)
        self.errors.assign_add(ops.sum(wrong))
        self.sequences.assign_add(ops.cast(ops.shape(y_true)[0], self.dtype))

    def result(self):
        return self.errors / ops.maximum(self.sequences, 1.0)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}
