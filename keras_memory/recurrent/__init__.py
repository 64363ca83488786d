"""The recurrent core: the memory-cell base, the time loops, `MemoryRNN`.

A memory model is a `MemoryCell`: it declares its state once, as a named
tuple of per-sequence shapes (`state_shape`), and writes one time step on
that named state (`step`). Everything else is derived here:

- `state`: packing the named state to and from the flat list of
  `[batch, size]` tensors `keras.layers.RNN` carries, and checking a state
  against the declaration;
- `cell`: `MemoryCell`, the base (state sizes, initial state, `call` for
  `keras.layers.RNN(cell)`, `remat`);
- `loops`: the time loops, each taking the step as an argument
  (`sequence_step` binds the cell's step constants once a sequence);
- `remat`: when a step is recomputed in the backward pass;
- `layer`: `MemoryRNN`, the `keras.layers.RNN` subclass that runs a memory
  cell on the fastest loop for the backend, with a flat config of the
  cell's arguments and the RNN's.
"""

from keras_memory.recurrent import state
from keras_memory.recurrent.cell import MemoryCell
from keras_memory.recurrent.layer import MemoryRNN
from keras_memory.recurrent.layer import cell_arguments
from keras_memory.recurrent.loops import eager_loop
from keras_memory.recurrent.loops import flat_step
from keras_memory.recurrent.loops import keras_loop
from keras_memory.recurrent.loops import masked_scan
from keras_memory.recurrent.loops import masked_while_loop
from keras_memory.recurrent.loops import run
from keras_memory.recurrent.loops import sequence_step
from keras_memory.recurrent.remat import REMAT_CHOICES
from keras_memory.recurrent.remat import REMAT_MIN_STATE
from keras_memory.recurrent.remat import check_remat
from keras_memory.recurrent.remat import step_remat
from keras_memory.recurrent.remat import whole_step_remat

__all__ = [
    "MemoryCell", "MemoryRNN", "REMAT_CHOICES", "REMAT_MIN_STATE", "cell_arguments",
    "check_remat", "eager_loop", "flat_step", "keras_loop", "masked_scan",
    "masked_while_loop", "run", "sequence_step", "state", "step_remat",
    "whole_step_remat",
]
