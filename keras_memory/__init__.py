"""keras-memory: memory-augmented layers for Keras 3 on JAX, PyTorch and TensorFlow.

Modules: `addressing` (pure addressing functions), `memory_networks`
(MemoryHop, MemoryNetwork), `encodings` (sentence and temporal encodings),
`text_memory` (MemN2N on word ids, the `memn2n` builder, `LinearStart`),
`turing_machines` (NTM heads, cell, layer), `tasks` (synthetic data),
`datasets` (bAbI), `plotting` (pictures, needs matplotlib).
"""

from keras_memory import addressing
from keras_memory import datasets
from keras_memory import encodings
from keras_memory import memory_networks
from keras_memory import tasks
from keras_memory import text_memory
from keras_memory import turing_machines
from keras_memory.addressing import masked_softmax
from keras_memory.encodings import SentenceEncoding
from keras_memory.encodings import TemporalEncoding
from keras_memory.memory_networks import MemoryHop
from keras_memory.memory_networks import MemoryNetwork
from keras_memory.memory_networks import memory_attention
from keras_memory.memory_networks import memory_network
from keras_memory.memory_networks import memory_read
from keras_memory.text_memory import LinearStart
from keras_memory.text_memory import MemN2N
from keras_memory.text_memory import memn2n
from keras_memory.turing_machines import NTM
from keras_memory.turing_machines import NTMCell
from keras_memory.turing_machines import NTMReadHead
from keras_memory.turing_machines import NTMState
from keras_memory.turing_machines import NTMWriteHead
from keras_memory.turing_machines import ntm
from keras_memory.turing_machines import trace

__version__ = "0.1.0"

__all__ = [
    "LinearStart",
    "MemN2N",
    "MemoryHop",
    "MemoryNetwork",
    "NTM",
    "NTMCell",
    "NTMReadHead",
    "NTMState",
    "NTMWriteHead",
    "SentenceEncoding",
    "TemporalEncoding",
    "addressing",
    "datasets",
    "encodings",
    "masked_softmax",
    "memn2n",
    "memory_attention",
    "memory_network",
    "memory_networks",
    "memory_read",
    "ntm",
    "tasks",
    "text_memory",
    "trace",
    "turing_machines",
]
