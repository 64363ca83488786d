"""Draws the pictures of the docs site with the examples, on the current code.

    KERAS_MEMORY_BABI_DIR=path/to/tasks_1-20_v1-2/en python docs/make_pictures.py

Trains the copy NTM (`examples/copy_task.py`, its defaults: until under 0.1
bit errors per sequence), the copy DNC (`examples/dnc_tasks.py`) and the
bAbI model on task 2 (`examples/babi_memn2n.py --tasks 2 --plot`; the
data is downloaded unless `KERAS_MEMORY_BABI_DIR` points at it) and the
product-key memories of `examples/memory_layers.py`, then copies their
pictures into `docs/images/`. About 12 minutes on a 2-core CPU with jax.
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNS = os.path.join(ROOT, "runs", "docs")
PICTURES = [
    (["copy_task.py", "--output-dir", f"{RUNS}/copy"], f"{RUNS}/copy/copy_trace.png",
     "copy_trace.png"),
    (["dnc_tasks.py", "--output-dir", f"{RUNS}/dnc"], f"{RUNS}/dnc/copy_trace.png",
     "dnc_trace.png"),
    (["babi_memn2n.py", "--tasks", "2", "--plot", "--output-dir", f"{RUNS}/babi"],
     f"{RUNS}/babi/attention.png", "babi_attention.png"),
    (["memory_layers.py", "--models", "product_key,product_key_no_norm",
      "--output-dir", f"{RUNS}/memory_layers"],
     f"{RUNS}/memory_layers/slot_usage.png", "slot_usage.png"),
]


def main():
    os.makedirs(os.path.join(HERE, "images"), exist_ok=True)
    for command, made, name in PICTURES:
        script = os.path.join(ROOT, "examples", command[0])
        subprocess.run([sys.executable, script, *command[1:]], check=True)
        shutil.copyfile(made, os.path.join(HERE, "images", name))
        print(f"docs/images/{name} <- {' '.join(command)}")


if __name__ == "__main__":
    main()
