"""LinearStart."""

import keras
import numpy as np
import pytest
from babi_data import D, J, N, V, ids

import keras_memory as km


def test_linear_start_callback_puts_the_softmax_back():
    model = km.memn2n(V, J, memory_size=N, memory_dim=D, num_hops=2, linear_start=True)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    layer = model.get_layer("memn2n_layer")
    query, story = ids(batch=8)
    answers = np.arange(8) % V
    callback = km.LinearStart(max_epochs=2, patience=5)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(layer.softmax_enabled))
    model.fit({"query": query, "stories": story}, answers, epochs=3, verbose=0,
              validation_data=({"query": query, "stories": story}, answers),
              callbacks=[callback, record])
    assert seen == [False, False, True] and callback.switched_at == 2
    with pytest.raises(ValueError, match="'val_loss'"):
        model.fit({"query": query, "stories": story}, answers, epochs=1, verbose=0,
                  callbacks=[km.LinearStart()])
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    plain.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no layer with a switchable softmax"):
        plain.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0, callbacks=[km.LinearStart()])


def test_linear_start_for_a_fixed_number_of_epochs_needs_no_validation():
    model = km.memn2n(V, J, memory_size=N, memory_dim=D, num_hops=2, linear_start=True)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    layer = model.get_layer("memn2n_layer")
    query, story = ids(batch=8)
    callback = km.LinearStart(patience=None, max_epochs=3)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(layer.softmax_enabled))
    model.fit({"query": query, "stories": story}, np.arange(8) % V, epochs=5,
              verbose=0, callbacks=[callback, record])
    assert seen == [False, False, False, True, True] and callback.switched_at == 3
    with pytest.raises(ValueError, match="patience=None and max_epochs=None"):
        km.LinearStart(patience=None)


@pytest.mark.parametrize("mode, switched_at", [("max", 4), ("min", 3), ("auto", 4)])
def test_linear_start_watches_rising_or_falling_logs(mode, switched_at):
    """A log that rises for 2 epochs, then stalls: with "max" (or "auto" for an
    accuracy) the wait starts after epoch 2; with "min" after epoch 1."""
    model = km.memn2n(V, J, memory_size=N, memory_dim=D, num_hops=2, linear_start=True)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    query, story = ids(batch=8)
    values = iter([0.5, 0.7, 0.7, 0.7, 0.7, 0.7])
    fake = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.update(val_accuracy=next(values)))
    callback = km.LinearStart(monitor="val_accuracy", patience=2, mode=mode)
    model.fit({"query": query, "stories": story}, np.arange(8) % V, epochs=6, verbose=0,
              callbacks=[fake, callback])
    assert callback.switched_at == switched_at


def test_linear_start_reports_through_keras_logging(capsys):
    model = km.memn2n(V, J, memory_size=N, memory_dim=D, num_hops=2, linear_start=True)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    query, story = ids(batch=8)
    model.fit({"query": query, "stories": story}, np.arange(8) % V, epochs=2, verbose=0,
              callbacks=[km.LinearStart(patience=None, max_epochs=1, verbose=True)])
    assert "LinearStart: softmax back in after epoch 1." in capsys.readouterr().out
    with pytest.raises(ValueError, match="mode='up'"):
        km.LinearStart(mode="up")
    with pytest.raises(ValueError, match="min_delta=-1"):
        km.LinearStart(min_delta=-1)
