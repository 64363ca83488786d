"""Pictures of what memory layers attend to (needs matplotlib: `.[plot]`).

Every function takes NumPy arrays (or tensors; they are converted), returns
the matplotlib `Figure`, and writes it to `path` when one is given.
"""

import numpy as np


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "keras_memory.plotting needs matplotlib: "
            "pip install 'keras-memory[plot]'"
        ) from error
    return plt


def _as_array(name, value, rank):
    """A float32 NumPy copy of `value`; `rank` is an int or a tuple of ints."""
    from keras import ops

    array = np.asarray(ops.convert_to_numpy(value), dtype="float32")
    ranks = (rank,) if isinstance(rank, int) else tuple(rank)
    if array.ndim not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"`{name}` must have rank {expected}, received {name} with shape "
            f"{array.shape}."
        )
    return array


def _finish(figure, path):
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure


def plot_memory_attention(attention, memory_labels=None, title=None, path=None):
    """Heat map of a memory network's attention, one row per hop.

    Args:
        attention: `[num_hops, memory_size]` for one example (for instance
            `MemoryNetwork(return_attention=True)` output `[0]`).
        memory_labels: optional list of `memory_size` strings (the story
            sentences) shown along the memory axis.
        title: optional title.
        path: optional file name to save the picture to (PNG, SVG, ...).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> import numpy as np
    >>> figure = plot_memory_attention(np.array([[0.9, 0.1], [0.2, 0.8]]),
    ...                                ["Mary went home.", "John left."])
    >>> len(figure.axes[0].get_yticklabels())
    2
    """
    attention = _as_array("attention", attention, 2)
    num_hops, memory_size = attention.shape
    if memory_labels is not None and len(memory_labels) != memory_size:
        raise ValueError(
            f"`memory_labels` must have {memory_size} entries, one per memory, "
            f"received {len(memory_labels)}."
        )
    plt = _pyplot()
    height = 1.2 + 0.35 * memory_size if memory_labels is not None else 3.0
    figure, axis = plt.subplots(figsize=(2.0 + 0.9 * num_hops, height))
    image = axis.imshow(attention.T, aspect="auto", cmap="Blues", vmin=0.0,
                        vmax=max(1e-6, float(attention.max())))
    axis.set_xticks(range(num_hops), [f"hop {k + 1}" for k in range(num_hops)])
    if memory_labels is not None:
        axis.set_yticks(range(memory_size), list(memory_labels))
    else:
        axis.set_ylabel("memory slot")
    for hop in range(num_hops):
        for slot in range(memory_size):
            if attention[hop, slot] >= 0.05:
                axis.text(hop, slot, f"{attention[hop, slot]:.2f}",
                          ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axis, label="attention", fraction=0.08)
    if title:
        axis.set_title(title)
    return _finish(figure, path)


def plot_ntm_trace(inputs, targets, outputs, read_weights, write_weights,
                   title=None, path=None, only_used_rows=True):
    """Input, target, output and head weights of one NTM sequence over time.

    Args:
        inputs: `[time, input_size]`.
        targets: `[time, output_size]`.
        outputs: `[time, output_size]`, probabilities (apply the sigmoid to
            logits first).
        read_weights: `[time, N]` or `[time, heads, N]` (from
            `keras_memory.trace`); several heads are drawn side by side.
        write_weights: same, for the write heads.
        title: optional title.
        path: optional file name to save the picture to.
        only_used_rows: bool; draw only the memory rows that some head
            weights by 0.05 or more at some step (default), labelled by
            row index, instead of all N rows.

    Returns:
        The matplotlib `Figure`: five panels, time running left to right.

    Example:

    >>> import numpy as np
    >>> steps = np.eye(4)                   # 4 steps, one-hot weights
    >>> figure = plot_ntm_trace(steps, steps, steps, steps, steps)
    >>> len(figure.axes)
    5
    """
    inputs = _as_array("inputs", inputs, 2)
    targets = _as_array("targets", targets, 2)
    outputs = _as_array("outputs", outputs, 2)
    heads = []
    for name, value in (("read_weights", read_weights), ("write_weights", write_weights)):
        array = _as_array(name, value, (2, 3))  # [time, N] or [time, heads, N]
        heads.append(array[:, None, :] if array.ndim == 2 else array)
    steps = inputs.shape[0]
    for name, array in (("targets", targets), ("outputs", outputs),
                        ("read_weights", heads[0]), ("write_weights", heads[1])):
        if array.shape[0] != steps:
            raise ValueError(
                f"`{name}` must have {steps} time steps like `inputs`, "
                f"received {name} with shape {array.shape}."
            )
    if only_used_rows:
        # Rows that some head ever weights visibly; the rest stay blank.
        peak = np.maximum(heads[0].max(axis=(0, 1)), heads[1].max(axis=(0, 1)))
        rows = np.flatnonzero(peak >= 0.05)
        rows = rows if rows.size else np.arange(peak.size)
    else:
        rows = np.arange(heads[0].shape[-1])
    plt = _pyplot()
    panels = [
        ("input", inputs.T, "Greys"),
        ("target", targets.T, "Greys"),
        ("output", outputs.T, "Greys"),
        ("read weights", np.concatenate(list(heads[0][:, :, rows].transpose(1, 2, 0)), 0), "Blues"),
        ("write weights", np.concatenate(list(heads[1][:, :, rows].transpose(1, 2, 0)), 0), "Reds"),
    ]
    ratios = [max(3, p[1].shape[0]) for p in panels[:3]] + [24, 24]
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(max(6.0, 0.18 * steps + 2), 9),
        gridspec_kw={"height_ratios": ratios}, sharex=True,
    )
    for index, (axis, (label, image, cmap)) in enumerate(zip(axes, panels)):
        axis.imshow(image, aspect="auto", cmap=cmap, interpolation="nearest",
                    vmin=0.0, vmax=1.0)
        axis.set_ylabel(label, rotation=0, ha="right", va="center")
        if index < 3:
            axis.set_yticks([])
        else:
            # Label a few memory rows by their index (rows may be skipped).
            count = image.shape[0]
            ticks = np.linspace(0, count - 1, min(count, 6)).round().astype(int)
            axis.set_yticks(ticks, [f"row {rows[t % rows.size]}" for t in ticks],
                            fontsize=7)
    axes[-1].set_xlabel("time step")
    if title:
        axes[0].set_title(title)
    return _finish(figure, path)

