"""The time loops every memory cell runs on.

Each loop takes the step as an argument: `step(inputs, state) ->
(output, new_state)` on the cell's named state, with the cell's step
constants bound once a sequence (`sequence_step`). Nothing passes between
a loop and a cell on the cell's attributes.

- `keras_loop`: no mask on jax and tensorflow: the loop of
  `keras.layers.RNN` (`keras_memory._keras_private.rnn`), on the flat state;
- `masked_scan` (jax; torch with remat): under a mask, a step runs under
  `ops.cond` only when some sequence of the batch is unmasked there, so a
  batch padded to one long length costs about its real length; on jax the
  whole step (the skip-or-run choice included) is recomputed in the
  backward pass, so a skipped step costs next to nothing in training;
- `masked_while_loop` (tensorflow): the same with a bounded while loop,
  which XLA (`compile(jit_compile=True)`) can differentiate;
- `eager_loop` (torch): a Python loop that carries the named state from
  step to step, without Keras' per-step bookkeeping.

All give the outputs and final states of `keras.layers.RNN`'s loop. `run`
picks one per backend (`keras_memory._backend`).
"""

import keras
from keras import ops

from keras_memory import _backend
from keras_memory import _keras_private
from keras_memory import _ops
from keras_memory import _validation as check
from keras_memory.recurrent import state as states
from keras_memory.recurrent.remat import step_remat
from keras_memory.recurrent.remat import whole_step_remat


def sequence_step(cell, training=None):
    """`step(inputs, state) -> (output, state)` for the next sequence.

    `cell.step` with the cell's `step_constants()` computed here, once: a
    loop builds this step before it starts, so that fused weights are
    computed once a sequence and not at every step (in the gradient, each
    weight's gradient is then summed over the steps once). The first state
    the step returns is checked against the cell's `state_shape`.
    """
    constants = cell.step_constants()
    declaration = cell.state_shape
    unchecked = [True]

    def step(inputs, state):
        output, new_state = cell.step(inputs, state, training, constants=constants)
        if unchecked:
            states.check(new_state, declaration, f"{type(cell).__name__}.step")
            unchecked.clear()
        return output, new_state

    return step


def flat_step(cell, step, recompute=False):
    """`step` on the flat state: `(inputs, flat_states) -> (output, flat_states)`,
    recomputed in the backward pass when `recompute` (`keras.remat`)."""

    def on_flat(inputs, *flat_states):
        output, state = step(inputs, cell.unpack_state(flat_states))
        return output, cell.pack_state(state)

    if recompute:
        on_flat = keras.remat(on_flat)
    return lambda inputs, flat_states: on_flat(inputs, *flat_states)


def zero_masked_steps(sequences, mask):
    """`sequences` with the masked steps' inputs zeros, before any arithmetic:
    whatever they held (NaN included) reaches neither the outputs nor,
    through a zero times NaN in some backward pass, the gradients."""
    keep = ops.cast(mask, "bool")[:, :, None]
    return ops.where(keep, sequences, ops.zeros_like(sequences))


def _masked_output(previous_output, zero_output_for_mask):
    """The output at a masked step, as `keras.layers.RNN` gives it."""
    if zero_output_for_mask:
        return ops.zeros_like(previous_output)
    return previous_output


def _keep_rows(keep, new, old):
    """`new` where `keep` (`[batch]` booleans) is true, else `old`, per row."""
    row = _ops.reshape(keep, (-1,) + (1,) * (len(new.shape) - 1))
    return ops.where(row, new, old)


def _masked_step(step, zero_output_for_mask, recompute):
    """`(state, x_t, mask_t) -> (new_state, output)`, skipped when all masked."""

    def one_step(state, x_t, mask_t):
        skipped_output = _masked_output(state.output, zero_output_for_mask)

        def run_step():
            output, new_state = step(x_t, state)
            kept = keras.tree.map_structure(
                lambda n, o: _keep_rows(mask_t, n, o), new_state, state
            )
            return kept, _keep_rows(mask_t, output, skipped_output)

        return ops.cond(ops.any(mask_t), run_step, lambda: (state, skipped_output))

    if not recompute:
        return one_step

    # The skip-or-run choice inside the recomputed step: the loop then keeps
    # only each step's inputs for the backward pass (with the recomputation
    # inside the cond, it would also stack the cond's residuals, zeros for
    # skipped steps).
    def recomputed_step(state, x_t, mask_t):
        def flat(x, m, *flat_state):
            new_state, output = one_step(keras.tree.pack_sequence_as(state, flat_state), x, m)
            return keras.tree.flatten(new_state), output

        flat_new, output = keras.remat(flat)(x_t, mask_t, *keras.tree.flatten(state))
        return keras.tree.pack_sequence_as(state, flat_new), output

    return recomputed_step


def masked_scan(step, sequences, state, mask, *, go_backwards=False,
                zero_output_for_mask=False, recompute=False):
    """Time loop with `ops.scan` that skips steps masked for the whole batch.

    Args:
        step: `step(inputs, state) -> (output, state)` (`sequence_step`).
        sequences: `[batch, time, features]`.
        state: the named initial state (it has an `output` field).
        mask: `[batch, time]` booleans, `False` for padding.
        go_backwards: process the steps last to first.
        zero_output_for_mask: masked steps output zeros instead of the
            previous output.
        recompute: recompute whole steps in the backward pass.

    Returns:
        `(last_output, outputs [batch, time, output_size], final_state)`,
        outputs in processing order as `keras.layers.RNN` returns them.
    """
    masked_step = _masked_step(step, zero_output_for_mask, recompute)
    final_state, outputs = ops.scan(
        lambda carry, inputs_t: masked_step(carry, *inputs_t),
        state,
        (_ops.transpose(sequences, (1, 0, 2)), ops.transpose(ops.cast(mask, "bool"))),
        reverse=go_backwards,
    )
    if go_backwards:
        outputs = ops.flip(outputs, axis=0)
    outputs = _ops.transpose(outputs, (1, 0, 2))
    return outputs[:, -1], outputs, final_state


def masked_while_loop(step, sequences, state, mask, *, go_backwards=False,
                      zero_output_for_mask=False, recompute=False):
    """`masked_scan` as a bounded while loop, for tensorflow.

    Keras' TensorFlow scan wants per-step outputs shaped like the carry, so
    the outputs go to a buffer instead; the loop is bounded
    (`maximum_iterations`) so that XLA can build its gradient. Same
    arguments and results as `masked_scan`.
    """
    masked_step = _masked_step(step, zero_output_for_mask, recompute)
    steps = _ops.transpose(sequences, (1, 0, 2))
    step_masks = ops.transpose(ops.cast(mask, "bool"))
    num_steps = sequences.shape[1] or ops.shape(sequences)[1]

    def loop_step(index, carry):
        carried, outputs = carry
        time = (num_steps - 1 - index) if go_backwards else index
        new_state, output = masked_step(
            carried, ops.take(steps, time, axis=0), ops.take(step_masks, time, axis=0)
        )
        # A where, not slice_update: TF has no gradient for the latter.
        here = ops.equal(ops.arange(num_steps), index)[:, None, None]
        return new_state, ops.where(here, output[None], outputs)

    outputs = ops.zeros(
        (num_steps,) + tuple(ops.shape(state.output)), dtype=state.output.dtype
    )
    _, (final_state, outputs) = ops.while_loop(
        lambda index, carry: index < num_steps,
        lambda index, carry: (index + 1, loop_step(index, carry)),
        (0, (state, outputs)),
        maximum_iterations=num_steps,
    )
    outputs = _ops.transpose(outputs, (1, 0, 2))
    return outputs[:, -1], outputs, final_state


def eager_loop(step, sequences, state, mask=None, *, go_backwards=False,
               zero_output_for_mask=False, on_step=None):
    """A Python loop over time, for backends that run op by op (torch).

    The steps of `keras.layers.RNN`'s loop without its per-step bookkeeping
    (state flattening, layer calls): the state stays named between steps.
    A step masked for the whole batch is skipped; otherwise masked rows
    keep their state and output. Same arguments and results as
    `masked_scan` (`mask` may be `None`; nothing is recomputed), and:

    Args:
        on_step: called as `on_step(output, state)` after every step, the
            skipped ones included (`keras_memory.trace` records them).
    """
    num_steps = sequences.shape[1]
    order = range(num_steps - 1, -1, -1) if go_backwards else range(num_steps)
    if mask is not None:
        mask = ops.cast(mask, "bool")
    outputs = []
    for time in order:
        inputs = sequences[:, time]
        if mask is None:
            output, state = step(inputs, state)
        else:
            keep = mask[:, time]
            output = _masked_output(state.output, zero_output_for_mask)
            if bool(ops.any(keep)):
                new_output, new_state = step(inputs, state)
                state = keras.tree.map_structure(
                    lambda n, o: _keep_rows(keep, n, o), new_state, state  # noqa: B023
                )
                output = _keep_rows(keep, new_output, output)
        outputs.append(output)
        if on_step is not None:
            on_step(output, state)
    outputs = _ops.stack(outputs, axis=1)
    return outputs[:, -1], outputs, state


def keras_loop(cell, step, sequences, flat_state, mask=None, *, go_backwards=False,
               zero_output_for_mask=False, recompute=False, unroll=False,
               return_all_outputs=True):
    """`keras.layers.RNN`'s own loop over `step` on the flat state.

    Returns `(last_output, outputs, final flat states)`; `outputs` holds only
    the last step unless `return_all_outputs`.
    """
    return _keras_private.rnn(
        flat_step(cell, step, recompute),
        sequences,
        list(flat_state),
        go_backwards=go_backwards,
        mask=mask,
        unroll=unroll,
        input_length=sequences.shape[1],
        zero_output_for_mask=zero_output_for_mask,
        return_all_outputs=return_all_outputs,
    )


def run(cell, sequences, initial_state, mask=None, *, go_backwards=False,
        zero_output_for_mask=False, training=None, unroll=False,
        return_all_outputs=True):
    """Runs a memory cell over `sequences` with the fastest loop for this backend.

    Args:
        cell: a `keras_memory.recurrent.MemoryCell`.
        sequences: `[batch, time, features]`.
        initial_state: the flat state list.
        mask: `None`, `[batch, time]` booleans, or a list whose first entry
            is the mask.
        go_backwards, zero_output_for_mask, unroll: as for `keras.layers.RNN`.
        training: passed to `cell.step`.
        return_all_outputs: as for Keras' loop (the others return all).

    Returns:
        `(last_output, outputs, final flat states)`.
    """
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if mask is not None:
        sequences = zero_masked_steps(sequences, mask)
    step = sequence_step(cell, training)
    options = dict(go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask)
    batch_size = check.shape_of("sequences", sequences)[0]
    recompute = step_remat(cell.remat, batch_size, cell.largest_state)
    if _backend.python_time_loop() and not unroll and not recompute:
        loop, recompute = eager_loop, None
    elif mask is None or unroll:
        return keras_loop(cell, step, sequences, initial_state, mask, recompute=recompute,
                          unroll=unroll, return_all_outputs=return_all_outputs, **options)
    elif _backend.while_loop_for_masks():
        loop, recompute = masked_while_loop, whole_step_remat(cell.remat)
    else:
        loop, recompute = masked_scan, whole_step_remat(cell.remat)
    if recompute is not None:
        options["recompute"] = recompute
    last, outputs, final_state = loop(
        step, sequences, cell.unpack_state(initial_state), mask, **options
    )
    return last, outputs, cell.pack_state(final_state)
