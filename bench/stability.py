"""Stability of the copy NTM: how many seeds converge, NaN batches, gradient norms.

    python bench/stability.py                          # 10 seeds, the example's defaults, jax
    python bench/stability.py --seeds 0,1,2 --backends torch
    python bench/stability.py --mode long --backends jax,torch,tensorflow --sequences 20000

`--mode converge` (the default) runs `examples/copy_task.py` with its own
defaults (N=128, M=20, LSTM 100, one read and one write head; Adam 1e-3,
clipnorm 10, batch 1, lengths 1..20) once per seed, each in its own process,
with at most `--sequences` training sequences (default 50,000). It stops a
run once an epoch of 800 sequences averages under 0.1 bit errors per
sequence and prints, per seed: the sequences and seconds of training it took
(or "no"), the batches whose loss was NaN or Inf, and the bit errors per
sequence on 64 fresh sequences of length 40; then how many seeds converged.

`--mode long` trains the copy NTM at batch 32 (lengths 1..20 mixed and
padded to one masked length) for `--sequences` sequences with
`train_on_batch` and prints per run: the batches with a NaN/Inf loss, the
bit errors per sequence over the last 10 batches, and the largest global
gradient norm seen (measured before clipping, every `--grad-every` batches,
on the batch just trained).
"""

import argparse
import json
import os
import subprocess
import sys

MODEL = dict(memory_size=128, memory_dim=20, controller_size=100, num_heads=1)
PADDING = -1.0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["converge", "long"], default="converge")
    parser.add_argument("--backends", default="jax")
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--sequences", type=int, default=50000)
    parser.add_argument("--target", type=float, default=0.1,
                        help="converge mode: bit errors per sequence of an epoch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--grad-every", type=int, default=25)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def gradient_norm(model, inputs, targets, weights):
    """Global gradient norm of the loss on one batch, on any backend."""
    import keras
    from keras import ops

    backend = keras.backend.backend()
    loss_fn = keras.losses.BinaryCrossentropy()
    fixed = [v.value for v in model.non_trainable_variables]

    def loss_of(values, inputs, targets, weights):
        outputs, _ = model.stateless_call(values, fixed, inputs, training=True)
        return loss_fn(targets, outputs, sample_weight=weights)

    values = [v.value for v in model.trainable_variables]
    if backend == "jax":
        import jax

        if not hasattr(model, "_bench_grad"):
            model._bench_grad = jax.jit(jax.grad(loss_of))
        grads = model._bench_grad(values, inputs, targets, weights)
    elif backend == "torch":
        import torch

        values = [v.detach().clone().requires_grad_(True) for v in values]
        grads = torch.autograd.grad(loss_of(values, inputs, targets, weights), values)
    else:
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(values)
            loss = loss_of(values, inputs, targets, weights)
        grads = tape.gradient(loss, values)
    squares = [ops.sum(ops.square(ops.convert_to_tensor(g))) for g in grads]
    return float(ops.convert_to_numpy(ops.sqrt(ops.sum(ops.stack(squares)))))


def worker(args):
    import keras
    import numpy as np

    import keras_memory as km

    results = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        keras.utils.set_random_seed(seed)
        model = km.ntm(9, output_size=8, output_activation="sigmoid",
                       mask_value=PADDING, **MODEL)
        # weighted_metrics: Keras hands sample weights (the output phase)
        # only to those; under `metrics=` every step would count.
        model.compile(keras.optimizers.Adam(1e-3, clipnorm=10.0), "binary_crossentropy",
                      weighted_metrics=[km.tasks.BitErrorsPerSequence()])
        steps = max(1, args.sequences // args.batch_size)
        data = km.tasks.CopyTask(args.batch_size, steps, max_length=20, buckets=1,
                                 padding_value=PADDING, seed=seed)
        nan_batches, errors, max_norm = 0, [], 0.0
        for step in range(steps):
            inputs, targets, weights = data[step]
            model.reset_metrics()  # train_on_batch accumulates otherwise
            logs = model.train_on_batch(inputs, targets, sample_weight=weights,
                                        return_dict=True)
            if not np.isfinite(logs["loss"]):
                nan_batches += 1
            errors.append(logs["bit_errors_per_sequence"])
            if step % args.grad_every == 0 or step == steps - 1:
                max_norm = max(max_norm, gradient_norm(model, inputs, targets, weights))
        results.append({"backend": keras.backend.backend(), "seed": seed,
                        "sequences": steps * args.batch_size, "nan_batches": nan_batches,
                        "final_bits_per_sequence": float(np.mean(errors[-10:])),
                        "max_gradient_norm": max_norm})
        print(json.dumps(results[-1]), flush=True)


EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                       "copy_task.py")


def converge(args):
    """Runs the copy example once per backend and seed; prints the table."""
    import tempfile
    import time

    rows = []
    for backend in args.backends.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            with tempfile.TemporaryDirectory() as directory:
                command = [sys.executable, EXAMPLE, "--backend", backend, "--seed", str(seed),
                           "--steps", str(args.sequences), "--target", str(args.target),
                           "--eval-lengths", "40", "--output-dir", directory]
                start = time.perf_counter()
                subprocess.run(command, capture_output=True, text=True, check=True)
                wall = time.perf_counter() - start
                with open(os.path.join(directory, "curve.json")) as handle:
                    record = json.load(handle)
            last = record["curve"][-1]
            row = {"backend": backend, "seed": seed,
                   "converged": last["bit_errors_per_sequence"] < args.target,
                   "sequences": last["sequences"], "training_seconds": last["seconds"],
                   "script_seconds": round(wall, 1), "nan_batches": record["nan_batches"],
                   "length_40": record["eval"]["40"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| backend | seed | converged | sequences | training s | NaN batches "
          "| bit errors at length 40 |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['backend']} | {row['seed']} | {'yes' if row['converged'] else 'no'} "
              f"| {row['sequences']:,} | {row['training_seconds']:.0f} | {row['nan_batches']} "
              f"| {row['length_40']:.2f} |")
    for backend in args.backends.split(","):
        mine = [row for row in rows if row["backend"] == backend]
        print(f"{backend}: {sum(row['converged'] for row in mine)} of {len(mine)} seeds under "
              f"{args.target} bit errors within {args.sequences:,} sequences, "
              f"{sum(row['nan_batches'] for row in mine)} NaN batches")
    return rows


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if args.mode == "converge":
        return converge(args)
    rows = []
    for backend in args.backends.split(","):
        command = [sys.executable, __file__, "--worker", "--seeds", args.seeds,
                   "--sequences", str(args.sequences), "--batch-size", str(args.batch_size),
                   "--grad-every", str(args.grad_every)]
        output = subprocess.run(command, env=dict(os.environ, KERAS_BACKEND=backend),
                                capture_output=True, text=True, check=True).stdout
        rows += [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    print("| backend | seed | sequences | NaN batches | final bits/seq | max grad norm |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['backend']} | {row['seed']} | {row['sequences']} | {row['nan_batches']} "
              f"| {row['final_bits_per_sequence']:.2f} | {row['max_gradient_norm']:.2f} |")
    return rows


if __name__ == "__main__":
    main()
