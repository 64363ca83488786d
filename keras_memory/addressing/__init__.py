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
  reads, sparse writes and last-access usage (Rae et al., 2016);
- `keras_memory.addressing.sparse_links`: the sparse DNC's temporal links,
  `K_L` a row each way, and `sdnc_access` (Rae et al., 2016).

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
from keras_memory.addressing.sparse_links import SDNCAccess
from keras_memory.addressing.sparse_links import SparseLinks
from keras_memory.addressing.sparse_links import dense_links
from keras_memory.addressing.sparse_links import empty_links
from keras_memory.addressing.sparse_links import follow_links
from keras_memory.addressing.sparse_links import sdnc_access
from keras_memory.addressing.sparse_links import sparse_link_update
from keras_memory.addressing.sparse_links import sparse_precedence_update
from keras_memory.addressing.sparse_links import strongest

__all__ = [
    "EPSILON", "DNCAccess", "SAMAccess", "SDNCAccess", "SparseLinks", "SparseWeights",
    "address", "allocation", "circular_shift", "content_addressing", "cosine_similarity",
    "dense_links", "dense_weights", "directional_read_weights", "dnc_access", "ema_write",
    "empty_links", "follow_links", "gather_rows", "hashed_lookup", "interpolate",
    "least_recently_used", "link_update", "masked_softmax", "precedence_update",
    "product_key_search", "read", "sam_access", "sam_write_weights", "sdnc_access",
    "sharpen", "sparse_content_read", "sparse_link_update", "sparse_precedence_update",
    "sparse_read", "sparse_write", "strongest", "touch", "usage_update", "write",
    "write_allocation",
]
