"""SAMCell, SAM and km.sam (Sparse Access Memory)."""

import keras
import numpy as np
import pytest
from dnc_data import STEP_MASK, B, I, T, sequences
from keras import ops
from layer_checks import (assert_all_close, assert_learns_to_echo, keras_rnn_twin,
                          run_layer_test, to_numpy)

import keras_memory as km
from keras_memory import addressing
from keras_memory import plotting
from keras_memory.addressing import SparseWeights

N, M, C, K = 12, 4, 10, 3
SMALL = dict(memory_size=N, memory_dim=M, controller_size=C, num_reads_per_head=K)


@pytest.mark.parametrize("options, num_weights", [
    ({}, 3 + 2 + 2),
    ({"controller": "dense", "num_read_heads": 2, "output_size": 3}, 2 + 2 + 2),
])
def test_sam_cell_in_rnn_layer_checks(tmp_path, options, num_weights):
    run_layer_test(
        km.SAMCell, {**SMALL, **options}, input_shapes=[(None, T, I)],
        expected_output_shapes=[(B, T, options.get("output_size", I))],
        tmp_path=tmp_path, expected_num_trainable_weights=num_weights,
        wrap=lambda cell: keras.layers.RNN(cell, return_sequences=True,
                                           dtype=cell.dtype_policy),
        masks=[STEP_MASK], nan_in_masked_slots=False,  # Keras' loop: see run_layer_test
        check_mixed_precision=False,  # refused: test_half_precision_is_refused_by_name
    )


def test_sam_layer_checks(tmp_path):
    run_layer_test(
        km.SAM, {**SMALL, "num_read_heads": 2, "return_sequences": True},
        input_shapes=[(None, T, I)], expected_output_shapes=[(B, T, I)],
        tmp_path=tmp_path, masks=[STEP_MASK], check_mixed_precision=False,
    )


def test_the_kept_row_norms_are_the_memorys_after_every_step():
    """A step sets the squared norms of the rows it writes anew and keeps the
    others: after each step they are the memory's own."""
    cell = km.SAMCell(**SMALL, num_read_heads=2)
    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    x = np.random.default_rng(0).normal(size=(B, T, I)).astype("float32")
    for steps in (1, T):
        _, *states = layer(x[:, :steps])
        state = cell.unpack_state(states)
        memory = keras.ops.convert_to_numpy(state.memory)
        assert np.abs(memory).sum() > 0  # written
        np.testing.assert_allclose(keras.ops.convert_to_numpy(state.row_norms),
                                   (memory ** 2).sum(-1), rtol=1e-5, atol=1e-6)


def test_state_has_named_parts_with_documented_shapes():
    cell = km.SAMCell(**SMALL, num_read_heads=2)
    cell.build((None, I))
    state = cell.unpack_state(cell.get_initial_state(batch_size=B))
    assert isinstance(state, km.SAMState)
    shapes = {name: tuple(getattr(state, name).shape) for name in state._fields
              if name != "controller"}
    assert shapes == {"output": (B, I), "reads": (B, 2, M), "memory": (B, N, M),
                      "row_norms": (B, N), "last_access": (B, N), "read_weights": (B, 2, K),
                      "read_rows": (B, 2, K), "write_weights": (B, 1, 2 * K + 1),
                      "write_rows": (B, 1, 2 * K + 1), "time": (B, 1)}


def run_steps(cell, x):
    state = cell.unpack_state(cell.get_initial_state(batch_size=x.shape[0]))
    states = []
    for t in range(x.shape[1]):
        _, state = cell.step(ops.convert_to_tensor(x[:, t]), state)
        states.append(state)
    return states


def test_a_step_writes_then_reads_through_the_sparse_functions():
    cell = km.SAMCell(**SMALL, num_read_heads=2)
    x = sequences()
    cell.build((None, I))
    before, after = run_steps(cell, x[:, :3])[1:]
    hidden, _ = cell.run_controller(ops.convert_to_tensor(x[:, 2]), before.reads,
                                    before.controller)
    interface = cell.interface_parameters(hidden)
    least = addressing.least_recently_used(before.last_access)
    previous = SparseWeights(before.read_weights, ops.cast(before.read_rows, "int32"))
    write = addressing.sam_write_weights(previous, least, interface["write_gate"],
                                         interface["interpolation_gate"])
    memory = addressing.sparse_write(before.memory, write, interface["write_vector"], least)
    read = addressing.sparse_content_read(interface["read_keys"], memory,
                                          interface["read_strengths"], K)
    assert_all_close(after.memory, memory, atol=1e-6)
    assert_all_close(after.reads, addressing.sparse_read(memory, read), atol=1e-6)
    assert_all_close(after.read_rows, ops.cast(read.rows, "float32"))
    np.testing.assert_array_equal(to_numpy(after.time)[:, 0], 3.0)
    # The least recently used row is erased and written; it was not read.
    erased = to_numpy(least)
    assert np.all(to_numpy(after.last_access)[np.arange(B), erased] == 3.0)


def test_every_row_read_or_written_above_the_threshold_gets_the_time():
    cell = km.SAMCell(**SMALL, num_read_heads=2)
    cell.build((None, I))
    for state in run_steps(cell, sequences(time=4, seed=2)):
        last_access, now = to_numpy(state.last_access), to_numpy(state.time)[:, 0]
        for weights, rows in ((state.read_weights, state.read_rows),
                              (state.write_weights, state.write_rows)):
            weights, rows = to_numpy(weights), to_numpy(rows).astype(int)
            for b in range(B):
                accessed = rows[b][weights[b] > addressing.sparse.ACCESS_THRESHOLD]
                assert accessed.size and np.all(last_access[b, accessed] == now[b])


def test_every_row_read_gives_the_dense_content_read():
    cell = km.SAMCell(**{**SMALL, "num_reads_per_head": N})
    cell.build((None, I))
    state = run_steps(cell, sequences(time=4))[-1]
    dense = addressing.dense_weights(
        SparseWeights(state.read_weights, ops.cast(state.read_rows, "int32")), N)
    reads = addressing.read(state.memory, dense)
    assert_all_close(state.reads, reads, atol=1e-5)
    np.testing.assert_allclose(to_numpy(ops.sum(dense, -1)), 1.0, rtol=1e-5)


def test_each_step_writes_to_the_rows_it_read_or_the_least_used_only():
    cell = km.SAMCell(**SMALL)
    cell.build((None, I))
    states = run_steps(cell, sequences(time=5, seed=3))
    for before, after in zip(states, states[1:]):
        changed = np.any(to_numpy(after.memory) != to_numpy(before.memory), axis=-1)
        allowed = np.zeros((B, N), bool)
        rows = to_numpy(after.write_rows).astype(int)[:, 0]
        for b in range(B):
            allowed[b, rows[b]] = True
        assert not np.any(changed & ~allowed)
        assert changed.sum(-1).max() <= K + 1


def test_masked_steps_leave_the_state_unchanged_and_match_keras_rnn():
    x = sequences(seed=1)
    ours, theirs = keras_rnn_twin(km.SAM, x.shape, **SMALL, return_sequences=True,
                                  return_state=True)
    assert_all_close(ours(x, mask=STEP_MASK), theirs(x, mask=STEP_MASK), atol=1e-5)


def test_sam_learns_to_echo_with_fit():
    keras.utils.set_random_seed(1)
    assert_learns_to_echo(km.sam(I, **SMALL), sequences(batch=16, time=5))


def test_builder_shapes_mask_value_and_trace():
    model = km.sam(I, mask_value=0.0, **SMALL)
    x = sequences()
    x[0, 4:] = 0.0
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)
    assert record["read_rows"].shape == (B, T, 1, K)
    assert record["last_access"].shape == (B, T, N)
    # Padded steps leave the state as it was.
    np.testing.assert_array_equal(record["time"][0, 4:, 0], 4.0)


def test_half_precision_is_refused_by_name():
    with pytest.raises(ValueError, match="dtype.*float32.*mixed_float16"):
        km.SAMCell(**SMALL, dtype="mixed_float16")


def test_more_reads_than_rows_are_refused_by_name():
    with pytest.raises(ValueError, match="num_reads_per_head=13"):
        km.SAMCell(memory_size=12, num_reads_per_head=13)


def test_the_trace_plot_shows_only_the_rows_touched(tmp_path):
    model = km.sam(I, memory_size=4096, memory_dim=M, controller_size=C,
                   num_reads_per_head=2)
    record = km.trace(model, sequences())
    figure = plotting.plot_trace(record, path=tmp_path / "sam.png")
    write_axis, read_axis = figure.axes[1:3]
    touched = set(record["write_rows"][0].astype(int).ravel())
    labels = [t.get_text() for t in write_axis.get_yticklabels()]
    assert labels and {int(label.split()[-1]) for label in labels} <= touched
    assert len(read_axis.get_yticklabels()) < 4096
    assert (tmp_path / "sam.png").exists()
