"""Train a MemoryNetwork to look up the value stored beside a matching key.

    KERAS_BACKEND=jax python examples/memory_network_lookup.py
    python examples/memory_network_lookup.py --backend torch --epochs 5

Prints training progress and test accuracy, saves the model as a `.keras`
file, loads it back and checks it answers the same, and (with matplotlib)
draws the attention of every hop for one test example.
"""

import argparse
import json
import os
import sys


def make_parser():
    """The command line, with each option's help and default."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backend", choices=["jax", "torch", "tensorflow"],
                        help="Keras backend (default: $KERAS_BACKEND or jax)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs")
    parser.add_argument("--batch-size", type=int, default=64, help="examples per batch")
    parser.add_argument("--memory-size", type=int, default=10,
                        help="key-value pairs in each example's memory")
    parser.add_argument("--hops", type=int, default=2, help="memory hops")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and weights")
    parser.add_argument("--examples", type=int, default=10000,
                        help="examples generated (a fifth held out for testing)")
    parser.add_argument("--output-dir", default="runs/lookup",
                        help="where the model, results.json and the picture go")
    return parser


def parse_args(argv):
    return make_parser().parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # The backend is fixed when keras is first imported.
    os.environ["KERAS_BACKEND"] = args.backend or os.environ.get("KERAS_BACKEND", "jax")
    import keras

    args.backend = keras.backend.backend()  # what runs (keras may be imported already)
    import numpy as np

    import keras_memory as km

    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)
    task = dict(memory_size=args.memory_size, key_dim=8, num_classes=5)
    (query, memories), answers = km.tasks.key_value_lookup(args.examples, seed=args.seed, **task)
    (test_query, test_memories), test_answers = km.tasks.key_value_lookup(
        1000, seed=args.seed + 1, **task
    )

    model = km.memory_network(
        query.shape[-1], memory_dim=32, num_hops=args.hops, output_dim=5,
        weight_tying="layerwise",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(5e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    print(f"backend: {keras.backend.backend()}")
    model.summary()
    model.fit([query, memories], answers, epochs=args.epochs,
              batch_size=args.batch_size, validation_split=0.1,
              verbose=1 if sys.stdout.isatty() else 2)  # one line per epoch in a log
    logits = model.predict([test_query, test_memories], verbose=0)
    accuracy = float(np.mean(np.argmax(logits, -1) == test_answers))
    print(f"test accuracy: {accuracy:.3f}")
    with open(os.path.join(args.output_dir, "results.json"), "w") as handle:
        json.dump({"backend": keras.backend.backend(), "test_accuracy": accuracy,
                   "settings": vars(args)}, handle, indent=1)

    path = os.path.join(args.output_dir, "memory_network_lookup.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    difference = np.max(np.abs(reloaded.predict([test_query, test_memories], verbose=0) - logits))
    print(f"saved {path}; reloaded model differs by {difference:.1e}")

    try:
        from keras_memory import plotting
    except ImportError:
        return accuracy
    # The same weights in a layer that also returns its attention.
    layer_config = model.get_layer("memory_network_layer").get_config()
    layer_config.update(return_attention=True, name="inspect")
    inspector = km.MemoryNetwork.from_config(layer_config)
    inspector.build([(None, query.shape[-1]), (None, None, query.shape[-1])])
    inspector.set_weights(model.get_layer("memory_network_layer").get_weights())
    _, attention = inspector([test_query[:1], test_memories[:1]])
    target = int(np.argmin(np.abs(test_memories[0, :, :8] - test_query[0, :8]).sum(-1)))
    labels = [f"slot {i}" + (" (matching key)" if i == target else "")
              for i in range(args.memory_size)]
    try:
        picture = os.path.join(args.output_dir, "attention.png")
        plotting.plot_memory_attention(
            keras.ops.convert_to_numpy(attention)[0], memory_labels=labels,
            title="attention per hop", path=picture,
        )
        print(f"wrote {picture}")
    except ImportError as error:
        print(f"no picture: {error}")
    return accuracy


if __name__ == "__main__":
    sys.exit(0 if main() > 0.9 else 1)
