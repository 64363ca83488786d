"""Training callbacks: `LinearStart`, the paper's linear start for `MemN2N`."""

import keras

from keras_memory import _keras_private
from keras_memory import _validation as check

MODES = ("auto", "min", "max")


def softmax_switch_layers(model):
    """Every layer inside `model` whose hop softmax can be switched."""
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        if hasattr(layer, "set_softmax") and layer is not model:
            found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


class LinearStart(keras.callbacks.Callback):
    """The paper's linear start: train without the hops' softmax, then put it back.

    Training begins with the softmax taken out of every `MemN2N` layer in the
    model. At the end of each epoch the callback watches `monitor`; once it
    has not improved for `patience` epochs (or `max_epochs` epochs have
    passed), the softmax goes back in and training carries on. With
    `patience=None` nothing is watched and the softmax goes back in after
    exactly `max_epochs` epochs, as in the paper's released code (20 epochs
    on bAbI; bench/README.md says why that beats watching the loss).

    Args:
        monitor: the log to watch, default `"val_loss"`.
        mode: `"min"`, `"max"` or `"auto"` (the default), as in
            `keras.callbacks.EarlyStopping`: whether `monitor` improves by
            falling or by rising; `"auto"` takes rising for accuracies
            (names with `"acc"`), falling otherwise.
        patience: int >= 1, epochs without improvement before the switch
            (default 5), or `None` for a fixed `max_epochs`.
        max_epochs: int >= 1 or `None`: switch after this many epochs at the
            latest. Required when `patience` is `None`.
        min_delta: float >= 0, the smallest decrease counted as improvement.
        verbose: bool, say when the softmax goes back in (through Keras'
            logging, like `EarlyStopping`).

    Attributes:
        switched_at: the epoch count at which the softmax went back in, or
            `None` while training is still linear.

    Examples:
        >>> import keras, numpy as np
        >>> from keras_memory import memn2n
        >>> model = memn2n(vocab_size=9, sentence_len=3, memory_size=4,
        ...                linear_start=True)
        >>> model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(
        ...     from_logits=True))
        >>> inputs = {"query": np.ones((8, 3), "int32"),
        ...           "stories": np.ones((8, 4, 3), "int32")}
        >>> start = LinearStart(patience=None, max_epochs=1)
        >>> _ = model.fit(inputs, np.zeros(8), epochs=2, verbose=0, callbacks=[start])
        >>> start.switched_at
        1
    """

    def __init__(self, monitor="val_loss", patience=5, max_epochs=None,
                 min_delta=0.0, verbose=False, mode="auto"):
        super().__init__()
        self.monitor = monitor
        self.mode = check.choice("mode", mode, MODES)
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self._sign = 1.0 if mode == "min" else -1.0  # improvement: sign * value falls
        self.patience = check.optional_positive_int("patience", patience)
        self.max_epochs = check.optional_positive_int("max_epochs", max_epochs)
        if self.patience is None and self.max_epochs is None:
            raise ValueError(
                "LinearStart needs `patience` or `max_epochs` to know when to "
                "put the softmax back, received patience=None and "
                "max_epochs=None."
            )
        self.min_delta = float(min_delta)
        if self.min_delta < 0:
            raise ValueError(f"`min_delta` must be >= 0, received min_delta={min_delta!r}.")
        self.verbose = bool(verbose)
        self.switched_at = None
        self._best = None
        self._waited = 0

    @property
    def linear(self):
        return self.switched_at is None

    def _layers(self):
        layers = softmax_switch_layers(self.model)
        if not layers:
            raise ValueError(
                "LinearStart found no layer with a switchable softmax (such "
                "as MemN2N) in the model."
            )
        return layers

    def on_train_begin(self, logs=None):
        if self.linear:
            for layer in self._layers():
                layer.set_softmax(False)

    def on_epoch_end(self, epoch, logs=None):
        if not self.linear:
            return
        if self.patience is not None:
            self._watch((logs or {}).get(self.monitor), logs)
        out_of_time = self.max_epochs is not None and epoch + 1 >= self.max_epochs
        if out_of_time or (self.patience is not None and self._waited >= self.patience):
            for layer in self._layers():
                layer.set_softmax(True)
            self.switched_at = epoch + 1
            if self.verbose:
                _keras_private.print_msg(f"LinearStart: softmax back in after epoch {epoch + 1}.")

    def _watch(self, value, logs):
        """Counts the epochs since `monitor` last improved."""
        if value is None:
            raise ValueError(
                f"LinearStart monitors {self.monitor!r}, which is not in the "
                f"logs {sorted(logs or {})}; pass validation data or another "
                "`monitor`."
            )
        value = self._sign * float(value)
        if self._best is None or value < self._best - self.min_delta:
            self._best, self._waited = value, 0
        else:
            self._waited += 1
