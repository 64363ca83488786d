import numpy as np
import pytest

from keras_memory import plotting


def test_plot_memory_attention_writes_a_png(tmp_path):
    attention = np.array([[0.1, 0.9, 0.0], [0.5, 0.25, 0.25]], "float32")
    path = tmp_path / "attention.png"
    figure = plotting.plot_memory_attention(
        attention, memory_labels=["a", "b", "c"], title="t", path=path
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.get_yticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in axis.get_xticklabels()] == ["hop 1", "hop 2"]
    # The image shows memories down and hops across.
    np.testing.assert_array_equal(axis.images[0].get_array(), attention.T)


def test_plot_memory_attention_rejects_bad_input():
    with pytest.raises(ValueError, match="`attention` must have rank 2"):
        plotting.plot_memory_attention(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="`memory_labels` must have 3 entries"):
        plotting.plot_memory_attention(np.ones((2, 3)), memory_labels=["a"])
