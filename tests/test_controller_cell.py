"""ControllerCell, the base of NTMCell and DNCCell."""

import numpy as np
import pytest

import keras_memory as km
from keras_memory.layers.controller_cell import ControllerCell


@pytest.mark.parametrize("cell_class", [km.NTMCell, km.DNCCell])
def test_both_cells_share_the_controller_and_output_projection(cell_class):
    cell = cell_class(memory_size=6, memory_dim=3, controller_size=5, num_read_heads=2,
                      output_size=4, controller="dense")
    assert isinstance(cell, ControllerCell) and isinstance(cell, km.MemoryCell)
    assert cell.reads_width == 2 * 3
    cell.build((None, 7))
    assert cell.input_size == 7 and cell.output_size == 4
    assert tuple(cell.controller.kernel.shape) == (7 + 6, 5)
    assert tuple(cell.output_projection.kernel.shape) == (5 + 6, 4)
    hidden, state = cell.run_controller(np.ones((2, 7), "float32"),
                                        np.ones((2, 2, 3), "float32"), [])
    assert tuple(hidden.shape) == (2, 5) and state == []
    assert tuple(cell.read_out(hidden, np.ones((2, 2, 3), "float32")).shape) == (2, 4)


@pytest.mark.parametrize("cell_class", [km.NTMCell, km.DNCCell])
def test_both_cells_check_their_inputs_the_same_way(cell_class):
    cell = cell_class(memory_size=6, memory_dim=3, controller_size=5)
    with pytest.raises(ValueError, match="`inputs` must have a known last dimension"):
        cell.build((None, None))
    with pytest.raises(ValueError, match="rank 2"):
        cell.build((None, 3, 4))
