"""Neural Turing Machine (Graves et al., 2014) as Keras layers.

- `NTMReadHead`, `NTMWriteHead`: map a controller output to addressing
  parameters and apply them to a memory.
- `NTMCell`: one time step (controller, heads, output projection); an RNN
  cell for `keras.layers.RNN`.
- `NTM`: the sequence layer, a `keras.layers.RNN` around `NTMCell`.
- `ntm`: a functional-model builder; `trace`: per-step read and write
  weights for plotting.
"""

import collections

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory import addressing
from keras_memory._kernels import fresh_initializer

CONTROLLERS = ("lstm", "dense")
MEMORY_INITS = ("constant", "learned", "random")
KEY_ACTIVATIONS = ("tanh", "linear")
# With remat=None, jax recomputes a step in the backward pass once the
# batch of memories it updates holds this many numbers (batch * N * M).
REMAT_MIN_MEMORY = 65536

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

- output: `[batch, output_size]`, the last output. Keras' JAX RNN loop
  takes the first state as the previous output when it skips a masked
  step, so it comes first.
- controller: list of controller states (`[h, c]`, each
  `[batch, controller_size]`, for the LSTM; empty for the dense controller).
- reads: `[batch, num_read_heads, memory_dim]`, the last read vectors.
- read_weights: `[batch, num_read_heads, memory_size]`.
- write_weights: `[batch, num_write_heads, memory_size]`.
- memory: `[batch, memory_size, memory_dim]`.

`NTMCell` keeps its state flat (a list of 2-D tensors, as
`keras.layers.RNN` expects); `NTMCell.unpack_state` and
`NTMCell.pack_state` convert between the two.
"""


def _split_last(tensor, sizes):
    """`[tensor[..., :sizes[0]], the next sizes[1] columns, ...]`.

    Plain slices rather than `ops.split`: the same on every backend, and
    cheaper on torch, which pays per call.
    """
    pieces, start = [], 0
    for size in sizes:
        pieces.append(tensor[..., start : start + size])
        start += size
    return pieces


def _check_shift_range(shift_range, memory_size):
    if 2 * shift_range + 1 > memory_size:
        raise ValueError(
            "`shift_range` R needs 2R + 1 <= memory_size, received "
            f"shift_range={shift_range} with memory_size={memory_size}."
        )


def _serialize(value, module):
    return module.serialize(value) if value is not None else None


class _NTMHead(keras.layers.Layer):
    """Projection of the controller output to one head's parameters."""

    def __init__(
        self,
        shift_range=1,
        key_activation="tanh",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.shift_range = check.positive_int("shift_range", shift_range, minimum=0)
        self.key_activation = check.choice(
            "key_activation", key_activation, KEY_ACTIVATIONS
        )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def _extra_parameter_sizes(self, memory_dim):
        return []

    def _shapes(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} must be called on a list "
                "`[controller_output, memory, previous_weights]`, received "
                f"{input_shape!r}."
            )
        controller_shape, memory_shape, weights_shape = (
            check.shape_of(name, value)
            for name, value in zip(
                ("controller_output", "memory", "previous_weights"), input_shape
            )
        )
        check.rank("controller_output", controller_shape, 2, "([batch, features])")
        check.rank("memory", memory_shape, 3, "([batch, memory_size, memory_dim])")
        check.rank("previous_weights", weights_shape, 2, "([batch, memory_size])")
        check.dim("previous_weights", weights_shape, -1, memory_shape[1], "memory_size")
        return controller_shape, memory_shape, weights_shape

    def build(self, input_shape):
        controller_shape, memory_shape, _ = self._shapes(input_shape)
        memory_size, memory_dim = memory_shape[1], memory_shape[2]
        if memory_size is None or memory_dim is None or controller_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} needs static controller and memory "
                f"sizes, received shapes {input_shape!r}."
            )
        _check_shift_range(self.shift_range, memory_size)
        self.memory_size, self.memory_dim = memory_size, memory_dim
        # key, beta, gate, shifts, gamma [, erase, add]
        self._split_sizes = [memory_dim, 1, 1, 2 * self.shift_range + 1, 1]
        self._split_sizes += self._extra_parameter_sizes(memory_dim)
        units = sum(self._split_sizes)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(controller_shape[-1], units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(units,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )

    @property
    def projection_size(self):
        """Width of the controller projection this head reads its parameters from."""
        return sum(self._split_sizes)

    def _activate(self, projected):
        """Splits a projection into parameters, each through its activation."""
        raw = _split_last(projected, self._split_sizes)
        key = ops.tanh(raw[0]) if self.key_activation == "tanh" else raw[0]
        return {
            "key": key,
            "beta": ops.softplus(raw[1]),
            "gate": ops.sigmoid(raw[2]),
            "shift_weights": ops.softmax(raw[3], axis=-1),
            "gamma": 1.0 + ops.softplus(raw[4]),
            "extra": raw[5:],
        }

    def _address(self, projected, memory, previous_weights):
        params = self._activate(projected)
        weights = addressing.address(
            params["key"],
            params["beta"],
            params["gate"],
            params["shift_weights"],
            params["gamma"],
            previous_weights,
            memory,
        )
        return weights, params

    def call(self, inputs):
        controller_output, memory, previous_weights = inputs
        self._shapes([controller_output, memory, previous_weights])
        memory_shape = check.shape_of("memory", memory)
        check.dim("memory", memory_shape, 1, self.memory_size, "memory_size")
        check.dim("memory", memory_shape, 2, self.memory_dim, "memory_dim")
        projected = ops.matmul(controller_output, self.kernel) + self.bias
        return self.apply_projection(projected, memory, previous_weights)

    def compute_output_shape(self, input_shape):
        controller_shape, memory_shape, weights_shape = self._shapes(input_shape)
        first = self._first_output_shape(controller_shape, memory_shape)
        return first, tuple(weights_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "shift_range": self.shift_range,
                "key_activation": self.key_activation,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
                "kernel_regularizer": _serialize(
                    self.kernel_regularizer, keras.regularizers
                ),
                "bias_regularizer": _serialize(
                    self.bias_regularizer, keras.regularizers
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_memory")
class NTMReadHead(_NTMHead):
    """An NTM read head: address the memory, then read from it.

    A dense projection of the controller output gives the addressing
    parameters, each through the activation that keeps it in range: key
    `tanh` (or linear), strength beta `softplus`, gate `sigmoid`, shift
    distribution `softmax` over `2R + 1` shifts, sharpening gamma
    `1 + softplus`. They drive `keras_memory.addressing.address`.

    Args:
        shift_range: int >= 0, the largest shift R; needs `2R + 1 <= N` (0: no
            shifting, so a single memory row works).
        key_activation: `"tanh"` (default) or `"linear"`.
        kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer: for the projection.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: list `[controller_output, memory, previous_weights]`:
            `[batch, controller_size]`, `[batch, N, M]`, `[batch, N]`.

    Returns:
        `(read_vector, weights)`: `[batch, M]` and `[batch, N]`.

    Example:

    >>> import numpy as np
    >>> head = NTMReadHead()
    >>> memory = np.random.rand(2, 8, 4).astype("float32")
    >>> weights = np.full((2, 8), 1 / 8, "float32")
    >>> read, new_weights = head([np.ones((2, 5), "float32"), memory, weights])
    >>> tuple(read.shape), tuple(new_weights.shape)
    ((2, 4), (2, 8))
    """

    def apply_projection(self, projected, memory, previous_weights):
        """Like `call`, from an already computed `controller_output @ kernel + bias`.

        `NTMCell` projects for all its heads with one matrix product.
        """
        weights, _ = self._address(projected, memory, previous_weights)
        return addressing.read(memory, weights), weights

    def _first_output_shape(self, controller_shape, memory_shape):
        return (controller_shape[0], memory_shape[2])


@keras.saving.register_keras_serializable(package="keras_memory")
class NTMWriteHead(_NTMHead):
    """An NTM write head: address the memory, then erase and add.

    The addressing parameters are those of `NTMReadHead`; two more vectors
    come from the same projection: the erase vector `e` (`sigmoid`, in
    [0, 1]) and the add vector `a` (`add_activation`, default `tanh`). The
    memory becomes `M * (1 - w e^T) + w a^T`.

    Args:
        shift_range, key_activation, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer: as for `NTMReadHead`.
        add_activation: activation of the add vector; default `"tanh"`
            (bounded, so memory values stay bounded too).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: list `[controller_output, memory, previous_weights]`:
            `[batch, controller_size]`, `[batch, N, M]`, `[batch, N]`.

    Returns:
        `(new_memory, weights)`: `[batch, N, M]` and `[batch, N]`.
    """

    def __init__(self, add_activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.add_activation = keras.activations.get(add_activation)

    def _extra_parameter_sizes(self, memory_dim):
        return [memory_dim, memory_dim]

    def apply_projection(self, projected, memory, previous_weights):
        """Like `call`, from an already computed `controller_output @ kernel + bias`."""
        weights, params = self._address(projected, memory, previous_weights)
        return self._write(params, memory, weights), weights

    def _write(self, params, memory, weights):
        """Erase and add at `weights`, with this head's activated `params`."""
        erase_raw, add_raw = params["extra"]
        return addressing.write(
            memory, weights, ops.sigmoid(erase_raw), self.add_activation(add_raw)
        )

    def _first_output_shape(self, controller_shape, memory_shape):
        return tuple(memory_shape)

    def get_config(self):
        config = super().get_config()
        config["add_activation"] = keras.activations.serialize(self.add_activation)
        return config


def _initial_focus(shape, dtype=None):
    """Head-weight logits focused on row 0 (see INITIAL_FOCUS_LOGIT)."""
    row = ops.one_hot(ops.zeros((shape[0],), "int32"), shape[1], dtype=dtype)
    return row * INITIAL_FOCUS_LOGIT


@keras.saving.register_keras_serializable(package="keras_memory")
class NTMCell(keras.layers.Layer):
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
        num_read_heads, num_write_heads: override `num_heads` for one kind.
        key_activation: `"tanh"` or `"linear"`, for every head.
        add_activation: activation of the write heads' add vectors.
        kernel_initializer, kernel_regularizer: for every projection (the
            controller keeps Keras' defaults).
        seed: int or `None`, for `memory_init="random"`.
        remat: recompute each step's intermediates in the backward pass
            (`keras.remat`) instead of storing them. `None` (default): on
            the jax backend when `batch * N * M >= REMAT_MIN_MEMORY`
            (65,536), where it trains faster (standard copy NTM, batch 32,
            2-core CPU: 1.3x) because XLA then writes and reads far less
            memory per step; below that, storing is faster. `True` /
            `False` to choose. Under a mask, `NTM`'s own loop on jax
            recomputes every step with `remat=None` (whole steps, so that
            skipped steps cost nothing in the backward pass; faster at any
            batch size). Not applied on tensorflow, whose
            `tf.recompute_grad` cannot run inside the RNN loop. Outputs and
            gradients are the same either way.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[batch, input_size]`.
        states: the flat state list (see `NTMState`, `unpack_state`).
        training: passed to the controller.

    Returns:
        `(output, new_states)`, output `[batch, output_size]`.

    The initial head weights are `softmax` of trainable logits focused on
    row 0, and the initial reads are read from the initial memory with them.

    Example:

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
        remat=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if remat not in (None, True, False):
            raise ValueError(
                f"`remat` must be None, True or False, received remat={remat!r}."
            )
        self.remat = None if remat is None else bool(remat)
        self.memory_size = check.positive_int("memory_size", memory_size)
        self.memory_dim = check.positive_int("memory_dim", memory_dim)
        self.controller_size = check.positive_int("controller_size", controller_size)
        self.num_heads = check.positive_int("num_heads", num_heads)
        self.requested_output_size = check.optional_positive_int(
            "output_size", output_size
        )
        self.controller_type = check.choice("controller", controller, CONTROLLERS)
        self.shift_range = check.positive_int("shift_range", shift_range, minimum=0)
        _check_shift_range(self.shift_range, self.memory_size)
        self.memory_init = check.choice("memory_init", memory_init, MEMORY_INITS)
        self.output_activation = keras.activations.get(output_activation)
        self.num_read_heads = check.optional_positive_int(
            "num_read_heads", num_read_heads
        )
        self.num_write_heads = check.optional_positive_int(
            "num_write_heads", num_write_heads
        )
        self.key_activation = check.choice(
            "key_activation", key_activation, KEY_ACTIVATIONS
        )
        self.add_activation = keras.activations.get(add_activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.seed = seed
        self.reads_count = self.num_read_heads or self.num_heads
        self.writes_count = self.num_write_heads or self.num_heads


    @property
    def state_size(self):
        """Sizes of the flat state: output, controller, reads, weights, memory.

        The output size is known once the cell is built (or when
        `output_size` is given); before that its entry is `None`.
        """
        output = self.output_units if self.built else self.requested_output_size
        controller = (
            [self.controller_size, self.controller_size]
            if self.controller_type == "lstm"
            else []
        )
        return [output] + controller + [
            self.reads_count * self.memory_dim,
            self.reads_count * self.memory_size,
            self.writes_count * self.memory_size,
            self.memory_size * self.memory_dim,
        ]

    # -- state ----------------------------------------------------------------

    def unpack_state(self, states):
        """Flat state list -> `NTMState` with shaped fields."""
        states = list(states)
        count = len(states) - 4
        reads, read_weights, write_weights, memory = states[count:]
        return NTMState(
            output=states[0],
            controller=states[1:count],
            reads=ops.reshape(reads, (-1, self.reads_count, self.memory_dim)),
            read_weights=ops.reshape(
                read_weights, (-1, self.reads_count, self.memory_size)
            ),
            write_weights=ops.reshape(
                write_weights, (-1, self.writes_count, self.memory_size)
            ),
            memory=ops.reshape(memory, (-1, self.memory_size, self.memory_dim)),
        )

    def pack_state(self, state):
        """`NTMState` -> the flat list of 2-D tensors `keras.layers.RNN` carries."""
        flat = [
            ops.reshape(part, (-1, size))
            for part, size in zip(
                (state.reads, state.read_weights, state.write_weights, state.memory),
                self.state_size[-4:],
            )
        ]
        return [state.output] + list(state.controller) + flat

    # -- build ------------------------------------------------------------------

    def build(self, input_shape):
        input_shape = check.shape_of("inputs", input_shape)
        check.rank("inputs", input_shape, 2, "([batch, input_size]) per step")
        input_size = input_shape[-1]
        if input_size is None:
            raise ValueError(
                "`inputs` must have a known last dimension, received inputs "
                f"with shape {input_shape}."
            )
        self.input_size = input_size
        self.output_units = self.requested_output_size or input_size
        policy = self.dtype_policy
        if self.controller_type == "lstm":
            self.controller = keras.layers.LSTMCell(
                self.controller_size, dtype=policy, name="controller"
            )
        else:
            self.controller = keras.layers.Dense(
                self.controller_size, activation="tanh", dtype=policy,
                name="controller",
            )
        controller_input = (None, input_size + self.reads_count * self.memory_dim)
        self.controller.build(controller_input)
        # Each head and the output projection draw their own kernel: one
        # initializer instance returns the same values at every call.
        head_options = dict(
            shift_range=self.shift_range,
            key_activation=self.key_activation,
            kernel_regularizer=self.kernel_regularizer,
            dtype=policy,
        )
        head_inputs = [
            (None, self.controller_size),
            (None, self.memory_size, self.memory_dim),
            (None, self.memory_size),
        ]
        self.read_heads = [
            NTMReadHead(
                name=f"read_head_{i}",
                kernel_initializer=fresh_initializer(self.kernel_initializer, i),
                **head_options,
            )
            for i in range(self.reads_count)
        ]
        self.write_heads = [
            NTMWriteHead(
                name=f"write_head_{i}", add_activation=self.add_activation,
                kernel_initializer=fresh_initializer(
                    self.kernel_initializer, self.reads_count + i
                ),
                **head_options,
            )
            for i in range(self.writes_count)
        ]
        for head in self.read_heads + self.write_heads:
            head.build(head_inputs)
        self.output_projection = keras.layers.Dense(
            self.output_units,
            activation=self.output_activation,
            kernel_initializer=fresh_initializer(
                self.kernel_initializer, self.reads_count + self.writes_count
            ),
            kernel_regularizer=self.kernel_regularizer,
            dtype=policy,
            name="output_projection",
        )
        self.output_projection.build(
            (None, self.controller_size + self.reads_count * self.memory_dim)
        )
        memory_shape = (self.memory_size, self.memory_dim)
        if self.memory_init != "constant":
            scale = 1.0 / (self.memory_size + self.memory_dim) ** 0.5
            self.initial_memory = self.add_weight(
                name="initial_memory",
                shape=memory_shape,
                initializer=keras.initializers.RandomUniform(-scale, scale, seed=self.seed),
                trainable=self.memory_init == "learned",
            )
        self.initial_read_logits = self.add_weight(
            name="initial_read_logits",
            shape=(self.reads_count, self.memory_size),
            initializer=_initial_focus,
        )
        self.initial_write_logits = self.add_weight(
            name="initial_write_logits",
            shape=(self.writes_count, self.memory_size),
            initializer=_initial_focus,
        )

    @property
    def output_size(self):
        """Output units; `keras.layers.RNN` reads it for its output shape."""
        if self.built:
            return self.output_units
        return self.requested_output_size

    def get_initial_state(self, batch_size=None):
        """The state every sequence starts from, as a flat list."""
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
        write_weights = tiled(ops.softmax(self.initial_write_logits, axis=-1))
        output, *controller = [
            ops.zeros((batch_size, size), dtype=dtype)
            for size in self.state_size[:-4]
        ]
        state = NTMState(
            output=output,
            controller=controller,
            reads=addressing.read(memory, read_weights),
            read_weights=read_weights,
            write_weights=write_weights,
            memory=memory,
        )
        return self.pack_state(state)

    # -- step ---------------------------------------------------------------------

    def _remat_enabled(self, batch_size):
        backend = keras.backend.backend()
        if backend == "tensorflow":
            return False
        if self.remat is not None:
            return self.remat
        # Automatic: on jax, once a step's memory ([batch, N, M]) outgrows
        # what caches hold well, recomputing the step costs less than
        # storing its intermediates (on a 2-core CPU: 1.3x faster at batch
        # 32 with N=128, M=20; slower at batch 16 and below).
        return (
            backend == "jax"
            and batch_size is not None
            and batch_size * self.memory_size * self.memory_dim >= REMAT_MIN_MEMORY
        )

    def call(self, inputs, states, training=None):
        shape = check.shape_of("inputs", inputs)
        check.rank("inputs", shape, 2, "([batch, input_size]) per step")
        check.dim("inputs", shape, -1, self.input_size, "input_size")
        if self._remat_enabled(shape[0]):
            step = keras.remat(
                lambda x, *flat: self._step(x, list(flat), training)
            )
            return step(inputs, *states)
        return self._step(inputs, states, training)

    def _step(self, inputs, states, training):
        output, state = self.step_state(inputs, self.unpack_state(states), training)
        return output, self.pack_state(state)

    def step_state(self, inputs, state, training=None):
        """One step on an `NTMState` (no flat packing): `(output, NTMState)`.

        What `call` does between `unpack_state` and `pack_state`; `NTM`'s
        eager loop (torch) carries the `NTMState` from step to step with it.
        """
        previous_reads = ops.reshape(
            state.reads, (-1, self.reads_count * self.memory_dim)
        )
        controller_input = ops.concatenate([inputs, previous_reads], axis=-1)
        if self.controller_type == "lstm":
            # `.call`, not `__call__`: this cell's own call already set the
            # dtype scope, and torch pays for every layer call at every step.
            hidden, controller_state = self.controller.call(
                controller_input, state.controller, training=training
            )
        else:
            hidden, controller_state = self.controller.call(controller_input), []

        # One matrix product gives every head its parameters.
        heads = self.read_heads + self.write_heads
        projected = ops.matmul(
            hidden, ops.concatenate([head.kernel for head in heads], axis=1)
        ) + ops.concatenate([head.bias for head in heads], axis=0)
        pieces = _split_last(projected, [head.projection_size for head in heads])
        # The read heads and the first write head address the same memory:
        # one addressing call with a head axis serves them all (fewer,
        # larger ops). Later write heads see the memory the previous one
        # left, so they address one at a time.
        first = self.reads_count + 1
        params = [head._activate(piece) for head, piece in zip(heads, pieces[:first])]

        def stacked(name):
            return ops.stack([p[name] for p in params], axis=1)

        weights = addressing.address(
            stacked("key"),
            stacked("beta"),
            stacked("gate"),
            stacked("shift_weights"),
            stacked("gamma"),
            ops.concatenate([state.read_weights, state.write_weights[:, :1]], axis=1),
            state.memory,
        )
        read_weights = weights[:, : self.reads_count]
        reads = addressing.read(state.memory, read_weights)  # [batch, R, M]
        memory = self.write_heads[0]._write(params[-1], state.memory, weights[:, -1])
        write_weights = [weights[:, -1]]
        for index, head in enumerate(self.write_heads[1:], start=1):
            memory, head_weights = head.apply_projection(
                pieces[self.reads_count + index], memory, state.write_weights[:, index]
            )
            write_weights.append(head_weights)

        output = self.output_projection.call(
            ops.concatenate(
                [hidden, ops.reshape(reads, (-1, self.reads_count * self.memory_dim))],
                axis=-1,
            )
        )
        new_state = NTMState(
            output=output,
            controller=list(controller_state),
            reads=reads,
            read_weights=read_weights,
            write_weights=ops.stack(write_weights, axis=1),
            memory=memory,
        )
        return output, new_state

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.requested_output_size or input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "memory_size": self.memory_size,
                "memory_dim": self.memory_dim,
                "controller_size": self.controller_size,
                "num_heads": self.num_heads,
                "output_size": self.requested_output_size,
                "controller": self.controller_type,
                "shift_range": self.shift_range,
                "memory_init": self.memory_init,
                "output_activation": keras.activations.serialize(
                    self.output_activation
                ),
                "num_read_heads": self.num_read_heads,
                "num_write_heads": self.num_write_heads,
                "key_activation": self.key_activation,
                "add_activation": keras.activations.serialize(self.add_activation),
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "kernel_regularizer": _serialize(
                    self.kernel_regularizer, keras.regularizers
                ),
                "seed": self.seed,
                "remat": self.remat,
            }
        )
        return config


_CELL_ARGUMENTS = (
    "memory_size",
    "memory_dim",
    "controller_size",
    "num_heads",
    "output_size",
    "controller",
    "shift_range",
    "memory_init",
    "output_activation",
    "num_read_heads",
    "num_write_heads",
    "key_activation",
    "add_activation",
    "kernel_initializer",
    "kernel_regularizer",
    "seed",
    "remat",
)


@keras.saving.register_keras_serializable(package="keras_memory")
class NTM(keras.layers.RNN):
    """Neural Turing Machine over sequences: `keras.layers.RNN(NTMCell(...))`.

    Takes every `NTMCell` argument (`memory_size`, `memory_dim`,
    `controller_size`, `num_heads`, `output_size`, `controller`,
    `shift_range`, `memory_init`, `output_activation`, ...) and the usual
    `keras.layers.RNN` ones.

    The loop over time is its own where that is faster, with the results of
    `keras.layers.RNN`'s loop: under a mask, steps masked for the whole
    batch are skipped (`ops.scan` with `ops.cond`; a while loop on
    tensorflow); on torch, a Python loop carries the cell's `NTMState`
    without flattening it at every step (copy NTM, batch 1: 1.5-1.8x).

    Args:
        memory_size, memory_dim, controller_size, num_heads, output_size,
            controller, shift_range, memory_init, output_activation,
            num_read_heads, num_write_heads, key_activation, add_activation,
            kernel_initializer, kernel_regularizer, seed, remat: see
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

    Example:

    >>> import numpy as np
    >>> layer = NTM(memory_size=16, memory_dim=8, controller_size=32,
    ...             return_sequences=True)
    >>> tuple(layer(np.zeros((2, 7, 5), "float32")).shape)
    (2, 7, 5)
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
        remat=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        cell = NTMCell(
            memory_size=memory_size,
            memory_dim=memory_dim,
            controller_size=controller_size,
            num_heads=num_heads,
            output_size=output_size,
            controller=controller,
            shift_range=shift_range,
            memory_init=memory_init,
            output_activation=output_activation,
            num_read_heads=num_read_heads,
            num_write_heads=num_write_heads,
            key_activation=key_activation,
            add_activation=add_activation,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            seed=seed,
            remat=remat,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="ntm_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            **kwargs,
        )

    def build(self, sequences_shape, initial_state_shape=None):
        shape = check.shape_of("sequences", sequences_shape)
        check.rank("sequences", shape, 3, "([batch, time, input_size])")
        super().build(sequences_shape, initial_state_shape)
        # keras.layers.RNN copied the cell's state sizes when the output size
        # could still be unknown; the built cell knows it.
        self.state_size = list(self.cell.state_size)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Keras' RNN loop, or one of NTM's own where they are faster.

        On torch: `_eager_loop` (a Python loop over `NTMState`s, unless the
        cell rematerialises). Elsewhere, without a mask: Keras' loop. With a
        mask, steps masked for the whole batch cost nothing in the forward
        pass: Keras' RNN loop computes every step and then keeps the old
        state where the mask says so; here a step runs under `ops.cond` only
        when some sequence in the batch is unmasked at it, with the same
        result, so a batch padded to a long fixed length (one compiled
        graph) costs about its real length. In training, a skipped step
        costs little in the gradient as well when the whole step is
        recomputed (`_remat_masked_steps`: on jax by default); otherwise
        the scan stores its residuals either way (see bench/README.md).
        """
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if (
            keras.backend.backend() == "torch"
            and not self.unroll
            and not self.cell._remat_enabled(sequences.shape[0])
        ):
            return self._eager_loop(sequences, initial_state, mask, training)
        if mask is None or self.unroll:
            return super().inner_loop(sequences, initial_state, mask, training)
        cell_kwargs = {"training": training} if self.cell._call_has_training_arg else {}
        steps = ops.transpose(sequences, (1, 0, 2))
        step_masks = ops.transpose(ops.cast(mask, "bool"), (1, 0))
        num_steps = sequences.shape[1] or ops.shape(sequences)[1]
        first_output = initial_state[0]  # states[0] is the previous output
        remat_whole_step = self._remat_masked_steps()

        def cell_step(x_t, states):
            if remat_whole_step:  # the cell must not recompute a second time
                return self.cell._step(x_t, states, training)
            return self.cell(x_t, states, **cell_kwargs)

        def one_step(states, x_t, mask_t):
            skipped_output = self._masked_output(states[0])

            def run():
                output, new_states = cell_step(x_t, list(states))
                keep = mask_t[:, None]
                new_states = [ops.where(keep, n, o) for n, o in zip(new_states, states)]
                return new_states, ops.where(keep, output, skipped_output)

            def skip():
                return list(states), skipped_output

            return ops.cond(ops.any(mask_t), run, skip)

        if remat_whole_step:
            # The skip-or-run choice inside the recomputed step: the scan then
            # keeps only each step's inputs for the backward pass, and a
            # skipped step costs next to nothing there (with the cell's own
            # remat inside the cond, the scan also stacked the cond's
            # residuals, zeros for skipped steps: on jax, copy NTM, one
            # length per batch padded to 41 steps, 1.1x faster at batch 32
            # and 1.6x at batch 1).
            def masked_step(states, x_t, mask_t):
                recomputed = keras.remat(
                    lambda x, m, *flat: one_step(list(flat), x, m)
                )
                return recomputed(x_t, mask_t, *states)

        else:
            masked_step = one_step

        if keras.backend.backend() != "tensorflow":
            # Per-step outputs stacked by the scan itself (jax: lax.scan).
            def scan_step(states, inputs_t):
                new_states, output = masked_step(states, *inputs_t)
                return new_states, output

            final_states, outputs = ops.scan(
                scan_step,
                list(initial_state),
                (steps, step_masks),
                reverse=self.go_backwards,
            )
            if self.go_backwards:  # in processing order, as keras.layers.RNN
                outputs = ops.flip(outputs, axis=0)
            outputs = ops.transpose(outputs, (1, 0, 2))
            return outputs[:, -1], outputs, final_states

        # Keras' TensorFlow scan wants per-step outputs shaped like the
        # carry: a while loop with the outputs in a buffer instead.
        def loop_step(index, carry):
            states, outputs = carry
            time = (num_steps - 1 - index) if self.go_backwards else index
            new_states, output = masked_step(
                states,
                ops.take(steps, time, axis=0),
                ops.take(step_masks, time, axis=0),
            )
            # A where, not slice_update: TF has no gradient for the latter.
            # Outputs in processing order, as keras.layers.RNN returns them.
            here = ops.equal(ops.arange(num_steps), index)[:, None, None]
            return new_states, ops.where(here, output[None], outputs)

        outputs = ops.zeros(
            (num_steps,) + tuple(ops.shape(first_output)), dtype=first_output.dtype
        )
        # while_loop with maximum_iterations rather than fori_loop: XLA
        # (compile(jit_compile=True)) needs the bound to build the gradient.
        _, (final_states, outputs) = ops.while_loop(
            lambda index, carry: index < num_steps,
            lambda index, carry: (index + 1, loop_step(index, carry)),
            (0, (list(initial_state), outputs)),
            maximum_iterations=num_steps,
        )
        outputs = ops.transpose(outputs, (1, 0, 2))
        return outputs[:, -1], outputs, final_states

    def _remat_masked_steps(self):
        """Whether `inner_loop`'s masked scan recomputes each whole step.

        `remat=True` on jax and torch, and `remat=None` on jax at any batch
        size: in the masked loop, recomputing is what lets a skipped step
        cost (almost) nothing in the gradient, which outweighs the
        recomputation even at batch 1. Never on tensorflow (see
        `NTMCell.remat`).
        """
        backend = keras.backend.backend()
        if backend == "tensorflow" or self.cell.remat is False:
            return False
        return self.cell.remat is True or backend == "jax"

    def _eager_loop(self, sequences, initial_state, mask, training):
        """A plain Python loop over time, for torch (eager, pays per call).

        The same steps as `keras.layers.RNN`'s loop without its per-step
        bookkeeping (state flattening, tree handling, layer calls): the state
        stays an `NTMState` between steps. With a mask, a step masked for the
        whole batch is skipped; otherwise masked rows keep their old state
        and output, as in `keras.layers.RNN`.
        """
        cell = self.cell
        num_steps = sequences.shape[1]
        order = range(num_steps - 1, -1, -1) if self.go_backwards else range(num_steps)
        # NTM's own __call__ has set the dtype scope the cell's would set.
        state = cell.unpack_state(initial_state)
        if mask is not None:
            mask = ops.cast(mask, "bool")
        outputs = []
        for time in order:
            inputs = sequences[:, time]
            if mask is None:
                output, state = cell.step_state(inputs, state, training)
                outputs.append(output)
                continue
            keep = mask[:, time]
            skipped = self._masked_output(state.output)
            if not bool(ops.any(keep)):
                outputs.append(skipped)
                continue
            output, new_state = cell.step_state(inputs, state, training)

            def kept(new, old):
                row = ops.reshape(keep, (-1,) + (1,) * (len(new.shape) - 1))
                return ops.where(row, new, old)

            state = keras.tree.map_structure(kept, new_state, state)
            outputs.append(kept(output, skipped))
        outputs = ops.stack(outputs, axis=1)
        return outputs[:, -1], outputs, cell.pack_state(state)

    def _masked_output(self, previous_output):
        """The output at a masked step, as `keras.layers.RNN` gives it."""
        if self.zero_output_for_mask:
            return ops.zeros_like(previous_output)
        return previous_output

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
        return super().call(
            sequences, initial_state=initial_state, mask=mask, training=training
        )

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({name: cell_config[name] for name in _CELL_ARGUMENTS})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def ntm(
    input_size,
    memory_size=128,
    memory_dim=32,
    controller_size=256,
    num_heads=1,
    output_size=None,
    sequence_length=None,
    mask_value=None,
    name="ntm",
    **layer_kwargs,
):
    """Builds a functional `keras.Model` around one `NTM` layer.

    Mirrors the specification's `build/1`.

    Args:
        input_size: int >= 1, features per time step.
        memory_size, memory_dim, controller_size, num_heads, output_size:
            see `NTMCell`.
        sequence_length: int >= 1 to fix the number of time steps, or
            `None` (default) for any length.
        mask_value: `None` (default), or a float: time steps whose inputs
            all equal it are padding (a `keras.layers.Masking` layer), left
            out of the state and skipped when the whole batch is padding.
            With the task generators' `padding_value`, one compiled graph
            then serves every sequence length at the cost of the real one.
        name: model name.
        **layer_kwargs: more `NTM` arguments (`controller`, `memory_init`,
            `output_activation`, `return_sequences`, ...). `return_sequences`
            defaults to `True` here.

    Returns:
        A `keras.Model` from `[batch, time, input_size]` (input named
        `inputs`) to `[batch, time, output_size]`.
    """
    input_size = check.positive_int("input_size", input_size)
    sequence_length = check.optional_positive_int("sequence_length", sequence_length)
    layer_kwargs.setdefault("return_sequences", True)
    inputs = keras.Input((sequence_length, input_size), name="inputs")
    sequences = inputs
    if mask_value is not None:
        sequences = keras.layers.Masking(float(mask_value), name="padding_mask")(inputs)
    outputs = NTM(
        memory_size=memory_size,
        memory_dim=memory_dim,
        controller_size=controller_size,
        num_heads=num_heads,
        output_size=output_size,
        name="ntm_layer",
        **layer_kwargs,
    )(sequences)
    return keras.Model(inputs, outputs, name=name)


def _find_cell(layer):
    if isinstance(layer, NTMCell):
        return layer
    if isinstance(layer, keras.layers.RNN) and isinstance(layer.cell, NTMCell):
        return layer.cell
    if isinstance(layer, keras.Model):
        for inner in layer.layers:
            try:
                return _find_cell(inner)
            except ValueError:
                continue
    raise ValueError(
        "`layer` must be an NTMCell, an RNN or NTM layer around one, or a "
        f"model that contains one; received {type(layer).__name__}."
    )


def trace(layer, sequences):
    """Runs an NTM step by step and records what its heads did, for plots.

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
    """
    cell = _find_cell(layer)
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
