"""SDNCCell, SDNC and km.sdnc (the sparse DNC)."""

import keras
import numpy as np
import pytest
from dnc_data import STEP_MASK, B, I, T, sequences
from gradients import weight_gradients
from keras import ops
from layer_checks import (assert_all_close, assert_learns_to_echo, keras_rnn_twin,
                          run_layer_test, to_numpy)
from test_sam import run_steps

import keras_memory as km
from keras_memory import addressing
from keras_memory import plotting
from keras_memory.addressing import SparseLinks, SparseWeights

N, M, C, K, L = 12, 4, 10, 3, 4
SMALL = dict(memory_size=N, memory_dim=M, controller_size=C, num_reads_per_head=K,
             num_links=L)


def test_sdnc_cell_in_rnn_layer_checks(tmp_path):
    # The LSTM controller and two heads: test_sdnc_layer_checks.
    run_layer_test(
        km.SDNCCell, {**SMALL, "controller": "dense", "output_size": 3},
        input_shapes=[(None, T, I)], expected_output_shapes=[(B, T, 3)],
        tmp_path=tmp_path, expected_num_trainable_weights=2 + 2 + 2,
        wrap=lambda cell: keras.layers.RNN(cell, return_sequences=True,
                                           dtype=cell.dtype_policy),
        masks=[STEP_MASK], nan_in_masked_slots=False,  # Keras' loop: see run_layer_test
        check_mixed_precision=False,  # refused, as SAMCell's
    )


def test_sdnc_layer_checks(tmp_path):
    run_layer_test(
        km.SDNC, {**SMALL, "num_read_heads": 2, "return_sequences": True},
        input_shapes=[(None, T, I)], expected_output_shapes=[(B, T, I)],
        tmp_path=tmp_path, masks=[STEP_MASK], check_mixed_precision=False,
    )


def test_state_has_named_parts_with_documented_shapes():
    cell = km.SDNCCell(**SMALL, num_read_heads=2)
    cell.build((None, I))
    state = cell.unpack_state(cell.get_initial_state(batch_size=B))
    assert isinstance(state, km.SDNCState)
    shapes = {name: tuple(getattr(state, name).shape) for name in state._fields
              if name != "controller"}
    links = (B, N, L)
    assert shapes == {
        "output": (B, I), "reads": (B, 2, M), "memory": (B, N, M), "row_norms": (B, N),
        "last_access": (B, N), "precedence_weights": (B, L), "precedence_rows": (B, L),
        "forward_weights": links, "forward_rows": links, "forward_stamps": links,
        "backward_weights": links, "backward_rows": links, "backward_stamps": links,
        "survival": (B, N),
        "read_weights": (B, 2, K), "read_rows": (B, 2, K), "write_weights": (B, 1, 2 * K + 1),
        "write_rows": (B, 1, 2 * K + 1), "read_modes": (B, 2, 3), "time": (B, 1)}


def precedence_of(state):
    return addressing.dense_weights(SparseWeights(state.precedence_weights[:, None], ops.cast(
        state.precedence_rows, "int32")[:, None]), N)


def links_of(state):
    return SparseLinks(*(getattr(state, name) for name in SparseLinks._fields))


def test_with_every_link_kept_each_step_updates_the_dense_dnc_link():
    """The links a step leaves are the DNC's `link_update` of the last
    links, by the precedence before the step's write and its write weights."""
    cell = km.SDNCCell(**{**SMALL, "num_links": N}, num_read_heads=2)
    cell.build((None, I))
    states = run_steps(cell, sequences(time=5, seed=2))
    for before, after in zip(states, states[1:]):
        write = addressing.dense_weights(
            SparseWeights(after.write_weights, ops.cast(after.write_rows, "int32")), N)
        expected = addressing.link_update(addressing.dense_links(links_of(before), N)[:, None],
                                          precedence_of(before), write)[:, 0]
        for forward in (False, True):
            assert_all_close(addressing.dense_links(links_of(after), N, forward), expected,
                             atol=1e-6)
        assert_all_close(precedence_of(after),
                         addressing.precedence_update(precedence_of(before), write), atol=1e-6)
    assert np.count_nonzero(to_numpy(states[-1].backward_weights)) > B * 2


def test_reads_follow_the_links_as_the_modes_say():
    """A step's reads are `sdnc_access` on its state and interface."""
    cell = km.SDNCCell(**SMALL)
    x = sequences()
    cell.build((None, I))
    before, after = run_steps(cell, x[:, :3])[1:]
    hidden, _ = cell.run_controller(ops.convert_to_tensor(x[:, 2]), before.reads,
                                    before.controller)
    interface = cell.interface_parameters(hidden)
    previous = SparseWeights(before.read_weights, ops.cast(before.read_rows, "int32"))
    least = addressing.least_recently_used(before.last_access)
    write = addressing.sam_write_weights(previous, least, interface["write_gate"],
                                         interface["interpolation_gate"])
    precedence = SparseWeights(before.precedence_weights,
                               ops.cast(before.precedence_rows, "int32"))
    access = addressing.sdnc_access(
        before.memory, links_of(before), precedence, previous, write,
        interface["write_vector"], least, interface["read_keys"], interface["read_strengths"],
        interface["read_modes"], K)
    assert_all_close(after.reads, access.read_words, atol=1e-6)
    assert_all_close(after.read_modes, interface["read_modes"])
    np.testing.assert_allclose(to_numpy(ops.sum(after.read_modes, -1)), 1.0, rtol=1e-6)


def test_masked_steps_leave_the_state_unchanged_and_match_keras_rnn():
    x = sequences(seed=1)
    ours, theirs = keras_rnn_twin(km.SDNC, x.shape, **SMALL, return_sequences=True,
                                  return_state=True)
    assert_all_close(ours(x, mask=STEP_MASK), theirs(x, mask=STEP_MASK), atol=1e-5)


def test_stateful_chunks_continue_each_other_and_go_backwards_is_keras_rnns():
    x = sequences(batch=2, time=6, seed=4)
    stateful = km.SDNC(**SMALL, stateful=True, return_sequences=True)
    inputs = keras.Input(batch_shape=(2, 3, I))
    model = keras.Model(inputs, stateful(inputs))
    plain = km.SDNC(**SMALL, return_sequences=True)
    plain(x)
    plain.set_weights(stateful.get_weights())
    chunks = [to_numpy(model(x[:, :3])), to_numpy(model(x[:, 3:]))]
    assert_all_close(np.concatenate(chunks, axis=1), plain(x), atol=1e-5)
    backwards, theirs = keras_rnn_twin(km.SDNC, x.shape, **SMALL, go_backwards=True,
                                       return_sequences=True)
    assert_all_close(backwards(x), theirs(x), atol=1e-5)
    assert not np.allclose(to_numpy(backwards(x)), to_numpy(theirs(x[:, ::-1])), atol=1e-3)


def test_sdnc_learns_to_echo_with_fit():
    keras.utils.set_random_seed(1)
    assert_learns_to_echo(km.sdnc(I, **SMALL), sequences(batch=16, time=5))


def test_builder_mask_value_trace_and_a_plot_of_the_rows_touched(tmp_path):
    model = km.sdnc(I, mask_value=0.0, **{**SMALL, "memory_size": 4096})
    x = sequences()
    x[0, 4:] = 0.0
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)
    assert record["forward_rows"].shape == (B, T, 4096, L)
    np.testing.assert_array_equal(record["time"][0, 4:, 0], 4.0)
    figure = plotting.plot_trace(record, path=tmp_path / "sdnc.png")
    assert len(figure.axes[2].get_yticklabels()) < 4096
    assert (tmp_path / "sdnc.png").exists()


def test_ties_zero_memory_and_saturated_gates_stay_finite():
    """Zero inputs leave every row as similar and as unused as every other
    (ties everywhere); huge ones saturate the controller. Outputs, the state
    and the weights' gradients stay finite (a write of weight 1:
    test_sparse_links)."""
    layer = km.SDNC(**SMALL, return_sequences=True, return_state=True)
    for scale in (0.0, 1e4):
        x = scale * sequences(seed=5)
        output, *states = layer(x)
        for value in [output, *states]:
            assert np.all(np.isfinite(to_numpy(value))), scale
        grads = weight_gradients(layer, x)
        assert grads and all(np.all(np.isfinite(g)) for g in grads), scale


@pytest.mark.parametrize("kwargs, fragment", [
    ({"memory_size": 12, "num_links": 13}, "num_links=13"),
    ({"num_links": 0}, "num_links"),
    ({"memory_size": 12, "num_reads_per_head": 13}, "num_reads_per_head=13"),
    ({"dtype": "mixed_float16"}, "dtype"),
])
def test_bad_arguments_are_refused_by_name(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        km.SDNCCell(**kwargs)
