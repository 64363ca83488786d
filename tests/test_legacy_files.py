"""`.keras` files saved by earlier versions still load, with the same outputs.

The files in tests/data/ were written on jax by
`tests/data/make_legacy_models.py` with keras-memory 0.1.0 (commit a59d01f:
before the package layout and some argument names changed, `num_memories`
-> `memory_size`, `embed_dim` -> `memory_dim`; loading maps the old config
keys), and by `tests/data/make_memory_cell_models.py` at commit e35fa21
(before the memory cells declared their state on `MemoryCell`: the NTM with
several heads of each kind, the DNC with its final states, a `DNCCell` in
`keras.layers.RNN`). Every backend must load them with `safe_mode=True` and
give the outputs they gave when they were saved.
"""

import pathlib

import keras
import numpy as np
import pytest

import keras_memory  # noqa: F401  (registers the layers)

DATA = pathlib.Path(__file__).resolve().parent / "data"
ARRAYS = {"memory_network": "legacy_arrays", "memn2n": "legacy_arrays",
          "memory_hop": "legacy_arrays", "ntm": "legacy_arrays",
          "ntm_cell_rnn": "legacy_arrays", "ntm_heads": "memory_cell_arrays",
          "dnc_states": "memory_cell_arrays", "dnc_cell_rnn": "memory_cell_arrays"}
NAMES = list(ARRAYS)


def _arrays(name, kind):
    arrays = np.load(DATA / f"{ARRAYS[name]}.npz")
    prefix = f"{name}/{kind}_"
    keys = sorted((k for k in arrays.files if k.startswith(prefix)),
                  key=lambda k: int(k[len(prefix):]))
    return [arrays[k] for k in keys]


@pytest.mark.parametrize("name", NAMES)
def test_file_saved_by_an_earlier_version_loads_with_the_same_outputs(name):
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
