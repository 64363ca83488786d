import keras
import numpy as np
import pytest
from keras import ops

import keras_memory as km
from keras_memory import turing_machines as ntm_module
from layer_checks import assert_all_close, run_layer_test, to_numpy

B, T, I = 3, 6, 4  # batch, time, input features
N, M, C = 8, 5, 12  # memory rows, row width, controller units
SMALL = dict(memory_size=N, memory_dim=M, controller_size=C)


def sequences(batch=B, time=T, features=I, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, time, features)).astype("float32")


# -- the shared layer checks -------------------------------------------------------


@pytest.mark.parametrize("head_cls, first_shape", [
    (km.NTMReadHead, (B, M)),
    (km.NTMWriteHead, (B, N, M)),
])
def test_head_layer_checks(tmp_path, head_cls, first_shape):
    run_layer_test(
        head_cls,
        {"shift_range": 2},
        input_shapes=[(None, C), (None, N, M), (None, N)],
        expected_output_shapes=[first_shape, (B, N)],
        tmp_path=tmp_path,
        expected_num_trainable_weights=2,
    )


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
    )


def test_ntm_layer_checks(tmp_path):
    layer = run_layer_test(
        km.NTM,
        {**SMALL, "return_sequences": True},
        input_shapes=[(None, T, I)],
        expected_output_shapes=[(B, T, I)],
        tmp_path=tmp_path,
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


# -- behaviour -------------------------------------------------------------------------


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


def test_cell_step_equals_its_heads_applied_one_by_one():
    """The cell addresses reads and the first write in one batched call;
    it must equal calling each head layer in turn (reads on the old
    memory, each write on the memory the previous write left)."""
    cell = km.NTMCell(**SMALL, num_read_heads=2, num_write_heads=2, output_size=3)
    x = sequences(batch=2, time=2)
    cell.build(x[:, 0].shape)
    _, states = cell(x[:, 0], cell.get_initial_state(batch_size=2))
    output, new_states = cell(x[:, 1], states)

    old = cell.unpack_state(states)
    controller_input = ops.concatenate(
        [x[:, 1], ops.reshape(old.reads, (2, -1))], axis=-1
    )
    hidden, _ = cell.controller(controller_input, old.controller)
    reads, read_weights, write_weights = [], [], []
    for index, head in enumerate(cell.read_heads):
        read, weights = head([hidden, old.memory, old.read_weights[:, index]])
        reads.append(read)
        read_weights.append(weights)
    memory = old.memory
    for index, head in enumerate(cell.write_heads):
        memory, weights = head([hidden, memory, old.write_weights[:, index]])
        write_weights.append(weights)
    expected_output = cell.output_projection(ops.concatenate([hidden, *reads], axis=-1))

    new = cell.unpack_state(new_states)
    assert_all_close(output, expected_output, atol=1e-6)
    assert_all_close(new.reads, ops.stack(reads, axis=1), atol=1e-6)
    assert_all_close(new.read_weights, ops.stack(read_weights, axis=1), atol=1e-6)
    assert_all_close(new.write_weights, ops.stack(write_weights, axis=1), atol=1e-6)
    assert_all_close(new.memory, memory, atol=1e-6)


def test_batch_of_four_equals_four_batches_of_one():
    keras.utils.set_random_seed(0)
    layer = km.NTM(**SMALL, return_sequences=True)
    x = sequences(batch=4)
    together = to_numpy(layer(x))
    for row in range(4):
        np.testing.assert_allclose(to_numpy(layer(x[row : row + 1]))[0], together[row], atol=1e-5)


def test_masked_steps_leave_the_state_unchanged():
    layer = km.NTM(**SMALL, return_sequences=True, return_state=True)
    x = sequences(batch=2, time=5)
    mask = np.array([[True, True, True, False, False], [True, True, True, True, True]])
    outputs, *final = layer(x, mask=mask)
    _, *short_final = layer(x[:, :3])
    for masked, short in zip(final, short_final):
        np.testing.assert_allclose(to_numpy(masked)[0], to_numpy(short)[0], atol=1e-6)
    # Masked steps repeat the last real output.
    outputs = to_numpy(outputs)
    np.testing.assert_array_equal(outputs[0, 3], outputs[0, 2])


@pytest.mark.parametrize("go_backwards, zero_output", [(False, False), (True, False),
                                                      (False, True)])
def test_skipping_loop_equals_keras_rnn_loop_under_a_mask(go_backwards, zero_output):
    """NTM's own masked loop (steps masked for the whole batch skipped)
    gives what keras.layers.RNN's loop gives: outputs and final states."""
    x = sequences(batch=2, time=6)
    # Steps 4 and 5 are masked in every row (skipped), steps 2-3 in one row.
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], bool)
    options = dict(SMALL, output_size=I)
    layer = km.NTM(**options, return_sequences=True, return_state=True,
                   go_backwards=go_backwards, zero_output_for_mask=zero_output)
    ours = layer(x, mask=mask)
    rnn = keras.layers.RNN(km.NTMCell(**options), return_sequences=True,
                           return_state=True, go_backwards=go_backwards,
                           zero_output_for_mask=zero_output)
    rnn.build(x.shape)
    rnn.set_weights(layer.get_weights())
    theirs = rnn(x, mask=mask)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_all_close(a, b, atol=1e-6)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_ntm_loop_equals_keras_rnn_loop_without_mask(go_backwards):
    """NTM's own unmasked loop (a Python loop on torch that carries the
    state unpacked) gives keras.layers.RNN's outputs, final states and, after
    one training step, the same weights."""
    x = sequences(batch=2, time=5)
    y = np.tanh(sequences(batch=2, time=5))
    options = dict(SMALL, output_size=I)
    models = []
    for layer in (km.NTM(**options, return_sequences=True, return_state=True,
                         go_backwards=go_backwards),
                  keras.layers.RNN(km.NTMCell(**options), return_sequences=True,
                                   return_state=True, go_backwards=go_backwards)):
        layer.build(x.shape)
        if models:
            layer.set_weights(models[0].layers[-1].get_weights())
        inputs = keras.Input((5, I))
        outputs = layer(inputs)
        model = keras.Model(inputs, outputs[0])
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        models.append(model)
    ours, theirs = (m.layers[-1](x) for m in models)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_all_close(a, b, atol=1e-6)
    for model in models:
        model.train_on_batch(x, y)
    for a, b in zip(*(m.layers[-1].get_weights() for m in models)):
        np.testing.assert_allclose(a, b, atol=1e-5)


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


def test_functional_model_learns_with_fit():
    keras.utils.set_random_seed(1)
    model = km.ntm(I, **SMALL, output_activation=None)
    x = sequences(batch=16, time=5)
    y = (x > 0).astype("float32")  # echo the signs of the inputs
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses


def test_builder_shapes_and_names():
    model = km.ntm(I, **SMALL, output_size=2)
    assert model.inputs[0].shape == (None, None, I)
    out = model.predict(sequences(time=3), verbose=0)
    assert out.shape == (B, 3, 2)
    fixed = km.ntm(I, **SMALL, sequence_length=3, return_sequences=False)
    assert fixed.predict(sequences(time=3), verbose=0).shape == (B, I)


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


def test_trace_matches_model_outputs_and_reports_weights():
    model = km.ntm(I, **SMALL, num_read_heads=2)
    x = sequences(time=5)
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)
    assert record["read_weights"].shape == (B, 5, 2, N)
    assert record["write_weights"].shape == (B, 5, 1, N)
    assert record["memory"].shape == (B, 5, N, M)
    np.testing.assert_allclose(record["read_weights"].sum(-1), 1.0, atol=1e-5)


def test_zero_memory_and_extreme_inputs_stay_finite():
    layer = km.NTM(**SMALL, return_sequences=True)
    x = sequences() * 1e4
    assert np.all(np.isfinite(to_numpy(layer(x))))


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, fragment", [
    ({"memory_size": 0}, "memory_size=0"),
    ({"memory_dim": -1}, "memory_dim=-1"),
    ({"controller_size": 0}, "controller_size=0"),
    ({"num_heads": 0}, "num_heads=0"),
    ({"output_size": 0}, "output_size=0"),
    ({"num_read_heads": 0}, "num_read_heads=0"),
    ({"shift_range": -1}, "shift_range=-1"),
    ({"memory_size": 4, "shift_range": 2}, "shift_range=2 with memory_size=4"),
    ({"controller": "gru"}, "controller='gru'"),
    ({"memory_init": "zeros"}, "memory_init='zeros'"),
    ({"key_activation": "relu"}, "key_activation='relu'"),
])
def test_cell_and_layer_reject_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        km.NTMCell(**kwargs)
    with pytest.raises(ValueError, match=fragment):
        km.NTM(**kwargs)


def test_non_integer_size_is_a_type_error():
    with pytest.raises(TypeError, match="memory_size=12.5"):
        km.NTMCell(memory_size=12.5)


@pytest.mark.parametrize("shape", [(B, I), (B, T, I, 1)])
def test_ntm_rejects_wrong_input_rank(shape):
    with pytest.raises(ValueError, match="`sequences` must have rank 3"):
        km.NTM(**SMALL)(np.ones(shape, "float32"))


def test_ntm_rejects_other_input_size_after_build():
    layer = km.NTM(**SMALL)
    layer(sequences())
    with pytest.raises(ValueError, match="input_size 4"):
        layer(sequences(features=I + 1))


def test_head_rejects_shift_range_too_large_for_memory():
    with pytest.raises(ValueError, match="shift_range=3 with memory_size=4"):
        km.NTMReadHead(shift_range=3).build([(None, C), (None, 4, M), (None, 4)])


def test_head_rejects_mismatched_weights():
    head = km.NTMReadHead()
    with pytest.raises(ValueError, match="previous_weights"):
        head([np.ones((2, C), "float32"), np.ones((2, N, M), "float32"),
              np.ones((2, N + 1), "float32")])


def test_trace_rejects_layers_without_an_ntm():
    with pytest.raises(ValueError, match="NTMCell"):
        km.trace(keras.layers.Dense(3), sequences())


def test_padding_to_a_bucket_leaves_the_scored_outputs_unchanged():
    from keras_memory import tasks

    model = km.ntm(9, **SMALL, output_size=8)
    inputs, targets, weights = tasks.copy_sequences(3, 2, 4, seed=0)  # T = 9
    padded, _, padded_weights = tasks.copy_sequences(3, 2, 4, pad_to=15, seed=0)
    np.testing.assert_array_equal(padded[:, :9], inputs)
    short = model.predict(inputs, verbose=0)
    long = model.predict(padded, verbose=0)
    np.testing.assert_allclose(long[:, :9], short, atol=1e-6)
    assert padded_weights[:, 9:].sum() == 0


def test_training_on_masked_padding_equals_training_on_unpadded_batches():
    from keras_memory import tasks

    def trained(pad_to):
        keras.utils.set_random_seed(3)
        model = km.ntm(9, **SMALL, output_size=8, mask_value=-1.0)
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      loss=keras.losses.BinaryCrossentropy(from_logits=True))
        for seed in (0, 1):
            x, y, w = tasks.copy_sequences(4, 3, 3, pad_to=pad_to, seed=seed,
                                           padding_value=-1.0)
            model.train_on_batch(x, y, sample_weight=w)
        return model

    unpadded, padded = trained(None), trained(13)  # 7 real steps, 6 padding
    for a, b in zip(unpadded.weights, padded.weights):
        a, b = ops.convert_to_numpy(a), ops.convert_to_numpy(b)
        np.testing.assert_allclose(a, b, atol=1e-5)
    keras.utils.set_random_seed(3)
    start = km.ntm(9, **SMALL, output_size=8, mask_value=-1.0)
    moved = any(
        not np.allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
        for a, b in zip(start.weights, unpadded.weights)
    )
    assert moved


@pytest.mark.parametrize("mask_value", [None, -1.0])
def test_remat_trains_to_the_same_weights(mask_value):
    """keras.remat (default on jax) recomputes the step; nothing else changes."""
    from keras_memory import tasks

    def trained(remat):
        keras.utils.set_random_seed(4)
        model = km.ntm(9, **SMALL, output_size=8, mask_value=mask_value, remat=remat)
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      loss=keras.losses.BinaryCrossentropy(from_logits=True))
        for seed in (0, 1):
            x, y, w = tasks.copy_sequences(4, 1, 3, pad_to=9, seed=seed,
                                           padding_value=-1.0 if mask_value else 0.0)
            model.train_on_batch(x, y, sample_weight=w)
        return model

    stored, recomputed, automatic = trained(False), trained(True), trained(None)
    assert recomputed.get_layer("ntm_layer").cell.remat is True
    for other in (recomputed, automatic):  # None: whole masked steps on jax
        for a, b in zip(stored.weights, other.weights):
            np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b),
                                       atol=1e-5)


def test_masked_loop_recomputes_whole_steps_on_jax_unless_told_not_to():
    backend = keras.backend.backend()
    assert km.NTM(**SMALL)._remat_masked_steps() is (backend == "jax")
    assert km.NTM(**SMALL, remat=True)._remat_masked_steps() is (backend != "tensorflow")
    assert km.NTM(**SMALL, remat=False)._remat_masked_steps() is False


def test_remat_is_in_the_config():
    layer = km.NTM(**SMALL, remat=False)
    assert layer.get_config()["remat"] is False
    assert km.NTM.from_config(layer.get_config()).cell.remat is False
    assert km.NTM(**SMALL).cell.remat is None


def test_automatic_remat_only_on_jax_for_large_batches_of_memory():
    cell = km.NTMCell(memory_size=128, memory_dim=20)
    on_jax = keras.backend.backend() == "jax"
    assert cell._remat_enabled(32) is on_jax  # 32 * 128 * 20 >= 65536
    assert cell._remat_enabled(16) is False
    assert cell._remat_enabled(None) is False
    forced = km.NTMCell(memory_size=128, memory_dim=20, remat=True)
    assert forced._remat_enabled(1) is (keras.backend.backend() != "tensorflow")


def test_builder_mask_value_skips_padded_steps():
    model = km.ntm(I, **SMALL, mask_value=-1.0)
    x = sequences(batch=2, time=4)
    padded = np.concatenate([x, -np.ones((2, 3, I), "float32")], axis=1)
    np.testing.assert_allclose(model.predict(padded, verbose=0)[:, :4],
                               model.predict(x, verbose=0), atol=1e-6)


def test_cell_rejects_inputs_of_another_size():
    cell = km.NTMCell(**SMALL)
    cell.build((None, I))
    states = cell.get_initial_state(batch_size=2)
    with pytest.raises(ValueError, match="`inputs` must have input_size 4"):
        cell(np.ones((2, I + 1), "float32"), states)


@pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="jit_compile=True means torch.compile on torch, which the NTM's "
    "Python loop does not suit (README: Performance)",
)
@pytest.mark.parametrize("masked", [False, True])
def test_xla_compiled_training_equals_default(masked):
    """compile(jit_compile=True): XLA on tensorflow, where Keras leaves it off
    on CPU; on jax it is the default. Same loss and weights either way."""
    x = sequences(batch=4, time=6)
    if masked:
        x[1, 4:] = -1.0
    y = (x > 0).astype("float32")
    runs = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(3)
        model = km.ntm(I, **SMALL, mask_value=-1.0 if masked else None)
        model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=jit_compile,
                      loss=keras.losses.BinaryCrossentropy(from_logits=True))
        losses = [float(model.train_on_batch(x, y)) for _ in range(2)]
        runs.append((losses, model.get_weights()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-5)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, atol=1e-5)
