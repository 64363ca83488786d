"""A model saved on one backend loads on the other two with the same outputs.

Needs jax, torch and tensorflow in one environment: tox's `cross` env.
"""

import os
import pathlib
import subprocess
import sys

import pytest
from cross_backend_worker import CASES

BACKENDS = ("jax", "torch", "tensorflow")
WORKER = pathlib.Path(__file__).with_name("cross_backend_worker.py")

pytestmark = pytest.mark.cross_backend


def _run(backend, action, directory):
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run(
        [sys.executable, str(WORKER), action, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"{action} on {backend} failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    )
    return result.stdout


def test_models_saved_on_each_backend_load_on_the_others(tmp_path):
    for backend in BACKENDS:
        _run(backend, "save", tmp_path)
    assert len(list(tmp_path.glob("*.keras"))) == len(BACKENDS) * len(CASES)
    for backend in BACKENDS:
        output = _run(backend, "load", tmp_path)
        print(output)
        expected = (len(BACKENDS) - 1) * len(CASES)
        assert f"checked {expected}" in output, output


def test_training_started_on_jax_continues_on_torch(tmp_path):
    """Weights and Adam state saved on jax; the next step on torch (and on
    tensorflow) lands where the next step on jax did."""
    _run("jax", "train", tmp_path)
    for backend in ("torch", "tensorflow"):
        output = _run(backend, "continue", tmp_path)
        print(output)
        assert "max abs weight difference" in output
