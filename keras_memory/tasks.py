"""Synthetic tasks for memory layers, as seeded NumPy arrays.

Arrays feed `model.fit` directly on every backend.
"""

import numpy as np

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
