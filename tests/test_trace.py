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
