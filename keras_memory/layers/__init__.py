"""The Keras layers of keras-memory, one model family a module.

- `memory_network`: `MemoryHop`, `MemoryNetwork` (dense memories);
- `hops`: the hops and weight tying they share, as functions;
- `memn2n`: `MemN2N` (memories of word ids);
- `encodings`: `SentenceEncoding`, `TemporalEncoding`;
- `ntm_heads`, `ntm`: `NTMReadHead`, `NTMWriteHead`, `NTMCell`, `NTM`;
- `dnc`: `DNCCell`, `DNC`;
- `product_key_memory`: `ProductKeyMemory` (large memories, product keys);
- `positions`: `PositionEmbedding` (for `keras_memory.memory_transformer`);
- `hashed_memory`: `HashedMemory` (hashed buckets over learned slots) and
  `HashedMemoryCell` (a recurrent memory of hashed buckets);
- `sam`: `SAMCell`, `SAM` (Sparse Access Memory: top-K reads, sparse writes);
- `sdnc`: `SDNCCell`, `SDNC` (the SAM with sparse temporal links);
- `controller_cell`: `ControllerCell`, the controller and output
  projection both memory cells share (on `keras_memory.recurrent.MemoryCell`).
"""

from keras_memory.layers.dnc import DNC
from keras_memory.layers.dnc import DNCCell
from keras_memory.layers.dnc import DNCState
from keras_memory.layers.encodings import SentenceEncoding
from keras_memory.layers.encodings import TemporalEncoding
from keras_memory.layers.hashed_memory import HashedMemory
from keras_memory.layers.hashed_memory import HashedMemoryCell
from keras_memory.layers.hashed_memory import HashedState
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

__all__ = [
    "DNC", "DNCCell", "DNCState", "HashedMemory", "HashedMemoryCell", "HashedState",
    "HeadParameters",
    "MemN2N", "MemoryHop", "MemoryNetwork",
    "NTM", "NTMCell",
    "NTMReadHead", "NTMState", "NTMWriteHead", "PositionEmbedding", "ProductKeyMemory",
    "SAM", "SAMCell", "SAMState", "SDNC", "SDNCCell", "SDNCState",
    "SentenceEncoding",
    "TemporalEncoding",
]
