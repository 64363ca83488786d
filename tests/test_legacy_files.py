"""`.keras` files saved by keras-memory 0.1.0 (commit a59d01f, jax) still load.

The files in tests/data/ were written by `tests/data/make_legacy_models.py`
before the package layout and some argument names changed (`num_memories`
-> `memory_size`, `embed_dim` -> `memory_dim`); loading maps the old config
keys. Every backend must load them with `safe_mode=True` and give the
outputs they gave when they were saved.
"""

import pathlib

import keras
import numpy as np
import pytest

import keras_memory  # noqa: F401  (registers the layers)

DATA = pathlib.Path(__file__).resolve().parent / "data"
NAMES = ["memory_network", "memn2n", "memory_hop", "ntm", "ntm_cell_rnn"]


def _arrays(name, kind):
    arrays = np.load(DATA / "legacy_arrays.npz")
    prefix = f"{name}/{kind}_"
    keys = sorted((k for k in arrays.files if k.startswith(prefix)),
                  key=lambda k: int(k[len(prefix):]))
    return [arrays[k] for k in keys]


@pytest.mark.parametrize("name", NAMES)
def test_file_saved_by_0_1_0_loads_with_the_same_outputs(name):
    model = keras.saving.load_model(DATA / f"legacy_{name}.keras", safe_mode=True)
    inputs = _arrays(name, "input")
    if name == "memn2n":
        inputs = {"query": inputs[0], "stories": inputs[1]}
    elif len(inputs) == 1:
        inputs = inputs[0]
    outputs = keras.tree.flatten(model.predict(inputs, verbose=0))
    expected = _arrays(name, "output")
    assert len(outputs) == len(expected)
    for actual, wanted in zip(outputs, expected):
        np.testing.assert_allclose(actual, wanted, atol=1e-5, rtol=0)
