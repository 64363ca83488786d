"""The example scripts run end to end with tiny settings on this backend."""

import argparse
import importlib.util
import json
import pathlib

import keras
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["memory_network_lookup", "copy_task", "babi_memn2n",
                                  "curve_table", "memory_layers"])
def test_every_option_has_help_and_shows_its_default(name):
    parser = load(name).make_parser()
    assert parser.formatter_class is argparse.ArgumentDefaultsHelpFormatter
    silent = [a.option_strings for a in parser._actions if a.option_strings and not a.help]
    assert silent == []


def test_memory_layers_example(tmp_path):
    results = load("memory_layers").main(
        ["--subjects", "16", "--relations", "2", "--objects", "4", "--memory-size", "256",
         "--hidden-dim", "16", "--top-k", "4", "--epochs", "1", "--batch-size", "16",
         "--output-dir", str(tmp_path)])
    assert list(results) == ["product_key", "product_key_no_norm", "hashed", "dense"]
    # Equal compute a token: the dense layer's width matches the product keys'.
    assert results["dense"]["memory_macs_per_token"] == pytest.approx(
        results["product_key"]["memory_macs_per_token"], rel=0.01)
    assert 0.0 < results["product_key"]["fraction_read"] <= 1.0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["results"]["hashed"]["facts_answered"] == results["hashed"]["facts_answered"]
    assert (tmp_path / "slot_usage.png").exists()


def test_memory_network_lookup_example(tmp_path, capsys):
    backend = keras.backend.backend()
    accuracy = load("memory_network_lookup").main(
        ["--epochs", "2", "--examples", "300", "--output-dir", str(tmp_path)]
    )
    assert 0.0 <= accuracy <= 1.0
    assert (tmp_path / "memory_network_lookup.keras").exists()
    assert (tmp_path / "attention.png").exists()
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["backend"] == backend and results["test_accuracy"] == accuracy
    # Not a terminal: one plain line per epoch, no progress-bar redraws.
    printed = capsys.readouterr().out
    assert "\x1b[" not in printed and "\r" not in printed and "\b" not in printed
    assert printed.count("Epoch ") == 2


def test_copy_task_example(tmp_path):
    backend = keras.backend.backend()
    results = load("copy_task").main(
        ["--backend", backend, "--steps", "2", "--steps-per-epoch", "1",
         "--batch-size", "2", "--max-length", "3", "--eval-lengths", "3,5",
         "--memory-size", "8", "--memory-dim", "4", "--controller-size", "8",
         "--output-dir", str(tmp_path)]
    )
    assert set(results) == {3, 5}
    assert all(0 <= errors <= 8 * 5 for errors in results.values())
    record = json.loads((tmp_path / "curve.json").read_text())
    assert record["backend"] == backend and record["nan_batches"] == 0
    lines = load("curve_table").main([str(tmp_path / "curve.json")])
    assert len(lines) == 2 + len(record["curve"]) + 2
    assert f"| {record['curve'][-1]['sequences']:,} |" in lines[-3]
    assert f"3: {results[3]:.2f}" in lines[-1] and f"Backend {backend}" in lines[-1]
    curve = json.loads((tmp_path / "curve.json").read_text())
    assert len(curve["curve"]) == 2
    assert (tmp_path / "copy_ntm.keras").exists()
    assert (tmp_path / "copy_trace.png").exists()


@pytest.mark.parametrize("model", ["sam", "sdnc"])
def test_copy_task_example_trains_a_sparse_memory(tmp_path, model):
    results = load("copy_task").main(
        ["--backend", keras.backend.backend(), "--model", model, "--reads-per-head", "2",
         "--links", "3", "--steps", "1", "--steps-per-epoch", "1", "--batch-size", "2",
         "--max-length", "3", "--eval-lengths", "3", "--memory-size", "8",
         "--memory-dim", "4", "--controller-size", "8", "--output-dir", str(tmp_path)])
    assert 0 <= results[3] <= 8 * 3
    saved = keras.saving.load_model(tmp_path / f"copy_{model}.keras", safe_mode=True)
    assert saved.get_layer(f"{model}_layer").cell.num_reads_per_head == 2
    if model == "sdnc":
        assert saved.get_layer("sdnc_layer").cell.num_links == 3
    assert (tmp_path / "copy_trace.png").exists()


def test_dnc_tasks_example(tmp_path):
    backend = keras.backend.backend()
    rows = load("dnc_tasks").main(
        ["--backend", backend, "--steps", "2", "--steps-per-epoch", "1",
         "--batch-size", "2", "--max-length", "3", "--eval-lengths", "3,6",
         "--memory-size", "8", "--memory-dim", "4", "--controller-size", "8",
         "--read-heads", "2", "--buckets", "1", "--output-dir", str(tmp_path),
         "--seeds", "3"]
    )
    (row,) = rows
    assert row["seed"] == "3" and row["sequences"] == 4 and row["wall_s"] > 0
    assert all(0 <= row[length] <= 8 * length for length in (3, 6))
    assert (tmp_path / "seed3" / "copy_dnc.keras").exists()
    assert (tmp_path / "seed3" / "copy_trace.png").exists()


@pytest.mark.parametrize("task", ["repeat_copy", "associative_recall", "priority_sort"])
def test_other_tasks_in_the_example(tmp_path, task):
    results = load("copy_task").main(
        ["--backend", keras.backend.backend(), "--task", task, "--steps", "1",
         "--steps-per-epoch", "1", "--batch-size", "2", "--memory-size", "8",
         "--memory-dim", "4", "--controller-size", "8", "--buckets", "1",
         "--output-dir", str(tmp_path)]
    )
    assert set(results) == {"test"} and results["test"] >= 0
    assert (tmp_path / f"{task}_ntm.keras").exists()
    assert (tmp_path / f"{task}_trace.png").exists()


@pytest.mark.parametrize("joint", [False, True])
def test_babi_example_on_tiny_files(tmp_path, joint):
    from babi_data import write_task

    data = tmp_path / "data"
    data.mkdir()
    write_task(data, task=1, train_count=30, test_count=10, seed=0)
    write_task(data, task=2, train_count=30, test_count=10, seed=5)
    errors = load("babi_memn2n").main(
        ["--backend", keras.backend.backend(), "--data-dir", str(data),
         "--tasks", "1", "2", "--epochs", "3", "--linear-epochs", "2", "--runs", "2",
         "--memory-dim", "8", "--plot", "--output-dir", str(tmp_path)]
        # Separate: the memory holds the longest training story (the default),
        # runs chosen by training error. Joint: by error on a held-out fifth.
        + (["--joint", "--memory-size", "5", "--validation", "0.2"] if joint else [])
    )
    assert set(errors) == {1, 2} and all(0 <= e <= 100 for e in errors.values())
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["mode"] == ("joint" if joint else "separate")
    assert results["backend"] == keras.backend.backend()
    assert (tmp_path / "memn2n.keras").exists()
    assert (tmp_path / "vocabulary.json").exists()
    assert (tmp_path / "attention.png").exists()
