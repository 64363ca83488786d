"""Synthetic tasks for memory layers: seeded data and their metric.

Generators (`keras_memory.tasks.generators`) return NumPy arrays;
`AlgorithmicTask` (`keras_memory.tasks.dataset`) is a
`keras.utils.PyDataset` of them for `model.fit`; `BitErrorsPerSequence`
(`keras_memory.tasks.metrics`) is the NTM papers' error figure.
`fact_sequences` (`keras_memory.tasks.facts`) is a fact-memorisation task
for large memory layers.
"""

from keras_memory.tasks.dataset import AlgorithmicTask
from keras_memory.tasks.dataset import CopyTask
from keras_memory.tasks.facts import Facts
from keras_memory.tasks.facts import fact_sequences
from keras_memory.tasks.generators import NO_TARGET
from keras_memory.tasks.generators import TASK_NAMES
from keras_memory.tasks.generators import TASKS
from keras_memory.tasks.generators import Task
from keras_memory.tasks.generators import associative_recall_sequences
from keras_memory.tasks.generators import associative_recall_steps
from keras_memory.tasks.generators import copy_sequences
from keras_memory.tasks.generators import copy_steps
from keras_memory.tasks.generators import key_value_lookup
from keras_memory.tasks.generators import priority_sort_sequences
from keras_memory.tasks.generators import priority_sort_steps
from keras_memory.tasks.generators import repeat_copy_sequences
from keras_memory.tasks.generators import repeat_copy_steps
from keras_memory.tasks.generators import task_channels
from keras_memory.tasks.metrics import BitErrorsPerSequence

__all__ = [
    "NO_TARGET", "TASKS", "TASK_NAMES", "AlgorithmicTask", "BitErrorsPerSequence",
    "CopyTask", "Facts", "Task", "associative_recall_sequences", "associative_recall_steps",
    "copy_sequences", "copy_steps", "fact_sequences", "key_value_lookup", "priority_sort_sequences",
    "priority_sort_steps", "repeat_copy_sequences", "repeat_copy_steps",
    "task_channels",
]
