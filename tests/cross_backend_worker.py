"""Saves models on the current backend, or loads those saved on the others.

Run by `test_cross_backend.py` once per backend, in its own process, since
`KERAS_BACKEND` is fixed at import:

    KERAS_BACKEND=jax python cross_backend_worker.py save DIR
    KERAS_BACKEND=torch python cross_backend_worker.py load DIR

Each case builds a small model from public keras_memory API. `save` writes
`<backend>__<case>.keras` and the inputs and outputs beside it; `load` loads
every file written by another backend with `safe_mode=True` and compares.
"""

import pathlib
import sys

import keras
import numpy as np

import keras_memory as km

TOLERANCE = 1e-5


def _memory_inputs(seed, input_dim=6, memory_size=5):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(3, input_dim)).astype("float32"),
        rng.normal(size=(3, memory_size, input_dim)).astype("float32"),
    ]


def _memory_network_case(weight_tying):
    def build():
        model = km.memory_network(
            6, memory_dim=8, num_hops=3, weight_tying=weight_tying
        )
        return model, _memory_inputs(1)

    return build


def _memory_hop_case():
    query = keras.Input((8,))
    memories = keras.Input((None, 6))
    state, attention = km.MemoryHop(8, return_attention=True)(
        [query, keras.layers.Masking()(memories)]
    )
    inputs = _memory_inputs(2)
    inputs[0] = np.ones((3, 8), "float32")
    inputs[1][:, -2:] = 0.0  # two padded slots, masked
    return keras.Model([query, memories], [state, attention]), inputs


def _ntm_case(**options):
    def build():
        model = km.ntm(5, memory_size=12, memory_dim=6, controller_size=16, **options)
        inputs = np.random.default_rng(3).normal(size=(2, 7, 5)).astype("float32")
        return model, [inputs]

    return build


def _ntm_masked_state_case():
    inputs = keras.Input((None, 5))
    outputs = km.NTM(
        memory_size=12, memory_dim=6, controller_size=16, num_read_heads=2,
        memory_init="learned", return_state=True,
    )(keras.layers.Masking()(inputs))
    x = np.random.default_rng(4).normal(size=(2, 7, 5)).astype("float32")
    x[0, 5:] = 0.0  # two padded steps, masked
    return keras.Model(inputs, outputs), [x]


def _dnc_masked_state_case():
    inputs = keras.Input((None, 5))
    outputs = km.DNC(
        memory_size=8, memory_dim=6, controller_size=16, num_read_heads=2,
        num_write_heads=2, return_state=True,
    )(keras.layers.Masking()(inputs))
    x = np.random.default_rng(5).normal(size=(2, 7, 5)).astype("float32")
    x[0, 5:] = 0.0  # two padded steps, masked
    return keras.Model(inputs, outputs), [x]


def _dnc_builder_case():
    model = km.dnc(5, memory_size=8, memory_dim=6, controller_size=16,
                   num_read_heads=2, controller="dense", output_size=3)
    return model, [np.random.default_rng(6).normal(size=(2, 7, 5)).astype("float32")]


def _text_inputs(seed, slots=4, words=3, vocab=9):
    rng = np.random.default_rng(seed)
    story = rng.integers(1, vocab, size=(3, slots, words)).astype("int32")
    story[:, :, -1] = 0  # padding words
    story[:, -1] = 0  # an empty slot
    return [rng.integers(1, vocab, size=(3, words)).astype("int32"), story]


def _memn2n_case(**options):
    def build():
        query = keras.Input((3,), dtype="int32")
        story = keras.Input((4, 3), dtype="int32")
        outputs = km.MemN2N(9, memory_dim=6, num_hops=3, return_attention=True,
                            **options)([query, story])
        return keras.Model([query, story], outputs), _text_inputs(5)

    return build


def _encodings_case():
    query = keras.Input((3,), dtype="int32")
    story = keras.Input((4, 3), dtype="int32")
    words = keras.layers.Embedding(9, 6, mask_zero=True)
    memories = km.TemporalEncoding()(km.SentenceEncoding()(words(story)))
    question = km.SentenceEncoding("bag_of_words")(words(query))
    logits = km.MemoryNetwork(memory_dim=8, num_hops=2, output_dim=5)(
        [question, memories]
    )
    return keras.Model([query, story], logits), _text_inputs(6)


def _memn2n_builder_case():
    model = km.memn2n(9, 3, memory_size=4, memory_dim=6, random_noise=0.1)
    query, story = _text_inputs(7)
    return model, {"query": query, "stories": story}


def _heads_case():
    controller = keras.Input((8,))
    memory = keras.Input((6, 4))
    weights = keras.Input((6,))
    read = km.NTMReadHead(shift_range=2)([controller, memory, weights])
    written = km.NTMWriteHead()([controller, memory, weights])
    rng = np.random.default_rng(8)
    inputs = [rng.normal(size=(3, 8)).astype("float32"),
              rng.normal(size=(3, 6, 4)).astype("float32"),
              rng.dirichlet(np.ones(6), size=3).astype("float32")]
    model = keras.Model([controller, memory, weights], [read, written])
    return model, inputs


def _product_key_memory_case(**options):
    def build():
        inputs = keras.Input((None, 6))
        memory = km.ProductKeyMemory(64, num_heads=2, top_k=4, key_dim=8, **options)
        x = np.random.default_rng(6).normal(size=(2, 5, 6)).astype("float32")
        return keras.Model(inputs, memory(inputs)), [x]

    return build


def _hashed_memory_case():
    inputs = keras.Input((None, 5))
    cell = km.HashedMemoryCell(num_buckets=16, value_dim=4, num_tables=3, seed=2)
    outputs = keras.layers.RNN(cell, return_sequences=True)(inputs)
    x = np.random.default_rng(7).normal(size=(2, 6, 5)).astype("float32")
    return keras.Model(inputs, outputs), [x]


def _hashed_memory_layer_case():
    inputs = keras.Input((None, 5))
    outputs = km.HashedMemory(num_buckets=32, value_dim=4, num_tables=3, decay=0.5,
                              seed=4)(inputs)
    x = np.random.default_rng(8).normal(size=(2, 6, 5)).astype("float32")
    return keras.Model(inputs, outputs), [x]


def _memory_transformer_case():
    model = km.memory_transformer(20, 5, hidden_dim=8, num_heads=2, memory_size=64, top_k=4,
                                  key_dim=8, gated=True, value_learning_rate=0.1,
                                  max_tokens=10)
    x = np.random.default_rng(10).integers(1, 20, size=(2, 5)).astype("int32")
    return model, [x]


def _sam_case():
    model = km.sam(4, memory_size=32, memory_dim=4, controller_size=8, num_read_heads=2,
                   num_reads_per_head=3, mask_value=0.0)
    x = np.random.default_rng(9).normal(size=(2, 6, 4)).astype("float32")
    x[1, 4:] = 0.0
    return model, [x]


def _sdnc_case():
    model = km.sdnc(4, memory_size=32, memory_dim=4, controller_size=8, num_read_heads=2,
                    num_reads_per_head=3, num_links=4, mask_value=0.0)
    x = np.random.default_rng(11).normal(size=(2, 6, 4)).astype("float32")
    x[0, 5:] = 0.0
    return model, [x]


CASES = {
    "memn2n_builder": _memn2n_builder_case,
    "ntm_read_and_write_heads": _heads_case,
    "memn2n_adjacent_position": _memn2n_case(),
    "memn2n_layerwise_bow_linear": _memn2n_case(
        weight_tying="layerwise", encoding="bag_of_words", use_softmax=False,
        random_noise=0.1,
    ),
    "encodings_into_memory_network": _encodings_case,
    "memory_network_untied": _memory_network_case(None),
    "memory_network_adjacent": _memory_network_case("adjacent"),
    "memory_network_layerwise": _memory_network_case("layerwise"),
    "memory_hop_masked": _memory_hop_case,
    "ntm_lstm": _ntm_case(),
    "ntm_dense_random_memory": _ntm_case(controller="dense", memory_init="random"),
    "ntm_masked_with_state": _ntm_masked_state_case,
    "dnc_masked_with_state": _dnc_masked_state_case,
    "dnc_builder_dense": _dnc_builder_case,
    "product_key_memory_gated": _product_key_memory_case(gated=True),
    "product_key_memory_sparse": _product_key_memory_case(value_learning_rate=0.1,
                                                          max_tokens=10),
    "hashed_memory_cell": _hashed_memory_case,
    "hashed_memory_layer": _hashed_memory_layer_case,
    "sam_masked": _sam_case,
    "sdnc_masked": _sdnc_case,
    "memory_transformer_product_keys": _memory_transformer_case,
}


def save(directory):
    backend = keras.backend.backend()
    for name, build in CASES.items():
        keras.utils.set_random_seed(0)
        model, inputs = build()
        outputs = keras.tree.flatten(model.predict(inputs, verbose=0))
        stem = directory / f"{backend}__{name}"
        model.save(f"{stem}.keras")
        named = inputs if isinstance(inputs, dict) else dict(enumerate(inputs))
        np.savez(
            f"{stem}.npz",
            **{f"input_{key}": x for key, x in named.items()},
            **{f"output_{i}": y for i, y in enumerate(outputs)},
        )
        print(f"saved {stem.name}")


def _saved_inputs(data):
    """The inputs `save` wrote: a list, or a dict for models with named inputs."""
    keys = [name[len("input_"):] for name in data.files if name.startswith("input_")]
    if all(key.isdigit() for key in keys):
        return [data[f"input_{i}"] for i in range(len(keys))]
    return {key: data[f"input_{key}"] for key in keys}


def load(directory):
    backend = keras.backend.backend()
    checked = 0
    for path in sorted(directory.glob("*.keras")):
        source = path.stem.split("__")[0]
        if source == backend:
            continue
        data = np.load(path.with_suffix(".npz"))
        inputs = _saved_inputs(data)
        expected = [data[f"output_{i}"] for i in range(len(data.files)) if f"output_{i}" in data]
        model = keras.saving.load_model(path, safe_mode=True)
        actual = keras.tree.flatten(model.predict(inputs, verbose=0))
        worst = max(float(np.max(np.abs(a - e))) for a, e in zip(actual, expected))
        status = "ok" if worst <= TOLERANCE else "MISMATCH"
        print(f"{status} {path.stem} on {backend}: max abs difference {worst:.2e}")
        if worst > TOLERANCE:
            raise SystemExit(1)
        checked += 1
    print(f"checked {checked}")


def _copy_batches():
    from keras_memory import tasks

    return [tasks.copy_sequences(4, 1, 4, num_bits=3, pad_to=9, seed=s) for s in (1, 2, 3)]


def _fit(model, batch):
    inputs, targets, weights = batch
    model.fit(inputs, targets, sample_weight=weights, batch_size=len(inputs),
              epochs=1, shuffle=False, verbose=0)


def train_and_save(directory):
    """Trains a copy NTM for two steps, saves it with its optimizer state,
    then takes a third step and records the weights it reached."""
    keras.utils.set_random_seed(0)
    model = km.ntm(4, memory_size=8, memory_dim=4, controller_size=8, output_size=3,
                   output_activation="sigmoid")
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    first, second, third = _copy_batches()
    _fit(model, first)
    _fit(model, second)
    model.save(directory / "continue.keras")
    _fit(model, third)
    np.savez(directory / "continue.npz", *model.get_weights(),
             iterations=int(model.optimizer.iterations.numpy()
                            if hasattr(model.optimizer.iterations, "numpy")
                            else keras.ops.convert_to_numpy(model.optimizer.iterations)))
    print("trained and saved")


def continue_training(directory):
    """Loads the model and optimizer state saved on another backend and
    takes the same third step: the weights must match."""
    model = keras.saving.load_model(directory / "continue.keras", safe_mode=True)
    if keras.backend.backend() == "torch":
        # The compile config saved on jax asks for XLA; torch.compile of an
        # RNN loop takes minutes on CPU and changes nothing numerically.
        model.jit_compile = False
    _fit(model, _copy_batches()[2])
    expected = np.load(directory / "continue.npz")
    iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    assert iterations == int(expected["iterations"]) == 3, iterations
    worst = max(float(np.max(np.abs(w - expected[f"arr_{i}"])))
                for i, w in enumerate(model.get_weights()))
    print(f"continued on {keras.backend.backend()}: max abs weight difference {worst:.2e}")
    if worst > 1e-4:
        raise SystemExit(1)


if __name__ == "__main__":
    action, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    {"save": save, "load": load, "train": train_and_save,
     "continue": continue_training}[action](folder)
