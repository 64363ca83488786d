"""NTMReadHead, NTMWriteHead and their HeadParameters."""

import numpy as np
import pytest
from layer_checks import run_layer_test, to_numpy
from ntm_data import B, C, M, N

import keras_memory as km


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


def test_head_rejects_shift_range_too_large_for_memory():
    with pytest.raises(ValueError, match="shift_range=3 with memory_size=4"):
        km.NTMReadHead(shift_range=3).build([(None, C), (None, 4, M), (None, 4)])


def test_head_rejects_mismatched_weights():
    head = km.NTMReadHead()
    with pytest.raises(ValueError, match="previous_weights"):
        head([np.ones((2, C), "float32"), np.ones((2, N, M), "float32"),
              np.ones((2, N + 1), "float32")])


def test_head_parameters_are_named_and_in_range():
    write = km.NTMWriteHead(shift_range=2)
    write.build([(None, C), (None, N, M), (None, N)])
    projected = np.random.default_rng(0).normal(size=(B, write.projection_size)) * 5
    params = to_numpy(write.parameters(projected.astype("float32")))
    assert isinstance(write.parameters(projected.astype("float32")), km.HeadParameters)
    assert params.key.shape == (B, M) and np.all(np.abs(params.key) <= 1)
    assert params.strength.shape == (B, 1) and np.all(params.strength >= 0)
    assert np.all((params.gate >= 0) & (params.gate <= 1))
    assert params.shift.shape == (B, 5)
    np.testing.assert_allclose(params.shift.sum(-1), 1.0, atol=1e-5)
    assert np.all(params.sharpening >= 1)
    assert params.erase.shape == (B, M) and np.all((params.erase >= 0) & (params.erase <= 1))
    assert params.add.shape == (B, M)
    read = km.NTMReadHead()
    read.build([(None, C), (None, N, M), (None, N)])
    read_params = read.parameters(np.zeros((B, read.projection_size), "float32"))
    assert read_params.erase is None and read_params.add is None


def test_head_parameters_equal_the_papers_activations_column_by_column():
    """Columns key | strength | gate | shift | sharpening | erase | add
    through tanh, softplus, sigmoid, softmax, 1 + softplus, sigmoid and the
    add activation, in NumPy: the heads and NTMCell's fused step share
    this one function, so a swap there would pass their equality test."""
    write = km.NTMWriteHead(shift_range=1, add_activation="sigmoid")
    write.build([(None, C), (None, N, M), (None, N)])
    raw = np.random.default_rng(1).normal(size=(B, write.projection_size)).astype("float32")
    params = to_numpy(write.parameters(raw))
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    key, strength, gate = raw[:, :M], raw[:, M : M + 1], raw[:, M + 1 : M + 2]
    shift, sharpening = raw[:, M + 2 : M + 5], raw[:, M + 5 : M + 6]
    erase, add = raw[:, M + 6 : 2 * M + 6], raw[:, 2 * M + 6 :]
    shift = np.exp(shift) / np.exp(shift).sum(-1, keepdims=True)
    expected = km.HeadParameters(np.tanh(key), softplus(strength), sigmoid(gate), shift,
                                 1 + softplus(sharpening), sigmoid(erase), sigmoid(add))
    for name, got, want in zip(km.HeadParameters._fields, params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)
