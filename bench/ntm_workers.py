"""The copy NTM of the NTM benchmarks: model, task, the workers that train
it (ours on a backend, pytorch-ntm, the raw-JAX baseline) and their options.

`ntm_copy.py` (throughput), `ntm_scaling.py` (cost as N, length and batch
grow) and `ntm_converge.py` (time to learn) run these workers, each in a
child process: `python bench/ntm_workers.py --worker --mode ...`.
"""

import argparse
import os
import pathlib
import re
import sys
import time

import harness

HERE = pathlib.Path(__file__).resolve().parent
MODEL = dict(memory_size=128, memory_dim=20, controller_size=100, num_heads=1)
PADDING = -1.0
# Set by harness.run_worker for "tensorflow-xla": compile(jit_compile=True).
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


def copy_task(km, batch_size, batches, seed, options, lengths=(1, 20)):
    return km.tasks.CopyTask(batch_size, batches, min_length=lengths[0],
                             max_length=lengths[1], buckets=options["buckets"],
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


def build_model(keras, km, learning_rate, mask_value, optimizer="adam", decay_steps=0,
                memory_size=MODEL["memory_size"]):
    model = km.ntm(9, output_size=8, mask_value=mask_value,
                   **(MODEL | {"memory_size": memory_size}))
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
        model = build_model(keras, km, 1e-4, options["mask_value"],
                            memory_size=args.memory_size)
        data = copy_task(km, batch_size, args.batches, args.seed, options, args.lengths)
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
            "peak_gb": harness.peak_gb(),
            "backend": keras.backend.backend() + ("-xla" if XLA else ""),
            "variant": variant,
            "batch_size": batch_size,
            "sequences_per_s": args.batches * batch_size / seconds,
            "warmup_s": warmup,
            "graphs": len(data.padded_lengths),
            "finite": bool(np.isfinite(model.evaluate(data, steps=2, verbose=0)[0])),
        })
    harness.report(results)


def peer_train_batch(peer, batch_size, length, seed):
    """One pytorch-ntm training step on a copy batch of one length, as its
    copy task trains: one time step per call, BCE on the L output steps,
    gradients clipped to [-10, 10]. Returns the loss."""
    import torch

    import keras_memory as km

    net, optimizer, criterion = peer
    x, y, _ = km.tasks.copy_sequences(batch_size, length, length, seed=seed)
    inputs = torch.from_numpy(x[:, : length + 1].transpose(1, 0, 2).copy())
    targets = torch.from_numpy(y[:, length + 1:].transpose(1, 0, 2).copy())
    optimizer.zero_grad()
    net.init_sequence(batch_size)
    for step in range(length + 1):
        net(inputs[step])
    outputs = torch.zeros(targets.size())
    for step in range(length):
        outputs[step], _ = net()
    loss = criterion(outputs, targets)
    loss.backward()
    for parameter in net.parameters():
        parameter.grad.data.clamp_(-10, 10)
    optimizer.step()
    return loss.item()


def worker_peer(args):
    """pytorch-ntm (`--peer-ntm`) on the same task and sizes (RMSprop 1e-4,
    momentum 0.9, as in its copy task), timed over `--batches` batches after
    one warm-up batch; prints one JSON line."""
    import numpy as np
    import torch

    sys.path.insert(0, args.peer_ntm)
    from ntm.aio import EncapsulatedNTM

    torch.manual_seed(args.seed)
    results = []
    low, high = args.lengths
    for batch_size in args.batch_sizes:
        net = EncapsulatedNTM(9, 8, MODEL["controller_size"], 1, MODEL["num_heads"],
                              args.memory_size, MODEL["memory_dim"])
        optimizer = torch.optim.RMSprop(net.parameters(), momentum=0.9, alpha=0.95,
                                        lr=1e-4)
        peer = (net, optimizer, torch.nn.BCELoss())
        rng = np.random.default_rng(args.seed)
        peer_train_batch(peer, batch_size, high, seed=0)  # warm-up
        lengths = rng.integers(low, high + 1, size=args.batches)
        start = time.perf_counter()
        losses = [peer_train_batch(peer, batch_size, int(length), seed=index + 1)
                  for index, length in enumerate(lengths)]
        seconds = time.perf_counter() - start
        results.append({"backend": "pytorch-ntm", "batch_size": batch_size,
                        "peak_gb": harness.peak_gb(),
                        "sequences_per_s": args.batches * batch_size / seconds,
                        "finite": bool(np.all(np.isfinite(losses)))})
    harness.report(results)


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
    harness.report(state)


def run_baseline(path, batches, batch_size, seed, lengths=(1, 20), memory_size=128,
                 **limits):
    """The raw-JAX baseline as it is, or with its memory rows set to
    `memory_size` (its `N` constant replaced in the text it runs; the file
    is not changed). `limits`: see `run_limited`."""
    code = (
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1]); rows = sys.argv[2]; sys.argv = sys.argv[2:]\n"
        "old = 'W, N, M, H = 8, 128,'\n"
        "source = path.read_text()\n"
        "assert old in source, 'the baseline no longer sets N where the bench looks'\n"
        "source = source.replace(old, 'W, N, M, H = 8, ' + rows + ',')\n"
        "exec(compile(source, str(path), 'exec'), {'__name__': '__main__'})\n"
        "import resource\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)\n"
    )
    stdout = harness.run_limited(
        [sys.executable, "-c", code, str(path), str(memory_size), str(batches),
         str(batch_size), str(seed), f"{lengths[0]}-{lengths[1]}"],
        env=dict(os.environ, JAX_PLATFORMS="cpu"), **limits,
    )
    match = re.search(r"seqs_per_s=([\d.]+).*compile_s=([\d.]+)", stdout)
    peak = re.search(r"^PEAK ([\d.]+)", stdout, re.MULTILINE)
    if not match:
        raise harness.ChildStopped("failed", f"baseline: no RESULT line\n{stdout[-2000:]}")
    return {"sequences_per_s": float(match.group(1)), "warmup_s": float(match.group(2)),
            "peak_gb": float(peak.group(1)) if peak else float("nan")}


def common_options(args, batch_size):
    return ["--batches", str(args.batches), "--batch-sizes", str(batch_size),
            "--seed", str(args.seed), "--lengths", f"{args.lengths[0]}-{args.lengths[1]}",
            "--memory-size", str(args.memory_size)]


def run_peer(args, batch_size, **limits):
    return run_child(args, "torch", ["--mode", "peer", "--peer-ntm", args.peer_ntm,
                                     *common_options(args, batch_size)], **limits)[0]


def run_child(args, backend, extra, show_progress=False, **limits):
    """A worker of this module (`--mode` in `extra`) on `backend`."""
    return harness.run_worker(__file__, backend, extra, show_progress, **limits)


def add_options(parser):
    """The options every NTM benchmark and its workers share."""
    parser.add_argument("--backends", default="jax",
                        help="comma-separated: jax, torch, tensorflow, tensorflow-xla "
                             "(tensorflow with compile(jit_compile=True))")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--variants", default="buckets,skipping",
                        help="padded, buckets, masked and/or skipping (converge uses "
                             "the first; the figures in bench/README.md use padded)")
    parser.add_argument("--baseline", default=None, metavar="PATH",
                        help="the raw-JAX NTM baseline script (ref_jax_ntm.py), run "
                             "before and after ours; none if not given")
    parser.add_argument("--peer-ntm", default=None, metavar="PATH",
                        help="a checkout of pytorch-ntm (the folder holding its `ntm` "
                             "package): run it on the same task and sizes, before "
                             "and after ours")
    parser.add_argument("--lengths", type=harness.parse_lengths, default=(1, 20),
                        help="sequence lengths, A-B (each batch draws one) or one "
                             "number (every batch that length: one graph per side)")
    parser.add_argument("--memory-size", type=int, default=MODEL["memory_size"],
                        help="memory rows N, for every side")
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
    return parser


def parse(parser, argv=None):
    """Parses and splits the comma-separated options."""
    args = parser.parse_args(argv)
    args.backends = args.backends.split(",")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.variants = args.variants.split(",")
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown --variants {unknown}; choose from {sorted(VARIANTS)}")
    return args


def main():
    parser = add_options(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--mode", choices=["throughput", "converge", "peer"], required=True)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parse(parser)
    {"throughput": worker_throughput, "converge": worker_converge,
     "peer": worker_peer}[args.mode](args)


if __name__ == "__main__":
    main()
