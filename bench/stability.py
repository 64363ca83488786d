"""Long-run stability of the copy NTM: NaN count, final error, gradient norms.

    python bench/stability.py                          # 3 seeds x 20k sequences, jax
    python bench/stability.py --backends jax,torch,tensorflow --sequences 20000

For each backend (each in its own process) and seed, trains the standard
copy NTM (N=128, M=20, LSTM 100, one read and one write head; Adam 1e-3,
clipnorm 10, batch 32, lengths 1..20 mixed and padded to one masked length)
for `--sequences` sequences with `model.fit`, and prints per run: the number
of batches with a NaN/Inf loss (must be 0), the bit errors per sequence over
the last 10 batches, and the largest global gradient norm seen (measured
before clipping, every `--grad-every` batches, on the batch just trained).
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
    parser.add_argument("--backends", default="jax")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sequences", type=int, default=20000)
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


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
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
