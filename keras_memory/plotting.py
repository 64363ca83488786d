"""Pictures of what memory layers attend to (needs matplotlib: `.[plot]`).

Every function takes NumPy arrays (or tensors; they are converted), returns
the matplotlib `Figure`, and writes it to `path` when one is given. Every
panel has a colour bar; long titles wrap to the figure's width.
"""

import textwrap

import numpy as np

# The targets of steps a task does not score (`keras_memory.tasks.NO_TARGET`).
UNSCORED = 0.5


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


def _set_title(axis, title, figure):
    """`title`, wrapped to the figure's width (about 11 characters an inch)."""
    width = max(20, int(figure.get_figwidth() * 11))
    axis.set_title(textwrap.fill(str(title), width), fontsize=9)


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

    Examples:
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
        _set_title(axis, title, figure)
    return _finish(figure, path)


def plot_slot_usage(usages, labels=None, title=None, path=None):
    """How a large memory's slots are read, one row of panels per usage.

    Left: the usage of each slot of an `n * n` product-key memory on its
    `n x n` grid of sub-key pairs (log colour scale, unread slots white);
    right: every usage's slots sorted from most to least read, as the share
    of all reads (log scale), the evener the flatter.

    Args:
        usages: `[memory_size]` or `[rows, memory_size]` non-negative read
            weights (`ProductKeyMemory.slot_usage`); `memory_size` a perfect
            square.
        labels: optional list of one string per row (e.g. "query norm").
        title: optional title.
        path: optional file name to save the picture to.

    Returns:
        The matplotlib `Figure`.

    Examples:
        >>> import numpy as np
        >>> usage = np.random.default_rng(0).exponential(size=(2, 64))
        >>> figure = plot_slot_usage(usage, ["even", "uneven"])
        >>> len(figure.axes)  # two grids, their colour bars, the curves
        5
    """
    usages = _as_array("usages", usages, (1, 2))
    usages = usages[None] if usages.ndim == 1 else usages
    rows, size = usages.shape
    side = int(round(size ** 0.5))
    if side * side != size or (usages < 0).any():
        raise ValueError(
            "`usages` must be non-negative with a perfect-square memory size on "
            f"the last axis, received usages with shape {usages.shape}."
        )
    labels = list(labels) if labels is not None else [f"usage {r}" for r in range(rows)]
    if len(labels) != rows:
        raise ValueError(f"`labels` must have {rows} entries, received {len(labels)}.")
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    figure = plt.figure(figsize=(9.0, 3.2 * rows))
    grid = figure.add_gridspec(rows, 2, width_ratios=[1.0, 1.3])
    curves = figure.add_subplot(grid[:, 1])
    shares = usages / np.maximum(usages.sum(axis=1, keepdims=True), 1e-12)
    # One colour scale for every grid, down to a millionth of the largest share.
    top = max(float(shares.max()), 1e-12)
    scale = LogNorm(vmin=max(float(shares[shares > 0].min(initial=top)), top * 1e-6),
                    vmax=top * 1.0001, clip=True)
    for row, (share, label) in enumerate(zip(shares, labels)):
        axis = figure.add_subplot(grid[row, 0])
        read = np.where(share > 0, share, np.nan).reshape(side, side)
        image = axis.imshow(read, cmap="viridis", interpolation="nearest", norm=scale)
        axis.set_xlabel("second-half sub-key")
        axis.set_ylabel("first-half sub-key")
        axis.set_title(f"{label}: {np.mean(share > 0):.0%} of slots read", fontsize=9)
        figure.colorbar(image, ax=axis, label="share of reads", fraction=0.046)
        ordered = np.sort(share)[::-1]
        ordered = ordered[ordered > 0]
        curves.plot(np.arange(1, ordered.size + 1), ordered, label=label)
    curves.set_xscale("log")
    curves.set_yscale("log")
    curves.axhline(1.0 / size, color="grey", linestyle=":", label="uniform")
    curves.set_xlabel("slots, most read first")
    curves.set_ylabel("share of reads")
    curves.legend(fontsize=8)
    if title:
        _set_title(curves, title, figure)
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
        The matplotlib `Figure`: five panels, time running left to right,
        each with its colour bar (`figure.axes[:5]` are the panels). Target
        steps equal to `UNSCORED` (0.5, what the task generators give steps
        they do not score) are marked "not scored" in a legend.

    Examples:
        >>> import numpy as np
        >>> steps = np.eye(4)                   # 4 steps, one-hot weights
        >>> figure = plot_ntm_trace(steps, steps, steps, steps, steps)
        >>> [axis.get_ylabel() for axis in figure.axes[:5]]
        ['input', 'target', 'output', 'read weights', 'write weights']
    """
    sequences = _sequence_panels(inputs, targets, outputs)
    steps = sequences[0][1].shape[1]
    heads = [_head_weights(name, value, steps) for name, value in
             (("read_weights", read_weights), ("write_weights", write_weights))]
    rows = _used_rows(heads, only_used_rows)
    panels = sequences + [
        ("read weights", _stack_heads(heads[0], rows), "Blues", _row_labels(heads[0], rows)),
        ("write weights", _stack_heads(heads[1], rows), "Reds", _row_labels(heads[1], rows)),
    ]
    return _draw(panels, steps, title, path)


def plot_dnc_trace(inputs, targets, outputs, write_weights, read_weights, usage,
                   read_modes, title=None, path=None, only_used_rows=True):
    """Input, target, output and the DNC's memory use of one sequence over time.

    Args:
        inputs: `[time, input_size]`.
        targets: `[time, output_size]`.
        outputs: `[time, output_size]`, probabilities.
        write_weights: `[time, W, N]` (from `keras_memory.trace`).
        read_weights: `[time, R, N]`.
        usage: `[time, N]`.
        read_modes: `[time, R, 2W + 1]`: backward, forward, content.
        title: optional title.
        path: optional file name to save the picture to.
        only_used_rows: bool; draw only the memory rows some head weights
            by 0.05 or more at some step (default).

    Returns:
        The matplotlib `Figure`: seven panels, time running left to right,
        each with its colour bar (`figure.axes[:7]` are the panels).

    Examples:
        >>> import numpy as np
        >>> weights = np.eye(4)[:, None, :]        # 4 steps, 1 head, N = 4
        >>> figure = plot_dnc_trace(np.eye(4), np.eye(4), np.eye(4), weights,
        ...                         weights, np.eye(4), np.full((4, 1, 3), 1 / 3))
        >>> len(figure.axes[0].images), figure.axes[6].get_ylabel()
        (1, 'read modes')
    """
    sequences = _sequence_panels(inputs, targets, outputs)
    steps = sequences[0][1].shape[1]
    heads = [_head_weights(name, value, steps) for name, value in
             (("write_weights", write_weights), ("read_weights", read_weights))]
    usage = _head_weights("usage", usage, steps)
    modes = _head_weights("read_modes", read_modes, steps)
    rows = _used_rows(heads, only_used_rows)
    num_writes = (modes.shape[-1] - 1) // 2
    mode_names = ([f"back {w}" for w in range(num_writes)]
                  + [f"fwd {w}" for w in range(num_writes)] + ["content"])
    mode_labels = [f"r{r} {name}" for r in range(modes.shape[1]) for name in mode_names]
    panels = sequences + [
        ("write weights", _stack_heads(heads[0], rows), "Reds", _row_labels(heads[0], rows)),
        ("read weights", _stack_heads(heads[1], rows), "Blues", _row_labels(heads[1], rows)),
        ("usage", _stack_heads(usage, rows), "Greens", _row_labels(usage, rows)),
        ("read modes", _stack_heads(modes, np.arange(modes.shape[-1])), "Purples",
         mode_labels),
    ]
    return _draw(panels, steps, title, path)


def plot_trace(record, inputs=None, targets=None, sequence=0, fields=None, title=None,
               path=None, only_used_rows=True):
    """What any memory cell did over one sequence, from `keras_memory.trace`.

    Panels, time running left to right: the inputs and targets when given,
    the outputs, then each state field the cell draws over its memory rows
    (`record.plotted_fields`, the cell's `MemoryCell.plotted_fields`: for
    an NTM the read and write weights, for a DNC also the usage). A field
    `<name>_weights` beside a `<name>_rows` (a sparse cell's, `SAMCell`)
    is drawn over the rows it names: only rows some step touched, however
    large the memory.

    Args:
        record: what `keras_memory.trace` returned (a `Trace`), or a dict of
            arrays with a batch and a time axis (then pass `fields`).
        inputs: optional `[time, input_size]` or `[batch, time, input_size]`.
        targets: optional, shaped like the outputs (`[time, output_size]` or
            with the batch axis).
        sequence: int, which sequence of the batch to draw.
        fields: names of the record's fields to draw over the memory rows
            (default: `record.plotted_fields`).
        title: optional title.
        path: optional file name to save the picture to.
        only_used_rows: bool; draw only the memory rows that some field
            weights by 0.05 or more at some step (default).

    Returns:
        The matplotlib `Figure` (`figure.axes[:panels]` are the panels).

    Examples:
        >>> import numpy as np
        >>> record = {"outputs": np.zeros((1, 4, 2)),
        ...           "read_weights": np.eye(4)[None, :, None, :]}
        >>> figure = plot_trace(record, fields=["read_weights"])
        >>> [axis.get_ylabel() for axis in figure.axes[:2]]
        ['output', 'read weights']
    """
    fields = tuple(getattr(record, "plotted_fields", ()) if fields is None else fields)
    if not fields:
        raise ValueError(
            "`fields` must name at least one field of `record` to draw over the "
            "memory rows (the cell plots none), received none."
        )
    missing = [name for name in ("outputs",) + fields if name not in record]
    if missing:
        raise ValueError(
            f"`record` must hold {missing} (what keras_memory.trace records), "
            f"received the fields {sorted(record)}."
        )
    batch = np.shape(record["outputs"])[0]
    if not isinstance(sequence, int) or not 0 <= sequence < batch:
        raise ValueError(
            f"`sequence` must be an int in [0, {batch}), received sequence={sequence!r}."
        )

    def one(name, value):  # the record's arrays: the sequence's part
        return _as_array(name, value, (3, 4, 5))[sequence]

    def given(name, value):  # inputs and targets: with the batch axis or not
        array = _as_array(name, value, (2, 3))
        return array[sequence] if array.ndim == 3 else array

    outputs = one("outputs", record["outputs"])
    steps = outputs.shape[0]
    given_arrays = [(label, name, given(name, value)) for label, name, value in (
        ("input", "inputs", inputs), ("target", "targets", targets)) if value is not None]
    panels = _channel_panels(given_arrays + [("output", "outputs", outputs)], steps,
                             "the record")
    for name in fields:
        array = _head_weights(name, one(name, record[name]), steps)
        row_ids = np.arange(array.shape[-1])
        sparse_rows = name.removesuffix("_weights") + "_rows"
        if name.endswith("_weights") and sparse_rows in record:
            # A sparse cell's weights: over the rows its `*_rows` name.
            array, row_ids = _densify(array, _head_weights(
                sparse_rows, one(sparse_rows, record[sparse_rows]), steps))
        rows = _used_rows([array], only_used_rows)
        # The colours of plot_ntm_trace and plot_dnc_trace.
        colour = next((c for part, c in (("read", "Blues"), ("write", "Reds"),
                                         ("usage", "Greens")) if part in name), "Purples")
        panels.append((name.replace("_", " "), _stack_heads(array, rows), colour,
                       _row_labels(array, row_ids[rows])))
    return _draw(panels, steps, title, path)


def _densify(weights, rows):
    """Sparse `[time, heads, K]` weights on `rows` (the same shape) as dense
    `[time, heads, U]` over the U rows ever touched, and those rows' ids."""
    rows = rows.astype("int64")
    touched, where = np.unique(rows, return_inverse=True)
    dense = np.zeros(weights.shape[:2] + (touched.size,), "float32")
    time, heads = np.indices(weights.shape[:2])
    np.add.at(dense, (time[..., None], heads[..., None], where.reshape(rows.shape)), weights)
    return dense, touched


def _sequence_panels(inputs, targets, outputs):
    """The input, target and output panels, after checking their shapes."""
    steps = _as_array("inputs", inputs, 2).shape[0]
    return _channel_panels([("input", "inputs", inputs), ("target", "targets", targets),
                            ("output", "outputs", outputs)], steps, "`inputs`")


def _channel_panels(arrays, steps, like):
    """Grey panels of `(label, name, [time, channels])` arrays, each checked
    to have `steps` time steps (`like` says whose)."""
    panels = []
    for label, name, value in arrays:
        array = _as_array(name, value, 2)
        if array.shape[0] != steps:
            raise ValueError(
                f"`{name}` must have {steps} time steps like {like}, "
                f"received {name} with shape {array.shape}."
            )
        panels.append((label, array.T, "Greys", [f"ch {c}" for c in range(array.shape[1])]))
    return panels


def _head_weights(name, value, steps):
    """`[time, N]` or `[time, heads, N]` as `[time, heads, N]`, checked."""
    array = _as_array(name, value, (2, 3))
    if array.shape[0] != steps:
        raise ValueError(
            f"`{name}` must have {steps} time steps like `inputs`, "
            f"received {name} with shape {array.shape}."
        )
    return array[:, None, :] if array.ndim == 2 else array


def _used_rows(heads, only_used_rows):
    """Rows that some head ever weights visibly (all rows if none, or asked)."""
    size = heads[0].shape[-1]
    if not only_used_rows:
        return np.arange(size)
    peak = np.max([h.max(axis=(0, 1)) for h in heads], axis=0)
    rows = np.flatnonzero(peak >= 0.05)
    return rows if rows.size else np.arange(size)


def _stack_heads(weights, rows):
    """`[time, heads, N]` -> `[heads * len(rows), time]`, head after head."""
    return np.concatenate(list(weights[:, :, rows].transpose(1, 2, 0)), 0)


def _row_labels(weights, rows):
    heads = weights.shape[1]
    return [f"{f'h{h} ' if heads > 1 else ''}row {r}" for h in range(heads) for r in rows]


def _draw(panels, steps, title, path):
    """Panels `(label, image [rows, time], cmap, row labels or None)`, one
    above the other, sharing the time axis."""
    plt = _pyplot()
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    ratios = [max(8, image.shape[0]) for _, image, _, _ in panels]
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(max(6.0, 0.18 * steps + 2.5), 1.8 * len(panels) + 1),
        gridspec_kw={"height_ratios": ratios}, sharex=True,
    )
    for axis, (label, image, cmap, labels) in zip(axes, panels):
        # Weights and probabilities on [0, 1]; other values on their range.
        shown = axis.imshow(image, aspect="auto", cmap=cmap, interpolation="nearest",
                            vmin=min(0.0, float(image.min())),
                            vmax=max(1.0, float(image.max())))
        # A bar on every panel keeps the panels' time axes aligned.
        bar = figure.colorbar(shown, ax=axis, fraction=0.03, pad=0.01, ticks=[0, 0.5, 1])
        bar.ax.tick_params(labelsize=6)
        axis.set_ylabel(label, rotation=0, ha="right", va="center")
        # Label a few rows (memory rows may be skipped).
        count = image.shape[0]
        ticks = np.linspace(0, count - 1, min(count, 6)).round().astype(int)
        axis.set_yticks(ticks, [labels[t] for t in ticks], fontsize=6)
        if label == "target" and np.any(image == UNSCORED):
            grey = shown.cmap(shown.norm(UNSCORED))
            axis.legend(handles=[Patch(facecolor=grey, label="not scored")],
                        loc="upper left", fontsize=6, framealpha=0.9)
    axes[-1].set_xlabel("time step")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        _set_title(axes[0], title, figure)
    return _finish(figure, path)
