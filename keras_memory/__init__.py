"""keras-memory: memory-augmented layers for Keras 3 on JAX, PyTorch and TensorFlow.

One namespace: every public layer, builder and helper is here
(`km.MemoryNetwork`, `km.memn2n`, `km.NTM`, `km.ntm`, `km.trace`, ...).
Modules, data flowing one way (data -> layers -> recurrent core ->
addressing):

- `addressing`: memory math as pure `keras.ops` functions;
- `recurrent`: the memory-cell base (`MemoryCell`: a declared state and a
  step), the time loops every memory cell shares, and `MemoryRNN`;
- `layers`: the Keras layers, one model family a module;
- `models`: builders of functional models;
- `callbacks`: `LinearStart`;
- `tasks`: synthetic tasks and their metric; `datasets`: bAbI;
- `trace`, `plotting`: what the heads did, and pictures (matplotlib).
"""

from keras_memory import addressing
from keras_memory import callbacks
from keras_memory import datasets
from keras_memory import layers
from keras_memory import models
from keras_memory import recurrent
from keras_memory import tasks
from keras_memory.addressing import masked_softmax
from keras_memory.callbacks import LinearStart
from keras_memory.layers import encodings
from keras_memory.layers.dnc import DNC
from keras_memory.layers.dnc import DNCCell
from keras_memory.layers.dnc import DNCState
from keras_memory.layers.encodings import SentenceEncoding
from keras_memory.layers.encodings import TemporalEncoding
from keras_memory.layers.hashed_memory import HashedMemory
from keras_memory.layers.hashed_memory import HashedMemoryCell
from keras_memory.layers.hashed_memory import HashedState
from keras_memory.layers.hops import memory_attention
from keras_memory.layers.hops import memory_read
from keras_memory.layers.memn2n import MemN2N
from keras_memory.layers.memory_network import MemoryHop
from keras_memory.layers.memory_network import MemoryNetwork
from keras_memory.layers.ntm import NTM
from keras_memory.layers.ntm import NTMCell
from keras_memory.layers.ntm import NTMState
from keras_memory.layers.ntm_heads import HeadParameters
from keras_memory.layers.ntm_heads import NTMReadHead
from keras_memory.layers.ntm_heads import NTMWriteHead
from keras_memory.layers.positions import PositionEmbedding
from keras_memory.layers.product_key_memory import ProductKeyMemory
from keras_memory.layers.sam import SAM
from keras_memory.layers.sam import SAMCell
from keras_memory.layers.sam import SAMState
from keras_memory.layers.sdnc import SDNC
from keras_memory.layers.sdnc import SDNCCell
from keras_memory.layers.sdnc import SDNCState
from keras_memory.models import dnc
from keras_memory.models import memn2n
from keras_memory.models import memory_network
from keras_memory.models import memory_transformer
from keras_memory.models import ntm
from keras_memory.models import sam
from keras_memory.models import sdnc
from keras_memory.recurrent import MemoryCell
from keras_memory.recurrent import MemoryRNN
from keras_memory.trace import Trace
from keras_memory.trace import trace

__version__ = "0.2.0.dev0"

__all__ = [
    "DNC",
    "DNCCell",
    "DNCState",
    "HashedMemory",
    "HashedMemoryCell",
    "HashedState",
    "HeadParameters",
    "LinearStart",
    "MemN2N",
    "MemoryCell",
    "MemoryHop",
    "MemoryNetwork",
    "MemoryRNN",
    "NTM",
    "NTMCell",
    "NTMReadHead",
    "NTMState",
    "NTMWriteHead",
    "PositionEmbedding",
    "ProductKeyMemory",
    "SAM",
    "SAMCell",
    "SAMState",
    "SDNC",
    "SDNCCell",
    "SDNCState",
    "SentenceEncoding",
    "TemporalEncoding",
    "Trace",
    "addressing",
    "callbacks",
    "datasets",
    "dnc",
    "encodings",
    "layers",
    "masked_softmax",
    "memn2n",
    "memory_attention",
    "memory_network",
    "memory_transformer",
    "memory_read",
    "models",
    "ntm",
    "recurrent",
    "sam",
    "sdnc",
    "tasks",
    "trace",
]
