"""Prints the training curve and test errors that copy_task.py wrote, as Markdown.

    python examples/copy_task.py --output-dir runs/copy
    python examples/curve_table.py runs/copy/curve.json

The examples' tables in bench/README.md come from these two commands.
"""

import argparse
import json


def make_parser():
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("curve", help="a curve.json written by copy_task.py or dnc_tasks.py")
    return parser


def table(record):
    """The Markdown lines for one `curve.json` record."""
    lines = ["| sequences | wall s | bit errors/seq |", "| ---: | ---: | ---: |"]
    lines += [f"| {row['sequences']:,} | {row['seconds']:.1f} | "
              f"{row['bit_errors_per_sequence']:.3g} |" for row in record["curve"]]
    tests = ", ".join(f"{name}: {errors:.2f}" for name, errors in record["eval"].items())
    lines += ["", f"Backend {record.get('backend')}; test bit errors per sequence by "
                  f"length: {tests}; NaN batches: {record.get('nan_batches')}."]
    return lines


def main(argv=None):
    args = make_parser().parse_args(argv)
    with open(args.curve) as handle:
        lines = table(json.load(handle))
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
