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
    from keras import ops

    array = np.asarray(ops.convert_to_numpy(value), dtype="float32")
    if array.ndim != rank:
        raise ValueError(
            f"`{name}` must have rank {rank}, received {name} with shape "
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
        attention: `[num_hops, num_memories]` for one example (for instance
            `MemoryNetwork(return_attention=True)` output `[0]`).
        memory_labels: optional list of `num_memories` strings (the story
            sentences) shown along the memory axis.
        title: optional title.
        path: optional file name to save the picture to (PNG, SVG, ...).

    Returns:
        The matplotlib `Figure`.
    """
    attention = _as_array("attention", attention, 2)
    num_hops, num_memories = attention.shape
    if memory_labels is not None and len(memory_labels) != num_memories:
        raise ValueError(
            f"`memory_labels` must have {num_memories} entries, one per memory, "
            f"received {len(memory_labels)}."
        )
    plt = _pyplot()
    height = 1.2 + 0.35 * num_memories if memory_labels is not None else 3.0
    figure, axis = plt.subplots(figsize=(2.0 + 0.9 * num_hops, height))
    image = axis.imshow(attention.T, aspect="auto", cmap="Blues", vmin=0.0,
                        vmax=max(1e-6, float(attention.max())))
    axis.set_xticks(range(num_hops), [f"hop {k + 1}" for k in range(num_hops)])
    if memory_labels is not None:
        axis.set_yticks(range(num_memories), list(memory_labels))
    else:
        axis.set_ylabel("memory slot")
    for hop in range(num_hops):
        for slot in range(num_memories):
            if attention[hop, slot] >= 0.05:
                axis.text(hop, slot, f"{attention[hop, slot]:.2f}",
                          ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axis, label="attention", fraction=0.08)
    if title:
        axis.set_title(title)
    return _finish(figure, path)
