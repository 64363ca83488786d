"""Writes the `.keras` files of the memory cells saved before `MemoryCell`.

Run once with keras-memory at commit e35fa21 (before the memory cells
declared their state on `keras_memory.MemoryCell`), on the jax backend:

    KERAS_BACKEND=jax python tests/data/make_memory_cell_models.py

The files it wrote are checked in, with the inputs and the outputs they
gave; tests/test_legacy_files.py loads them on every backend.
"""

import pathlib

import keras
import numpy as np

import keras_memory as km

HERE = pathlib.Path(__file__).resolve().parent


def models():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    sequences = rng.normal(size=(2, 5, 3)).astype("float32")
    # Two read and three write heads: the grouped head projection, the
    # later write heads one at a time.
    yield "ntm_heads", km.ntm(
        3, memory_size=7, memory_dim=4, controller_size=8, num_read_heads=2,
        num_write_heads=3, shift_range=2, output_size=2,
    ), sequences
    inputs = keras.Input((None, 3))
    outputs, *states = km.DNC(memory_size=6, memory_dim=4, controller_size=8,
                              num_read_heads=2, num_write_heads=2, return_sequences=True,
                              return_state=True)(inputs)
    yield "dnc_states", keras.Model(inputs, [outputs, *states]), sequences
    inputs = keras.Input((None, 3))
    cell = km.DNCCell(memory_size=5, memory_dim=3, controller_size=6, controller="dense")
    yield "dnc_cell_rnn", keras.Model(
        inputs, keras.layers.RNN(cell, return_sequences=True, go_backwards=True)(inputs)
    ), sequences


def main():
    arrays = {}
    for name, model, inputs in models():
        model.save(HERE / f"legacy_{name}.keras")
        outputs = model.predict(inputs, verbose=0)
        for index, value in enumerate(keras.tree.flatten(inputs)):
            arrays[f"{name}/input_{index}"] = value
        for index, value in enumerate(keras.tree.flatten(outputs)):
            arrays[f"{name}/output_{index}"] = value
    np.savez(HERE / "memory_cell_arrays.npz", **arrays)


if __name__ == "__main__":
    main()
