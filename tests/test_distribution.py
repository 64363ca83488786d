"""Data-parallel training and a model-parallel value table through
keras.distribution (JAX only)."""

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


@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution.DataParallel is implemented for the JAX backend",
)
def test_copy_example_runs_data_parallel_on_two_devices(tmp_path):
    example = pathlib.Path(__file__).resolve().parents[1] / "examples" / "copy_task.py"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    result = subprocess.run(
        [sys.executable, str(example), "--data-parallel", "--steps", "2",
         "--steps-per-epoch", "1", "--max-length", "3", "--eval-lengths", "3",
         "--memory-size", "8", "--memory-dim", "4", "--controller-size", "8",
         "--output-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "data parallel over 2 devices" in result.stdout
    # The default batch is one sequence per device; the saved model reloads.
    assert re.search(r"reloaded model differs by 0\.0e\+00", result.stdout), result.stdout
    assert (tmp_path / "copy_trace.png").exists()


@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution.ModelParallel is implemented for the JAX backend",
)
@pytest.mark.parametrize("updates", ["dense", "sparse"])
def test_a_value_table_split_across_two_devices_computes_what_one_does(updates):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    worker = WORKER.with_name("model_parallel_worker.py")
    result = subprocess.run([sys.executable, str(worker)] + (["--sparse"] * (updates == "sparse")),
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "shards [(128, 16), (128, 16)] one-device shards [(256, 16)]" in result.stdout
    match = re.search(r"moved (\S+) outputs (\S+) weights (\S+)", result.stdout)
    assert match, result.stdout
    moved, outputs, weights = (float(g) for g in match.groups())
    assert moved > 1e-4  # training did change the weights
    assert outputs <= 1e-5 and weights <= 1e-5
