"""A product-key memory transformer with its value table split across two
simulated CPU devices (keras.distribution.ModelParallel, JAX) against the
same model on one device: outputs, and weights after two training steps.

Run by test_distribution.py in a fresh process, because the device count
(XLA_FLAGS) is fixed when JAX starts. Prints the shards of the table and
the largest differences.
"""

import os
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_memory as km  # noqa: E402

VOCAB, LENGTH = 32, 6


def build(sparse):
    options = dict(value_learning_rate=0.5, max_tokens=8 * LENGTH) if sparse else {}
    return km.memory_transformer(VOCAB, LENGTH, hidden_dim=16, num_heads=2,
                                 memory_size=256, top_k=4, key_dim=8, **options)


def run(distribution, initial, data, sparse):
    keras.distribution.set_distribution(distribution)
    model = build(sparse)
    model.set_weights(initial)
    model.compile(keras.optimizers.SGD(0.5),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    outputs = model.predict(data, verbose=0)
    model.fit(data, data, batch_size=8, epochs=2, shuffle=False, verbose=0)
    outputs_after = model.predict(data, verbose=0)  # takes the last pending update
    values = model.get_layer("memory_1").values
    shards = [tuple(s.data.shape) for s in values.value.addressable_shards]
    weights = [keras.ops.convert_to_numpy(w) for w in model.weights]
    return outputs, outputs_after, weights, shards


def main():
    sparse = "--sparse" in sys.argv
    devices = keras.distribution.list_devices("cpu")
    assert len(devices) == 2, devices
    keras.utils.set_random_seed(0)
    initial = build(sparse).get_weights()
    data = np.random.default_rng(0).integers(1, VOCAB, size=(8, LENGTH)).astype("int32")
    one = run(None, initial, data, sparse)
    mesh = keras.distribution.DeviceMesh((1, 2), ["batch", "model"], devices)
    layout = keras.distribution.LayoutMap(mesh)
    layout[".*memory_1/values"] = ("model", None)  # the table's rows, split in two
    two = run(keras.distribution.ModelParallel(layout_map=layout, batch_dim_name="batch"),
              initial, data, sparse)
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(one[2], initial))
    outputs = max(float(np.max(np.abs(a - b))) for a, b in zip(one[:2], two[:2]))
    weights = max(float(np.max(np.abs(a - b))) for a, b in zip(one[2], two[2]))
    print(f"shards {two[3]} one-device shards {one[3]}")
    print(f"moved {moved:.3e} outputs {outputs:.3e} weights {weights:.3e}")


if __name__ == "__main__":
    main()
