"""Memory addressing as pure `keras.ops` functions, stable by construction.

- `keras_memory.addressing.ntm`: the NTM's content addressing,
  interpolation, shift and sharpening, `address`, `read`, `write`, and
  `masked_softmax` (Graves et al., 2014);
- `keras_memory.addressing.dnc`: the DNC's dynamic allocation, usage,
  temporal links and `dnc_access` (Graves et al., 2016);
- `keras_memory.addressing.product_keys`: `product_key_search`, the exact
  top-k slots of a product-key memory (Lample et al., 2019);
- `keras_memory.addressing.hashing`: `hashed_lookup` (locality-sensitive
  bucket ids) and `ema_write` (moving-average writes to the buckets hit);
- `keras_memory.addressing.sparse`: Sparse Access Memory's top-K content
  reads, sparse writes and last-access usage (Rae et al., 2016).

Every name is importable from `keras_memory.addressing` itself.
"""

from keras_memory.addressing.dnc import DNCAccess
from keras_memory.addressing.dnc import allocation
from keras_memory.addressing.dnc import directional_read_weights
from keras_memory.addressing.dnc import dnc_access
from keras_memory.addressing.dnc import link_update
from keras_memory.addressing.dnc import precedence_update
from keras_memory.addressing.dnc import usage_update
from keras_memory.addressing.dnc import write_allocation
from keras_memory.addressing.hashing import ema_write
from keras_memory.addressing.hashing import hashed_lookup
from keras_memory.addressing.ntm import EPSILON
from keras_memory.addressing.ntm import address
from keras_memory.addressing.ntm import circular_shift
from keras_memory.addressing.ntm import content_addressing
from keras_memory.addressing.ntm import cosine_similarity
from keras_memory.addressing.ntm import interpolate
from keras_memory.addressing.ntm import masked_softmax
from keras_memory.addressing.ntm import read
from keras_memory.addressing.ntm import sharpen
from keras_memory.addressing.ntm import write
from keras_memory.addressing.product_keys import product_key_search
from keras_memory.addressing.sparse import SAMAccess
from keras_memory.addressing.sparse import SparseWeights
from keras_memory.addressing.sparse import dense_weights
from keras_memory.addressing.sparse import gather_rows
from keras_memory.addressing.sparse import least_recently_used
from keras_memory.addressing.sparse import sam_access
from keras_memory.addressing.sparse import sam_write_weights
from keras_memory.addressing.sparse import sparse_content_read
from keras_memory.addressing.sparse import sparse_read
from keras_memory.addressing.sparse import sparse_write
from keras_memory.addressing.sparse import touch

__all__ = [
    "EPSILON", "DNCAccess", "SAMAccess", "SparseWeights", "address", "allocation",
    "circular_shift", "content_addressing", "cosine_similarity", "dense_weights",
    "directional_read_weights", "dnc_access", "ema_write", "gather_rows", "hashed_lookup",
    "interpolate", "least_recently_used", "link_update", "masked_softmax", "precedence_update",
    "product_key_search", "read", "sam_access", "sam_write_weights", "sharpen",
    "sparse_content_read", "sparse_read", "sparse_write", "touch", "usage_update", "write",
    "write_allocation",
]
