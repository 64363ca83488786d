"""What a memory model did at every step, as NumPy arrays for plots."""

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory import recurrent
from keras_memory.recurrent import MemoryCell


class Trace(dict):
    """`trace`'s record: a dict of NumPy arrays, and which of them are
    weights over the memory rows (`plotted_fields`, the cell's choice),
    for `keras_memory.plotting.plot_trace`."""

    def __init__(self, arrays, plotted_fields):
        super().__init__(arrays)
        self.plotted_fields = tuple(plotted_fields)


def _find(layer):
    """`(cell, rnn_layer or None, mask_value or None)` of the first memory
    cell in `layer` (a cell, an RNN around one, or a model)."""
    if isinstance(layer, MemoryCell):
        return layer, None, None
    if isinstance(layer, keras.layers.RNN) and isinstance(layer.cell, MemoryCell):
        return layer.cell, layer, None
    if isinstance(layer, keras.Model):
        mask_value = None
        for inner in layer.layers:
            if isinstance(inner, keras.layers.Masking):
                mask_value = inner.mask_value
            try:
                cell, rnn, _ = _find(inner)
            except ValueError:
                continue
            return cell, rnn, mask_value
    raise ValueError(
        "`layer` must be a memory cell (a keras_memory.recurrent.MemoryCell such "
        "as NTMCell or DNCCell), an RNN layer around one (NTM, DNC, "
        "keras.layers.RNN), or a model that contains one; received "
        f"{type(layer).__name__}."
    )


def trace(layer, sequences, mask=None):
    """Runs a memory model step by step and records its state after each step.

    Masks work as in `predict`: a model's `keras.layers.Masking` layer (as
    `ntm(..., mask_value=...)` puts in front) masks the steps whose inputs
    all equal its value, or pass `mask`; masked steps keep the state and
    repeat the last output (zeros with `zero_output_for_mask`).

    Args:
        layer: a memory cell (`keras_memory.recurrent.MemoryCell`: an
            `NTMCell`, a `DNCCell`, or one of your own), an `NTM`, `DNC`,
            `MemoryRNN` or `keras.layers.RNN` around one, or a model
            containing one (the first found is used). It must be built.
        sequences: `[batch, time, input_size]` inputs.
        mask: optional `[batch, time]` booleans, `False` for padding; used
            instead of the model's `Masking` layer.

    Returns:
        A `Trace`, a dict of NumPy arrays with a time axis after the batch
        axis: `outputs` `[batch, time, output_size]` and the state fields
        the cell traces (`MemoryCell.traced_fields`): for an NTM `reads`
        `[batch, time, R, M]`, `read_weights` `[batch, time, R, N]`,
        `write_weights` `[batch, time, W, N]`, `memory`
        `[batch, time, N, M]`; for a DNC also `usage`, `link`,
        `precedence` and `read_modes` (see `DNCState`).

    Examples:
        >>> import numpy as np
        >>> from keras_memory import ntm
        >>> model = ntm(3, memory_size=8, memory_dim=4, controller_size=8)
        >>> record = trace(model, np.zeros((1, 5, 3), "float32"))
        >>> record["write_weights"].shape
        (1, 5, 1, 8)
    """
    cell, rnn, mask_value = _find(layer)
    shape = check.shape_of("sequences", sequences)
    check.rank("sequences", shape, 3, "([batch, time, input_size])")
    if not cell.built:
        raise ValueError("`layer` must be built (called once) before tracing.")
    check.dim("sequences", shape, -1, cell.input_size, "input_size")
    if shape[1] == 0:
        raise ValueError(
            f"`sequences` must have at least one time step, received shape {shape}."
        )
    sequences = ops.convert_to_tensor(sequences, dtype=cell.compute_dtype)
    if mask is not None:
        mask_shape = check.shape_of("mask", mask)
        if tuple(mask_shape) != tuple(shape[:2]):
            raise ValueError(
                f"`mask` must have shape [batch, time] = {tuple(shape[:2])}, "
                f"received mask with shape {tuple(mask_shape)}."
            )
    elif mask_value is not None:
        mask = ops.any(ops.not_equal(sequences, mask_value), axis=-1)
    records = []

    def layer_step(inputs, state):
        # Through the cell's __call__, which sets the mixed-precision scope.
        output, states = cell(inputs, cell.pack_state(state))
        return output, cell.unpack_state(states)

    recurrent.eager_loop(
        layer_step, sequences,
        cell.unpack_state(cell.get_initial_state(batch_size=shape[0])), mask,
        go_backwards=bool(rnn and rnn.go_backwards),
        zero_output_for_mask=bool(rnn and rnn.zero_output_for_mask),
        on_step=lambda output, state: records.append((output, state)),
    )
    result = {"outputs": ops.stack([output for output, _ in records], axis=1)}
    for field in cell.state_fields("traced"):
        result[field] = ops.stack([getattr(state, field) for _, state in records], axis=1)
    arrays = {name: ops.convert_to_numpy(value) for name, value in result.items()}
    return Trace(arrays, cell.state_fields("plotted"))
