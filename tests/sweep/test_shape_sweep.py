"""A sweep on a shape: the shape is part of the sweep's identity and comes back from its files."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import OutputError
from crossdiff.grid import Shape
from crossdiff.sweep import sweep


def test_a_sweep_on_a_dish_keeps_its_shape_and_refuses_the_box(tmp_path):
    model = cd.catalogue.load("keller-segel-dish")
    dish = cd.default_domain(model, (16, 16))
    small = {"t_end": 0.5, "processes": False, "workers": 1}
    result = sweep(model, ["chi=2,6"], tmp_path / "sw", grid=dish, **small)
    assert len(result.table) == 2
    back = result.grid()
    assert isinstance(back, Shape) and back.describe() == dish.describe()
    assert np.array_equal(back.volume_fraction, dish.volume_fraction)
    with pytest.raises(OutputError, match="another sweep"):  # the same sweep on the box: not mixed in
        sweep(model, ["chi=2,6"], tmp_path / "sw", grid=dish.box, **small)
