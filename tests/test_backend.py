"""`keras_memory._backend`: the one place that asks which backend runs."""

import ast
import pathlib

import keras

import keras_memory
from keras_memory import _backend

PACKAGE = pathlib.Path(keras_memory.__file__).parent
BACKEND_MODULES = {"jax", "jaxlib", "torch", "tensorflow"}


def _sources():
    return {path.relative_to(PACKAGE).as_posix(): ast.parse(path.read_text())
            for path in PACKAGE.rglob("*.py")}


def test_no_module_imports_a_backend():
    imported = {}
    for name, tree in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            if roots & BACKEND_MODULES:
                imported.setdefault(name, set()).update(roots & BACKEND_MODULES)
    assert imported == {}


def test_only_one_module_imports_private_keras():
    """`keras.src` is private Keras: one module holds every use of it."""
    importing = set()
    for name, tree in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            else:
                continue
            if any(module == "keras.src" or module.startswith("keras.src.")
                   for module in modules):
                importing.add(name)
    assert importing == {"_keras_private.py"}


def test_only_the_backend_module_asks_which_backend_runs():
    asking = set()
    for name, tree in _sources().items():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr == "backend"
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "backend"):
                asking.add(name)  # keras.backend.backend
            if (isinstance(node, ast.Attribute) and node.attr == "backend"
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "config"):
                asking.add(name)  # keras.config.backend
    assert asking == {"_backend.py"}


def test_the_choices_for_the_running_backend():
    backend = keras.backend.backend()
    assert _backend.einsum_products() == (backend == "jax")
    assert _backend.einsum_contractions() == (backend != "torch")
    assert _backend.prod_reductions() == (backend == "torch")
    assert _backend.axes_by_indexing() == (backend != "tensorflow")
    assert _backend.python_time_loop() == (backend == "torch")
    assert _backend.while_loop_for_masks() == (backend == "tensorflow")
    assert _backend.can_recompute_steps() == (backend != "tensorflow")
    # "auto" recomputes only where recomputing is possible.
    assert not _backend.recomputes_by_default() or _backend.can_recompute_steps()
