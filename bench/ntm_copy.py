"""Copy-task NTM benchmark: keras-memory against a hand-written JAX NTM and
pytorch-ntm.

    python bench/ntm_copy.py                          # throughput, jax
    python bench/ntm_copy.py --backends jax,torch,tensorflow,tensorflow-xla \
        --lengths 20 --variants padded --peer-ntm ../shared/peers/pytorch-ntm
    python bench/ntm_copy.py --scaling --backends jax,torch,tensorflow \
        --peer-ntm ../shared/peers/pytorch-ntm
    python bench/ntm_copy.py --mode converge --seeds 0,1,2

Every side trains the same model on the same task: the standard copy NTM
(N=128 or `--memory-size`, M=20, LSTM controller 100, one read and one write
head) on 8-bit sequences whose length each batch draws from `--lengths`
(default 1..20; one number: every batch that length, one graph per side).

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
ref_jax_ntm.py) and, with `--peer-ntm PATH`, pytorch-ntm (its own training
loop, one time step per call) with the same sizes just before and just
after ours, then prints the ratios of ours to the mean of each one's two runs.

`scaling` (`--scaling`) runs every side once per memory size (`--sizes`),
sequence length (`--scaling-lengths`, one per cell) and batch size, each in
its own process, stopped past `--memory-limit` GB or `--time-limit` s, and
prints sequences per second, peak memory and the ratios of each cell.

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
import resource
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


def copy_task(km, batch_size, batches, seed, options, lengths=(1, 20)):
    return km.tasks.CopyTask(batch_size, batches, min_length=lengths[0],
                             max_length=lengths[1], buckets=options["buckets"],
                             pad=options.get("pad", "bucket"), seed=seed,
                             padding_value=options["padding_value"])


def parse_lengths(text):
    """"1-20" -> (1, 20); "20" -> (20, 20)."""
    low, _, high = text.partition("-")
    low, high = int(low), int(high or low)
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError(f"lengths must be A-B with 1 <= A <= B, got {text}")
    return low, high


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


def peak_gb():
    """This process's peak resident memory so far, framework included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


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
            "peak_gb": peak_gb(),
            "backend": keras.backend.backend() + ("-xla" if XLA else ""),
            "variant": variant,
            "batch_size": batch_size,
            "sequences_per_s": args.batches * batch_size / seconds,
            "warmup_s": warmup,
            "graphs": len(data.padded_lengths),
            "finite": bool(np.isfinite(model.evaluate(data, steps=2, verbose=0)[0])),
        })
    print("RESULT " + json.dumps(results), flush=True)


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
                        "peak_gb": peak_gb(),
                        "sequences_per_s": args.batches * batch_size / seconds,
                        "finite": bool(np.all(np.isfinite(losses)))})
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


class ChildStopped(RuntimeError):
    """A worker stopped by `run_limited` (memory or time) or failed."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}\n{detail}")
        self.reason = reason


def run_limited(command, env, show_progress=False, memory_gb=None, seconds=None):
    """Runs `command`; kills it once its resident memory passes `memory_gb`
    or its wall time `seconds` (ChildStopped says which). Returns stdout."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True,
                               stderr=None if show_progress else subprocess.PIPE)
    start, reason = time.perf_counter(), None
    while process.poll() is None:
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if memory_gb and resident_gb(process.pid) > memory_gb:
            reason = f"out of memory (> {memory_gb:g} GB)"
        elif seconds and time.perf_counter() - start > seconds:
            reason = f"too slow (> {seconds:g} s)"
        if reason:
            process.kill()
            break
    stdout, stderr = process.communicate()
    if reason:
        raise ChildStopped(reason)
    if process.returncode:
        raise ChildStopped("failed", (stderr or "")[-3000:])
    return stdout


def resident_gb(pid):
    """A running process's resident memory (Linux /proc), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            line = next(s for s in status if s.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0.0
    return int(line.split()[1]) / 2**20


def result_line(stdout, who):
    line = next((s for s in stdout.splitlines() if s.startswith("RESULT ")), None)
    if line is None:
        raise ChildStopped("failed", f"{who}: no RESULT line\n{stdout[-2000:]}")
    return line[len("RESULT "):]


def run_child(args, backend, extra, show_progress=False, **limits):
    """Runs a worker; with `show_progress` its stderr (the learning curve)
    goes straight to ours. `limits`: see `run_limited`."""
    # "tensorflow-xla": tensorflow with compile(jit_compile=True).
    env = dict(os.environ, KERAS_BACKEND=backend.removesuffix("-xla"),
               BENCH_XLA="1" if backend.endswith("-xla") else "0")
    command = [sys.executable, __file__, "--worker", *extra]
    stdout = run_limited(command, env, show_progress, **limits)
    return json.loads(result_line(stdout, backend))


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
    stdout = run_limited(
        [sys.executable, "-c", code, str(path), str(memory_size), str(batches),
         str(batch_size), str(seed), f"{lengths[0]}-{lengths[1]}"],
        env=dict(os.environ, JAX_PLATFORMS="cpu"), **limits,
    )
    match = re.search(r"seqs_per_s=([\d.]+).*compile_s=([\d.]+)", stdout)
    peak = re.search(r"^PEAK ([\d.]+)", stdout, re.MULTILINE)
    if not match:
        raise ChildStopped("failed", f"baseline: no RESULT line\n{stdout[-2000:]}")
    return {"sequences_per_s": float(match.group(1)), "warmup_s": float(match.group(2)),
            "peak_gb": float(peak.group(1)) if peak else float("nan")}


def common_options(args, batch_size):
    return ["--batches", str(args.batches), "--batch-sizes", str(batch_size),
            "--seed", str(args.seed), "--lengths", f"{args.lengths[0]}-{args.lengths[1]}",
            "--memory-size", str(args.memory_size)]


def run_peer(args, batch_size, **limits):
    return run_child(args, "torch", ["--mode", "peer", "--peer-ntm", args.peer_ntm,
                                     *common_options(args, batch_size)], **limits)[0]


def mean_of(before, after):
    """The two runs of a comparison, averaged; drift = after / before."""
    return {key: (before[key] + after[key]) / 2 for key in ("sequences_per_s",)} | {
        "warmup_s": (before.get("warmup_s", 0) + after.get("warmup_s", 0)) / 2,
        "drift": after["sequences_per_s"] / before["sequences_per_s"],
    }


def throughput(args):
    """Per batch size and round: the baseline and the peer, then ours (every
    backend and variant), then the peer and the baseline again; ratios are
    against the mean of each comparison's two runs, so a machine that speeds
    up or slows down during the run (this one does, by up to 27% within
    minutes) shows in the `drift` columns instead of in the ratios. With
    `--rounds` above 1 every figure is the median over the rounds, and each
    ratio's range follows it."""
    has_baseline = bool(args.baseline) and pathlib.Path(args.baseline).exists()
    runs = {}  # (backend, variant, batch size) -> [(our row, baseline, peer)]
    for batch_size in args.batch_sizes:
        def run_base(batch_size=batch_size):
            return run_baseline(args.baseline, args.batches, batch_size, args.seed,
                                args.lengths, args.memory_size)

        for _ in range(args.rounds):
            before = run_base() if has_baseline else None
            peer_before = run_peer(args, batch_size) if args.peer_ntm else None
            rows = []
            for backend in args.backends:
                rows += run_child(args, backend, ["--mode", "throughput",
                                                  "--variants", ",".join(args.variants),
                                                  *common_options(args, batch_size)])
            peer = mean_of(peer_before, run_peer(args, batch_size)) if args.peer_ntm else {}
            baseline = mean_of(before, run_base()) if has_baseline else {}
            for row in rows:
                key = (row["backend"], row["variant"], row["batch_size"])
                runs.setdefault(key, []).append((row, baseline, peer))
    print(f"\ncopy NTM, N={args.memory_size}, lengths {args.lengths[0]}..{args.lengths[1]}, "
          f"{args.batches} batches, {args.rounds} round(s), {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{'backend':<14} {'variant':<10} {'batch':>5} {'seq/s':>8} {'base':>7} "
          f"{'drift':>5} {'ratio':>6} {'range':>11} {'peer':>6} {'drift':>5} {'ratio':>6} "
          f"{'range':>11} {'warm-up s':>9} {'base warm-up s':>14} {'graphs':>6}")
    nan = float("nan")

    def median(values):
        values = [v for v in values if v == v]  # no NaN
        return statistics.median(values) if values else nan

    def ratio_columns(measured, side):
        """Drift, ratio and its range against `side` (1: baseline, 2: peer)."""
        ratios = [entry[0]["sequences_per_s"] / entry[side].get("sequences_per_s", nan)
                  for entry in measured]
        valid = [r for r in ratios if r == r] or [nan]
        return (f"{median(entry[side].get('drift', nan) for entry in measured):>5.2f} "
                f"{median(ratios):>6.2f} {min(valid):>5.2f}-{max(valid):<5.2f}")

    for (backend, variant, batch_size), measured in runs.items():
        speeds = [row["sequences_per_s"] for row, _, _ in measured]
        print(f"{backend:<14} {variant:<10} {batch_size:>5} {median(speeds):>8.1f} "
              f"{median(b.get('sequences_per_s', nan) for _, b, _ in measured):>7.1f} "
              f"{ratio_columns(measured, 1)} "
              f"{median(p.get('sequences_per_s', nan) for _, _, p in measured):>6.1f} "
              f"{ratio_columns(measured, 2)} "
              f"{median(row['warmup_s'] for row, _, _ in measured):>9.1f} "
              f"{median(b.get('warmup_s', nan) for _, b, _ in measured):>14.1f} "
              f"{measured[0][0]['graphs']:>6}")
    print("base: the raw-JAX baseline, peer: pytorch-ntm (--peer-ntm), sequences per "
          "second, the mean of the runs before and after ours; drift: after / before; "
          "ratio: ours / that mean; medians over rounds, range: the ratio's lowest and "
          "highest round")


def scaling(args):
    """How cost grows: for every memory size in `--sizes`, length in
    `--scaling-lengths` and batch size, the baseline, pytorch-ntm (with
    `--peer-ntm`) and ours on every backend, one after another, each in its
    own process (so that its peak memory is its own) and each stopped past
    `--memory-limit` GB or `--time-limit` seconds; prints a row per cell as
    it goes, then the table."""
    limits = dict(memory_gb=args.memory_limit, seconds=args.time_limit)
    header = (f"{'N':>5} {'length':>6} {'batch':>5} {'side':<14} {'seq/s':>8} "
              f"{'peak GB':>7} {'vs base':>7} {'vs peer':>7}  note")
    print(f"copy NTM scaling, {args.batches} timed batches a cell, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d')}, limits {args.memory_limit:g} GB, "
          f"{args.time_limit:g} s a cell\n{header}", flush=True)
    lines, stopped = [], {}  # (side, length, batch) -> the size it stopped at
    for size in args.sizes:  # smallest first: past a side's cliff, larger N are skipped
        for length in args.scaling_lengths:
            for batch_size in args.batch_sizes:
                cell = argparse.Namespace(**vars(args))
                cell.memory_size, cell.lengths = size, (length, length)
                sides = [("raw-jax", lambda b=batch_size, c=cell: run_baseline(
                    c.baseline, c.batches, b, c.seed, c.lengths, c.memory_size, **limits))]
                if args.peer_ntm:
                    sides.append(("pytorch-ntm", lambda b=batch_size, c=cell: run_peer(
                        c, b, **limits)))
                sides += [(backend, lambda b=batch_size, c=cell, k=backend: run_child(
                    c, k, ["--mode", "throughput", "--variants", "padded",
                           *common_options(c, b)], **limits)[0])
                          for backend in args.backends]
                speeds = {}
                for name, run in sides:
                    cliff = stopped.get((name, length, batch_size))
                    try:
                        if cliff:
                            raise ChildStopped(f"not run (stopped at N={cliff})")
                        result = run()
                    except ChildStopped as stop:
                        result = {"note": stop.reason}
                        stopped.setdefault((name, length, batch_size), size)
                    speed = result.get("sequences_per_s")
                    speeds[name] = speed
                    ratios = [
                        f"{speed / speeds[other]:>7.2f}" if speed and speeds.get(other)
                        and name not in ("raw-jax", "pytorch-ntm") else f"{'':>7}"
                        for other in ("raw-jax", "pytorch-ntm")
                    ]
                    line = (f"{size:>5} {length:>6} {batch_size:>5} {name:<14} "
                            + (f"{speed:>8.2f} " if speed else f"{'-':>8} ")
                            + f"{result.get('peak_gb', float('nan')):>7.2f} "
                            + " ".join(ratios) + f"  {result.get('note', '')}")
                    lines.append(line)
                    print(line, flush=True)
    print(f"\n{header}\n" + "\n".join(lines))
    print("seq/s: training sequences per second; peak GB: the process's peak "
          "resident memory (framework included); vs base / vs peer: ours over the "
          "raw-JAX baseline / pytorch-ntm in the same cell")


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
    parser.add_argument("--mode", choices=["throughput", "converge", "scaling", "peer"],
                        default="throughput",
                        help="scaling: see --scaling; peer: pytorch-ntm alone "
                             "(what --peer-ntm runs)")
    parser.add_argument("--scaling", dest="mode", action="store_const", const="scaling",
                        help="the scaling table: --sizes x --scaling-lengths x "
                             "--batch-sizes, every side")
    parser.add_argument("--sizes", default="128,512,2048,8192",
                        help="scaling: memory rows N")
    parser.add_argument("--scaling-lengths", default="20,100,500",
                        help="scaling: sequence lengths (one per cell)")
    parser.add_argument("--memory-limit", type=float, default=16.0,
                        help="scaling: GB of resident memory past which a cell stops")
    parser.add_argument("--time-limit", type=float, default=600.0,
                        help="scaling: seconds past which a cell stops")
    parser.add_argument("--backends", default="jax",
                        help="comma-separated: jax, torch, tensorflow, tensorflow-xla "
                             "(tensorflow with compile(jit_compile=True))")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1,
                        help="throughput: repeat every comparison this many times; "
                             "medians over rounds and each ratio's range")
    parser.add_argument("--variants", default="buckets,skipping",
                        help="padded, buckets, masked and/or skipping (converge uses "
                             "the first; the figures in bench/README.md use padded)")
    parser.add_argument("--baseline", default=str(DEFAULT_BASELINE))
    parser.add_argument("--peer-ntm", default=None, metavar="PATH",
                        help="a checkout of pytorch-ntm (the folder holding its `ntm` "
                             "package, e.g. ../shared/peers/pytorch-ntm): run it on the "
                             "same task and sizes, before and after ours")
    parser.add_argument("--lengths", type=parse_lengths, default=(1, 20),
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
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.backends = args.backends.split(",")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.sizes = [int(n) for n in args.sizes.split(",")]
    args.scaling_lengths = [int(n) for n in args.scaling_lengths.split(",")]
    args.variants = args.variants.split(",")
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown --variants {unknown}; choose from {sorted(VARIANTS)}")
    if args.worker:
        {"throughput": worker_throughput, "converge": worker_converge,
         "peer": worker_peer}[args.mode](args)
    else:
        {"throughput": throughput, "converge": converge,
         "scaling": scaling}[args.mode](args)


if __name__ == "__main__":
    main()
