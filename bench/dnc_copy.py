"""Copy-task DNC training throughput: keras-memory against the PyTorch DNC.

    pip install --no-deps dnc==1.1.0      # the peer, in a bench-only env
    python bench/dnc_copy.py                                  # jax, torch, tensorflow
    python bench/dnc_copy.py --backends jax --batch-sizes 32 --batches 50

Both sides train the same model on the same batches: a DNC with N=64
rows of M=20, 4 read heads and one write head, an LSTM controller of 100
units, on copy sequences of 8 bits and length 20 (41 steps, fixed so that
each side compiles once), with Adam and a sigmoid cross-entropy. The peer
is the `dnc` package (ixaxaar/pytorch-dnc 1.1.0; `DNC(9, 100, nr_cells=64,
cell_size=20, read_heads=4, num_hidden_layers=1)`); its output has the
input's 9 channels, of which the first 8 are scored.

For each batch size, the peer runs just before and just after ours (every
backend asked for, each in its own process, since the backend is fixed at
import), and the ratio is ours over the mean of the two peer runs; `drift`
is after / before (this machine's speed moves by 20-30% within minutes).
Each figure is sequences per second over `--batches` training steps after
`--warmup` untimed steps (which include compilation).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODEL = dict(memory_size=64, memory_dim=20, controller_size=100, num_read_heads=4)
LENGTH, BITS = 20, 8


def batches(count, batch_size, seed):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from keras_memory.tasks import copy_sequences

    return [copy_sequences(batch_size, LENGTH, LENGTH, num_bits=BITS, seed=seed + i)
            for i in range(count)]


def timed(step, data, warmup):
    for inputs, targets, weights in data[:warmup]:
        step(inputs, targets, weights)
    start = time.perf_counter()
    for inputs, targets, weights in data[warmup:]:
        step(inputs, targets, weights)
    seconds = time.perf_counter() - start
    return (len(data) - warmup) * len(data[0][0]) / seconds


def worker_ours(args):
    import keras

    import keras_memory as km

    keras.utils.set_random_seed(0)
    model = km.dnc(BITS + 1, **MODEL, output_size=BITS)
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  jit_compile=args.xla or "auto")
    data = batches(args.warmup + args.batches, args.batch_size, args.seed)
    rate = timed(lambda x, y, w: model.train_on_batch(x, y, sample_weight=w), data,
                 args.warmup)
    return {"sequences_per_s": rate}


def worker_peer(args):
    import torch
    from dnc import DNC

    torch.manual_seed(0)
    model = DNC(BITS + 1, 100, rnn_type="lstm", num_layers=1, num_hidden_layers=1,
                nr_cells=MODEL["memory_size"], cell_size=MODEL["memory_dim"],
                read_heads=MODEL["num_read_heads"], gpu_id=-1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")

    def step(inputs, targets, weights):
        optimizer.zero_grad()
        outputs, _ = model(torch.from_numpy(inputs), (None, None, None),
                           reset_experience=True, pass_through_memory=True)
        losses = loss_fn(outputs[..., :BITS], torch.from_numpy(targets)).mean(-1)
        weights = torch.from_numpy(weights)
        (losses * weights).sum().div(weights.sum()).backward()
        optimizer.step()

    data = batches(args.warmup + args.batches, args.batch_size, args.seed)
    return {"sequences_per_s": timed(step, data, args.warmup)}


def run_worker(args, side, backend, batch_size):
    env = dict(os.environ, KERAS_BACKEND=backend.removesuffix("-xla"))
    command = [sys.executable, __file__, "--worker", side, "--batch-size", str(batch_size),
               "--batches", str(args.batches), "--warmup", str(args.warmup),
               "--seed", str(args.seed)] + (["--xla"] if backend.endswith("-xla") else [])
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    line = next((s for s in result.stdout.splitlines() if s.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{side} {backend} failed:\n{result.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])["sequences_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backends", default="jax,torch,tensorflow",
                        help="ours on these (tensorflow-xla: compile(jit_compile=True))")
    parser.add_argument("--batch-sizes", default="1,32", help="comma-separated")
    parser.add_argument("--batches", type=int, default=30, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--seed", type=int, default=0, help="seed of the copy batches")
    parser.add_argument("--rounds", type=int, default=1,
                        help="peer, ours, peer cycles per batch size; the table gives the "
                             "median over rounds and the range of the ratio")
    parser.add_argument("--no-peer", dest="peer", action="store_false",
                        help="ours only (the peer's columns are nan)")
    parser.add_argument("--worker", choices=["ours", "peer"], help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--xla", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = (worker_ours if args.worker == "ours" else worker_peer)(args)
        print("RESULT " + json.dumps(result), flush=True)
        return
    rows, nan = [], float("nan")
    backends = args.backends.split(",")
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        runs = {b: [] for b in backends}  # (ours, peer, drift) per round
        for _ in range(args.rounds):
            def peer(batch_size=batch_size):
                return run_worker(args, "peer", "torch", batch_size) if args.peer else nan

            before = peer()
            ours = {b: run_worker(args, "ours", b, batch_size) for b in backends}
            after = peer()
            for b, rate in ours.items():
                runs[b].append((rate, (before + after) / 2, after / before))
        for b, measured in runs.items():
            ratios = [rate / peer for rate, peer, _ in measured]
            rows.append((b, batch_size, statistics.median(r for r, _, _ in measured),
                         statistics.median(p for _, p, _ in measured),
                         statistics.median(d for _, _, d in measured),
                         statistics.median(ratios), min(ratios), max(ratios)))
    print(f"\ncopy DNC (N=64, M=20, 4 read heads, LSTM 100), length 20, "
          f"{args.batches} steps, {args.rounds} round(s), {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{'backend':<15} {'batch':>5} {'seq/s':>8} {'peer seq/s':>10} {'drift':>6} "
          f"{'ratio':>6} {'range':>11}")
    for backend, batch_size, rate, peer, drift, ratio, low, high in rows:
        print(f"{backend:<15} {batch_size:>5} {rate:>8.1f} {peer:>10.1f} {drift:>6.2f} "
              f"{ratio:>6.2f} {low:>5.2f}-{high:<5.2f}")
    print("peer: the PyTorch DNC (dnc 1.1.0) on torch, mean of its runs just before and "
          "after ours; drift: after / before; medians over rounds")


if __name__ == "__main__":
    main()
