"""When a memory cell's step is recomputed in the backward pass (`remat`)."""

from keras_memory import _backend

REMAT_CHOICES = ("auto", True, False)
# With remat="auto", jax recomputes a step in the backward pass once the
# largest state tensor of the batch (an NTM's memory: batch * N * M) holds
# this many numbers; below that, storing the step is faster.
REMAT_MIN_STATE = 65536


def check_remat(remat):
    """Returns `remat` if it is `"auto"`, `True` or `False`, else raises."""
    if remat is None or not any(remat is c or remat == c for c in REMAT_CHOICES):
        raise ValueError(
            f"`remat` must be 'auto', True or False, received remat={remat!r}."
        )
    return remat if remat == "auto" else bool(remat)


def step_remat(remat, batch_size, state_numbers):
    """Whether one cell step is recomputed in the backward pass.

    Args:
        remat: `"auto"`, `True` or `False`.
        batch_size: int or `None`.
        state_numbers: numbers per sequence in the largest state tensor.

    `True` everywhere but tensorflow, whose `tf.recompute_grad` cannot run
    inside the RNN loop; `"auto"`: on jax once `batch_size * state_numbers
    >= REMAT_MIN_STATE`, where XLA then moves far less memory per step.
    """
    if not _backend.can_recompute_steps() or remat is False:
        return False
    if remat is True:
        return True
    return (
        _backend.recomputes_by_default()
        and batch_size is not None
        and batch_size * state_numbers >= REMAT_MIN_STATE
    )


def whole_step_remat(remat):
    """Whether the masked loop recomputes each whole step, skip choice included.

    There, recomputing is what lets a skipped step cost (almost) nothing in
    the gradient, which outweighs the recomputation at any batch size:
    `"auto"` on jax, `True` on jax and torch, never on tensorflow.
    """
    if not _backend.can_recompute_steps() or remat is False:
        return False
    return remat is True or _backend.recomputes_by_default()
