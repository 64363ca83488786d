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


def test_plot_ntm_trace_draws_five_panels(tmp_path):
    steps, rows = 7, 6
    rng = np.random.default_rng(0)
    path = tmp_path / "trace.png"
    figure = plotting.plot_ntm_trace(
        rng.uniform(size=(steps, 3)), rng.uniform(size=(steps, 2)),
        rng.uniform(size=(steps, 2)), rng.dirichlet(np.ones(rows), size=(steps, 2)),
        rng.dirichlet(np.ones(rows), size=steps), title="t", path=path,
        only_used_rows=False,
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    labels = [axis.get_ylabel() for axis in figure.axes[:5]]
    assert labels == ["input", "target", "output", "read weights", "write weights"]
    assert len(figure.axes) == 10  # a colour bar per panel
    # Two read heads stack their rows; memory rows down, time across.
    assert figure.axes[3].images[0].get_array().shape == (2 * rows, steps)
    assert figure.axes[4].images[0].get_array().shape == (rows, steps)


def test_plot_ntm_trace_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="`outputs` must have 4 time steps"):
        plotting.plot_ntm_trace(np.ones((4, 3)), np.ones((4, 2)), np.ones((5, 2)),
                                np.ones((4, 6)), np.ones((4, 6)))


def test_plot_ntm_trace_keeps_only_rows_a_head_used():
    steps, rows = 5, 10
    focus = np.zeros((steps, rows))
    focus[np.arange(steps), [0, 1, 2, 9, 9]] = 1.0
    figure = plotting.plot_ntm_trace(np.ones((steps, 2)), np.ones((steps, 2)),
                                     np.ones((steps, 2)), focus, focus)
    shown = figure.axes[4].images[0].get_array()
    assert shown.shape == (4, steps)  # rows 0, 1, 2 and 9
    labels = [t.get_text() for t in figure.axes[4].get_yticklabels()]
    assert "row 9" in labels and "row 0" in labels


def test_plot_dnc_trace_draws_seven_panels(tmp_path):
    steps, rows = 6, 5
    rng = np.random.default_rng(1)
    path = tmp_path / "dnc.png"
    figure = plotting.plot_dnc_trace(
        rng.uniform(size=(steps, 3)), rng.uniform(size=(steps, 2)),
        rng.uniform(size=(steps, 2)), rng.dirichlet(np.ones(rows), size=(steps, 1)),
        rng.dirichlet(np.ones(rows), size=(steps, 2)), rng.uniform(size=(steps, rows)),
        rng.dirichlet(np.ones(3), size=(steps, 2)), title="dnc", path=path,
        only_used_rows=False,
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    labels = [axis.get_ylabel() for axis in figure.axes[:7]]
    assert labels == ["input", "target", "output", "write weights", "read weights",
                      "usage", "read modes"]
    assert len(figure.axes) == 14  # a colour bar per panel
    assert figure.axes[4].images[0].get_array().shape == (2 * rows, steps)
    assert figure.axes[5].images[0].get_array().shape == (rows, steps)
    assert figure.axes[6].images[0].get_array().shape == (2 * 3, steps)
    modes = [t.get_text() for t in figure.axes[6].get_yticklabels()]
    assert "r0 back 0" in modes and "r1 content" in modes


def test_plot_dnc_trace_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="`usage` must have 4 time steps"):
        plotting.plot_dnc_trace(np.ones((4, 3)), np.ones((4, 2)), np.ones((4, 2)),
                                np.ones((4, 1, 6)), np.ones((4, 1, 6)), np.ones((5, 6)),
                                np.ones((4, 1, 3)))



def test_trace_marks_unscored_steps_and_names_channels(tmp_path):
    from keras_memory.tasks import NO_TARGET, copy_sequences

    inputs, targets, _ = copy_sequences(1, min_length=3, max_length=3, seed=0)
    assert np.any(targets == NO_TARGET)
    focus = np.eye(inputs.shape[1])
    figure = plotting.plot_ntm_trace(inputs[0], targets[0], targets[0], focus, focus)
    legend = figure.axes[1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["not scored"]
    assert figure.axes[0].get_legend() is None and figure.axes[2].get_legend() is None
    assert all(float(t).is_integer() for t in figure.axes[4].get_xticks())
    channels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert channels[0] == "ch 0" and channels[-1] == f"ch {inputs.shape[-1] - 1}"
    scored = np.where(targets[0] == NO_TARGET, 0.0, targets[0])
    figure = plotting.plot_ntm_trace(inputs[0], scored, scored, focus, focus)
    assert figure.axes[1].get_legend() is None


def test_a_long_title_wraps_inside_the_figure(tmp_path):
    title = "Where is the football that Mary dropped in the garden? -> garden (true: garden)"
    figure = plotting.plot_memory_attention(np.full((3, 4), 0.25), title=title,
                                            path=tmp_path / "a.png")
    text = figure.axes[0].title
    assert text.get_text().replace("\n", " ") == title and "\n" in text.get_text()
    box = text.get_window_extent(figure.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= figure.bbox.width


def test_plot_slot_usage_draws_each_usage_on_its_grid_and_sorted(tmp_path):
    usage = np.zeros((2, 16), "float32")
    usage[0] = 1.0
    usage[1, [0, 5]] = [3.0, 1.0]
    path = tmp_path / "usage.png"
    figure = plotting.plot_slot_usage(usage, ["even", "two slots"], title="t", path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    grids = [axis for axis in figure.axes if axis.images]
    assert len(grids) == 2
    shown = grids[1].images[0].get_array()
    assert shown.shape == (4, 4)
    np.testing.assert_allclose(shown[0, 0], 0.75)   # slot 0 = sub-keys (0, 0)
    np.testing.assert_allclose(shown[1, 1], 0.25)   # slot 5 = sub-keys (1, 1)
    assert np.ma.count_masked(np.ma.masked_invalid(shown)) == 14  # unread: blank
    assert "12% of slots read" in grids[1].get_title()
    curves = [axis for axis in figure.axes if axis.get_xscale() == "log"][0]
    np.testing.assert_allclose(curves.lines[1].get_ydata(), [0.75, 0.25])


def test_plot_slot_usage_rejects_a_size_that_is_not_square():
    with pytest.raises(ValueError, match="perfect-square"):
        plotting.plot_slot_usage(np.ones(15))
    with pytest.raises(ValueError, match="`labels` must have 2 entries"):
        plotting.plot_slot_usage(np.ones((2, 16)), ["one"])
