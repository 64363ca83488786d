"""`MemoryCell`: the base of every memory cell, a declared state and a step."""

import functools

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory.recurrent import loops
from keras_memory.recurrent import state as states
from keras_memory.recurrent.remat import check_remat
from keras_memory.recurrent.remat import step_remat


class MemoryCell(keras.layers.Layer):
    """Base class of memory cells: a state declared once, and one step.

    A memory model declares its state as a named tuple of per-sequence
    shapes and writes one time step on that named state; the base derives
    the rest: `state_size`, `output_size`, `get_initial_state`,
    `pack_state` / `unpack_state` (to and from the flat list of
    `[batch, size]` tensors `keras.layers.RNN` carries), `call` (so that
    `keras.layers.RNN(cell)` works) and whether a step is recomputed in the
    backward pass (`remat`). `keras_memory.recurrent.MemoryRNN` runs such a
    cell on the fastest loop for the backend, and `keras_memory.trace`
    records it.

    A subclass defines:

    - `state_shape` (a property): the state's named tuple with a shape in
      each field, without the batch axis (a tuple of ints, or a list of
      them for a group of tensors such as an LSTM's `[h, c]`). One field
      must be `output` (`[output_size]`), the last output, which masked
      steps repeat.
    - `step(inputs, state, training=None, constants=None)` ->
      `(output, new_state)`: one time step; `inputs` `[batch, features]`,
      `state` and `new_state` the named tuple of tensors `[batch, *shape]`.
    - optionally `step_constants()`: what every step of a sequence computes
      alike (weights fused into one matrix); the loops compute it once a
      sequence and pass it to each step as `constants` (default `None`).
    - optionally `initial_state(batch_size)`: the named state a sequence
      starts from (default: zeros).
    - optionally `traced_fields`: the state fields `trace` records (default:
      every field declared as one shape, but `output`); `plotted_fields`:
      those drawn as weights over the memory rows (`[heads, rows]` per step)
      by `keras_memory.plotting.plot_trace` (default: fields whose name ends
      in `weights`).

    Args:
        remat: `"auto"` (default), `True` or `False`: recompute each step in
            the backward pass instead of storing its intermediates
            (`keras_memory.recurrent.step_remat`).
        **kwargs: base `keras.layers.Layer` arguments.

    Examples:
        >>> import collections, keras, numpy as np
        >>> Sum = collections.namedtuple("Sum", ["output", "total"])
        >>> class Accumulator(MemoryCell):
        ...     state_shape = Sum(output=(2,), total=(2,))
        ...     def step(self, inputs, state, training=None, constants=None):
        ...         total = state.total + inputs
        ...         return total, Sum(output=total, total=total)
        >>> layer = keras.layers.RNN(Accumulator())
        >>> keras.ops.convert_to_numpy(layer(np.ones((1, 3, 2), "float32")))
        array([[3., 3.]], dtype=float32)
    """

    traced_fields = None
    plotted_fields = None
    input_size = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is None:
            return

        # Every cell knows its input width once built (`input_size`), which
        # the loops and `trace` check inputs against; no subclass writes it.
        @functools.wraps(build)
        def build_and_record(self, input_shape, *args, **kwargs):
            shape = check.shape_of("inputs", input_shape)
            check.rank("inputs", shape, 2, "([batch, input_size]) per step")
            self.input_size = shape[-1]
            return build(self, input_shape, *args, **kwargs)

        cls.build = build_and_record

    def __init__(self, remat="auto", **kwargs):
        super().__init__(**kwargs)
        check.float_policy("dtype", self.dtype_policy)
        self.remat = check_remat(remat)

    # -- what a subclass declares ---------------------------------------------

    @property
    def state_shape(self):
        """The state's named tuple, each field a per-sequence shape."""
        raise NotImplementedError(f"{type(self).__name__} must declare `state_shape`.")

    def step(self, inputs, state, training=None, constants=None):
        """One time step: `(output, new_state)` on the named state."""
        raise NotImplementedError(f"{type(self).__name__} must define `step`.")

    def step_constants(self):
        """What every step of a sequence computes alike (`None`: nothing)."""
        return None

    def initial_state(self, batch_size):
        """The named state every sequence starts from: zeros."""
        flat = [
            ops.zeros((batch_size, size), dtype=self.compute_dtype)
            for size in self.state_size
        ]
        return states.unpack(flat, self.state_shape)

    # -- derived from the declaration ------------------------------------------

    @property
    def state_size(self):
        """The flat state's sizes (`keras.layers.RNN`'s `state_size`)."""
        return states.flat_sizes(self.state_shape)

    @property
    def output_size(self):
        """Output units (`keras.layers.RNN` reads it for its output shape)."""
        return states.size(self.state_shape.output)

    @property
    def largest_state(self):
        """Numbers per sequence in the largest state tensor (for `remat`)."""
        return max(size for size in self.state_size if size is not None)

    def pack_state(self, state):
        """The named state -> the flat list of 2-D tensors `keras.layers.RNN` carries."""
        return states.pack(state, self.state_shape)

    def unpack_state(self, flat_states):
        """The flat list of 2-D tensors -> the named state, each field shaped."""
        return states.unpack(flat_states, self.state_shape)

    def state_fields(self, kind):
        """`traced_fields` (`kind="traced"`) or `plotted_fields` (`"plotted"`)."""
        declared = self.traced_fields if kind == "traced" else self.plotted_fields
        if declared is not None:
            return tuple(declared)
        traced = tuple(
            name for name, shape in zip(self.state_shape._fields, self.state_shape)
            if name != "output" and states.is_shape(shape)
        )
        if kind == "traced":
            return traced
        return tuple(name for name in traced if name.endswith("weights"))

    def get_initial_state(self, batch_size=None):
        """The flat state every sequence starts from (`initial_state`, packed)."""
        unknown = [
            label for label, shape in states.shapes(self.state_shape)
            if states.size(shape) is None
        ]
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.get_initial_state needs the state's sizes, "
                f"and {', '.join(unknown)} is unknown until the cell is built: call "
                "`cell.build((None, input_size))` or the cell first."
            )
        initial = self.initial_state(batch_size)
        states.check(initial, self.state_shape, f"{type(self).__name__}.initial_state")
        return self.pack_state(initial)

    def get_config(self):
        return {**super().get_config(), "remat": self.remat}

    def call(self, inputs, states, training=None):
        """One step on the flat state: `(output, new flat states)`."""
        shape = check.shape_of("inputs", inputs)
        check.rank("inputs", shape, 2, "([batch, input_size]) per step")
        if self.input_size is not None:
            check.dim("inputs", shape, -1, self.input_size, "input_size")
        recompute = step_remat(self.remat, shape[0], self.largest_state)
        step = loops.flat_step(self, loops.sequence_step(self, training), recompute)
        return step(inputs, list(states))
