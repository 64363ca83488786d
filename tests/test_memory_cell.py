"""`keras_memory.recurrent`: the state declared once (`state`) and the
memory-cell base (`MemoryCell`) that derives everything from it."""

import collections

import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import to_numpy
from ntm_data import SMALL, I, sequences

import keras_memory as km
from keras_memory.recurrent import state as states

Parts = collections.namedtuple("Parts", ["output", "controller", "grid", "row"])
DECLARED = Parts(output=(3,), controller=[(5,), (5,)], grid=(2, 4), row=(4,))


def named_state(batch=2):
    rng = np.random.default_rng(0)

    def tensor(shape):
        return ops.convert_to_tensor(rng.normal(size=(batch,) + shape).astype("float32"))

    return Parts(tensor((3,)), [tensor((5,)), tensor((5,))], tensor((2, 4)), tensor((4,)))


def test_the_flat_state_follows_the_declaration_field_by_field():
    assert states.flat_sizes(DECLARED) == [3, 5, 5, 8, 4]
    assert [label for label, _ in states.shapes(DECLARED)] == [
        "output", "controller[0]", "controller[1]", "grid", "row"]
    state = named_state()
    flat = states.pack(state, DECLARED)
    assert [tuple(t.shape) for t in flat] == [(2, 3), (2, 5), (2, 5), (2, 8), (2, 4)]
    # The grid is flattened row-major: its second row follows its first.
    np.testing.assert_array_equal(to_numpy(flat[3])[:, 4:], to_numpy(state.grid)[:, 1])
    back = states.unpack(flat, DECLARED)
    assert type(back) is Parts and isinstance(back.controller, list)
    for a, b in zip(keras.tree.flatten(back), keras.tree.flatten(state)):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_an_empty_group_and_unknown_sizes():
    declared = DECLARED._replace(output=(None,), controller=[])
    assert states.flat_sizes(declared) == [None, 8, 4]


def test_unpacking_the_wrong_number_of_tensors_says_how_many():
    with pytest.raises(ValueError, match="A Parts is 5 flat tensors, received 4"):
        states.unpack(states.pack(named_state(), DECLARED)[:4], DECLARED)


def test_a_declaration_must_hold_shapes():
    with pytest.raises(TypeError, match="State field `grid` must be declared as a shape"):
        states.shapes(DECLARED._replace(grid=[2, 4]))


@pytest.mark.parametrize("change, message", [
    (lambda s: s._replace(grid=ops.zeros((2, 4, 2))), r"`grid` the per-sequence shape \(4, 2\)"),
    (lambda s: s._replace(row=ops.zeros((2, 4, 1))), r"`row` the per-sequence shape \(4, 1\)"),
    (lambda s: s._replace(controller=s.controller[:1]), "`controller` 1 tensors"),
    (lambda s: tuple(s), "must give a Parts"),
])
def test_a_state_unlike_its_declaration_is_refused_by_field(change, message):
    with pytest.raises((ValueError, TypeError), match=message):
        states.check(change(named_state()), DECLARED, "Cell.step")


# -- the base ---------------------------------------------------------------------

Count = collections.namedtuple("Count", ["output", "steps", "memory"])


class Counter(km.MemoryCell):
    """Adds its inputs to every memory row and counts steps."""

    def __init__(self, rows=3, width=2, wrong_memory_shape=False, **kwargs):
        super().__init__(**kwargs)
        self.rows, self.width, self.wrong = rows, width, wrong_memory_shape

    @property
    def state_shape(self):
        memory = (self.width, self.rows) if self.wrong else (self.rows, self.width)
        return Count(output=(self.width,), steps=(1,), memory=memory)

    def build(self, input_shape):
        pass

    def step(self, inputs, state, training=None, constants=None):
        # A reshape, as index arithmetic would do it: silent under a wrong
        # declaration of the same size.
        memory = ops.reshape(state.memory, (-1, self.rows, self.width)) + inputs[:, None, :]
        return ops.sum(memory, axis=1), Count(ops.sum(memory, axis=1), state.steps + 1, memory)


class CounterRNN(km.MemoryRNN):
    cell_class = Counter


def test_the_base_derives_sizes_initial_state_and_call():
    cell = Counter(rows=3, width=2)
    assert cell.state_size == [2, 1, 6] and cell.output_size == 2
    initial = cell.unpack_state(cell.get_initial_state(batch_size=4))
    assert tuple(initial.memory.shape) == (4, 3, 2)
    assert cell.state_fields("traced") == ("steps", "memory")
    output = keras.layers.RNN(cell)(np.ones((4, 5, 2), "float32"))
    np.testing.assert_allclose(to_numpy(output), np.full((4, 2), 15.0))
    assert cell.input_size == 2  # recorded at build, for every subclass


@pytest.mark.parametrize("masked", [False, True])
def test_a_state_field_declared_with_the_wrong_shape_fails_on_every_loop(masked):
    """Memory declared [width, rows] instead of [rows, width]: the sizes
    agree, so only the check of the step's state against the declaration
    can tell."""
    layer = CounterRNN(rows=3, width=2, wrong_memory_shape=True)
    mask = np.ones((2, 4), bool) if masked else None
    with pytest.raises(ValueError, match=r"Counter.step gives state field `memory` the "
                       r"per-sequence shape \(3, 2\), but the cell's state_shape "
                       r"declares \(2, 3\)"):
        layer(np.ones((2, 4, 2), "float32"), mask=mask)
    with pytest.raises(ValueError, match="declares"):
        keras.layers.RNN(Counter(rows=3, width=2, wrong_memory_shape=True))(
            np.ones((2, 4, 2), "float32"))


def test_get_initial_state_before_the_sizes_are_known_says_to_build():
    with pytest.raises(ValueError, match=r"output\b.*unknown until the cell is built"):
        km.DNCCell(memory_size=4, memory_dim=3, controller_size=5).get_initial_state(2)


def test_trace_and_plot_any_memory_cell():
    pytest.importorskip("matplotlib")
    from keras_memory.plotting import plot_trace

    inputs = keras.Input((None, 2))
    model = keras.Model(inputs, CounterRNN(rows=3, width=2)(inputs))
    x = np.ones((2, 4, 2), "float32")
    record = km.trace(model, x)
    assert sorted(record) == ["memory", "outputs", "steps"]
    np.testing.assert_allclose(record["steps"][:, :, 0], [[1, 2, 3, 4]] * 2)
    np.testing.assert_allclose(record["outputs"][:, -1], to_numpy(model(x)))
    with pytest.raises(ValueError, match="`fields` must name at least one field"):
        plot_trace(record)
    ntm = km.ntm(I, **SMALL)
    x = sequences(time=4)
    ntm_record = km.trace(ntm, x)
    assert ntm_record.plotted_fields == ("read_weights", "write_weights")
    figure = plot_trace(ntm_record, inputs=x, targets=x)
    assert [axis.get_ylabel() for axis in figure.axes[:5]] == [
        "input", "target", "output", "read weights", "write weights"]
