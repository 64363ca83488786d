"""The one check every keras-memory layer goes through, on the current backend.

`run_layer_test` builds a layer from shapes, calls it, compares output
shapes, round-trips `get_config`/`from_config`, saves a functional model to
a `.keras` file and loads it with `safe_mode=True`, checks that no two
randomly initialised weights start equal, takes a training step
and checks that every weight moved and stayed finite, runs the layer
under the `mixed_float16` and `mixed_bfloat16` policies and, given masks,
checks that what is masked out cannot change the outputs.
"""

import inspect

import keras
import numpy as np
from gradients import weight_gradients
from keras import ops


def to_numpy(x):
    return keras.tree.map_structure(ops.convert_to_numpy, x)


def random_inputs(shapes, batch_size, seed=0, dtypes=None):
    """Random float inputs (or ints where `dtypes` says so) for `shapes`."""
    rng = np.random.default_rng(seed)
    dtypes = dtypes or ["float32"] * len(shapes)
    arrays = []
    for shape, dtype in zip(shapes, dtypes):
        full = (batch_size,) + tuple(shape[1:])
        if "int" in dtype:
            arrays.append(rng.integers(0, 5, size=full).astype(dtype))
        else:
            arrays.append(rng.normal(size=full).astype(dtype))
    return arrays


def _single_or_list(items):
    return items[0] if len(items) == 1 else list(items)


def _assert_shapes(outputs, expected):
    actual = [tuple(o.shape) for o in keras.tree.flatten(outputs)]
    assert actual == [tuple(s) for s in expected], (actual, expected)


def assert_all_close(a, b, atol=0.0):
    for x, y in zip(keras.tree.flatten(to_numpy(a)), keras.tree.flatten(to_numpy(b))):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


def assert_distinct_initial_weights(layer):
    """No two randomly drawn weights of one shape start equal.

    A Keras initializer instance returns the same values at every call, so
    reusing one for several matrices silently starts them all the same.
    """
    seen = {}
    for weight in layer.trainable_weights:
        value = ops.convert_to_numpy(weight)
        if np.unique(value).size <= 2:
            continue  # zeros, constants, one-hot focus: equal by design
        for path, other in seen.items():
            assert not (other.shape == value.shape and np.array_equal(other, value)), (
                f"{weight.path} starts equal to {path}"
            )
        seen[weight.path] = value


def _check_masking(layer, inputs, masks, nan_in_masked_slots=True):
    """Masked-out input entries, however large, and NaN, leave the outputs
    alone, and with NaN the weights' gradients stay finite."""
    mask_arg = _single_or_list(list(masks))
    expected = to_numpy(layer(_single_or_list(inputs), mask=mask_arg))
    rng = np.random.default_rng(7)
    garbage = {"large": [], "nan": []}
    for value, mask in zip(inputs, masks):
        if mask is None or "int" in str(value.dtype):
            garbage["large"].append(value)
            garbage["nan"].append(value)
            continue
        mask = np.asarray(mask, bool).reshape(
            np.shape(mask) + (1,) * (value.ndim - np.ndim(mask))
        )
        assert not mask.all(), "a mask check needs something masked"
        noise = (1e3 * rng.normal(size=value.shape)).astype(value.dtype)
        garbage["large"].append(np.where(mask, value, noise))
        garbage["nan"].append(np.where(mask, value, np.nan).astype(value.dtype))
    kinds = ("large", "nan") if nan_in_masked_slots else ("large",)
    for kind in kinds:
        actual = to_numpy(layer(_single_or_list(garbage[kind]), mask=mask_arg))
        for a, b in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
            assert np.all(np.isfinite(a)), kind
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5, err_msg=kind)
    if nan_in_masked_slots:
        # In training, where the layer takes it: a layer that writes as it
        # reads (HashedMemory) writes then.
        training = {"training": True} if "training" in inspect.signature(
            layer.call).parameters else {}
        grads = weight_gradients(layer, _single_or_list(garbage["nan"]), mask=mask_arg,
                                 **training)
        for variable, grad in zip(layer.trainable_variables, grads):
            assert np.all(np.isfinite(grad)), f"NaN in masked slots: {variable.path}"


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shapes,
    expected_output_shapes,
    tmp_path,
    expected_num_trainable_weights=None,
    input_dtypes=None,
    wrap=None,
    batch_size=3,
    static_weights=(),
    check_mixed_precision=True,
    masks=None,
    nan_in_masked_slots=True,
):
    """Puts one layer configuration through the standard checks.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        input_shapes: list of input shapes, batch axis first (may be None).
        expected_output_shapes: list of output shapes for `batch_size`.
        tmp_path: a pytest `tmp_path` for the `.keras` file.
        expected_num_trainable_weights: checked after `build` when given.
        input_dtypes: per-input dtypes (default float32).
        wrap: maps the layer to what goes into a model (for a cell:
            `keras.layers.RNN`); default the layer itself.
        batch_size: batch size of the concrete inputs.
        static_weights: names of weights allowed not to move in one step.
        check_mixed_precision: also run under `mixed_float16` and
            `mixed_bfloat16`.
        masks: per input, a boolean mask over its leading axes (`False` =
            masked out) or `None`; when given, the layer is called with
            `mask=` and its outputs must not move when the masked-out input
            entries are replaced by large random values or by NaN, and with
            NaN its weights' gradients must stay finite.
        nan_in_masked_slots: `False` checks large values only: for a cell
            in `keras.layers.RNN`, whose loop runs masked steps on their
            inputs and selects afterwards (Keras' own `LSTM` gives NaN
            gradients there too; our `MemoryRNN` zeroes masked inputs first).
    """
    wrap = wrap or (lambda layer: layer)
    inputs = random_inputs(input_shapes, batch_size, dtypes=input_dtypes)
    call_inputs = _single_or_list(inputs)

    # Build from shapes and call.
    layer = layer_cls(**init_kwargs)
    wrapped = wrap(layer)
    wrapped.build(_single_or_list([tuple(s) for s in input_shapes]))
    assert layer.built
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights, [
            w.path for w in layer.trainable_weights
        ]
    assert_distinct_initial_weights(layer)
    outputs = wrapped(call_inputs)
    _assert_shapes(outputs, expected_output_shapes)
    for value in keras.tree.flatten(to_numpy(outputs)):
        assert np.all(np.isfinite(value))

    # Config round trip: same config, same outputs from the same weights.
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    revived = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(revived) is layer_cls and revived.get_config() == config
    wrapped_clone = wrap(clone)
    wrapped_clone.build(_single_or_list([tuple(s) for s in input_shapes]))
    wrapped_clone.set_weights(wrapped.get_weights())
    assert_all_close(wrapped_clone(call_inputs), outputs)

    # A functional model saved as .keras and loaded with safe_mode=True.
    symbolic = [
        keras.Input(tuple(s[1:]), dtype=d)
        for s, d in zip(input_shapes, input_dtypes or ["float32"] * len(inputs))
    ]
    model_outputs = wrap(layer_cls(**init_kwargs))(_single_or_list(symbolic))
    model = keras.Model(_single_or_list(symbolic), model_outputs)
    expected = model.predict(call_inputs, verbose=0)
    path = str(tmp_path / f"{layer_cls.__name__}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert_all_close(loaded.predict(call_inputs, verbose=0), expected)

    # One training step: every weight gets a finite, non-zero update.
    targets = [
        np.random.default_rng(1).normal(size=np.shape(o)).astype("float32")
        for o in keras.tree.flatten(expected)
    ]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    before = {w.path: ops.convert_to_numpy(w) for w in model.trainable_weights}
    model.fit(call_inputs, _single_or_list(targets), epochs=1,
              batch_size=batch_size, verbose=0)
    for weight in model.trainable_weights:
        after = ops.convert_to_numpy(weight)
        assert np.all(np.isfinite(after)), weight.path
        if not any(name in weight.path for name in static_weights):
            assert not np.array_equal(after, before[weight.path]), (
                f"{weight.path} did not move: its gradient was zero"
            )

    if masks is not None:
        _check_masking(wrapped, inputs, masks, nan_in_masked_slots)

    for policy, half in (("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")):
        if not check_mixed_precision:
            break
        mixed = layer_cls(**init_kwargs, dtype=policy)
        mixed_outputs = wrap(mixed)(call_inputs)
        assert all(w.dtype == "float32" for w in mixed.weights)
        for value in keras.tree.flatten(mixed_outputs):
            assert keras.backend.standardize_dtype(value.dtype) == half
            value = ops.convert_to_numpy(ops.cast(value, "float32"))
            assert np.all(np.isfinite(value))
    return layer


def assert_learns_to_echo(model, sequences, epochs=30):
    """`model` (a builder's: sequences in, logits out, one per input
    channel) learns to echo the signs of `sequences` with `fit`: its loss
    falls by a fifth and stays finite."""
    targets = (sequences > 0).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    losses = model.fit(sequences, targets, epochs=epochs, batch_size=len(sequences),
                       verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.8 * losses[0], losses


def keras_rnn_twin(layer_class, input_shape, **kwargs):
    """A `MemoryRNN` subclass `layer_class(**kwargs)` and `keras.layers.RNN`
    around its cell with the same arguments, built on `input_shape` with
    the same weights: `(ours, theirs)`."""
    from keras_memory.recurrent.layer import _RNN_ARGUMENTS

    sequence = {key: value for key, value in kwargs.items() if key in _RNN_ARGUMENTS}
    cell = {key: value for key, value in kwargs.items() if key not in _RNN_ARGUMENTS}
    ours = layer_class(**kwargs)
    theirs = keras.layers.RNN(layer_class.cell_class(**cell), **sequence)
    ours.build(input_shape)
    theirs.build(input_shape)
    theirs.set_weights(ours.get_weights())
    return ours, theirs
