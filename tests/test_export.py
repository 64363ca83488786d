"""`model.export()` as a TF SavedModel, on the backends Keras exports from.

Keras exports SavedModels from jax (through jax2tf) and tensorflow; both
need tensorflow installed, so this runs in tox's `cross` env, which has all
three backends, once per backend in its own process.
"""

import os
import pathlib
import subprocess
import sys

import pytest

WORKER = pathlib.Path(__file__).with_name("export_worker.py")

pytestmark = pytest.mark.cross_backend


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_every_builder_exports_and_serves_what_predict_gives(backend, tmp_path):
    result = subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path)],
        env=dict(os.environ, KERAS_BACKEND=backend),
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-4000:]}"
    for name in ("memory_network", "memn2n", "ntm", "dnc"):
        assert f"{name}: exported and served" in result.stdout
