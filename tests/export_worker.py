"""Exports each builder's model as a TF SavedModel and reloads it with TF.

Run by `test_export.py` once per backend that exports SavedModels (jax and
tensorflow), in its own process:

    KERAS_BACKEND=jax python export_worker.py DIR

For `memory_network`, `memn2n`, `ntm` and `dnc`: `model.export(...)`, then
`tf.saved_model.load` and its `serve` endpoint on a batch of a size the
export never saw (jax exports with a symbolic batch), against `predict`.
"""

import pathlib
import sys

import keras
import numpy as np

import keras_memory as km

TOLERANCE = 1e-5


def cases():
    rng = np.random.default_rng(0)
    story = rng.integers(0, 9, size=(3, 4, 3)).astype("int32")
    story[:, 2:] = 0  # empty slots
    sequences = rng.normal(size=(3, 5, 3)).astype("float32")
    return {
        "memory_network": (km.memory_network(6, memory_size=5, memory_dim=4),
                           [rng.normal(size=(3, 6)).astype("float32"),
                            rng.normal(size=(3, 5, 6)).astype("float32")]),
        "memn2n": (km.memn2n(9, 3, memory_size=4, memory_dim=5),
                   {"query": rng.integers(1, 9, size=(3, 3)).astype("int32"),
                    "stories": story}),
        "ntm": (km.ntm(3, memory_size=6, memory_dim=4, controller_size=8), sequences),
        "dnc": (km.dnc(3, memory_size=6, memory_dim=4, controller_size=8,
                       num_read_heads=2), sequences),
    }


def main(directory):
    import tensorflow as tf  # here: pytest's doctest collection imports this file

    keras.utils.set_random_seed(0)
    for name, (model, inputs) in cases().items():
        expected = model.predict(inputs, verbose=0)
        path = str(pathlib.Path(directory) / f"{keras.backend.backend()}_{name}")
        model.export(path, format="tf_saved_model", verbose=False)
        reloaded = tf.saved_model.load(path)  # kept: serve reads its variables
        served = reloaded.serve(inputs)
        difference = float(np.max(np.abs(np.asarray(served) - expected)))
        assert difference < TOLERANCE, (name, difference)
        assert np.all(np.isfinite(expected)) and np.std(expected) > 0, name
        print(f"{name}: exported and served, max difference {difference:.1e}")


if __name__ == "__main__":
    main(sys.argv[1])
