"""The benchmarks' shared harness: workers in child processes, each with its
own backend, memory and time limits, and one JSON result line a worker.

A worker prints `RESULT <json>`; `run_limited` runs one and kills it past a
memory or time limit (`ChildStopped` says which), `result_line` reads its
result, `mean_of` averages the two runs that bracket a measurement.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def peak_gb():
    """This process's peak resident memory so far, framework included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def report(result):
    """A worker's result, as the line its parent reads."""
    print("RESULT " + json.dumps(result), flush=True)


def parse_lengths(text):
    """"1-20" -> (1, 20); "20" -> (20, 20)."""
    low, _, high = text.partition("-")
    low, high = int(low), int(high or low)
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError(f"lengths must be A-B with 1 <= A <= B, got {text}")
    return low, high


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


def run_worker(script, backend, extra, show_progress=False, **limits):
    """Runs `script --worker extra...` with `backend` (`"tensorflow-xla"`:
    tensorflow with `BENCH_XLA=1`, which the worker turns into
    `compile(jit_compile=True)`); with `show_progress` its stderr goes
    straight to ours. `limits`: see `run_limited`. Returns its result."""
    env = dict(os.environ, KERAS_BACKEND=backend.removesuffix("-xla"),
               BENCH_XLA="1" if backend.endswith("-xla") else "0")
    stdout = run_limited([sys.executable, str(script), "--worker", *extra], env,
                         show_progress, **limits)
    return json.loads(result_line(stdout, backend))


def mean_of(before, after):
    """The two runs of a comparison, averaged; drift = after / before."""
    return {key: (before[key] + after[key]) / 2 for key in ("sequences_per_s",)} | {
        "warmup_s": (before.get("warmup_s", 0) + after.get("warmup_s", 0)) / 2,
        "drift": after["sequences_per_s"] / before["sequences_per_s"],
    }


def sweep(script, rows, sizes, extra, **limits):
    """Runs `script`'s worker for every row and size, the sizes of a row in
    order until one stops (the larger are then not run).

    `rows`: `(backend, *key)` tuples; `extra(key, size)`: the worker's
    arguments for a cell. Prints each cell as it ends; returns
    `{(backend, *key, size): result}` (a stopped cell's result: `{"note":
    why}`).
    """
    results = {}
    for backend, *key in rows:
        stopped = None
        for size in sizes:
            try:
                if stopped:
                    raise ChildStopped(f"not run (stopped at N={stopped})")
                result = run_worker(script, backend, extra(key, size), **limits)
            except ChildStopped as stop:
                result = {"note": stop.reason}
                stopped = stopped or size
            results[(backend, *key, size)] = result
            print(backend, *key, size, result, flush=True)
    return results
