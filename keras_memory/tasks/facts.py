"""A fact-memorisation task for large memory layers: seeded random facts
`(subject, relation) -> object`, as token sequences for a causal language
model.

There is nothing to generalise: the object of each fact is drawn at random,
so a model answers a fact only if it stored it, and how many facts a model
answers measures how much it can memorise (the task of Berges et al. 2024,
"Memory Layers at Scale", in miniature).
"""

import collections

import numpy as np

from keras_memory import _validation as check
from keras_memory.tasks.generators import _generator

Facts = collections.namedtuple(
    "Facts", ["inputs", "targets", "weights", "vocab_size", "objects"])
Facts.__doc__ = """The facts of `fact_sequences`, one a row.

- inputs: `[num_facts, 2]` int32 tokens, `(subject, relation)`.
- targets: `[num_facts, 2]` int32, the next token at each position: the
  relation, then the object (the answer).
- weights: `[num_facts, 2]` float32, 0 at the first position and 1 at the
  answer's: a model is scored on the object only.
- vocab_size: int, tokens `0 .. vocab_size - 1` (0 is never used, so a
  model may keep it for padding).
- objects: `(first, last + 1)`, the tokens objects take.
"""


def fact_sequences(num_subjects, num_relations=1, num_objects=None, seed=None):
    """Every `(subject, relation)` pair with an object drawn at random.

    Tokens: subjects `1 .. num_subjects`, then the relations, then the
    objects; `num_subjects * num_relations` facts in all, in subject
    order.

    Args:
        num_subjects: int >= 1.
        num_relations: int >= 1. Default 1.
        num_objects: int >= 2, or `None` (default: `num_subjects`).
        seed: int >= 0, `numpy.random.Generator` or `None`.

    Returns:
        `Facts`: inputs, targets and weights `[num_facts, 2]`, the vocabulary
        size and the objects' token range.

    Examples:
        >>> facts = fact_sequences(num_subjects=3, num_relations=2, num_objects=4, seed=0)
        >>> facts.inputs.shape, facts.vocab_size, facts.objects
        ((6, 2), 10, (6, 10))
        >>> facts.inputs[:2].tolist(), facts.weights[0].tolist()
        ([[1, 4], [1, 5]], [0.0, 1.0])
    """
    num_subjects = check.positive_int("num_subjects", num_subjects)
    num_relations = check.positive_int("num_relations", num_relations)
    num_objects = check.positive_int(
        "num_objects", num_subjects if num_objects is None else num_objects, minimum=2)
    rng = _generator(seed)
    subjects = np.repeat(np.arange(1, num_subjects + 1), num_relations)
    relations = np.tile(np.arange(num_relations), num_subjects) + num_subjects + 1
    first_object = num_subjects + num_relations + 1
    objects = rng.integers(first_object, first_object + num_objects, size=subjects.size)
    inputs = np.stack([subjects, relations], axis=1).astype("int32")
    targets = np.stack([relations, objects], axis=1).astype("int32")
    weights = np.zeros(inputs.shape, "float32")
    weights[:, 1] = 1.0
    return Facts(inputs, targets, weights, first_object + num_objects,
                 (first_object, first_object + num_objects))
