"""Peak memory of one DNC training step as the memory grows: which N fits.

    python bench/dnc_memory.py                          # jax, torch, tensorflow
    python bench/dnc_memory.py --backends torch --sizes 256,512

The DNC's state holds a link matrix per write head, `[batch, W, N, N]`, so
its memory grows as N^2, and training keeps one per time step for the
backward pass. For each backend and each N, a fresh process builds the
copy DNC of `dnc_copy.py` (M=20, 4 read heads, one write head, LSTM 100)
with N rows, runs `--steps` training steps at `--batch-size` on copy
sequences of length 20 (41 time steps), and reports its peak resident
memory (`ru_maxrss`, which includes the framework's own: the first row
shows what a small model costs) and the seconds per step. A size is skipped
on a backend once a smaller one went over `--limit-gb`.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

LENGTH, BITS = 20, 8


def worker(args):
    import keras

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import keras_memory as km
    from keras_memory.tasks import copy_sequences

    keras.utils.set_random_seed(0)
    model = km.dnc(BITS + 1, memory_size=args.size, memory_dim=20, controller_size=100,
                   num_read_heads=4, output_size=BITS)
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    inputs, targets, weights = copy_sequences(args.batch_size, LENGTH, LENGTH,
                                              num_bits=BITS, seed=0)
    model.train_on_batch(inputs, targets, sample_weight=weights)  # compiles
    start = time.perf_counter()
    for _ in range(args.steps):
        model.train_on_batch(inputs, targets, sample_weight=weights)
    seconds = (time.perf_counter() - start) / args.steps
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    return {"peak_gb": peak_gb, "seconds_per_step": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backends", default="jax,torch,tensorflow")
    parser.add_argument("--sizes", default="64,128,256,512,1024", help="values of N")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=1, help="timed steps after the first")
    parser.add_argument("--limit-gb", type=float, default=8.0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(args)), flush=True)
        return
    print(f"DNC training step, batch {args.batch_size}, 41 time steps, M=20, R=4, W=1, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}")
    print(f"{'backend':<12} {'N':>5} {'link MB/step':>12} {'peak GB':>8} {'s/step':>7}")
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            command = [sys.executable, __file__, "--worker", "--size", str(size),
                       "--batch-size", str(args.batch_size), "--steps", str(args.steps)]
            result = subprocess.run(command, env=dict(os.environ, KERAS_BACKEND=backend),
                                    capture_output=True, text=True)
            line = next((s for s in result.stdout.splitlines() if s.startswith("RESULT ")),
                        None)
            link_mb = args.batch_size * size * size * 4 / 2**20
            if line is None:
                print(f"{backend:<12} {size:>5} {link_mb:>12.1f} {'failed':>8}  "
                      f"{result.stderr.strip().splitlines()[-1:]}")
                break
            figures = json.loads(line[len("RESULT "):])
            print(f"{backend:<12} {size:>5} {link_mb:>12.1f} {figures['peak_gb']:>8.2f} "
                  f"{figures['seconds_per_step']:>7.2f}", flush=True)
            if figures["peak_gb"] > args.limit_gb:
                break


if __name__ == "__main__":
    main()
