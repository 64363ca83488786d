"""`MemoryRNN`: `keras.layers.RNN` for a memory cell, on the loops of `loops`."""

import inspect

import keras
from keras import ops

from keras_memory import _validation as check
from keras_memory.recurrent import loops

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
        """The loop `loops.run` picks for this backend."""
        if self.stateful:
            # The state variables are assigned the final states after the
            # loop: on torch in place, under tensors the backward pass needs.
            # The loop starts from copies (Keras' own loop copies each step).
            initial_state = [ops.copy(state) for state in initial_state]
        return loops.run(
            self.cell, sequences, initial_state, mask,
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            training=training,
            unroll=self.unroll,
            return_all_outputs=self.return_sequences,
        )

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
        if self.cell.input_size is not None:
            check.dim("sequences", shape, -1, self.cell.input_size, "input_size")
        if initial_state is not None:
            self._check_initial_state(initial_state)
        check.has_steps("sequences", shape)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            check.step_mask(mask, shape)
        if shape[0] == 0:  # an empty batch: nothing to run (tensorflow's
            return self._empty_outputs(shape)  # kernels refuse some empty ops)
        return super().call(
            sequences, initial_state=initial_state, mask=mask, training=training
        )

    def _check_initial_state(self, initial_state):
        """Raises unless `initial_state` is the cell's flat state, tensor by tensor."""
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
        for index, (tensor, size) in enumerate(zip(states, expected)):
            shape = check.shape_of(f"initial_state[{index}]", tensor)
            if len(shape) != 2 or (shape[-1] is not None and shape[-1] != size):
                raise ValueError(
                    f"`initial_state[{index}]` must have shape [batch, {size}] (the "
                    f"cell's flat state sizes are {expected}), received shape "
                    f"{tuple(shape)}."
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
