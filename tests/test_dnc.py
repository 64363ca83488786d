"""DNCCell and DNC."""

import keras
import numpy as np
import pytest
from keras import ops
from dnc_data import SMALL, STEP_MASK, B, C, I, M, N, T, sequences
from layer_checks import assert_all_close, assert_learns_to_echo, run_layer_test, to_numpy

import keras_memory as km
from keras_memory import addressing

@pytest.mark.parametrize("options, num_weights", [
    ({}, 3 + 2 + 2),
    ({"controller": "dense", "num_read_heads": 2, "num_write_heads": 2,
      "output_size": 3}, 2 + 2 + 2),
])
def test_dnc_cell_in_rnn_layer_checks(tmp_path, options, num_weights):
    run_layer_test(
        km.DNCCell,
        {**SMALL, **options},
        input_shapes=[(None, T, I)],
        expected_output_shapes=[(B, T, options.get("output_size", I))],
        tmp_path=tmp_path,
        expected_num_trainable_weights=num_weights,
        wrap=lambda cell: keras.layers.RNN(
            cell, return_sequences=True, dtype=cell.dtype_policy
        ),
        masks=[STEP_MASK],
        nan_in_masked_slots=False,  # Keras' loop: see run_layer_test
    )


def test_dnc_layer_checks(tmp_path):
    run_layer_test(
        km.DNC,
        {**SMALL, "num_read_heads": 2, "return_sequences": True},
        input_shapes=[(None, T, I)],
        expected_output_shapes=[(B, T, I)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=7,
        masks=[STEP_MASK],
    )


def test_state_has_named_parts_with_documented_shapes():
    cell = km.DNCCell(**SMALL, num_read_heads=2, num_write_heads=3)
    cell.build((None, I))
    state = cell.unpack_state(cell.get_initial_state(batch_size=B))
    shapes = {name: tuple(getattr(state, name).shape) for name in state._fields[2:]}
    assert shapes == {
        "reads": (B, 2, M), "memory": (B, N, M), "usage": (B, N),
        "link": (B, 3, N, N), "precedence": (B, 3, N), "read_weights": (B, 2, N),
        "write_weights": (B, 3, N), "read_modes": (B, 2, 7),
    }
    assert [tuple(s.shape) for s in state.controller] == [(B, C), (B, C)]
    packed = cell.pack_state(state)
    assert [tuple(p.shape)[1] for p in packed] == list(cell.state_size)


def test_step_is_the_interface_through_dnc_access():
    """The cell's step equals its controller, its interface split and
    activated by hand, and addressing.dnc_access."""
    # Seeded: with unseeded weights a rare draw leaves two rows' usage within
    # rounding of each other, and the two computations allocate them in
    # different orders (seen once on tensorflow).
    keras.utils.set_random_seed(0)
    cell = km.DNCCell(**SMALL, num_read_heads=2, num_write_heads=2, output_size=3)
    x = sequences(batch=2, time=2)
    cell.build((None, I))
    _, states = cell(x[:, 0], cell.get_initial_state(batch_size=2))
    output, new_states = cell(x[:, 1], states)
    old = cell.unpack_state(states)
    hidden, _ = cell.controller(
        ops.concatenate([x[:, 1], ops.reshape(old.reads, (2, -1))], -1), old.controller
    )
    raw = to_numpy(cell.interface(hidden))
    sizes = np.cumsum([0] + cell.interface_sizes)
    part = {name: raw[:, a:b] for (name, _, _), a, b in zip(km.layers.dnc.INTERFACE,
                                                            sizes[:-1], sizes[1:])}
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    oneplus = lambda v: 1 + np.log1p(np.exp(v))  # noqa: E731
    modes = np.exp(part["read_modes"].reshape(2, 2, 5))
    access = addressing.dnc_access(
        old.memory, old.usage, old.link, old.precedence, old.read_weights,
        old.write_weights,
        read_keys=part["read_keys"].reshape(2, 2, M),
        read_strengths=oneplus(part["read_strengths"]),
        write_keys=part["write_keys"].reshape(2, 2, M),
        write_strengths=oneplus(part["write_strengths"]),
        erase_vectors=sigmoid(part["erase_vectors"]).reshape(2, 2, M),
        write_vectors=part["write_vectors"].reshape(2, 2, M),
        free_gates=sigmoid(part["free_gates"]),
        allocation_gates=sigmoid(part["allocation_gates"]),
        write_gates=sigmoid(part["write_gates"]),
        read_modes=modes / modes.sum(-1, keepdims=True),
    )
    new = cell.unpack_state(new_states)
    for name in ("memory", "usage", "link", "precedence", "read_weights", "write_weights"):
        assert_all_close(getattr(new, name), getattr(access, name), atol=1e-5)
    expected = cell.output_projection(
        ops.concatenate([hidden, ops.reshape(access.read_words, (2, -1))], -1)
    )
    assert_all_close(output, expected, atol=1e-5)


def test_masked_steps_leave_the_state_unchanged_and_match_keras_rnn():
    x = sequences(batch=2, time=5)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
    layer = km.DNC(**SMALL, return_sequences=True, return_state=True)
    ours = layer(x, mask=mask)
    rnn = keras.layers.RNN(km.DNCCell(**SMALL), return_sequences=True, return_state=True)
    rnn.build(x.shape)
    rnn.set_weights(layer.get_weights())
    theirs = rnn(x, mask=mask)
    for a, b in zip(ours, theirs):
        assert_all_close(a, b, atol=1e-5)
    _, *short = layer(x[:1, :3])
    for masked, unmasked in zip(ours[1:], short):
        np.testing.assert_allclose(to_numpy(masked)[0], to_numpy(unmasked)[0], atol=1e-5)


def test_memory_fills_and_usage_stays_in_range_over_a_long_sequence():
    layer = km.DNC(**SMALL, return_state=True)
    _, *states = layer(sequences(batch=2, time=40) * 3)
    state = layer.cell.unpack_state(states)
    usage = to_numpy(state.usage)
    assert np.all(np.isfinite(usage)) and np.all((usage >= 0) & (usage <= 1 + 1e-6))
    assert np.all(np.isfinite(to_numpy(state.memory)))
    assert usage.max() > 0.1  # something was written


def test_dnc_learns_to_echo_with_fit():
    keras.utils.set_random_seed(1)
    assert_learns_to_echo(km.dnc(I, **SMALL), sequences(batch=16, time=5))


def test_builder_shapes_and_mask_value():
    model = km.dnc(I, **SMALL, output_size=2, mask_value=-1.0)
    x = sequences(batch=2, time=4)
    padded = np.concatenate([x, -np.ones((2, 3, I), "float32")], axis=1)
    short = model.predict(x, verbose=0)
    assert short.shape == (2, 4, 2)
    np.testing.assert_allclose(model.predict(padded, verbose=0)[:, :4], short, atol=1e-5)
