"""What a memory model did at every step, as NumPy arrays for plots."""

import keras
from keras import ops

from keras_memory import _keras_private
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


def _memory_layers(model):
    """`[(rnn layer, the model it is a layer of)]`: every RNN layer around a
    memory cell in `model`, nested models included, in layer order."""
    found = []
    for inner in model.layers:
        if isinstance(inner, keras.layers.RNN) and isinstance(inner.cell, MemoryCell):
            found.append((inner, model))
        elif isinstance(inner, keras.Model):
            found += [(rnn, owner) for rnn, owner in _memory_layers(inner)]
    return found


def _find(layer, memory_layer=None):
    """`(cell, rnn layer or None, [models from outermost to the rnn's own])`."""
    if isinstance(layer, MemoryCell):
        return layer, None, []
    if isinstance(layer, keras.layers.RNN) and isinstance(layer.cell, MemoryCell):
        return layer.cell, layer, []
    if isinstance(layer, keras.Model):
        found = _memory_layers(layer)
        if memory_layer is not None:
            found = [(rnn, owner) for rnn, owner in found
                     if rnn is memory_layer or rnn.name == memory_layer]
            if not found:
                raise ValueError(
                    f"`memory_layer` must name a memory layer of the model, received "
                    f"memory_layer={getattr(memory_layer, 'name', memory_layer)!r}; its "
                    f"memory layers are {[rnn.name for rnn, _ in _memory_layers(layer)]}."
                )
        if found:
            rnn, owner = found[0]
            return rnn.cell, rnn, _models_down_to(layer, owner)
    raise ValueError(
        "`layer` must be a memory cell (a keras_memory.recurrent.MemoryCell such "
        "as NTMCell or DNCCell), an RNN layer around one (NTM, DNC, "
        "keras.layers.RNN), or a model that contains one; received "
        f"{type(layer).__name__}."
    )


def _models_down_to(model, owner):
    """The chain of models from `model` down to `owner` (nested models)."""
    if model is owner:
        return [model]
    for inner in model.layers:
        if isinstance(inner, keras.Model):
            chain = _models_down_to(inner, owner)
            if chain:
                return [model] + chain
    return []


def _memory_layer_inputs(models, rnn, inputs):
    """What `rnn` receives, and its mask, when the models run on `inputs`:
    each model's layers in front of the next (the last: of `rnn`) run as a
    sub-model, so that the memory layer sees what it sees in `predict`."""
    targets = list(models[1:]) + [rnn]
    mask = None
    for model, target in zip(models, targets):
        args, kwargs = _keras_private.call_arguments(target)
        wanted = [args[0]] + ([kwargs["mask"]] if target is rnn and
                              kwargs.get("mask") is not None else [])
        if kwargs.get("initial_state") is not None or len(args) > 1:
            raise ValueError(
                f"`layer` calls its memory layer {rnn.name!r} with an initial state; "
                "trace starts from the cell's initial state (or a stateful layer's "
                "carried state): pass the memory layer and its sequences instead."
            )
        if len(wanted) == 1 and any(wanted[0] is x for x in model.inputs):
            continue  # nothing in front
        model_inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        if len(wanted) == 2:
            inputs, mask = keras.Model(model_inputs, wanted)(inputs)
        else:
            inputs, mask = keras.Model(model_inputs, wanted[0])(inputs), None
    return inputs, mask


def trace(layer, sequences, mask=None, memory_layer=None):
    """Runs a memory model step by step and records its state after each step.

    A model runs as in `predict`: the layers in front of its memory layer
    first (embeddings, projections, a `Masking` layer), then the memory
    layer's cell one step at a time; masks reach it as they reach it in
    `predict` (or pass `mask`), and masked steps keep the state and repeat
    the last output (zeros with `zero_output_for_mask`). A `stateful`
    layer starts from the state it carries (which tracing leaves as it is).

    Args:
        layer: a memory cell (`keras_memory.recurrent.MemoryCell`: an
            `NTMCell`, a `DNCCell`, or one of your own), an `NTM`, `DNC`,
            `MemoryRNN` or `keras.layers.RNN` around one, or a functional or
            Sequential model containing one. It must be built.
        sequences: what `layer` takes: for a model, its inputs; for a memory
            layer or cell, `[batch, time, input_size]`.
        mask: optional `[batch, time]` booleans, `False` for padding; used
            instead of the mask the model computes.
        memory_layer: for a model with several memory layers, the one to
            trace (the layer or its name); default the first.

    Returns:
        A `Trace`, a dict of NumPy arrays with a time axis after the batch
        axis: `outputs` `[batch, time, output_size]` and the state fields
        the cell traces (`MemoryCell.traced_fields`): for an NTM `reads`
        `[batch, time, R, M]`, `read_weights` `[batch, time, R, N]`,
        `write_weights` `[batch, time, W, N]`, `memory`
        `[batch, time, N, M]`; for a DNC also `usage`, `link`,
        `precedence` and `read_modes` (see `DNCState`). Steps are in the
        order the layer processes them (last to first with `go_backwards`).

    Examples:
        >>> import numpy as np
        >>> from keras_memory import ntm
        >>> model = ntm(3, memory_size=8, memory_dim=4, controller_size=8)
        >>> record = trace(model, np.zeros((1, 5, 3), "float32"))
        >>> record["write_weights"].shape
        (1, 5, 1, 8)
    """
    cell, rnn, models = _find(layer, memory_layer)
    if not cell.built:
        raise ValueError("`layer` must be built (called once) before tracing.")
    if hasattr(sequences, "shape"):  # before the layers in front run on none
        check.has_steps("sequences", tuple(sequences.shape))
    computed_mask = None
    if models:
        sequences, computed_mask = _memory_layer_inputs(models, rnn, sequences)
    shape = check.shape_of("sequences", sequences)
    check.rank("sequences", shape, 3, "([batch, time, input_size])")
    check.dim("sequences", shape, -1, cell.input_size, "input_size")
    check.has_steps("sequences", shape)
    sequences = ops.convert_to_tensor(sequences, dtype=cell.compute_dtype)
    if mask is not None:
        check.step_mask(mask, shape)
    else:
        mask = computed_mask
    if mask is not None:  # as the loops do
        sequences = recurrent.loops.zero_masked_steps(sequences, mask)
    records = []

    def layer_step(inputs, state):
        # Through the cell's __call__, which sets the mixed-precision scope.
        output, states = cell(inputs, cell.pack_state(state))
        return output, cell.unpack_state(states)

    recurrent.eager_loop(
        layer_step, sequences, cell.unpack_state(_initial_state(cell, rnn, shape[0])), mask,
        go_backwards=bool(rnn and rnn.go_backwards),
        zero_output_for_mask=bool(rnn and rnn.zero_output_for_mask),
        on_step=lambda output, state: records.append((output, state)),
    )
    result = {"outputs": ops.stack([output for output, _ in records], axis=1)}
    for field in cell.state_fields("traced"):
        result[field] = ops.stack([getattr(state, field) for _, state in records], axis=1)
    arrays = {name: ops.convert_to_numpy(value) for name, value in result.items()}
    return Trace(arrays, cell.state_fields("plotted"))


def _initial_state(cell, rnn, batch_size):
    """The flat state tracing starts from: a stateful layer's carried state
    (copies: tracing leaves it as it is), else the cell's initial state."""
    if rnn is None or not rnn.stateful or rnn.states is None:
        return cell.get_initial_state(batch_size=batch_size)
    carried = [ops.copy(ops.convert_to_tensor(state)) for state in rnn.states]
    if carried[0].shape[0] != batch_size:
        raise ValueError(
            f"`sequences` must have the stateful layer's batch size "
            f"{carried[0].shape[0]} (trace starts from the state it carries), "
            f"received batch size {batch_size}."
        )
    return carried
