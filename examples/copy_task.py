"""Train a Neural Turing Machine on Graves' copy task.

    python examples/copy_task.py                     # jax, sane defaults
    python examples/copy_task.py --backend torch --steps 2000

The standard copy NTM (N=128 rows of M=20, LSTM controller of 100 units,
one read and one write head) trains with `model.fit` on 8-bit sequences of
length 1..20, then reports bit errors per sequence at lengths 20, 40 and
80, saves the model as a `.keras` file, checks that the saved file gives
the same outputs, and draws input, target, output and the head weights
over time for one sequence.
"""

import argparse
import json
import os
import sys
import time


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["jax", "torch", "tensorflow"],
                        help="Keras backend (default: $KERAS_BACKEND or jax)")
    parser.add_argument("--steps", type=int, default=3000,
                        help="training batches at most (default 3000)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--min-length", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=20)
    parser.add_argument("--target", type=float, default=0.1,
                        help="stop once an epoch's bit errors/sequence fall below this")
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--eval-lengths", default="20,40,80")
    parser.add_argument("--memory-size", type=int, default=128)
    parser.add_argument("--memory-dim", type=int, default=20)
    parser.add_argument("--controller-size", type=int, default=100)
    parser.add_argument("--output-dir", default="runs/copy")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend or os.environ.get("KERAS_BACKEND", "jax")
    import keras
    import numpy as np

    import keras_memory as km
    from keras_memory.tasks import BitErrorsPerSequence, CopyTask, copy_sequences

    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)
    num_bits = 8
    model = km.ntm(
        num_bits + 1, memory_size=args.memory_size, memory_dim=args.memory_dim,
        controller_size=args.controller_size, num_heads=1, output_size=num_bits,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=10.0),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        weighted_metrics=[BitErrorsPerSequence(from_logits=True)],
    )
    data = CopyTask(args.batch_size, args.steps_per_epoch, args.min_length,
                    args.max_length, num_bits=num_bits, seed=args.seed)
    curve = []

    class Curve(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            errors = float(logs["bit_errors_per_sequence"])
            curve.append({
                "sequences": (epoch + 1) * args.steps_per_epoch * args.batch_size,
                "seconds": round(time.perf_counter() - self.start, 1),
                "loss": round(float(logs["loss"]), 4),
                "bit_errors_per_sequence": round(errors, 3),
            })
            if errors < args.target:
                print(f"reached {errors:.3f} < {args.target} bit errors/sequence")
                self.model.stop_training = True

    print(f"backend: {keras.backend.backend()}")
    epochs = max(1, args.steps // args.steps_per_epoch)
    model.fit(data, epochs=epochs, callbacks=[Curve()], verbose=1)

    results = {}
    for length in (int(n) for n in args.eval_lengths.split(",")):
        x, y, w = copy_sequences(64, length, length, num_bits=num_bits,
                                 seed=args.seed + 1000 + length)
        metric = BitErrorsPerSequence(from_logits=True)
        metric.update_state(y, model.predict(x, batch_size=64, verbose=0), w)
        results[length] = float(metric.result())
        print(f"length {length:3d}: {results[length]:.3f} bit errors/sequence")

    path = os.path.join(args.output_dir, "copy_ntm.keras")
    model.save(path)
    x, y, w = copy_sequences(1, args.max_length, args.max_length,
                             num_bits=num_bits, seed=args.seed + 7)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    difference = float(np.max(np.abs(reloaded.predict(x, verbose=0) - model.predict(x, verbose=0))))
    print(f"saved {path}; reloaded model differs by {difference:.1e}")
    with open(os.path.join(args.output_dir, "curve.json"), "w") as handle:
        json.dump({"curve": curve, "eval": results}, handle, indent=1)

    record = km.trace(model, x)
    try:
        from keras_memory import plotting

        picture = os.path.join(args.output_dir, "copy_trace.png")
        plotting.plot_ntm_trace(
            x[0], y[0], 1 / (1 + np.exp(-record["outputs"][0])),
            record["read_weights"][0], record["write_weights"][0],
            title=f"copy, length {args.max_length} ({keras.backend.backend()})",
            path=picture,
        )
        print(f"wrote {picture}")
    except ImportError as error:
        print(f"no picture: {error}")
    return results


if __name__ == "__main__":
    main()
