"""Every choice `keras_memory` makes by backend, in one place.

The layers are written once with `keras.ops` and compute the same numbers on
every backend. A few choices of *form* are faster one way on one backend and
another way on the others; each is a function here, and no other module asks
which backend runs:

- jax traces and compiles a whole training step (XLA);
- torch runs op by op, so each Keras op costs its dispatch;
- tensorflow runs op by op too, or under XLA with `jit_compile=True`, and
  its `tf.recompute_grad` cannot run inside the RNN loop.
"""

import keras
from keras import ops

from keras_memory import _keras_private


def einsum_products():
    """Whether outer products and sums of products are `einsum`s.

    On jax: XLA's CPU compiler runs them, and the sums their gradients
    make, as dot kernels (`addressing/_products.py`). Elsewhere a broadcast
    is fewer ops.
    """
    return keras.backend.backend() == "jax"


def einsum_contractions():
    """Whether a matrix product of a transposed operand is an `einsum`.

    On tensorflow a transpose is an op of its own (on a DNC's link matrix,
    forward and again in the gradient), where its einsum is
    one batched matmul with an adjoint flag; on jax XLA compiles both forms
    alike. On torch a transpose is a free view, and `@` skips the parsing
    of an equation at every step.
    """
    return keras.backend.backend() != "torch"


def prod_reductions():
    """Whether a product over a small axis is one `prod` (torch).

    Elsewhere it is a chain of multiplies: jax cannot differentiate a
    product reduction under `export`'s symbolic batch size, and
    tensorflow's gradient of one is two cumulative products and transposes.
    """
    return keras.backend.backend() == "torch"


def axes_by_indexing():
    """Whether a new axis or a dropped axis of size 1 is an index (`x[:, None]`,
    `x[:, 0]`) rather than `expand_dims` / `squeeze`.

    Everywhere but tensorflow, where the gradient of an index is a
    `StridedSliceGrad`, a kernel of its own per index and per step (a
    tenth of a memory cell's training step), where that of `expand_dims`
    or `squeeze` is a reshape. On torch an index skips a Keras dispatch.
    """
    return keras.backend.backend() != "tensorflow"


def can_recompute_steps():
    """Whether a step may be recomputed in the backward pass (not tensorflow)."""
    return keras.backend.backend() != "tensorflow"


def recomputes_by_default():
    """Whether `remat="auto"` recomputes (jax: XLA then moves far less memory)."""
    return keras.backend.backend() == "jax"


def take_rows(table, rows):
    """`table[rows]` for a 2-D `table` and int `rows` of any shape.

    `keras.ops.take` takes the rows of a 2-D tensor by torch's `embedding`,
    whose backward is three times as slow at 65,536 rows as
    `index_select`'s; a 3-D table takes the `index_select` path.
    """
    if keras.backend.backend() != "torch":
        return ops.take(table, rows, axis=0)
    width = ops.shape(table)[-1]
    taken = ops.take(ops.expand_dims(table, 1), ops.reshape(rows, (-1,)), axis=0)
    return ops.reshape(taken, tuple(ops.shape(rows)) + (width,))


def sparse_row_gradients():
    """Whether a sparse memory step's gradient is added into the incoming
    memory gradient at the rows touched by hand (jax and tensorflow: their
    own gradient of a gather becomes a dense `[B, N, M]` one a step, then
    is added). Not torch: Keras' custom gradient there keeps every input
    of every step for the backward pass, the whole memory each."""
    return keras.backend.backend() in ("jax", "tensorflow")


def python_time_loop():
    """Whether a Python loop over time is the fastest loop (torch, op by op)."""
    return keras.backend.backend() == "torch"


def while_loop_for_masks():
    """Whether a masked sequence runs in a bounded while loop (tensorflow).

    XLA (`jit_compile=True`) can differentiate that loop; elsewhere the
    masked loop is an `ops.scan`.
    """
    return keras.backend.backend() == "tensorflow"


def holds_values(tensor):
    """Whether `tensor`'s values can be read now, without a trace or a graph.

    True in eager calls (torch, and jax and tensorflow outside `jit` and
    `tf.function`); False while Keras builds a model symbolically and while
    jax or tensorflow traces a function, where a check on values cannot
    raise and the layer must make any input safe instead.
    """
    if keras.utils.is_keras_tensor(tensor):
        return False
    backend = keras.backend.backend()
    if backend == "jax":
        return not _keras_private.in_jax_trace(tensor)
    if backend == "tensorflow":
        return not _keras_private.in_tf_graph()
    return True


def add_to_rows(variable, rows, updates):
    """`variable[rows] += updates` for a 2-D variable, repeated rows summed,
    without a new copy of the variable where the backend allows it.

    `keras.ops.scatter_update` returns a new tensor, a copy of the whole
    table per call on torch and tensorflow (on jax, whose training step
    donates its buffers, XLA updates the table in place). There the
    variable's own tensor is updated in place instead: torch's
    `index_add_`, tensorflow's `scatter_nd_add` on its `tf.Variable`.
    `rows`: int `[R]`; `updates`: `[R, columns]`, without gradient.
    """
    backend = keras.backend.backend()
    rows = ops.convert_to_tensor(rows, "int32")
    updates = ops.cast(updates, variable.dtype)
    if backend == "torch":
        variable.value.index_add_(0, rows, updates)
    elif backend == "tensorflow":
        variable.value.scatter_nd_add(rows[:, None], updates)
    else:
        variable.assign(ops.scatter_update(variable, rows[:, None], updates, reduction="add"))
