"""Copy-task NTM benchmark: keras-memory against a hand-written JAX NTM.

    python bench/ntm_copy.py                          # throughput, jax
    python bench/ntm_copy.py --backends jax,torch,tensorflow,tensorflow-xla
    python bench/ntm_copy.py --mode converge --seeds 0,1,2

Both sides train the same model on the same task: the standard copy NTM
(N=128, M=20, LSTM controller 100, one read and one write head) on 8-bit
sequences of lengths 1..20, each batch drawing one length.

`throughput` runs, for every backend asked for (each in its own process,
since the backend is fixed at import; `tensorflow-xla` is tensorflow with
`compile(jit_compile=True)`, which Keras leaves off on CPU-only machines),
at every batch size, and for each way of mixing lengths asked for with
`--variants` (see VARIANTS below; default `buckets`: 4 padded lengths, 4
graphs, and `skipping`: one length per batch padded to the longest, the
padding masked and skipped, 1 graph):
  - warm-up: seconds until every padded length the data uses has run one
    training step (compilation included);
  - steady state: sequences per second over `--batches` training batches;
and runs the baseline (`--baseline`, default ../shared/baselines/
ref_jax_ntm.py) with the same batches just before and just after ours,
then prints the ratio of ours to the mean of the two.

`converge` trains with the jax backend (default: batch 1, the first
`--variants`, i.e. `buckets`, Adam 1e-3) until an epoch of
`--epoch-sequences` (800) sequences averages under `--target` bit errors
per sequence, for each seed, printing the learning curve as it goes, then
sequences and wall time to get there (median over seeds; compilation
included), the NaN count and the errors on 64 fresh sequences of length 20
and of length 40.
"""

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_BASELINE = HERE.parents[1] / "shared" / "baselines" / "ref_jax_ntm.py"
MODEL = dict(memory_size=128, memory_dim=20, controller_size=100, num_heads=1)
PADDING = -1.0
# Set by run_child for "tensorflow-xla": compile(jit_compile=True).
XLA = os.environ.get("BENCH_XLA") == "1"


# Ways to train on a mix of lengths without one compilation per length:
# "padded": pad every batch to the longest length, no mask (1 graph);
# "buckets": pad each batch to the smallest of 4 lengths (4 graphs);
# "masked": pad every batch (lengths 1..20 mixed) to the longest length with
# -1 steps that the model masks (1 graph);
# "skipping": one length per batch, as the baseline draws them, padded to the
# longest length with -1 steps that the model masks and skips once every
# sequence of the batch has ended (1 graph).
VARIANTS = {
    "padded": dict(buckets=1, padding_value=0.0, mask_value=None),
    "buckets": dict(buckets=4, padding_value=0.0, mask_value=None),
    "masked": dict(buckets=1, padding_value=PADDING, mask_value=PADDING),
    "skipping": dict(buckets=20, pad="longest", padding_value=PADDING,
                     mask_value=PADDING),
    "skipping-2": dict(buckets=20, pad=2, padding_value=PADDING, mask_value=PADDING),
    "skipping-4": dict(buckets=20, pad=4, padding_value=PADDING, mask_value=PADDING),
}


def copy_task(km, batch_size, batches, seed, options):
    return km.tasks.CopyTask(batch_size, batches, buckets=options["buckets"],
                             pad=options.get("pad", "bucket"), seed=seed,
                             padding_value=options["padding_value"])


def make_optimizer(keras, name, learning_rate, decay_steps=0):
    """Adam or RMSprop (the baseline's settings), clipnorm 10; with
    `decay_steps`, the rate falls by cosine to a tenth over that many steps."""
    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps, alpha=0.1)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, rho=0.95, momentum=0.9,
                                        clipnorm=10.0)
    return keras.optimizers.Adam(learning_rate, clipnorm=10.0)


def build_model(keras, km, learning_rate, mask_value, optimizer="adam", decay_steps=0):
    model = km.ntm(9, output_size=8, mask_value=mask_value, **MODEL)
    model.compile(
        optimizer=make_optimizer(keras, optimizer, learning_rate, decay_steps),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        weighted_metrics=[km.tasks.BitErrorsPerSequence(from_logits=True)],
        # Keras turns XLA off for tensorflow on CPU-only machines ("auto");
        # the tensorflow-xla rows turn it on.
        jit_compile=True if XLA else "auto",
    )
    return model


def worker_throughput(args):
    """Runs in a child process with KERAS_BACKEND set; prints one JSON line."""
    import keras
    import numpy as np

    import keras_memory as km

    class Batches(keras.utils.PyDataset):
        def __init__(self, batches):
            super().__init__()
            self.batches = batches

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, index):
            return self.batches[index]

    keras.utils.set_random_seed(args.seed)
    results = []
    for batch_size, variant in [(b, v) for b in args.batch_sizes for v in args.variants]:
        options = VARIANTS[variant]
        model = build_model(keras, km, 1e-4, options["mask_value"])
        data = copy_task(km, batch_size, args.batches, args.seed, options)
        start = time.perf_counter()
        # One fit step per padded length, through fit as the timed run below
        # (on tensorflow, train_on_batch would trace and compile apart).
        lengths = sorted(data.padded_lengths, reverse=True)
        model.fit(Batches([
            km.tasks.copy_sequences(batch_size, 1, (length - 1) // 2, pad_to=length,
                                    seed=0, padding_value=options["padding_value"])
            for length in lengths[:1] + lengths[:0:-1]  # longest, then shortest up
        ]), epochs=1, verbose=0)
        warmup = time.perf_counter() - start
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        seconds = time.perf_counter() - start
        results.append({
            "backend": keras.backend.backend() + ("-xla" if XLA else ""),
            "variant": variant,
            "batch_size": batch_size,
            "sequences_per_s": args.batches * batch_size / seconds,
            "warmup_s": warmup,
            "graphs": len(data.padded_lengths),
            "finite": bool(np.isfinite(model.evaluate(data, steps=2, verbose=0)[0])),
        })
    print("RESULT " + json.dumps(results), flush=True)


def worker_converge(args):
    import keras
    import numpy as np

    import keras_memory as km

    keras.utils.set_random_seed(args.seed)
    options = VARIANTS[args.variants[0]]
    model = build_model(keras, km, args.learning_rate, options["mask_value"],
                        args.optimizer, args.decay_steps)
    batches = max(1, args.epoch_sequences // args.batch_size)
    data = copy_task(km, args.batch_size, batches, args.seed, options)
    state = {"sequences": None, "seconds": None, "nan": 0}

    class Stop(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            errors = logs["bit_errors_per_sequence"]
            if not np.isfinite(logs["loss"]):
                state["nan"] += 1
            # The learning curve, for whoever watches (the parent keeps stdout).
            print(f"seed {args.seed} epoch {epoch + 1} bit errors {errors:.3f} "
                  f"{time.perf_counter() - self.start:.0f} s", file=sys.stderr, flush=True)
            if errors < args.target:
                state["sequences"] = (epoch + 1) * batches * args.batch_size
                state["seconds"] = time.perf_counter() - self.start
                self.model.stop_training = True

    model.fit(data, epochs=args.max_epochs, verbose=0, callbacks=[Stop()])
    for length in (20, 40):  # fresh sequences of one length each
        x, y, w = km.tasks.copy_sequences(64, length, length, seed=12345)
        metric = km.tasks.BitErrorsPerSequence(from_logits=True)
        metric.update_state(y, model.predict(x, verbose=0), w)
        state[f"errors_at_{length}"] = float(metric.result())
    state["seed"] = args.seed
    print("RESULT " + json.dumps(state), flush=True)


def run_child(args, backend, extra, show_progress=False):
    """Runs a worker; with `show_progress` its stderr (the learning curve)
    goes straight to ours."""
    # "tensorflow-xla": tensorflow with compile(jit_compile=True).
    env = dict(os.environ, KERAS_BACKEND=backend.removesuffix("-xla"),
               BENCH_XLA="1" if backend.endswith("-xla") else "0")
    command = [sys.executable, __file__, "--worker", *extra]
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True,
                            stderr=None if show_progress else subprocess.PIPE)
    line = next((s for s in result.stdout.splitlines() if s.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{backend} worker failed:\n{(result.stderr or '')[-3000:]}")
    return json.loads(line[len("RESULT "):])


def run_baseline(path, batches, batch_size, seed):
    result = subprocess.run(
        [sys.executable, str(path), str(batches), str(batch_size), str(seed), "1-20"],
        capture_output=True, text=True, env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    match = re.search(r"seqs_per_s=([\d.]+).*compile_s=([\d.]+)", result.stdout)
    if not match:
        raise RuntimeError(f"baseline failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return {"sequences_per_s": float(match.group(1)), "warmup_s": float(match.group(2))}


def throughput(args):
    """Per batch size: the baseline, then ours (every backend and variant),
    then the baseline again; ratios are against the mean of the two baseline
    runs, so a machine that speeds up or slows down during the run (this one
    does, by up to 27% within minutes) shows in the `drift` column instead
    of in the ratio."""
    has_baseline = bool(args.baseline) and pathlib.Path(args.baseline).exists()
    rows, baseline = [], {}
    for batch_size in args.batch_sizes:
        before = run_baseline(args.baseline, args.batches, batch_size, args.seed) \
            if has_baseline else None
        for backend in args.backends:
            extra = ["--mode", "throughput", "--batches", str(args.batches),
                     "--batch-sizes", str(batch_size),
                     "--seed", str(args.seed), "--variants", ",".join(args.variants)]
            rows += run_child(args, backend, extra)
        if has_baseline:
            after = run_baseline(args.baseline, args.batches, batch_size, args.seed)
            baseline[batch_size] = {
                key: (before[key] + after[key]) / 2 for key in before
            } | {"drift": after["sequences_per_s"] / before["sequences_per_s"]}
    print(f"\ncopy NTM, lengths 1..20, {args.batches} batches, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{'backend':<14} {'variant':<10} {'batch':>5} {'seq/s':>9} {'base seq/s':>10} "
          f"{'drift':>5} {'ratio':>6} {'warm-up s':>9} {'base warm-up s':>14} {'graphs':>6}")
    nan = float("nan")
    for row in rows:
        base = baseline.get(row["batch_size"], {})
        ratio = row["sequences_per_s"] / base.get("sequences_per_s", nan)
        print(f"{row['backend']:<14} {row['variant']:<10} {row['batch_size']:>5} "
              f"{row['sequences_per_s']:>9.1f} {base.get('sequences_per_s', nan):>10.1f} "
              f"{base.get('drift', nan):>5.2f} {ratio:>6.2f} "
              f"{row['warmup_s']:>9.1f} {base.get('warmup_s', nan):>14.1f} "
              f"{row['graphs']:>6}")
    if baseline:
        print("base seq/s, base warm-up s: mean of the baseline run before and after "
              "ours; drift: after / before")


def converge(args):
    runs = []
    for seed in args.seeds:
        extra = ["--mode", "converge", "--seed", str(seed), "--batch-size",
                 str(args.batch_size), "--target", str(args.target),
                 "--learning-rate", str(args.learning_rate),
                 "--optimizer", args.optimizer, "--decay-steps", str(args.decay_steps),
                 "--max-epochs", str(args.max_epochs),
                 "--epoch-sequences", str(args.epoch_sequences), "--variants", args.variants[0]]
        run = run_child(args, "jax", extra, show_progress=True)
        runs.append(run)
        print(json.dumps(run), flush=True)
    done = [r for r in runs if r["seconds"] is not None]
    print(f"\nconverged {len(done)}/{len(runs)} seeds to < {args.target} bits/sequence")
    if done:
        print(f"median sequences {statistics.median(r['sequences'] for r in done):.0f}, "
              f"median wall {statistics.median(r['seconds'] for r in done):.0f} s, "
              f"NaN epochs {sum(r['nan'] for r in runs)}, "
              f"median errors at length 20 "
              f"{statistics.median(r['errors_at_20'] for r in runs):.3f}, at length 40 "
              f"{statistics.median(r['errors_at_40'] for r in runs):.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["throughput", "converge"], default="throughput")
    parser.add_argument("--backends", default="jax",
                        help="comma-separated: jax, torch, tensorflow, tensorflow-xla "
                             "(tensorflow with compile(jit_compile=True))")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--variants", default="buckets,skipping",
                        help="padded, buckets, masked and/or skipping (converge uses "
                             "the first; the figures in bench/README.md use padded)")
    parser.add_argument("--baseline", default=str(DEFAULT_BASELINE))
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--batch-size", type=int, default=1,
                        help="converge: batch size (default 1, the fastest to converge)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--optimizer", choices=["adam", "rmsprop"], default="adam")
    parser.add_argument("--decay-steps", type=int, default=0,
                        help="converge: cosine-decay the learning rate to a tenth "
                             "over this many batches (0: constant)")
    parser.add_argument("--target", type=float, default=0.1)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--epoch-sequences", type=int, default=800,
                        help="converge: sequences per epoch, the unit the target "
                             "is checked on")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.backends = args.backends.split(",")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.variants = args.variants.split(",")
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown --variants {unknown}; choose from {sorted(VARIANTS)}")
    if args.worker:
        {"throughput": worker_throughput, "converge": worker_converge}[args.mode](args)
    else:
        {"throughput": throughput, "converge": converge}[args.mode](args)


if __name__ == "__main__":
    main()
