"""The source distribution carries what its tests need; metadata from one place."""

import pathlib
import shutil
import subprocess
import sys
import tarfile

import keras_memory

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_sdist_ships_all_of_tests_and_what_tox_reads(tmp_path):
    # From a clean copy: setuptools also ships what an old *.egg-info lists.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".tox", "*.egg-info", "build", "dist", "runs", "__pycache__", ".*_cache"))
    build = ("import sys; from setuptools import build_meta; "
             "print(build_meta.build_sdist(sys.argv[1]))")
    result = subprocess.run([sys.executable, "-c", build, str(tmp_path)], cwd=source,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    name = result.stdout.split()[-1]
    with tarfile.open(tmp_path / name) as archive:
        members = {pathlib.PurePosixPath(m).relative_to(pathlib.PurePosixPath(m).parts[0])
                   .as_posix() for m in archive.getnames()
                   if len(pathlib.PurePosixPath(m).parts) > 1}
    needed = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("*")
              if path.is_file() and "__pycache__" not in path.parts}
    assert needed <= members, sorted(needed - members)
    for path in ("pyproject.toml", "tox.ini", "constraints.txt", "README.md",
                 "CHANGELOG.md", "CONTRIBUTING.md", "CITATION.cff", "LICENSE",
                 "examples/copy_task.py", "keras_memory/__init__.py", "mkdocs.yml",
                 "docs/index.md", "docs/api.md"):
        assert path in members, path
    assert not any("__pycache__" in m for m in members)
    # The version is read from the package: one place.
    assert name == f"keras_memory-{keras_memory.__version__}.tar.gz"
