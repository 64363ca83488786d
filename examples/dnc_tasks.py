"""Train a Differentiable Neural Computer on Graves' copy task (or another).

    python examples/dnc_tasks.py                       # jax, copy, lengths 1..20
    python examples/dnc_tasks.py --task repeat_copy    # or associative_recall
    python examples/dnc_tasks.py --backend torch --steps 2000
    python examples/dnc_tasks.py --seeds 0,1,2          # the table in bench/README.md

The copy DNC of the issue (N=64 rows of M=20, 4 read heads, one write head,
LSTM controller of 100 units) trains with `model.fit` and its progress bar
until an epoch averages under `--target` bit errors per sequence, then
reports the errors at the training length (20) and at twice it (40), saves
the `.keras` file, reloads it and draws what it did (input, target, output,
write and read weights, usage, read modes). Every option of
`examples/copy_task.py` works here; these are only other defaults.
"""

import json
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import copy_task  # noqa: E402

DNC_DEFAULTS = ["--model", "dnc", "--memory-size", "64", "--memory-dim", "20",
                "--read-heads", "4", "--controller-size", "100",
                "--eval-lengths", "20,40", "--output-dir", "runs/dnc"]


def main(argv=None):
    """Runs `copy_task.main` with the DNC defaults; later flags win.

    `--seeds 0,1,2` trains once per seed (each in `<output-dir>/seed<k>`)
    and prints, per seed and as the median, the wall time and sequences to
    the target and the test errors.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--seeds" not in argv:
        return copy_task.main(DNC_DEFAULTS + argv)
    index = argv.index("--seeds")
    seeds = argv[index + 1].split(",")
    rest = argv[:index] + argv[index + 2:]
    output = copy_task.parse_args(DNC_DEFAULTS + rest).output_dir
    rows = []
    for seed in seeds:
        directory = f"{output}/seed{seed}"
        start = time.perf_counter()
        errors = copy_task.main(DNC_DEFAULTS + rest + ["--seed", seed,
                                                       "--output-dir", directory])
        wall = time.perf_counter() - start
        with open(f"{directory}/curve.json") as handle:
            curve = json.load(handle)["curve"]
        rows.append({"seed": seed, "wall_s": wall, "train_s": curve[-1]["seconds"],
                     "sequences": curve[-1]["sequences"],
                     "final": curve[-1]["bit_errors_per_sequence"], **errors})
    names = [key for key in rows[0] if key != "seed"]
    formats = {"wall_s": "{:.0f}", "train_s": "{:.0f}", "sequences": "{:,.0f}"}
    print("\n| seed | " + " | ".join(str(n) for n in names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for row in rows + [{"seed": "median", **{n: statistics.median(r[n] for r in rows)
                                             for n in names}}]:
        cells = [formats.get(n, "{:.3f}").format(row[n]) for n in names]
        print(f"| {row['seed']} | " + " | ".join(cells) + " |")
    return rows


if __name__ == "__main__":
    main()
