"""One benchmark on two checkouts of keras-memory, alternately, in one run.

    python bench/before_after.py --before ../old --after . --rounds 2 -- \
        bench/ntm_copy.py --backends jax,torch,tensorflow --batch-sizes 1,32 \
        --lengths 20 --variants padded --batches 40

Runs the benchmark script (after `--`, a path in this repository: the same
script for both sides) with `PYTHONPATH` set to each checkout in turn,
before then after, after then before, ... for `--rounds` rounds, reads the rows it
prints (a backend name, then the batch size, then sequences per second:
`ntm_copy.py`'s and `dnc_copy.py`'s tables) and prints, per backend and
batch size, the median sequences per second of each side and the ratio
after / before with its range over rounds. The machine's speed drifts by
20-30% within minutes: alternating puts both sides under the same drift.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

BACKENDS = ("jax", "torch", "tensorflow", "tensorflow-xla")


def rows(stdout):
    """`{(backend, batch): sequences per second}` from a benchmark's table."""
    found = {}
    for line in stdout.splitlines():
        tokens = line.split()
        if not tokens or tokens[0] not in BACKENDS:
            continue
        numbers = []
        for token in tokens[1:]:
            try:
                numbers.append(float(token))
            except ValueError:
                if numbers:
                    break
        if len(numbers) >= 2 and numbers[0].is_integer():
            found[(tokens[0], int(numbers[0]))] = numbers[1]
    return found


def run(checkout, command):
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(checkout).resolve()))
    result = subprocess.run([sys.executable, *command], env=env, capture_output=True,
                            text=True)
    if result.returncode:
        raise SystemExit(f"{checkout}: {' '.join(command)} failed\n{result.stderr[-3000:]}")
    found = rows(result.stdout)
    if not found:
        raise SystemExit(f"{checkout}: no table rows in\n{result.stdout[-2000:]}")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--before", required=True, help="checkout of the old code")
    parser.add_argument("--after", default=".", help="checkout of the new code")
    parser.add_argument("--rounds", type=int, default=2, help="before/after pairs")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- then the benchmark script and its options")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    runs = {"before": [], "after": []}
    for round_index in range(args.rounds):
        # ABBA: odd rounds run the new code first, so that a machine that
        # speeds up or slows down during the run favours neither side.
        order = ("before", "after") if round_index % 2 == 0 else ("after", "before")
        for side in order:
            runs[side].append(run(getattr(args, side), command))
            print(f"round {round_index + 1} {side}: {runs[side][-1]}", flush=True)
    print(f"\n{' '.join(command)}\n{args.rounds} round(s), {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{'backend':<15} {'batch':>5} {'before':>8} {'after':>8} {'ratio':>6} {'range':>11}")
    for key in sorted(runs["before"][0]):
        before = [r[key] for r in runs["before"]]
        after = [r[key] for r in runs["after"]]
        ratios = [a / b for a, b in zip(after, before)]
        print(f"{key[0]:<15} {key[1]:>5} {statistics.median(before):>8.1f} "
              f"{statistics.median(after):>8.1f} {statistics.median(ratios):>6.2f} "
              f"{min(ratios):>5.2f}-{max(ratios):<5.2f}")
    print("sequences per second, medians over rounds; ratio: after / before within "
          "each round (the two sides run back to back, in alternating order)")


if __name__ == "__main__":
    main()
