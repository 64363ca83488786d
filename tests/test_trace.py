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
