"""Writes the `.keras` files of tests/test_legacy_files.py.

Run once with keras-memory at commit a59d01f (before the package layout and
argument names changed), on the jax backend:

    KERAS_BACKEND=jax python tests/data/make_legacy_models.py

It does not run on later code (it uses the old argument names on purpose);
the files it wrote are checked in, with the inputs and the outputs they gave.
"""

import pathlib

import keras
import numpy as np

import keras_memory as km

HERE = pathlib.Path(__file__).resolve().parent


def models():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 6)).astype("float32")
    memories = rng.normal(size=(2, 5, 6)).astype("float32")
    yield "memory_network", km.memory_network(
        6, memory_dim=4, num_hops=2, num_memories=5, weight_tying="layerwise",
        return_attention=True,
    ), [query, memories]

    ids_q = rng.integers(0, 9, (2, 3)).astype("int32")
    ids_s = rng.integers(0, 9, (2, 4, 3)).astype("int32")
    yield "memn2n", km.memn2n(
        9, 3, memory_size=4, embed_dim=5, num_hops=2, empty_slots="null",
    ), {"query": ids_q, "stories": ids_s}

    u = keras.Input((4,), name="u")
    words = keras.Input((4, 3), dtype="int32", name="words")
    embedded = keras.layers.Embedding(9, 4, mask_zero=True)(words)
    sentences = km.TemporalEncoding()(km.SentenceEncoding()(embedded))
    state, attention = km.MemoryHop(4, num_memories=4, return_attention=True)(
        [u, sentences]
    )
    yield "memory_hop", keras.Model([u, words], [state, attention]), [
        rng.normal(size=(2, 4)).astype("float32"),
        ids_s,
    ]

    sequences = rng.normal(size=(2, 5, 3)).astype("float32")
    yield "ntm", km.ntm(
        3, memory_size=6, memory_dim=4, controller_size=8, num_read_heads=2,
        output_size=2, mask_value=-1.0, memory_init="learned", remat=False,
    ), sequences

    inputs = keras.Input((None, 3))
    cell = km.NTMCell(memory_size=6, memory_dim=4, controller_size=8,
                      controller="dense", output_size=3)
    yield "ntm_cell_rnn", keras.Model(
        inputs, keras.layers.RNN(cell, return_sequences=True)(inputs)
    ), sequences


def main():
    arrays = {}
    for name, model, inputs in models():
        model.save(HERE / f"legacy_{name}.keras")
        outputs = model.predict(inputs, verbose=0)
        flat_inputs = keras.tree.flatten(inputs)
        flat_outputs = keras.tree.flatten(outputs)
        for index, value in enumerate(flat_inputs):
            arrays[f"{name}/input_{index}"] = value
        for index, value in enumerate(flat_outputs):
            arrays[f"{name}/output_{index}"] = value
    np.savez(HERE / "legacy_arrays.npz", **arrays)


if __name__ == "__main__":
    main()
