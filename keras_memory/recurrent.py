"""The time loops every memory cell shares, and `MemoryRNN`, the layer on them.

A memory cell (`NTMCell`, and the DNC's next) is a Keras RNN cell with a
small protocol on top of Keras' (`state_size`, `output_size`,
`get_initial_state(batch_size)` returning a flat list of 2-D tensors):

- `unpack_state(flat_states)` -> a named tuple of shaped tensors, and
  `pack_state(state)` -> the flat list back;
- `step(inputs, state, training=None)` -> `(output, new_state)` on the
  named state: one time step, the only thing the loops call;
- optionally `step_constants()`, what every step of a sequence computes
  alike (weights fused into one matrix), which every loop here computes
  once a sequence, before the loop, and passes to each step as
  `step(..., constants=...)` (`sequence_step`);
- `remat`: `"auto"`, `True` or `False` (see `step_remat`);
- `input_size`, once built;
- optionally `upgrade_config(config)`, a static method that maps a config
  saved by an earlier version to today's arguments.

Its `call(inputs, states, training)` is `cell_call(self, ...)`, so that
`keras.layers.RNN(cell)` works as well. `MemoryRNN` subclasses
`keras.layers.RNN` for such a cell and runs it on the loops here:

- `keras_loop`: no mask on jax and tensorflow: Keras' own loop;
- `masked_scan` (jax; torch with remat): under a mask, a step runs under
  `ops.cond` only when some sequence of the batch is unmasked there, so a
  batch padded to one long length costs about its real length; on jax the
  whole step (the skip-or-run choice included) is recomputed in the
  backward pass, so a skipped step costs next to nothing in training;
- `masked_while_loop` (tensorflow): the same with a bounded while loop,
  which XLA (`compile(jit_compile=True)`) can differentiate;
- `eager_loop` (torch): a Python loop that carries the named state from
  step to step, without Keras' per-step bookkeeping.

All give the outputs and final states of `keras.layers.RNN`'s loop. Which
loop runs is a per-backend choice of `keras_memory._backend`.
"""

import contextlib
import inspect

import keras
from keras import ops

from keras_memory import _backend
from keras_memory import _ops
from keras_memory import _validation as check

REMAT_CHOICES = ("auto", True, False)
# With remat="auto", jax recomputes a step in the backward pass once the
# largest state tensor of the batch (an NTM's memory: batch * N * M) holds
# this many numbers; below that, storing the step is faster.
REMAT_MIN_STATE = 65536


def check_remat(remat):
    """Returns `remat` if it is `"auto"`, `True` or `False`, else raises."""
    if remat is None or not any(remat is c or remat == c for c in REMAT_CHOICES):
        raise ValueError(
            f"`remat` must be 'auto', True or False, received remat={remat!r}."
        )
    return remat if remat == "auto" else bool(remat)


def step_remat(remat, batch_size, state_numbers):
    """Whether one cell step is recomputed in the backward pass.

    Args:
        remat: `"auto"`, `True` or `False`.
        batch_size: int or `None`.
        state_numbers: numbers per sequence in the largest state tensor.

    `True` everywhere but tensorflow, whose `tf.recompute_grad` cannot run
    inside the RNN loop; `"auto"`: on jax once `batch_size * state_numbers
    >= REMAT_MIN_STATE`, where XLA then moves far less memory per step.
    """
    if not _backend.can_recompute_steps() or remat is False:
        return False
    if remat is True:
        return True
    return (
        _backend.recomputes_by_default()
        and batch_size is not None
        and batch_size * state_numbers >= REMAT_MIN_STATE
    )


def whole_step_remat(remat):
    """Whether the masked loop recomputes each whole step, skip choice included.

    There, recomputing is what lets a skipped step cost (almost) nothing in
    the gradient, which outweighs the recomputation at any batch size:
    `"auto"` on jax, `True` on jax and torch, never on tensorflow.
    """
    if not _backend.can_recompute_steps() or remat is False:
        return False
    return remat is True or _backend.recomputes_by_default()


def _largest_state(cell):
    return max(size for size in cell.state_size if size is not None)


def sequence_step(cell):
    """`step(inputs, state, training) -> (output, state)` for the next sequence.

    `cell.step` with the cell's `step_constants()` computed here, once, when
    the cell has them: a loop builds this step before it starts, so that
    the fused weights are computed once a sequence and not at every step.
    In the gradient, that also sums each weight's gradient over the steps
    once, not a gather's or a concatenation's gradient at every step.
    """
    if not hasattr(cell, "step_constants"):
        return cell.step
    constants = cell.step_constants()

    def step(inputs, state, training=None):
        return cell.step(inputs, state, training, constants=constants)

    return step


@contextlib.contextmanager
def steps_of_one_sequence(cell):
    """Within: the cell's `call` (`cell_call`) steps with `sequence_step(cell)`.

    For a loop that calls the cell's `call` at every step and cannot pass it
    anything else (`keras.layers.RNN`'s own).
    """
    cell._sequence_step = sequence_step(cell)
    try:
        yield
    finally:
        cell._sequence_step = None


def cell_call(cell, inputs, states, training=None):
    """A memory cell's `call`: unpack, `step`, pack; maybe recomputed.

    Inside `steps_of_one_sequence(cell)` the step has the constants that
    were computed there; elsewhere it computes its own.

    Returns:
        `(output, new_flat_states)`, as `keras.layers.RNN` wants.
    """
    step = getattr(cell, "_sequence_step", None) or cell.step

    def flat_step(step_inputs, *flat_states):
        output, state = step(step_inputs, cell.unpack_state(flat_states), training)
        return output, cell.pack_state(state)

    if step_remat(cell.remat, check.shape_of("inputs", inputs)[0], _largest_state(cell)):
        return keras.remat(flat_step)(inputs, *states)
    return flat_step(inputs, *states)


def _masked_output(previous_output, zero_output_for_mask):
    """The output at a masked step, as `keras.layers.RNN` gives it."""
    if zero_output_for_mask:
        return ops.zeros_like(previous_output)
    return previous_output


def _keep_rows(keep, new, old):
    """`new` where `keep` (`[batch]` booleans) is true, else `old`, per row."""
    row = _ops.reshape(keep, (-1,) + (1,) * (len(new.shape) - 1))
    return ops.where(row, new, old)


def _masked_step(cell, training, zero_output_for_mask):
    """`(state, x_t, mask_t) -> (new_state, output)`, skipped when all masked."""
    step = sequence_step(cell)

    def one_step(state, x_t, mask_t):
        skipped_output = _masked_output(state.output, zero_output_for_mask)

        def run():
            output, new_state = step(x_t, state, training)
            kept = keras.tree.map_structure(
                lambda n, o: _keep_rows(mask_t, n, o), new_state, state
            )
            return kept, _keep_rows(mask_t, output, skipped_output)

        return ops.cond(ops.any(mask_t), run, lambda: (state, skipped_output))

    if not whole_step_remat(cell.remat):
        return one_step

    # The skip-or-run choice inside the recomputed step: the loop then keeps
    # only each step's inputs for the backward pass (with the recomputation
    # inside the cond, it would also stack the cond's residuals, zeros for
    # skipped steps).
    def recomputed_step(state, x_t, mask_t):
        def flat_step(x, m, *flat):
            new_state, output = one_step(keras.tree.pack_sequence_as(state, flat), x, m)
            return keras.tree.flatten(new_state), output

        flat_new, output = keras.remat(flat_step)(x_t, mask_t, *keras.tree.flatten(state))
        return keras.tree.pack_sequence_as(state, flat_new), output

    return recomputed_step


def masked_scan(cell, sequences, initial_state, mask, *, go_backwards=False,
                zero_output_for_mask=False, training=None):
    """Time loop with `ops.scan` that skips steps masked for the whole batch.

    Args:
        cell: a memory cell (module docs).
        sequences: `[batch, time, features]`.
        initial_state: the flat state list.
        mask: `[batch, time]` booleans, `False` for padding.
        go_backwards: process the steps last to first.
        zero_output_for_mask: masked steps output zeros instead of the
            previous output.
        training: passed to `cell.step`.

    Returns:
        `(last_output, outputs [batch, time, output_size], final_states)`,
        outputs in processing order as `keras.layers.RNN` returns them.
    """
    step = _masked_step(cell, training, zero_output_for_mask)
    final_state, outputs = ops.scan(
        lambda state, inputs_t: step(state, *inputs_t),
        cell.unpack_state(initial_state),
        (_ops.transpose(sequences, (1, 0, 2)), ops.transpose(ops.cast(mask, "bool"))),
        reverse=go_backwards,
    )
    if go_backwards:
        outputs = ops.flip(outputs, axis=0)
    outputs = _ops.transpose(outputs, (1, 0, 2))
    return outputs[:, -1], outputs, cell.pack_state(final_state)


def masked_while_loop(cell, sequences, initial_state, mask, *, go_backwards=False,
                      zero_output_for_mask=False, training=None):
    """`masked_scan` as a bounded while loop, for tensorflow.

    Keras' TensorFlow scan wants per-step outputs shaped like the carry, so
    the outputs go to a buffer instead; the loop is bounded
    (`maximum_iterations`) so that XLA can build its gradient. Same
    arguments and results as `masked_scan`.
    """
    step = _masked_step(cell, training, zero_output_for_mask)
    steps = _ops.transpose(sequences, (1, 0, 2))
    step_masks = ops.transpose(ops.cast(mask, "bool"))
    num_steps = sequences.shape[1] or ops.shape(sequences)[1]
    state = cell.unpack_state(initial_state)

    def loop_step(index, carry):
        state, outputs = carry
        time = (num_steps - 1 - index) if go_backwards else index
        new_state, output = step(
            state, ops.take(steps, time, axis=0), ops.take(step_masks, time, axis=0)
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
    return outputs[:, -1], outputs, cell.pack_state(final_state)


def eager_loop(cell, sequences, initial_state, mask=None, *, go_backwards=False,
               zero_output_for_mask=False, training=None, step=None, on_step=None):
    """A Python loop over time, for backends that run op by op (torch).

    The steps of `keras.layers.RNN`'s loop without its per-step bookkeeping
    (state flattening, layer calls): the state stays named between steps.
    A step masked for the whole batch is skipped; otherwise masked rows
    keep their state and output. Same arguments and results as
    `masked_scan`; `mask` may be `None`. Also:

    Args:
        step: `step(inputs, state, training) -> (output, state)` instead of
            `cell.step` (`keras_memory.trace` steps through the cell's
            `__call__`, which sets the mixed-precision scope).
        on_step: called as `on_step(output, state)` after every step, the
            skipped ones included (`keras_memory.trace` records them).
    """
    step = step or sequence_step(cell)

    num_steps = sequences.shape[1]
    order = range(num_steps - 1, -1, -1) if go_backwards else range(num_steps)
    state = cell.unpack_state(initial_state)
    if mask is not None:
        mask = ops.cast(mask, "bool")
    outputs = []
    for time in order:
        inputs = sequences[:, time]
        if mask is None:
            output, state = step(inputs, state, training)
        else:
            keep = mask[:, time]
            output = _masked_output(state.output, zero_output_for_mask)
            if bool(ops.any(keep)):
                new_output, new_state = step(inputs, state, training)
                state = keras.tree.map_structure(
                    lambda n, o: _keep_rows(keep, n, o), new_state, state  # noqa: B023
                )
                output = _keep_rows(keep, new_output, output)
        outputs.append(output)
        if on_step is not None:
            on_step(output, state)
    outputs = _ops.stack(outputs, axis=1)
    return outputs[:, -1], outputs, cell.pack_state(state)


def run(cell, sequences, initial_state, mask=None, *, keras_loop, go_backwards=False,
        zero_output_for_mask=False, training=None, unroll=False):
    """Runs `cell` over `sequences` with the fastest loop for this backend.

    Args:
        loop arguments: `cell`, `sequences`, `initial_state`, `mask`,
            `go_backwards`, `zero_output_for_mask`, `training`: see
            `masked_scan`; `mask` may be `None` or a list whose first entry
            is the mask.
        keras_loop: no-argument callable running `keras.layers.RNN`'s own
            loop, used without a mask (or with `unroll`) except on torch.
        unroll: as for `keras.layers.RNN` (Keras' loop unrolls).

    Returns:
        `(last_output, outputs, final_states)`.
    """
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    options = dict(go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask,
                   training=training)
    if (_backend.python_time_loop() and not unroll
            and not step_remat(cell.remat, check.shape_of("sequences", sequences)[0],
                               _largest_state(cell))):
        return eager_loop(cell, sequences, initial_state, mask, **options)
    if mask is None or unroll:
        return keras_loop()
    loop = masked_while_loop if _backend.while_loop_for_masks() else masked_scan
    return loop(cell, sequences, initial_state, mask, **options)


_RNN_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful",
                  "unroll", "zero_output_for_mask")


def cell_arguments(cell_class):
    """Names of the arguments of `cell_class.__init__`, in order."""
    parameters = inspect.signature(cell_class.__init__).parameters.values()
    return tuple(
        p.name for p in parameters
        if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
    )


class MemoryRNN(keras.layers.RNN):
    """`keras.layers.RNN` around a memory cell, running on the loops above.

    A subclass names its cell class (`cell_class`) and the cell's layer name
    (`cell_name`); it takes every argument of the cell, plus
    `return_sequences` (default `False`), `return_state`, `go_backwards`,
    `stateful`, `unroll` and `zero_output_for_mask` as `keras.layers.RNN`
    does, and base layer arguments. Its config is flat: the cell's
    arguments beside the RNN's, no nested cell.

    Examples:
        >>> import numpy as np
        >>> from keras_memory import NTMCell
        >>> class MyNTM(MemoryRNN):
        ...     cell_class = NTMCell
        >>> layer = MyNTM(memory_size=8, memory_dim=4, controller_size=8)
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 3)
    """

    cell_class = None
    cell_name = "cell"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.cell_class is None:
            return
        # help() and IDEs show the cell's arguments and the RNN's.
        cell_parameters = [
            p for p in inspect.signature(cls.cell_class.__init__).parameters.values()
            if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        rnn_parameters = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False)
            for name in _RNN_ARGUMENTS
        ]
        cls.__signature__ = inspect.Signature(
            cell_parameters + rnn_parameters
            + [inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]
        )

    def __init__(self, *args, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, **kwargs):
        names = cell_arguments(self.cell_class)
        if len(args) > len(names):
            raise TypeError(
                f"{type(self).__name__} takes at most {len(names)} positional "
                f"arguments ({', '.join(names)}), received {len(args)}."
            )
        cell_kwargs = dict(zip(names, args))
        cell_kwargs.update({name: kwargs.pop(name) for name in names if name in kwargs})
        cell = self.cell_class(
            **cell_kwargs,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name=self.cell_name,
        )
        super().__init__(
            cell, return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, unroll=unroll,
            zero_output_for_mask=zero_output_for_mask, **kwargs,
        )

    def build(self, sequences_shape, initial_state_shape=None):
        shape = check.shape_of("sequences", sequences_shape)
        check.rank("sequences", shape, 3, "([batch, time, input_size])")
        super().build(sequences_shape, initial_state_shape)
        # keras.layers.RNN copied the cell's state sizes when the output size
        # could still be unknown; the built cell knows it.
        self.state_size = list(self.cell.state_size)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """The loop `run` picks for this backend (module docs)."""
        if self.stateful:
            # The state variables are assigned the final states after the
            # loop: on torch in place, under tensors the backward pass needs.
            # The loop starts from copies (Keras' own loop copies each step).
            initial_state = [ops.copy(state) for state in initial_state]
        return run(
            self.cell, sequences, initial_state, mask,
            keras_loop=lambda: self._keras_loop(sequences, initial_state, mask, training),
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            training=training,
            unroll=self.unroll,
        )

    def _keras_loop(self, sequences, initial_state, mask, training):
        """`keras.layers.RNN`'s loop, each step with the constants computed
        once before it."""
        with steps_of_one_sequence(self.cell):
            return super().inner_loop(sequences, initial_state, mask, training)

    def reset_state(self):
        """Stateful layers restart from the cell's initial state, not zeros."""
        if self.states is None:
            return
        batch_size = self.states[0].shape[0]
        for variable, value in zip(
            self.states, self.cell.get_initial_state(batch_size=batch_size)
        ):
            variable.assign(ops.cast(value, variable.dtype))

    def call(self, sequences, initial_state=None, mask=None, training=False):
        shape = check.shape_of("sequences", sequences)
        check.rank("sequences", shape, 3, "([batch, time, input_size])")
        check.dim("sequences", shape, -1, self.cell.input_size, "input_size")
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [
                initial_state
            ]
            expected = list(self.cell.state_size)
            if len(states) != len(expected):
                raise ValueError(
                    f"`initial_state` must be a list of {len(expected)} tensors "
                    f"shaped [batch, size] with sizes {expected} (the cell's flat "
                    f"state), received {len(states)} tensors."
                )
        if shape[0] == 0:  # an empty batch: nothing to run (tensorflow's
            return self._empty_outputs(shape)  # kernels refuse some empty ops)
        return super().call(
            sequences, initial_state=initial_state, mask=mask, training=training
        )

    def _empty_outputs(self, shape):
        """What `call` returns for a batch of 0 sequences, shapes and all."""
        dtype = self.compute_dtype
        output_size = self.cell.output_size
        outputs = ops.zeros(
            (0, shape[1], output_size) if self.return_sequences else (0, output_size),
            dtype=dtype,
        )
        if not self.return_state:
            return outputs
        return [outputs] + [ops.zeros((0, size), dtype=dtype) for size in self.cell.state_size]

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({name: cell_config[name] for name in cell_arguments(self.cell_class)})
        return config

    @classmethod
    def from_config(cls, config):
        upgrade = getattr(cls.cell_class, "upgrade_config", dict)
        return cls(**upgrade(config))
