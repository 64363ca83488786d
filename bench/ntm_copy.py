"""Copy-task NTM throughput: keras-memory beside a hand-written raw-JAX NTM
and pytorch-ntm, in one run.

    python bench/ntm_copy.py --backends jax,torch,tensorflow,tensorflow-xla \
        --lengths 20 --variants padded --baseline PATH/ref_jax_ntm.py \
        --peer-ntm PATH/pytorch-ntm --rounds 3

Every side trains the same model on the same task: the standard copy NTM
(N=128 or `--memory-size`, M=20, LSTM controller 100, one read and one write
head) on 8-bit sequences whose length each batch draws from `--lengths`
(default 1..20; one number: every batch that length, one graph per side).

For every backend asked for (each in its own process, since the backend is
fixed at import; `tensorflow-xla` is tensorflow with
`compile(jit_compile=True)`, which Keras leaves off on CPU-only machines),
at every batch size, and for each way of mixing lengths asked for with
`--variants` (`ntm_workers.VARIANTS`; default `buckets`: 4 padded lengths,
4 graphs, and `skipping`: one length per batch padded to the longest, the
padding masked and skipped, 1 graph):
  - warm-up: seconds until every padded length the data uses has run one
    training step (compilation included);
  - steady state: sequences per second over `--batches` training batches;
and runs the baseline (`--baseline`) and pytorch-ntm (`--peer-ntm`) with
the same sizes just before and just after ours, then prints the ratios of
ours to the mean of each one's two runs. `ntm_scaling.py` shows how the
cost grows with N, length and batch; `ntm_converge.py` the time to learn.
"""

import argparse
import os
import pathlib
import statistics
import time

import harness
import ntm_workers
from ntm_workers import common_options, run_baseline, run_child, run_peer

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
            peer = harness.mean_of(peer_before, run_peer(args, batch_size)) if args.peer_ntm else {}
            baseline = harness.mean_of(before, run_base()) if has_baseline else {}
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


def main(argv=None):
    parser = ntm_workers.add_options(
        argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every comparison this many times; medians over "
                             "rounds and each ratio's range")
    throughput(ntm_workers.parse(parser, argv))


if __name__ == "__main__":
    main()
