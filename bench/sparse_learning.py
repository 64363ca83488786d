"""How many training sequences a Sparse Access Memory needs, beside the dense
NTM (and the sparse DNC beside the DNC), and how a SAM trained small runs
with a large memory on long sequences.

    python bench/sparse_learning.py                      # copy, 3 seeds, jax
    python bench/sparse_learning.py --tasks copy,associative_recall --jobs 2
    python bench/sparse_learning.py --long-size 65536 --long-lengths 20,100,1000
    python bench/sparse_learning.py --models dnc,sdnc --jobs 2

Each (task, model, seed) runs `examples/copy_task.py` in its own process
with the example's settings (N=128, M=20, LSTM 100, one read head, Adam
1e-3, clipnorm 10, batch 1; the SAM and the SDNC read K=4 rows a head, the
SDNC keeps K_L=8 links a row) until an epoch of 800 sequences averages
under `--target` bit errors per sequence, or `--sequences` sequences. The
table gives, per task and model, the sequences each seed took and their
median, and a sparse model's median over its dense counterpart's (SAM over
NTM, SDNC over DNC; the issue's target: at most 2).

With `--long-size`, each SAM trained on the copy task is rebuilt with that
many rows (the weights do not depend on N), and copies `--long-batch`
fresh sequences of each of `--long-lengths`: its bit errors per sequence
(of 8 x length bits) are printed.
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile

DENSE = {"sam": "ntm", "sdnc": "dnc"}  # each sparse model's dense counterpart
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                       "copy_task.py")


def run(task, model, seed, args):
    """One training run: its curve.json, and the SAM's long copy."""
    with tempfile.TemporaryDirectory() as directory:
        command = [sys.executable, EXAMPLE, "--backend", args.backend, "--task", task,
                   "--model", model, "--seed", str(seed), "--steps", str(args.sequences),
                   "--target", str(args.target), "--eval-lengths", "20",
                   "--output-dir", directory]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            return {"task": task, "model": model, "seed": seed,
                    "error": done.stderr.strip().splitlines()[-1]}
        with open(os.path.join(directory, "curve.json")) as handle:
            record = json.load(handle)
        last = record["curve"][-1]
        row = {"task": task, "model": model, "seed": seed,
               "converged": last["bit_errors_per_sequence"] < args.target,
               "sequences": last["sequences"], "seconds": last["seconds"],
               "bits": last["bit_errors_per_sequence"]}
        if model == "sam" and task == "copy" and args.long_size:
            command = [sys.executable, __file__, "--long-worker",
                       os.path.join(directory, f"{task}_{model}.keras"),
                       "--long-size", str(args.long_size), "--long-lengths",
                       args.long_lengths, "--long-batch", str(args.long_batch),
                       "--backend", args.backend]
            done = subprocess.run(command, capture_output=True, text=True,
                                  env=dict(os.environ, KERAS_BACKEND=args.backend))
            row["long"] = (json.loads(done.stdout.strip().splitlines()[-1]) if not done.returncode
                           else {"error": done.stderr.strip().splitlines()[-1]})
    print(json.dumps(row), flush=True)
    return row


def long_copy(args):
    """The saved SAM's weights in a SAM of `--long-size` rows, on long copies."""
    import time

    import keras

    import keras_memory as km

    trained = keras.saving.load_model(args.long_worker, safe_mode=True)
    cell = next(layer for layer in trained.layers if isinstance(layer, km.SAM)).cell
    results = {"memory_size": args.long_size}
    for length in [int(n) for n in args.long_lengths.split(",")]:
        inputs, targets, weights = km.tasks.copy_sequences(
            args.long_batch, length, length, seed=1234)
        model = km.sam(inputs.shape[-1], memory_size=args.long_size,
                       memory_dim=cell.memory_dim, controller_size=cell.controller_size,
                       num_read_heads=cell.num_read_heads,
                       num_reads_per_head=cell.num_reads_per_head,
                       output_size=targets.shape[-1])
        model.set_weights(trained.get_weights())
        start = time.perf_counter()
        logits = model.predict(inputs, batch_size=args.long_batch, verbose=0)
        seconds = time.perf_counter() - start
        wrong = ((logits > 0) != (targets > 0.5)) * (weights[..., None] > 0)
        results[f"bit errors at length {length}"] = float(wrong.sum() / args.long_batch)
        results[f"seconds at length {length}"] = round(seconds, 1)
    print(json.dumps(results))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--tasks", default="copy", help="copy, associative_recall")
    parser.add_argument("--models", default="ntm,sam")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sequences", type=int, default=100000,
                        help="training sequences at most")
    parser.add_argument("--target", type=float, default=0.1)
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--long-size", type=int, default=0,
                        help="rows of the SAM that copies long sequences (0: none)")
    parser.add_argument("--long-lengths", default="20,100,1000",
                        help="copy lengths the large SAM is tested on")
    parser.add_argument("--long-batch", type=int, default=4)
    parser.add_argument("--long-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.long_worker:
        return long_copy(args)
    cells = [(task, model, int(seed)) for task in args.tasks.split(",")
             for model in args.models.split(",") for seed in args.seeds.split(",")]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda cell: run(*cell, args), cells))
    print(f"\n{args.backend}, at most {args.sequences:,} sequences, target {args.target} "
          "bit errors per sequence (an epoch's mean)\n")
    print("| task | model | sequences per seed | median | over the dense model's |")
    print("| --- | --- | --- | ---: | ---: |")
    for task in args.tasks.split(","):
        medians = {}
        for model in args.models.split(","):
            mine = [row for row in rows if (row["task"], row["model"]) == (task, model)]
            counts = [row["sequences"] if row.get("converged") else float("inf")
                      for row in mine]
            medians[model] = statistics.median(counts)
            shown = ", ".join(f"{c:,}" if c != float("inf") else "not yet" for c in counts)
            dense = DENSE.get(model)
            ratio = (f"{medians[model] / medians[dense]:.2f}" if dense in medians
                     and medians[dense] != float("inf") else "")
            print(f"| {task} | {model} | {shown} | {medians[model]:,} | {ratio} |")
    longs = [row for row in rows if "long" in row]
    for row in longs:
        print(f"SAM seed {row['seed']} (trained at N=128, lengths 1..20): "
              f"{json.dumps(row['long'])}")


if __name__ == "__main__":
    main()
