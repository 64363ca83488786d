"""Graves' algorithmic tasks as seeded NumPy batches, and a lookup task.

Every sequence generator returns `(inputs, targets, weights)`: inputs
`[batch, T, input_channels]`, targets `[batch, T, output_channels]` and
weights `[batch, T]`, 1 on the scored steps. Targets of unscored steps are
`NO_TARGET` (0.5), which `BitErrorsPerSequence` skips. They share these
arguments:

- `pad_to`: total time steps `T`, at least what the longest example
  needs (the default). Steps after an example's end are padding with zero
  weight; the models being causal, they do not change the outputs that
  count.
- `seed`: int, `numpy.random.Generator` or `None`.
- `padding_value`: input value of the padding steps (default 0). Pass e.g.
  -1 and put a `keras.layers.Masking(-1.0)` in front of the model (or
  `keras_memory.ntm(..., mask_value=-1.0)`) so that the model skips them.

`TASKS` names each task's generator, step count, size range and defaults
(`Task`); `keras_memory.tasks.AlgorithmicTask` draws batches from it.
"""

import collections

import numpy as np

from keras_memory import _validation as check


def _generator(seed):
    """A NumPy generator from `seed`: an int >= 0, `None` or a generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        seed = check.positive_int("seed", seed, minimum=0)
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


def _new_batch(batch_size, pad_to, needed, channels, seed, padding_value):
    """Checks `batch_size`, `pad_to` (default `needed` steps) and
    `padding_value` (a number).

    Returns:
        `(batch_size, rng, (inputs, targets, weights))`: the random
        generator of `seed` and zero arrays with `channels = (input
        channels, output channels)`.
    """
    batch_size = check.positive_int("batch_size", batch_size)
    check.real_number("padding_value", padding_value)
    steps = _padded_length(pad_to, needed)
    arrays = (
        np.zeros((batch_size, steps, channels[0]), "float32"),
        np.zeros((batch_size, steps, channels[1]), "float32"),
        np.zeros((batch_size, steps), "float32"),
    )
    return batch_size, _generator(seed), arrays


def copy_steps(max_length, **_):
    """Time steps a copy sequence of length `max_length` needs: `2L + 1`."""
    return 2 * max_length + 1


def copy_sequences(
    batch_size,
    min_length=1,
    max_length=20,
    num_bits=8,
    pad_to=None, seed=None, padding_value=0.0,
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
        pad_to, seed, padding_value: see the module docs; `pad_to`
            defaults to `2 * max_length + 1`. Steps after

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 1]`,
        targets `[batch, T, num_bits]` (the vectors in the output phase,
        `NO_TARGET` = 0.5 elsewhere), weights `[batch, T]` (1 in the output
        phase).

    Examples:
        >>> inputs, targets, weights = copy_sequences(2, min_length=3,
        ...                                           max_length=3, seed=0)
        >>> inputs.shape, targets.shape, weights[0].tolist()
        ((2, 7, 9), (2, 7, 8), [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    """
    min_length, max_length = _length_range(
        "min_length", min_length, "max_length", max_length
    )
    num_bits = check.positive_int("num_bits", num_bits)
    batch_size, rng, (inputs, targets, weights) = _new_batch(
        batch_size, pad_to, copy_steps(max_length), (num_bits + 1, num_bits), seed,
        padding_value,
    )
    lengths = rng.integers(min_length, max_length + 1, size=batch_size)
    bits = rng.integers(0, 2, size=(batch_size, max_length, num_bits)).astype("float32")
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
    pad_to=None, seed=None, padding_value=0.0,
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
        pad_to, seed, padding_value: see the module docs; `pad_to`
            defaults to `max_length * (max_repeats + 1) + 2`.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 2]`
        (bits, delimiter, repeat count), targets `[batch, T, num_bits + 1]`
        (bits, end marker; `NO_TARGET` off the output steps), weights
        `[batch, T]` (1 on the `L * R + 1` output steps).
    """
    min_length, max_length = _length_range(
        "min_length", min_length, "max_length", max_length
    )
    min_repeats, max_repeats = _length_range(
        "min_repeats", min_repeats, "max_repeats", max_repeats
    )
    num_bits = check.positive_int("num_bits", num_bits)
    batch_size, rng, (inputs, targets, weights) = _new_batch(
        batch_size, pad_to, repeat_copy_steps(max_length, max_repeats),
        (num_bits + 2, num_bits + 1), seed, padding_value,
    )
    lengths = rng.integers(min_length, max_length + 1, size=batch_size)
    repeats = rng.integers(min_repeats, max_repeats + 1, size=batch_size)
    bits = rng.integers(0, 2, size=(batch_size, max_length, num_bits)).astype("float32")
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
    pad_to=None, seed=None, padding_value=0.0,
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
        pad_to, seed, padding_value: see the module docs; `pad_to`
            defaults to `associative_recall_steps(...)`.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 2]`
        (bits, item marker, query marker), targets `[batch, T, num_bits]`
        (`NO_TARGET` off the answer steps), weights `[batch, T]` (1 on the
        `item_length` answer steps).
    """
    min_items, max_items = _length_range("min_items", min_items, "max_items", max_items)
    if min_items < 2:
        raise ValueError(
            f"`min_items` must be >= 2 (a query and the item after it), "
            f"received min_items={min_items}."
        )
    item_length = check.positive_int("item_length", item_length)
    num_bits = check.positive_int("num_bits", num_bits)
    batch_size, rng, (inputs, targets, weights) = _new_batch(
        batch_size, pad_to, associative_recall_steps(max_items, item_length),
        (num_bits + 2, num_bits), seed, padding_value,
    )
    counts = rng.integers(min_items, max_items + 1, size=batch_size)
    items = rng.integers(
        0, 2, size=(batch_size, max_items, item_length, num_bits)
    ).astype("float32")
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
    pad_to=None, seed=None, padding_value=0.0,
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
        pad_to, seed, padding_value: see the module docs; `pad_to`
            defaults to `n + 1 + k`.

    Returns:
        `(inputs, targets, weights)`: inputs `[batch, T, num_bits + 2]`
        (bits, priority, delimiter), targets `[batch, T, num_bits]`
        (`NO_TARGET` off the output steps), weights `[batch, T]` (1 on the
        k output steps).
    """
    num_outputs, num_items = _length_range(
        "num_outputs", num_outputs, "num_items", num_items
    )
    num_bits = check.positive_int("num_bits", num_bits)
    batch_size, rng, (inputs, targets, weights) = _new_batch(
        batch_size, pad_to, priority_sort_steps(num_items, num_outputs),
        (num_bits + 2, num_bits), seed, padding_value,
    )
    bits = rng.integers(0, 2, size=(batch_size, num_items, num_bits)).astype("float32")
    priorities = rng.uniform(-1.0, 1.0, size=(batch_size, num_items)).astype("float32")
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


def key_value_lookup(
    num_examples,
    memory_size=8,
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
        memory_size: int >= 1, memories per example.
        key_dim: int >= 1, size of each key (random unit vectors).
        num_classes: int >= 1, number of distinct values.
        noise: float >= 0, standard deviation of the noise on the query key.
        seed: int or `None`, for `numpy.random.default_rng`.

    Returns:
        `((query, memories), answers)`: query `[num_examples, key_dim +
        num_classes]`, memories `[num_examples, memory_size, key_dim +
        num_classes]` (float32) and answers `[num_examples]` (int32).
    """
    num_examples = check.positive_int("num_examples", num_examples)
    memory_size = check.positive_int("memory_size", memory_size)
    key_dim = check.positive_int("key_dim", key_dim)
    num_classes = check.positive_int("num_classes", num_classes)
    noise = check.non_negative_float("noise", noise)
    rng = _generator(seed)
    keys = rng.normal(size=(num_examples, memory_size, key_dim))
    # Unit keys: the best dot-product match is then the nearest key.
    keys /= np.linalg.norm(keys, axis=-1, keepdims=True)
    values = rng.integers(0, num_classes, size=(num_examples, memory_size))
    memories = np.concatenate([keys, np.eye(num_classes)[values]], axis=-1)
    target_slot = rng.integers(0, memory_size, size=num_examples)
    rows = np.arange(num_examples)
    query_key = keys[rows, target_slot] + noise * rng.normal(
        size=(num_examples, key_dim)
    )
    query = np.concatenate([query_key, np.zeros((num_examples, num_classes))], -1)
    answers = values[rows, target_slot].astype("int32")
    return (query.astype("float32"), memories.astype("float32")), answers


def _one_size(rng, options, low_key, high_key):
    """Narrows `[options[low_key], options[high_key]]` to one drawn value."""
    value = int(rng.integers(options[low_key], options[high_key] + 1))
    return {**options, low_key: value, high_key: value}


def _narrow_repeat_copy(rng, options):
    options = _one_size(rng, options, "min_length", "max_length")
    return _one_size(rng, options, "min_repeats", "max_repeats")


Task = collections.namedtuple(
    "Task", ["generate", "steps", "size_range", "narrow", "defaults"]
)
Task.__doc__ = """One algorithmic task.

- generate: the batch generator (`copy_sequences`, ...).
- steps: `steps(**options)`, the time steps the longest example needs.
- size_range: `(low_key, high_key)`, the option range whose values may mix
  within a batch, or `None` (one drawn size per batch).
- narrow: `narrow(rng, options)`, options narrowed to one batch's sizes
  (tasks without a `size_range`; else `None`).
- defaults: Graves' options.
"""

TASKS = {
    "copy": Task(
        generate=copy_sequences,
        steps=copy_steps,
        size_range=("min_length", "max_length"),
        narrow=None,
        defaults={"min_length": 1, "max_length": 20, "num_bits": 8},
    ),
    "repeat_copy": Task(
        generate=repeat_copy_sequences,
        steps=repeat_copy_steps,
        size_range=None,
        narrow=_narrow_repeat_copy,
        defaults={"min_length": 1, "max_length": 10, "min_repeats": 1,
                  "max_repeats": 10, "num_bits": 8},
    ),
    "associative_recall": Task(
        generate=associative_recall_sequences,
        steps=associative_recall_steps,
        size_range=("min_items", "max_items"),
        narrow=None,
        defaults={"min_items": 2, "max_items": 6, "item_length": 3, "num_bits": 6},
    ),
    "priority_sort": Task(
        generate=priority_sort_sequences,
        steps=priority_sort_steps,
        size_range=None,
        narrow=lambda rng, options: options,
        defaults={"num_items": 20, "num_outputs": 16, "num_bits": 8},
    ),
}
TASK_NAMES = tuple(TASKS)


def task_channels(task, **options):
    """`(input_channels, output_channels)` of a task with these options."""
    spec = TASKS[check.choice("task", task, TASK_NAMES)]
    inputs, targets, _ = spec.generate(1, seed=0, **{**spec.defaults, **options})
    return inputs.shape[-1], targets.shape[-1]
