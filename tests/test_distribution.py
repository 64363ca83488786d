"""Data-parallel training through keras.distribution (JAX only)."""

import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

WORKER = pathlib.Path(__file__).with_name("distribution_worker.py")


@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution.DataParallel is implemented for the JAX backend",
)
def test_two_devices_train_like_one_on_the_same_global_batch():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    result = subprocess.run([sys.executable, str(WORKER)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    match = re.search(r"devices 2 moved (\S+) difference (\S+)", result.stdout)
    assert match, result.stdout
    moved, difference = float(match.group(1)), float(match.group(2))
    assert moved > 1e-4  # training did change the weights
    assert difference <= 1e-5
