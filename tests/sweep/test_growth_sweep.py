"""A sweep over a growth rate: each run's domain grows by its own rate, and the growth law is part
of the sweep's identity."""

from __future__ import annotations

import json

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import OutputError
from crossdiff.grid import GrowingGrid
from crossdiff.io import open_run
from crossdiff.sweep import sweep


def test_a_sweep_over_the_growth_rate_grows_each_run_by_its_own_rate(tmp_path):
    model = cd.catalogue.load("schnakenberg-growing")
    domain = cd.default_domain(model, (32,))
    small = {"t_end": 2.0, "processes": False, "workers": 1}
    result = sweep(model, ["rho=0.1,0.3"], tmp_path / "sw", grid=domain, **small)
    assert len(result.table) == 2
    lengths = {}
    for path in sorted((tmp_path / "sw" / "runs").glob("*.nc")):
        ds = open_run(path)
        rho = float(json.loads(ds.attrs["parameters"])["rho"])
        lengths[rho] = float(ds["length_x"].values[-1])
    # L(2) = e^{2 rho}: the swept value reached the growth law, not only the reactions
    assert lengths == pytest.approx({0.1: np.exp(0.2), 0.3: np.exp(0.6)}, rel=1e-12)
    back = result.grid()
    assert isinstance(back, GrowingGrid) and back.describe() == domain.describe()
    with pytest.raises(OutputError, match="another sweep"):  # the same sweep on the fixed box: not mixed in
        sweep(model, ["rho=0.1,0.3"], tmp_path / "sw", grid=domain.box, **small)
