"""NTMCell and NTM."""

import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import assert_all_close, run_layer_test, to_numpy
from ntm_data import SMALL, B, C, I, M, N, T, sequences

import keras_memory as km
from keras_memory.layers import ntm as ntm_module


# Steps masked out in the shared layer checks (batch B = 3, T = 6 steps):
# step 1 of row 0, the last two steps of row 1 and step 5 of every row
# (a step the loops skip for the whole batch).
STEP_MASK = np.ones((B, T), bool)
STEP_MASK[0, 1] = False
STEP_MASK[1, -2:] = False
STEP_MASK[:, 5] = False


@pytest.mark.parametrize("options, num_weights", [
    ({}, 2 + 3 + 2 + 2 + 2),
    ({"controller": "dense", "memory_init": "learned"}, 2 + 2 + 2 + 2 + 2 + 1),
    ({"num_read_heads": 2, "num_write_heads": 1, "output_size": 3}, 2 + 3 + 4 + 2 + 2),
])
def test_ntm_cell_in_rnn_layer_checks(tmp_path, options, num_weights):
    output = options.get("output_size", I)
    run_layer_test(
        km.NTMCell,
        {**SMALL, **options},
        input_shapes=[(None, T, I)],
        expected_output_shapes=[(B, T, output)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=num_weights,
        wrap=lambda cell: keras.layers.RNN(
            cell, return_sequences=True, dtype=cell.dtype_policy
        ),
        masks=[STEP_MASK],
        nan_in_masked_slots=False,  # Keras' loop: see run_layer_test
    )


def test_ntm_layer_checks(tmp_path):
    layer = run_layer_test(
        km.NTM,
        {**SMALL, "return_sequences": True},
        input_shapes=[(None, T, I)],
        expected_output_shapes=[(B, T, I)],
        tmp_path=tmp_path,
        masks=[STEP_MASK],
    )
    assert len(layer.trainable_weights) == 11


def test_ntm_layer_with_random_memory_and_states(tmp_path):
    # The random initial memory is fixed, not trained.
    run_layer_test(
        km.NTM,
        {**SMALL, "memory_init": "random", "return_state": True},
        input_shapes=[(None, T, I)],
        expected_output_shapes=[
            (B, I), (B, I), (B, C), (B, C), (B, M), (B, N), (B, N), (B, N * M)
        ],
        tmp_path=tmp_path,
        expected_num_trainable_weights=11,
        check_mixed_precision=False,
    )


def test_state_has_named_parts_with_documented_shapes():
    cell = km.NTMCell(**SMALL, num_read_heads=2, num_write_heads=3)
    cell.build((None, I))
    state = cell.unpack_state(cell.get_initial_state(batch_size=B))
    assert tuple(state.output.shape) == (B, I)
    assert [tuple(s.shape) for s in state.controller] == [(B, C), (B, C)]
    assert tuple(state.reads.shape) == (B, 2, M)
    assert tuple(state.read_weights.shape) == (B, 2, N)
    assert tuple(state.write_weights.shape) == (B, 3, N)
    assert tuple(state.memory.shape) == (B, N, M)
    np.testing.assert_allclose(to_numpy(state.memory), ntm_module.CONSTANT_MEMORY_VALUE)
    np.testing.assert_allclose(to_numpy(state.read_weights).sum(-1), 1.0, atol=1e-6)
    # Initial weights focus on row 0 and reads come from the initial memory.
    assert np.all(np.argmax(to_numpy(state.write_weights), -1) == 0)
    packed = cell.pack_state(state)
    assert [tuple(p.shape)[1] for p in packed] == list(cell.state_size)


@pytest.mark.parametrize("memory_init, trainable", [("learned", True), ("random", False)])
def test_memory_init_weight(memory_init, trainable):
    cell = km.NTMCell(**SMALL, memory_init=memory_init, seed=1)
    cell.build((None, I))
    assert cell.initial_memory.trainable is trainable
    memory = to_numpy(cell.unpack_state(cell.get_initial_state(batch_size=2)).memory)
    np.testing.assert_array_equal(memory[0], to_numpy(cell.initial_memory))
    np.testing.assert_array_equal(memory[0], memory[1])


def _step_one_by_one(cell, inputs, old):
    """The NTM step written out with the layers it is made of: Keras'
    `LSTMCell`, each head layer in turn (reads on the old memory, each write
    on the memory the previous write left) and the output projection."""
    controller_input = ops.concatenate(
        [inputs, ops.reshape(old.reads, (ops.shape(inputs)[0], -1))], axis=-1
    )
    if cell.controller_type == "lstm":
        hidden, _ = cell.controller(controller_input, old.controller)
    else:
        hidden = cell.controller(controller_input)
    reads, read_weights, write_weights = [], [], []
    for index, head in enumerate(cell.read_heads):
        read, weights = head([hidden, old.memory, old.read_weights[:, index]])
        reads.append(read)
        read_weights.append(weights)
    memory = old.memory
    for index, head in enumerate(cell.write_heads):
        memory, weights = head([hidden, memory, old.write_weights[:, index]])
        write_weights.append(weights)
    output = cell.output_projection(ops.concatenate([hidden, *reads], axis=-1))
    return output, ops.stack(reads, axis=1), ops.stack(read_weights, axis=1), \
        ops.stack(write_weights, axis=1), memory


@pytest.mark.parametrize("options", [
    {"num_read_heads": 2, "num_write_heads": 2},
    {"num_read_heads": 1, "num_write_heads": 3, "key_activation": "linear",
     "add_activation": "sigmoid", "shift_range": 2},
    {"controller": "dense"},
])
def test_cell_step_equals_its_layers_in_values_and_gradients(options):
    """The cell's step fuses the LSTM into one product, groups the heads'
    parameters by kind and addresses reads and the first write in one
    call; its outputs, new state and gradients (with respect to the input,
    the memory and the reads, in float64) must equal those of its layers
    applied one by one (1e-6), with and without the per-sequence
    `step_constants`."""
    from gradients import analytic_gradients, float64, native

    keras.utils.set_random_seed(3)
    cell = km.NTMCell(**SMALL, output_size=3, **options)
    x = sequences(batch=2, time=2)
    cell.build(x[:, 0].shape)
    # Biases start at zero: random ones, so that mixing them up shows.
    bias_rng = np.random.default_rng(1)
    for head in cell.read_heads + cell.write_heads:
        head.bias.assign(bias_rng.normal(0, 0.5, size=tuple(head.bias.shape)).astype("float32"))
    _, states = cell(x[:, 0], cell.get_initial_state(batch_size=2))
    # Plain values (no autodiff history from the first step).
    old = keras.tree.map_structure(
        lambda t: ops.convert_to_tensor(to_numpy(t)), cell.unpack_state(states)
    )
    got = cell.step(x[:, 1], old)
    got_constants = cell.step(x[:, 1], old, constants=cell.step_constants())
    expected = _step_one_by_one(cell, x[:, 1], old)
    for output, new in (got, got_constants):
        for value, want in zip(
            (output, new.reads, new.read_weights, new.write_weights, new.memory), expected
        ):
            assert_all_close(value, want, atol=1e-6)

    # Gradients in float64 (the same weights in a float64 cell): in float32,
    # sharpening's power amplifies the rounding of two orders of the same
    # sums to 3e-5 relative. Keras itself still rounds a few float64 ops to
    # float32 (its jax dtype rules read x64 as off; its torch matmul computes
    # float64 products in float32): up to 7e-8 apart here, inside 1e-6.
    with float64():
        cell64 = km.NTMCell(**SMALL, output_size=3, **options, dtype="float64")
        cell64.build(x[:, 0].shape)
        cell64.set_weights(cell.get_weights())
        old64 = keras.tree.map_structure(lambda t: native(to_numpy(t)), old)
        rng = np.random.default_rng(0)
        scales = [native(rng.normal(size=tuple(t.shape))) for t in expected]

        def loss(parts):
            return sum(ops.sum(ops.multiply(part, scale)) for part, scale in zip(parts, scales))

        def fused(inputs, memory, reads):
            output, new = cell64.step(inputs, old64._replace(memory=memory, reads=reads))
            return loss((output, new.reads, new.read_weights, new.write_weights, new.memory))

        def layers(inputs, memory, reads):
            state = old64._replace(memory=memory, reads=reads)
            return loss(_step_one_by_one(cell64, inputs, state))

        args = [np.asarray(to_numpy(a), "float64") for a in (x[:, 1], old.memory, old.reads)]
        for got_grad, want_grad in zip(analytic_gradients(fused, args),
                                       analytic_gradients(layers, args)):
            assert np.all(np.isfinite(got_grad))
            np.testing.assert_allclose(got_grad, want_grad, atol=1e-6, rtol=1e-6)


def test_batch_of_four_equals_four_batches_of_one():
    keras.utils.set_random_seed(0)
    layer = km.NTM(**SMALL, return_sequences=True)
    x = sequences(batch=4)
    together = to_numpy(layer(x))
    for row in range(4):
        np.testing.assert_allclose(to_numpy(layer(x[row : row + 1]))[0], together[row], atol=1e-5)


def test_masking_layer_in_a_functional_model():
    inputs = keras.Input((None, I))
    outputs = km.NTM(**SMALL, return_sequences=False)(keras.layers.Masking()(inputs))
    model = keras.Model(inputs, outputs)
    x = sequences(batch=2, time=4)
    padded = np.concatenate([x, np.zeros((2, 3, I), "float32")], axis=1)
    assert_all_close(model(padded), model(x), atol=1e-6)


def test_rnn_around_cell_equals_ntm_layer_with_same_weights():
    x = sequences()
    layer = km.NTM(**SMALL, return_sequences=True)
    expected = layer(x)
    rnn = keras.layers.RNN(km.NTMCell(**SMALL), return_sequences=True)
    rnn.build(x.shape)
    rnn.set_weights(layer.get_weights())
    assert_all_close(rnn(x), expected, atol=1e-6)


def test_stateful_layer_carries_memory_across_calls():
    layer = km.NTM(**SMALL, stateful=True, return_sequences=True)
    x = sequences(batch=2, time=6)
    whole = to_numpy(layer(x))
    layer.reset_state()
    first = to_numpy(layer(x[:, :3]))
    second = to_numpy(layer(x[:, 3:]))
    np.testing.assert_allclose(np.concatenate([first, second], 1), whole, atol=1e-5)


def test_go_backwards_reads_the_sequence_reversed():
    forward = km.NTM(**SMALL, return_sequences=False)
    x = sequences()
    expected = forward(x[:, ::-1].copy())
    backward = km.NTM(**SMALL, return_sequences=False, go_backwards=True)
    backward.build(x.shape)
    backward.set_weights(forward.get_weights())
    assert_all_close(backward(x), expected, atol=1e-6)


def test_zero_memory_and_extreme_inputs_stay_finite():
    layer = km.NTM(**SMALL, return_sequences=True)
    x = sequences() * 1e4
    assert np.all(np.isfinite(to_numpy(layer(x))))


def test_remat_is_in_the_config():
    layer = km.NTM(**SMALL, remat=False)
    assert layer.get_config()["remat"] is False
    assert km.NTM.from_config(layer.get_config()).cell.remat is False
    assert km.NTM(**SMALL).cell.remat == "auto"
