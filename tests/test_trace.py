"""km.trace: what the heads did, step by step."""

import keras
import numpy as np
import pytest
from ntm_data import SMALL, B, I, M, N, sequences

import keras_memory as km


def test_trace_matches_model_outputs_and_reports_weights():
    model = km.ntm(I, **SMALL, num_read_heads=2)
    x = sequences(time=5)
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)
    assert record["read_weights"].shape == (B, 5, 2, N)
    assert record["write_weights"].shape == (B, 5, 1, N)
    assert record["memory"].shape == (B, 5, N, M)
    np.testing.assert_allclose(record["read_weights"].sum(-1), 1.0, atol=1e-5)


def test_trace_rejects_layers_without_an_ntm():
    with pytest.raises(ValueError, match="NTMCell"):
        km.trace(keras.layers.Dense(3), sequences())


@pytest.mark.parametrize("builder", [km.ntm, km.dnc])
def test_trace_agrees_with_predict_under_a_masking_layer(builder):
    """Padded steps (the last 2 of 6) are skipped as predict skips them:
    outputs repeat, and the state is recorded unchanged."""
    model = builder(I, **SMALL, mask_value=-1.0)
    x = sequences(time=6)
    x[0, 4:] = -1.0
    x[2, 5:] = -1.0
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(record["memory"][0, 4], record["memory"][0, 3])
    np.testing.assert_array_equal(record["write_weights"][0, 5], record["write_weights"][0, 3])
    assert not np.array_equal(record["memory"][1, 5], record["memory"][1, 4])


def test_trace_takes_an_explicit_mask_and_checks_its_shape():
    model = km.ntm(I, **SMALL)
    x = sequences(time=4)
    mask = np.ones((B, 4), bool)
    mask[1, 2:] = False
    record = km.trace(model, x, mask=mask)
    masked = keras.ops.convert_to_numpy(model.get_layer("ntm_layer")(x, mask=mask))
    np.testing.assert_allclose(record["outputs"], masked, atol=1e-5)
    np.testing.assert_array_equal(record["memory"][1, 3], record["memory"][1, 1])
    with pytest.raises(ValueError, match=r"`mask` must have shape \[batch, time\]"):
        km.trace(model, x, mask=mask[:, :3])


def test_trace_records_what_a_dnc_did():
    model = km.dnc(I, **SMALL, num_read_heads=2, num_write_heads=1)
    x = sequences(time=5)
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)
    shapes = {name: value.shape for name, value in record.items()}
    assert shapes["usage"] == (B, 5, N) and shapes["read_modes"] == (B, 5, 2, 3)
    assert shapes["link"] == (B, 5, 1, N, N) and shapes["read_weights"] == (B, 5, 2, N)
    np.testing.assert_allclose(record["read_modes"].sum(-1), 1.0, atol=1e-5)


def test_trace_rejects_empty_sequences():
    model = km.ntm(I, **SMALL)
    with pytest.raises(ValueError, match="at least one time step"):
        km.trace(model, np.zeros((B, 0, I), "float32"))


# -- the model's own run: layers in front, several memory layers, state ------------


def _front_model(memory_layer, width=5):
    inputs = keras.Input((None, I))
    projected = keras.layers.Dense(width, name="front")(inputs)
    return keras.Model(inputs, memory_layer(projected))


@pytest.mark.parametrize("layer_class", [km.NTM, km.DNC])
def test_trace_runs_the_layers_in_front_of_the_memory_layer(layer_class):
    """A projection that changes the width (4 -> 5) in front: the cell
    sees what it sees in predict."""
    model = _front_model(layer_class(**SMALL, return_sequences=True))
    x = sequences(time=4)
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("layer_class", [km.NTM, km.DNC])
def test_each_recorded_step_is_the_layers_own_state_after_that_many_steps(layer_class):
    """Step t's record is the final state of the layer run on t + 1 steps,
    and (NTM) the reads are the read weights applied to the memory recorded
    a step before (its read heads read the memory as it was): a record one
    step late fails both.

    Both start from a random memory and usage (a stateful layer's carried
    state): from an empty memory the DNC's rows are used alike, and trace and
    the layer, two compiled programs, leave them a rounding apart, which
    can order its allocation differently."""
    layer = layer_class(**SMALL, return_sequences=True, stateful=True)
    inputs = keras.Input(batch_shape=(B, None, I))
    model = keras.Model(inputs, layer(keras.layers.Dense(5, name="front")(inputs)))
    rng = np.random.default_rng(3)
    state = layer.cell.unpack_state(list(layer.states))
    state = state._replace(**{
        name: rng.uniform(0.1, 0.9, size=getattr(state, name).shape).astype("float32")
        for name in ("memory", "usage") if name in state._fields})
    for variable, value in zip(layer.states, layer.cell.pack_state(state)):
        variable.assign(value)
    start = [keras.ops.convert_to_numpy(state) for state in layer.states]
    x = sequences(time=4)
    record = km.trace(model, x)
    projected = keras.ops.convert_to_numpy(model.get_layer("front")(x))
    rnn = keras.layers.RNN(layer.cell, return_state=True)
    for t in range(4):
        _, *states = rnn(projected[:, : t + 1], initial_state=start)
        final = layer.cell.unpack_state(states)
        for field in ("read_weights", "write_weights", "memory", "reads"):
            np.testing.assert_allclose(record[field][:, t],
                                       keras.ops.convert_to_numpy(getattr(final, field)),
                                       atol=1e-5, err_msg=f"{field} at step {t}")
    if layer_class is km.DNC:  # its heads read the memory just written
        return
    reads = np.einsum("btrn,btnm->btrm", record["read_weights"][:, 1:],
                      record["memory"][:, :-1])
    np.testing.assert_allclose(reads, record["reads"][:, 1:], atol=1e-5)


def test_trace_picks_one_of_several_memory_layers():
    inputs = keras.Input((None, I))
    first = km.NTM(**SMALL, return_sequences=True, name="first")
    second = km.DNC(**SMALL, return_sequences=True, name="second")
    hidden = first(inputs)
    model = keras.Model(inputs, second(hidden))
    x = sequences(time=4)
    np.testing.assert_allclose(km.trace(model, x, memory_layer="second")["outputs"],
                               model.predict(x, verbose=0), atol=1e-5)
    hidden_model = keras.Model(inputs, hidden)
    np.testing.assert_allclose(km.trace(model, x)["outputs"],
                               hidden_model.predict(x, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="`memory_layer` must name a memory layer"):
        km.trace(model, x, memory_layer="third")


def test_trace_of_a_go_backwards_layer_agrees_with_predict():
    model = _front_model(km.DNC(**SMALL, return_sequences=True, go_backwards=True))
    x = sequences(time=5)
    record = km.trace(model, x)
    np.testing.assert_allclose(record["outputs"], model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("layer_class", [km.NTM, km.DNC])
def test_trace_of_a_stateful_layer_starts_from_the_carried_state(layer_class):
    layer = layer_class(**SMALL, return_sequences=True, stateful=True)
    inputs = keras.Input(batch_shape=(B, 3, I))
    model = keras.Model(inputs, layer(inputs))
    x = sequences(time=6)
    model(x[:, :3])  # carries a state now
    carried = [keras.ops.convert_to_numpy(s) for s in layer.states]
    record = km.trace(model, x[:, 3:])
    for before, state in zip(carried, layer.states):  # tracing left it alone
        np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(state))
    np.testing.assert_allclose(record["outputs"],
                               keras.ops.convert_to_numpy(model(x[:, 3:])), atol=1e-5)


def test_trace_sees_the_mask_an_embedding_in_front_computes():
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(7, I, mask_zero=True)(inputs)
    model = keras.Model(inputs, km.NTM(**SMALL, return_sequences=True)(embedded))
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 1, 0], [2, 2, 2, 2, 2]], "int32")
    record = km.trace(model, ids)
    np.testing.assert_allclose(record["outputs"], model.predict(ids, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(record["memory"][0, 4], record["memory"][0, 2])
