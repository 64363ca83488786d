"""Saving edge cases and determinism (issue: reliability)."""

import json
import zipfile

import keras
import numpy as np
import pytest

import keras_memory as km
from keras_memory import tasks


def small_memory_network():
    return km.memory_network(6, memory_dim=4, num_hops=2, weight_tying="layerwise")


def test_truncated_keras_file_raises_instead_of_hanging(tmp_path):
    path = tmp_path / "model.keras"
    small_memory_network().save(path)
    data = path.read_bytes()
    for cut in (len(data) // 2, 10):
        broken = tmp_path / f"broken_{cut}.keras"
        broken.write_bytes(data[:cut])
        with pytest.raises(Exception) as info:
            keras.saving.load_model(broken, safe_mode=True)
        assert not isinstance(info.value, (KeyboardInterrupt, SystemExit))
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError):
        keras.saving.load_model(garbage, safe_mode=True)


def _rewrite_config(source, target, change):
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    change(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)


def _layers(config):
    return config["config"]["layers"]


@pytest.mark.parametrize("model_fn, layer_class, option, bad, constructor", [
    (small_memory_network, "MemoryNetwork", "weight_tying", "bogus",
     lambda: km.MemoryNetwork(weight_tying="bogus")),
    (lambda: km.ntm(3, memory_size=8, memory_dim=4, controller_size=8), "NTM",
     "memory_init", "zeros", lambda: km.NTM(memory_init="zeros")),
    (lambda: km.memn2n(9, 3, memory_size=4, memory_dim=5), "MemN2N", "encoding", "tfidf",
     lambda: km.MemN2N(9, encoding="tfidf")),
])
def test_invalid_option_in_a_saved_config_fails_like_the_constructor(
        tmp_path, model_fn, layer_class, option, bad, constructor):
    path = tmp_path / "model.keras"
    model_fn().save(path)
    edited = tmp_path / "edited.keras"

    def change(config):
        (layer,) = [x for x in _layers(config) if x["class_name"] == layer_class]
        layer["config"][option] = bad

    _rewrite_config(path, edited, change)
    with pytest.raises(ValueError) as from_constructor:
        constructor()
    with pytest.raises(Exception) as from_file:
        keras.saving.load_model(edited, safe_mode=True)
    assert str(from_constructor.value) in str(from_file.value)


def _train_copy_ntm(seed):
    keras.utils.set_random_seed(seed)
    model = km.ntm(4, memory_size=8, memory_dim=4, controller_size=8, output_size=3,
                   output_activation="sigmoid", memory_init="random")
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    data = tasks.CopyTask(batch_size=4, steps_per_epoch=3, max_length=3, num_bits=3,
                          buckets=1, seed=seed)
    model.fit(data, epochs=1, verbose=0)
    return model.get_weights()


def _train_memn2n(seed):
    keras.utils.set_random_seed(seed)
    model = km.memn2n(9, 3, memory_size=4, memory_dim=5, random_noise=0.3, seed=seed)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    inputs = {"query": rng.integers(0, 9, (16, 3)).astype("int32"),
              "stories": rng.integers(0, 9, (16, 4, 3)).astype("int32")}
    model.fit(inputs, rng.integers(0, 9, 16), batch_size=4, epochs=1, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("train", [_train_copy_ntm, _train_memn2n])
def test_same_seed_same_weights(train):
    first, again, other = train(3), train(3), train(4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
