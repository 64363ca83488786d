"""The one module that reaches into private Keras (`keras.src`).

Each name below says which public API it stands in for and why that one
does not serve. `tests/test_backend.py` fails if another module of the
package imports `keras.src`.
"""

# The running backend's own ops (`keras.ops.reshape` etc. call these after
# walking their arguments for symbolic tensors, which costs more than a
# small per-step op on torch): `core.cast`, `nn.sigmoid`, `numpy.reshape`,
# ... in `keras_memory._ops`.
from keras.src.backend import core  # noqa: F401
from keras.src.backend import nn  # noqa: F401
from keras.src.backend import numpy  # noqa: F401

# The time loop of `keras.layers.RNN.inner_loop` (`keras.layers.RNN` runs
# it on its cell's `__call__`; no public API takes a step function).
from keras.src.backend import rnn  # noqa: F401

# Keras' callbacks print through this (`print`, or absl logging after
# `keras.config.disable_interactive_logging()`); no public equivalent.
from keras.src.utils.io_utils import print_msg  # noqa: F401


def call_arguments(layer):
    """`(args, kwargs)` of the one call of `layer` in a functional model, as
    symbolic tensors (the sequences, and the `mask` Keras passed it). The
    public `layer.input` flattens them into one list, without names."""
    nodes = layer._inbound_nodes
    if len(nodes) != 1:
        raise ValueError(
            f"layer {layer.name!r} is called {len(nodes)} times in its model; "
            "trace needs a memory layer called once."
        )
    return nodes[0].arguments.args, nodes[0].arguments.kwargs


def in_jax_trace(tensor):
    """Whether `tensor` is being traced by jax (no public Keras API)."""
    from keras.src.utils.jax_utils import is_in_jax_tracing_scope

    return is_in_jax_tracing_scope(tensor)


def in_tf_graph():
    """Whether tensorflow is building a graph (no public Keras API)."""
    from keras.src.utils.backend_utils import in_tf_graph as in_graph

    return in_graph()
