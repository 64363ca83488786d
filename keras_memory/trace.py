"""What a memory model's heads did at every step, as NumPy arrays for plots."""

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory.layers.ntm import NTMCell

TRACED_CELLS = (NTMCell,)


def find_cell(layer):
    """The first memory cell in `layer` (a cell, an RNN around one, a model)."""
    if isinstance(layer, TRACED_CELLS):
        return layer
    if isinstance(layer, keras.layers.RNN) and isinstance(layer.cell, TRACED_CELLS):
        return layer.cell
    if isinstance(layer, keras.Model):
        for inner in layer.layers:
            try:
                return find_cell(inner)
            except ValueError:
                continue
    raise ValueError(
        "`layer` must be an NTMCell, an RNN or NTM layer around one, or a "
        f"model that contains one; received {type(layer).__name__}."
    )


def trace(layer, sequences):
    """Runs a memory model step by step and records what its heads did.

    Args:
        layer: an `NTMCell`, an `NTM` / `keras.layers.RNN` around one, or a
            model containing one (the first found is used). It must be built.
        sequences: `[batch, time, input_size]` inputs.

    Returns:
        A dict of NumPy arrays: `outputs` `[batch, time, output_size]`,
        `read_weights` `[batch, time, num_read_heads, N]`, `write_weights`
        `[batch, time, num_write_heads, N]`, `reads`
        `[batch, time, num_read_heads, M]` and `memory`
        `[batch, time, N, M]` (after each step).

    Example:

    >>> import numpy as np
    >>> from keras_memory import ntm
    >>> model = ntm(3, memory_size=8, memory_dim=4, controller_size=8)
    >>> record = trace(model, np.zeros((1, 5, 3), "float32"))
    >>> record["write_weights"].shape
    (1, 5, 1, 8)
    """
    cell = find_cell(layer)
    shape = check.shape_of("sequences", sequences)
    check.rank("sequences", shape, 3, "([batch, time, input_size])")
    if not cell.built:
        raise ValueError("`layer` must be built (called once) before tracing.")
    check.dim("sequences", shape, -1, cell.input_size, "input_size")
    sequences = ops.convert_to_tensor(sequences, dtype=cell.compute_dtype)
    states = cell.get_initial_state(batch_size=shape[0])
    fields = ("outputs", "read_weights", "write_weights", "reads", "memory")
    record = {name: [] for name in fields}
    for step in range(shape[1]):
        output, states = cell(sequences[:, step], states)
        state = cell.unpack_state(states)
        record["outputs"].append(output)
        for name in fields[1:]:
            record[name].append(getattr(state, name))
    return {
        name: ops.convert_to_numpy(ops.stack(values, axis=1))
        for name, values in record.items()
    }
