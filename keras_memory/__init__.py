"""keras-memory: memory-augmented layers for Keras 3 on JAX, PyTorch and TensorFlow."""

from keras_memory import addressing
from keras_memory import memory_network as memory_network_module
from keras_memory import tasks
from keras_memory.memory_network import MemoryHop
from keras_memory.memory_network import MemoryNetwork
from keras_memory.addressing import masked_softmax
from keras_memory.memory_network import memory_attention
from keras_memory.memory_network import memory_network
from keras_memory.memory_network import memory_read

__version__ = "0.1.0"

__all__ = [
    "MemoryHop",
    "addressing",
    "MemoryNetwork",
    "masked_softmax",
    "memory_attention",
    "memory_network",
    "memory_read",
    "tasks",
]
