"""Two fit steps on one device and on two simulated CPU devices (JAX).

Run by test_distribution.py in a fresh process, because the device count
(XLA_FLAGS) is fixed when JAX starts. Prints the largest weight difference.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_memory as km  # noqa: E402


def train(distribution, initial_weights, data):
    keras.distribution.set_distribution(distribution)
    model = km.ntm(9, memory_size=8, memory_dim=4, controller_size=8, output_size=8)
    model.set_weights(initial_weights)
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    inputs, targets, weights = data
    model.fit(inputs, targets, sample_weight=weights, batch_size=8, epochs=2,
              shuffle=False, verbose=0)
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def main():
    devices = keras.distribution.list_devices("cpu")
    assert len(devices) == 2, devices
    keras.utils.set_random_seed(0)
    reference = km.ntm(9, memory_size=8, memory_dim=4, controller_size=8, output_size=8)
    initial = reference.get_weights()
    data = km.tasks.copy_sequences(8, 1, 3, seed=0)  # one global batch of 8
    single = train(None, initial, data)
    parallel = train(keras.distribution.DataParallel(devices=devices), initial, data)
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(single, initial))
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(single, parallel))
    print(f"devices {len(devices)} moved {moved:.3e} difference {difference:.3e}")


if __name__ == "__main__":
    main()
