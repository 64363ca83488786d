"""How the copy NTM's cost grows with memory rows N, sequence length and batch:
keras-memory on every backend beside the raw-JAX baseline and pytorch-ntm.

    python bench/ntm_scaling.py --backends jax,torch,tensorflow \
        --baseline PATH/ref_jax_ntm.py --peer-ntm PATH/pytorch-ntm

Every side runs once per cell (memory size x length x batch size), each in
its own process (so that its peak memory is its own), stopped past
`--memory-limit` GB or `--time-limit` s; prints sequences per second, peak
resident memory and the ratios of each cell.
"""

import argparse
import os
import time

import harness
import ntm_workers
from ntm_workers import common_options, run_baseline, run_child, run_peer

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
                            raise harness.ChildStopped(f"not run (stopped at N={cliff})")
                        result = run()
                    except harness.ChildStopped as stop:
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


def main(argv=None):
    parser = ntm_workers.add_options(
        argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--sizes", default="128,512,2048,8192", help="memory rows N")
    parser.add_argument("--scaling-lengths", default="20,100,500",
                        help="sequence lengths (one per cell)")
    parser.add_argument("--memory-limit", type=float, default=16.0,
                        help="GB of resident memory past which a cell stops")
    parser.add_argument("--time-limit", type=float, default=600.0,
                        help="seconds past which a cell stops")
    args = ntm_workers.parse(parser, argv)
    args.sizes = [int(n) for n in args.sizes.split(",")]
    args.scaling_lengths = [int(n) for n in args.scaling_lengths.split(",")]
    scaling(args)


if __name__ == "__main__":
    main()
