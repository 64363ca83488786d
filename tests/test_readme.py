"""The Python snippets of the README and the guides in docs/: each runs
alone, as pasted into a fresh session."""

import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [block for page in PAGES
          for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)]
README_BLOCKS = re.findall(r"```python\n(.*?)```", PAGES[0].read_text(), flags=re.S)
SETS_BACKEND = 'os.environ.setdefault("KERAS_BACKEND", "jax")'


def test_the_readme_has_a_snippet_per_model_family_and_the_guides_more():
    assert len(README_BLOCKS) >= 4 and len(BLOCKS) >= 12
    assert any("km.MemoryCell" in block and "km.trace" in block and "save" in block
               for block in README_BLOCKS)


def test_the_readme_is_a_front_door():
    assert len(PAGES[0].read_text().splitlines()) <= 250


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_snippet_sets_the_backend_before_keras_and_runs_alone(index, tmp_path,
                                                                   monkeypatch):
    code = BLOCKS[index]
    first_import = re.search(r"^(import keras|from keras)", code, flags=re.M)
    if first_import:  # Keras' own default backend is tensorflow: pick one first
        assert SETS_BACKEND in code[: first_import.start()], code[:200]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md snippet {index}", "exec"), {})


def test_a_snippet_runs_in_a_fresh_process_without_keras_json(tmp_path):
    # Keras reads ~/.keras/keras.json when KERAS_BACKEND is unset: point
    # KERAS_HOME at an empty folder. With jax (the snippets' default)
    # installed, unset KERAS_BACKEND too, as on a fresh machine; elsewhere
    # keep it (setdefault must not override it).
    (code,) = [block for block in BLOCKS if "MemoryHop(8" in block and "memory_mask" in block]
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras_home"))
    if keras.backend.backend() == "jax":
        env.pop("KERAS_BACKEND", None)
    code += "\nimport keras\nprint('backend', keras.backend.backend())\n"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"backend {keras.backend.backend()}" in result.stdout
