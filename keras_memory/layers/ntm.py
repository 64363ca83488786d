"""Neural Turing Machine (Graves et al., 2014): `NTMCell`, one time step for
`keras.layers.RNN`, and `NTM`, the sequence layer on the shared recurrent
core (`keras_memory.recurrent`)."""

import collections

import keras
from keras import ops

from keras_memory import _ops
from keras_memory import _validation as check
from keras_memory import addressing
from keras_memory import recurrent
from keras_memory._kernels import fresh_initializer
from keras_memory.layers.controller_cell import ControllerCell
from keras_memory.layers.controller_cell import StepConstants
from keras_memory.layers.ntm_heads import KEY_ACTIVATIONS
from keras_memory.layers.ntm_heads import HeadParameters
from keras_memory.layers.ntm_heads import activate_parameters
from keras_memory.layers.ntm_heads import NTMReadHead
from keras_memory.layers.ntm_heads import NTMWriteHead
from keras_memory.layers.ntm_heads import check_shift_range
from keras_memory.layers.ntm_heads import split_last

MEMORY_INITS = ("constant", "learned", "random")

# A constant memory starts every row at this small value (Collier & Beel,
# 2018: the fastest of the initialisations they compared).
CONSTANT_MEMORY_VALUE = 1e-6
# Initial head weights are softmax(logits) with this logit on row 0 and 0
# elsewhere: focused, so that the first writes break the symmetry of a
# constant memory, yet trainable.
INITIAL_FOCUS_LOGIT = 10.0


NTMState = collections.namedtuple(
    "NTMState",
    ["output", "controller", "reads", "read_weights", "write_weights", "memory"],
)
NTMState.__doc__ = """The parts of an `NTMCell` state, with named fields.

- output: `[batch, output_size]`, the last output (repeated at masked steps).
- controller: list of controller states (`[h, c]`, each
  `[batch, controller_size]`, for the LSTM; empty for the dense controller).
- reads: `[batch, num_read_heads, memory_dim]`, the last read vectors.
- read_weights: `[batch, num_read_heads, memory_size]`.
- write_weights: `[batch, num_write_heads, memory_size]`.
- memory: `[batch, memory_size, memory_dim]`.

`NTMCell.state_shape` is this tuple with each field's per-sequence shape;
`keras.layers.RNN` carries the state flat (a list of 2-D tensors, in this
order), and `NTMCell.unpack_state` / `pack_state` convert between the two.
"""


def grouped_columns(heads, count):
    """Columns of the heads' concatenated projection, grouped by parameter.

    The first `count` heads (the read heads, then the first write head)
    address the same memory, so `NTMCell.step` activates each parameter
    once for all of them: their columns are taken field by field in
    `HeadParameters` order (every key, then every strength, ..., then the
    write head's erase and add vectors), head after head within a field;
    the later write heads' columns follow as they are.

    Returns:
        `(runs, owners)`: the columns as contiguous `(start, stop)` runs of
        the concatenated projection, in that order; and for each field, how
        many of the first `count` heads have it.
    """
    offsets, start = [], 0
    for head in heads:
        offsets.append(start)
        start += head.projection_size
    runs, owners = [], {}

    def take(first, stop):
        if runs and runs[-1][1] == first:  # continues the last run
            runs[-1] = (runs[-1][0], stop)
        elif stop > first:
            runs.append((first, stop))

    for field in HeadParameters._fields:
        having = [h for h in range(count) if getattr(heads[h].parameter_widths, field)]
        for h in having:
            widths = heads[h].parameter_widths
            within = sum(w or 0 for w in widths[: HeadParameters._fields.index(field)])
            first = offsets[h] + within
            take(first, first + getattr(widths, field))
        owners[field] = len(having)
    take(offsets[count] if count < len(heads) else start, start)
    return runs, owners


def _initial_focus(shape, dtype=None):
    """Head-weight logits focused on row 0 (see INITIAL_FOCUS_LOGIT)."""
    row = ops.one_hot(ops.zeros((shape[0],), "int32"), shape[1], dtype=dtype)
    return row * INITIAL_FOCUS_LOGIT


@keras.saving.register_keras_serializable(package="keras_memory")
class NTMCell(ControllerCell):
    """One step of a Neural Turing Machine, for `keras.layers.RNN`.

    At each step the controller sees `[input, previous reads]`; its output
    drives the read heads (which read the memory as it was) and then the
    write heads (each writing to the memory the previous one left); the
    cell outputs a projection of `[controller output, new reads]`.

    Args:
        memory_size: int >= 1, memory rows N. Default 128.
        memory_dim: int >= 1, row width M. Default 32.
        controller_size: int >= 1, controller units. Default 256.
        num_heads: int >= 1, read/write head pairs. Default 1.
        output_size: int >= 1 or `None` (the input size).
        controller: `"lstm"` (default) or `"dense"` (feed-forward, tanh).
        shift_range: int >= 0, largest head shift R; `2R + 1 <= N`.
        memory_init: how each sequence's memory starts: `"constant"`
            (every entry 1e-6; default, the fastest to train), `"learned"`
            (a trainable `[N, M]` weight) or `"random"` (a fixed,
            non-trainable random `[N, M]` weight drawn at build time).
        output_activation: activation of the output projection (default
            `None`: logits; use `"sigmoid"` for bit targets).
        num_read_heads, num_write_heads: int >= 1 or `None` (`num_heads`):
            the number of heads of one kind.
        key_activation: `"tanh"` or `"linear"`, for every head.
        add_activation: activation of the write heads' add vectors.
        kernel_initializer, kernel_regularizer: for every projection (the
            controller keeps Keras' defaults).
        seed: int or `None`, for `memory_init="random"`.
        remat: `"auto"` (default), `True` or `False`: recompute each step's
            intermediates in the backward pass (`keras.remat`) instead of
            storing them. `"auto"`: on jax once the batch's memories hold
            `batch * N * M >= 65,536` numbers, and under a mask in `NTM`'s
            own loop (whole steps, so that skipped steps cost nothing in the
            backward pass); never on tensorflow, whose `tf.recompute_grad`
            cannot run inside the RNN loop (see `keras_memory.recurrent`).
            Outputs and gradients are the same either way.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[batch, input_size]`.
        states: the flat state list (see `NTMState`, `unpack_state`).
        training: passed to the controller.

    Returns:
        `(output, new_states)`, output `[batch, output_size]`.

    The initial head weights are `softmax` of trainable logits focused on
    row 0, and the initial reads are read from the initial memory with them.

    Examples:
        >>> import keras, numpy as np
        >>> cell = NTMCell(memory_size=16, memory_dim=8, controller_size=32)
        >>> layer = keras.layers.RNN(cell, return_sequences=True)
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 5, 3)
    """

    def __init__(
        self,
        memory_size=128,
        memory_dim=32,
        controller_size=256,
        num_heads=1,
        output_size=None,
        controller="lstm",
        shift_range=1,
        memory_init="constant",
        output_activation=None,
        num_read_heads=None,
        num_write_heads=None,
        key_activation="tanh",
        add_activation="tanh",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        seed=None,
        remat="auto",
        **kwargs,
    ):
        num_heads = check.positive_int("num_heads", num_heads)
        super().__init__(
            memory_size, memory_dim, controller_size,
            num_heads if num_read_heads is None else num_read_heads, output_size,
            controller, output_activation, kernel_initializer, kernel_regularizer,
            remat, **kwargs,
        )
        self.num_heads = num_heads
        self.shift_range = check.positive_int("shift_range", shift_range, minimum=0)
        check_shift_range(self.shift_range, self.memory_size)
        self.memory_init = check.choice("memory_init", memory_init, MEMORY_INITS)
        self.num_write_heads = check.positive_int(
            "num_write_heads", self.num_heads if num_write_heads is None else num_write_heads
        )
        self.key_activation = check.choice(
            "key_activation", key_activation, KEY_ACTIVATIONS
        )
        self.add_activation = keras.activations.get(add_activation)
        self.seed = seed

    @staticmethod
    def upgrade_config(config):
        """A config saved by keras-memory 0.1.0, in today's terms."""
        config = dict(config)
        if config.get("remat", "auto") is None:
            config["remat"] = "auto"
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**cls.upgrade_config(config))

    @property
    def state_shape(self):
        """`NTMState` of per-sequence shapes (the output's is `None` until
        the cell is built, unless `output_size` is given)."""
        n, m = self.memory_size, self.memory_dim
        return NTMState(
            output=(self.output_size,),
            controller=self.controller_state_shape,
            reads=(self.num_read_heads, m),
            read_weights=(self.num_read_heads, n),
            write_weights=(self.num_write_heads, n),
            memory=(n, m),
        )

    # -- build ------------------------------------------------------------------

    def build(self, input_shape):
        self.build_controller(input_shape)
        policy = self.dtype_policy
        # Each head and the output projection draw their own kernel: one
        # initializer instance returns the same values at every call.
        head_options = dict(
            shift_range=self.shift_range,
            key_activation=self.key_activation,
            kernel_regularizer=self.kernel_regularizer,
            dtype=policy,
        )
        self.read_heads = [
            NTMReadHead(
                name=f"read_head_{i}",
                kernel_initializer=fresh_initializer(self.kernel_initializer, i),
                **head_options,
            )
            for i in range(self.num_read_heads)
        ]
        self.write_heads = [
            NTMWriteHead(
                name=f"write_head_{i}", add_activation=self.add_activation,
                kernel_initializer=fresh_initializer(
                    self.kernel_initializer, self.num_read_heads + i
                ),
                **head_options,
            )
            for i in range(self.num_write_heads)
        ]
        head_inputs = [
            (None, self.controller_size),
            (None, self.memory_size, self.memory_dim),
            (None, self.memory_size),
        ]
        for head in self.read_heads + self.write_heads:
            head.build(head_inputs)
        self.head_columns, self.head_owners = grouped_columns(
            self.read_heads + self.write_heads, self.num_read_heads + 1
        )
        self.build_output_projection(self.num_read_heads + self.num_write_heads)
        if self.memory_init != "constant":
            scale = 1.0 / (self.memory_size + self.memory_dim) ** 0.5
            self.initial_memory = self.add_weight(
                name="initial_memory",
                shape=(self.memory_size, self.memory_dim),
                initializer=keras.initializers.RandomUniform(-scale, scale, seed=self.seed),
                trainable=self.memory_init == "learned",
            )
        self.initial_read_logits = self.add_weight(
            name="initial_read_logits",
            shape=(self.num_read_heads, self.memory_size),
            initializer=_initial_focus,
        )
        self.initial_write_logits = self.add_weight(
            name="initial_write_logits",
            shape=(self.num_write_heads, self.memory_size),
            initializer=_initial_focus,
        )

    def initial_state(self, batch_size):
        """The `NTMState` every sequence starts from."""
        if not self.built:
            raise ValueError(
                "NTMCell.get_initial_state needs the cell built (its initial reads "
                "and weights are weights): call `cell.build((None, input_size))` "
                "or the cell first."
            )
        dtype = self.compute_dtype

        def tiled(value):
            # tile copies (a broadcast view could not back a stateful variable
            # on torch).
            value = ops.cast(value, dtype)[None]
            return ops.tile(value, [batch_size] + [1] * (len(value.shape) - 1))

        if self.memory_init == "constant":
            memory = ops.full(
                (batch_size, self.memory_size, self.memory_dim),
                CONSTANT_MEMORY_VALUE,
                dtype=dtype,
            )
        else:
            memory = tiled(self.initial_memory)
        read_weights = tiled(ops.softmax(self.initial_read_logits, axis=-1))
        zeros = super().initial_state(batch_size)
        return zeros._replace(
            reads=addressing.read(memory, read_weights),
            read_weights=read_weights,
            write_weights=tiled(ops.softmax(self.initial_write_logits, axis=-1)),
            memory=memory,
        )

    # -- step ---------------------------------------------------------------------

    def step_constants(self):
        """`StepConstants`: the controller's fused weights, and the heads'
        kernels and biases as one projection, columns by parameter
        (`grouped_columns`)."""
        heads = self.read_heads + self.write_heads
        kernel = _ops.concatenate([head.kernel.value for head in heads], axis=1)
        bias = _ops.concatenate([head.bias.value for head in heads], axis=0)
        # Contiguous slices, not a gather: no index constant to convert
        # (on torch, converting a list of columns costs more than a step).
        return StepConstants(
            controller=self.controller_weights(),
            projection=(
                _ops.concatenate([kernel[:, a:b] for a, b in self.head_columns], axis=1),
                _ops.concatenate([bias[a:b] for a, b in self.head_columns], axis=0),
            ),
        )

    def _grouped_parameters(self, projected):
        """`(HeadParameters with a head axis, the later write heads' columns)`
        from the projection in `grouped_columns`' order (`None` for the
        latter without later write heads). The first write head's erase and
        add vectors have no head axis."""
        widths = self.write_heads[0].parameter_widths
        raw, start = {}, 0
        for field, width in zip(HeadParameters._fields, widths):
            heads = self.head_owners[field]
            part = projected[:, start : start + heads * width]
            start += heads * width
            # Only the first write head erases and adds here: no head axis.
            raw[field] = part if field in ("erase", "add") else _ops.reshape(
                part, (-1, heads, width))
        params = activate_parameters(
            HeadParameters(**raw), self.key_activation, self.add_activation
        )
        return params, (projected[:, start:] if self.num_write_heads > 1 else None)

    def step(self, inputs, state, training=None, constants=None):
        """One time step on an `NTMState`: `(output, new NTMState)`.

        The loops of `keras_memory.recurrent` call it with the state kept
        named and `constants` (`step_constants()`) computed once a sequence.
        """
        constants = constants or self.step_constants()
        hidden, controller_state = self.run_controller(
            inputs, state.reads, state.controller, training,
            weights=constants.controller,
        )
        # One matrix product gives every head its parameters, and each
        # parameter's activation runs once for the read heads and the first
        # write head together (`grouped_columns`): fewer, larger ops.
        kernel, bias = constants.projection
        projected = _ops.matmul(hidden, kernel) + bias
        params, rest = self._grouped_parameters(projected)
        # The read heads and the first write head address the same memory:
        # one addressing call with a head axis serves them all. Later write
        # heads see the memory the previous one left, so they address one
        # at a time.
        first_write = (
            state.write_weights if self.num_write_heads == 1 else state.write_weights[:, :1]
        )
        weights = addressing.address(
            params.key, params.strength, params.gate, params.shift, params.sharpening,
            _ops.concatenate([state.read_weights, first_write], axis=1),
            state.memory,
        )
        read_weights = weights[:, : self.num_read_heads]
        reads = addressing.read(state.memory, read_weights)  # [batch, R, M]
        memory = addressing.write(state.memory, weights[:, -1], params.erase, params.add)
        pieces = split_last(rest, [head.projection_size for head in self.write_heads[1:]])
        write_weights = [weights[:, -1]]
        for index, head in enumerate(self.write_heads[1:], start=1):
            memory, head_weights = head.apply_projection(
                pieces[index - 1], memory, state.write_weights[:, index]
            )
            write_weights.append(head_weights)

        output = self.read_out(hidden, reads)
        new_state = NTMState(
            output=output,
            controller=controller_state,
            reads=reads,
            read_weights=read_weights,
            write_weights=(
                weights[:, -1:] if len(write_weights) == 1
                else _ops.stack(write_weights, axis=1)
            ),
            memory=memory,
        )
        return output, new_state

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads, shift_range=self.shift_range,
            memory_init=self.memory_init, num_write_heads=self.num_write_heads,
            key_activation=self.key_activation, seed=self.seed,
            add_activation=keras.activations.serialize(self.add_activation),
        )
        return config


@keras.saving.register_keras_serializable(package="keras_memory")
class NTM(recurrent.MemoryRNN):
    """Neural Turing Machine over sequences: `keras.layers.RNN(NTMCell(...))`.

    Takes every `NTMCell` argument and the usual `keras.layers.RNN` ones. The
    loop over time is the shared recurrent core's (`keras_memory.recurrent`),
    with the results of `keras.layers.RNN`'s loop: under a mask, steps
    masked for the whole batch are skipped; on torch, a Python loop carries
    the `NTMState` without flattening it at every step.

    Args:
        cell arguments: `memory_size`, `memory_dim`, `controller_size`,
            `num_heads`, `output_size`, `controller`, `shift_range`,
            `memory_init`, `output_activation`, `num_read_heads`,
            `num_write_heads`, `key_activation`, `add_activation`,
            `kernel_initializer`, `kernel_regularizer`, `seed`, `remat`: see
            `NTMCell`.
        return_sequences: bool, return the output of every step
            `[batch, time, output_size]` instead of the last
            `[batch, output_size]`. Default `False`, as for `keras.layers.LSTM`.
        return_state: bool, also return the final flat state list
            (`layer.cell.unpack_state` names its parts).
        go_backwards, stateful, unroll, zero_output_for_mask: as for
            `keras.layers.RNN`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        sequences: `[batch, time, input_size]`.
        initial_state: optional flat state list.
        mask: `[batch, time]` booleans; masked steps leave the state
            unchanged (and repeat the last output).
        training: passed to the cell.

    Examples:
        >>> import numpy as np
        >>> layer = NTM(memory_size=16, memory_dim=8, controller_size=32,
        ...             return_sequences=True)
        >>> tuple(layer(np.zeros((2, 7, 5), "float32")).shape)
        (2, 7, 5)
    """

    cell_class = NTMCell
    cell_name = "ntm_cell"
