"""The shared recurrent core: every loop gives keras.layers.RNN's results."""

import collections
import inspect

import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import assert_all_close, to_numpy
from ntm_data import SMALL, I, sequences

import keras_memory as km
from keras_memory import recurrent


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

    stored, recomputed, automatic = trained(False), trained(True), trained("auto")
    assert recomputed.get_layer("ntm_layer").cell.remat is True
    for other in (recomputed, automatic):  # auto: whole masked steps on jax
        for a, b in zip(stored.weights, other.weights):
            np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b),
                                       atol=1e-5)


@pytest.mark.parametrize("layer_class", [km.NTM, km.DNC])
@pytest.mark.parametrize("masked, remat", [(False, False), (False, True), (True, False),
                                           (True, True)])
def test_every_loop_computes_the_step_constants_once_a_sequence(layer_class, masked,
                                                                remat):
    """Whichever loop runs (Keras' own, the masked ones, the Python loop),
    the cell's fused weights are computed once, before it, and every step
    receives them: none computes its own."""
    layer = layer_class(**SMALL, remat=remat)
    x = sequences(batch=2, time=4)
    layer(x)
    cell, fetched, given = layer.cell, [], []
    step, step_constants = cell.step, cell.step_constants

    def counted_constants():
        fetched.append(1)
        return step_constants()

    def recorded_step(inputs, state, training=None, constants=None):
        given.append(constants is not None)
        return step(inputs, state, training, constants=constants)

    cell.step_constants, cell.step = counted_constants, recorded_step
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool) if masked else None
    layer(x, mask=mask)
    assert given and all(given)
    assert len(fetched) == 1


def test_masked_loop_recomputes_whole_steps_on_jax_unless_told_not_to():
    backend = keras.backend.backend()
    assert recurrent.whole_step_remat(km.NTM(**SMALL).cell.remat) is (backend == "jax")
    assert recurrent.whole_step_remat(True) is (backend != "tensorflow")
    assert recurrent.whole_step_remat(False) is False


def test_automatic_remat_only_on_jax_for_large_batches_of_memory():
    cell = km.NTMCell(memory_size=128, memory_dim=20)
    on_jax = keras.backend.backend() == "jax"
    numbers = max(cell.state_size[1:])  # the memory, N * M
    assert recurrent.step_remat(cell.remat, 32, numbers) is on_jax  # 32 * 128 * 20 >= 65536
    assert recurrent.step_remat(cell.remat, 16, numbers) is False
    assert recurrent.step_remat(cell.remat, None, numbers) is False
    forced = km.NTMCell(memory_size=128, memory_dim=20, remat=True)
    expected = keras.backend.backend() != "tensorflow"
    assert recurrent.step_remat(forced.remat, 1, numbers) is expected


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


# -- any cell with the small protocol runs on the core ----------------------------


State = collections.namedtuple("State", ["output", "total"])


class AccumulatorCell(km.MemoryCell):
    """A toy memory cell: `total += x W`, output `tanh(total)`."""

    def __init__(self, units=3, remat="auto", **kwargs):
        super().__init__(remat=remat, **kwargs)
        self.units = units

    @property
    def state_shape(self):
        return State(output=(self.units,), total=(self.units,))

    def build(self, input_shape):
        self.input_size = input_shape[-1]
        self.kernel = self.add_weight(shape=(self.input_size, self.units))

    def step(self, inputs, state, training=None, constants=None):
        total = state.total + ops.matmul(inputs, self.kernel)
        output = ops.tanh(total)
        return output, State(output, total)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "remat": self.remat}


class Accumulator(recurrent.MemoryRNN):
    cell_class = AccumulatorCell


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_a_new_cell_runs_on_the_core_like_keras_rnn(masked, go_backwards):
    x = sequences(batch=3, time=5)
    mask = np.ones((3, 5), bool)
    if masked:
        mask[0, 3:] = False
        mask[:, 4] = False  # skipped for the whole batch
    ours = Accumulator(units=3, return_sequences=True, return_state=True,
                       go_backwards=go_backwards)
    theirs = keras.layers.RNN(AccumulatorCell(units=3), return_sequences=True,
                              return_state=True, go_backwards=go_backwards)
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    mask_arg = mask if masked else None
    for a, b in zip(ours(x, mask=mask_arg), theirs(x, mask=mask_arg)):
        assert_all_close(a, b, atol=1e-6)


def test_memory_rnn_takes_the_cell_arguments_and_keeps_a_flat_config():
    layer = Accumulator(4, return_sequences=True, name="acc")
    assert layer.cell.units == 4 and layer.return_sequences
    config = layer.get_config()
    assert config["units"] == 4 and "cell" not in config
    clone = Accumulator.from_config(config)
    assert clone.cell.units == 4 and clone.get_config() == config
    assert list(inspect.signature(Accumulator).parameters)[:2] == ["units", "remat"]
    with pytest.raises(TypeError, match="at most 2 positional"):
        Accumulator(4, "auto", 5)


@pytest.mark.parametrize("remat", [None, "yes", 2, "Auto"])
def test_remat_accepts_auto_true_or_false_only(remat):
    with pytest.raises(ValueError, match="`remat` must be 'auto', True or False"):
        km.NTMCell(**SMALL, remat=remat)
    with pytest.raises(ValueError, match="`remat` must be 'auto', True or False"):
        km.NTM(**SMALL, remat=remat)


def test_a_saved_remat_none_loads_as_auto():
    config = km.NTM(**SMALL).get_config()
    config["remat"] = None  # what keras-memory 0.1.0 saved by default
    assert km.NTM.from_config(config).cell.remat == "auto"
    cell_config = km.NTMCell(**SMALL).get_config()
    cell_config["remat"] = None
    assert km.NTMCell.from_config(cell_config).remat == "auto"


@pytest.mark.parametrize("layer_class", [km.NTM, km.DNC])
def test_stateful_layers_carry_their_state_and_train(layer_class):
    layer = layer_class(**SMALL, output_size=2, stateful=True, return_sequences=True)
    inputs = keras.Input(batch_shape=(2, 3, I))
    model = keras.Model(inputs, layer(inputs))
    x = sequences(batch=2, time=6)
    plain = layer_class(**SMALL, output_size=2, return_sequences=True)
    plain(x)
    plain.set_weights(layer.get_weights())
    # Two calls of 3 steps continue each other: one sequence of 6.
    chunks = [to_numpy(model(x[:, :3])), to_numpy(model(x[:, 3:]))]
    assert_all_close(np.concatenate(chunks, axis=1), plain(x), atol=1e-5)
    if layer_class is km.DNC:  # the same loop trains both; one compiled fit is enough
        return
    # Training: torch once raised "modified by an inplace operation" here,
    # the state variables being assigned under tensors the backward pass
    # still needed.
    layer.reset_state()
    model.compile(keras.optimizers.SGD(0.1), "mse")
    controller = [w for w in model.trainable_weights if "controller" in w.path]
    before = [to_numpy(w) for w in controller]
    for chunk in (slice(0, 3), slice(3, 6)):
        assert np.isfinite(model.train_on_batch(x[:, chunk], np.ones((2, 3, 2), "float32")))
    assert all(np.all(np.isfinite(to_numpy(w))) for w in model.weights)
    assert all(not np.allclose(to_numpy(w), b) for w, b in zip(controller, before))


@pytest.mark.parametrize("layer_class", [km.NTM, km.DNC])
def test_reset_state_restarts_every_state_field(layer_class):
    """After `reset_state`, a stateful layer gives its first outputs again
    (a field left out of the reset changes them)."""
    layer = layer_class(**SMALL, stateful=True, return_sequences=True)
    x = sequences(batch=2, time=3)
    first = to_numpy(layer(x))
    assert not np.allclose(to_numpy(layer(x)), first)  # it carried its state
    layer.reset_state()
    assert_all_close(layer(x), first, atol=1e-6)
