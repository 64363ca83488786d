"""`AlgorithmicTask`: endless, seeded batches of an algorithmic task for `fit`."""

import keras
import numpy as np

from keras_memory import _validation as check
from keras_memory.tasks.generators import TASK_NAMES
from keras_memory.tasks.generators import TASKS


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
        seed: int, or `None` (a fresh random seed, kept in `self.seed`).
            Batch `i` of epoch `e` is the same for the same seed, whatever
            order the batches are asked in. Batches 0
            and 1 of each epoch use the longest and the shortest bucket
            (Keras' TensorFlow adapter infers shapes from those two).
        **options: the task generator's options (`min_length`,
            `max_length`, `num_bits`, ...); defaults are Graves'.
        workers, use_multiprocessing, max_queue_size: as for
            `keras.utils.PyDataset`.

    Examples:
        >>> data = AlgorithmicTask("copy", batch_size=4, steps_per_epoch=10,
        ...                        buckets=2, max_length=5, seed=0)
        >>> data.bucket_lengths
        [6, 11]
        >>> inputs, targets, weights = data[0]
        >>> inputs.shape, targets.shape, weights.shape
        ((4, 11, 9), (4, 11, 8), (4, 11))
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
        spec = TASKS[self.task]
        self._generate, steps, size_keys, self._narrow = spec[:4]
        self.options = {**spec.defaults, **options}
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
        # None: a fresh seed of its own, kept (and reported) in `self.seed`.
        self.seed = (int(np.random.SeedSequence().entropy) if seed is None
                     else check.positive_int("seed", seed, minimum=0))
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

    Examples:
        >>> import keras_memory as km
        >>> model = km.ntm(9, memory_size=8, memory_dim=4, controller_size=8,
        ...                output_size=8)
        >>> model.compile("adam", "binary_crossentropy")
        >>> data = CopyTask(batch_size=2, steps_per_epoch=2, max_length=3, buckets=1)
        >>> history = model.fit(data, epochs=1, verbose=0)
        >>> len(history.history["loss"])
        1
    """

    def __init__(self, batch_size, steps_per_epoch, min_length=1, max_length=20,
                 num_bits=8, **kwargs):
        super().__init__("copy", batch_size, steps_per_epoch, min_length=min_length,
                         max_length=max_length, num_bits=num_bits, **kwargs)
