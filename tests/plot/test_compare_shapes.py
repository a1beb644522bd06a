"""plot --compare on shapes: the colour scales come from the cells inside (outside values are
missing), and the shape's boundary is drawn."""

from __future__ import annotations

import numpy as np

import crossdiff as cd
from crossdiff.plot import plot_compare


def test_compare_two_runs_on_a_dish_scales_by_the_cells_inside():
    model = cd.catalogue.load("keller-segel-dish")
    dish = cd.default_domain(model, (16, 16))
    a = cd.solve(model, dish, 0.2, save_every=0.2).to_xarray()
    b = cd.solve(model.with_parameters(chi=5.0), dish, 0.2, save_every=0.2).to_xarray()
    fig = plot_compare(a, b)
    image = fig.axes[0].images[0]
    lo, hi = image.get_clim()
    values = np.concatenate([a["u"].values[-1].ravel(), b["u"].values[-1].ravel()])
    # the scale is the range of the values inside (it was NaN: matplotlib's default ±0.1)
    assert np.isfinite(lo) and np.isfinite(hi)
    assert lo == np.nanmin(values) and hi == np.nanmax(values)
    assert fig.axes[0].collections  # the boundary contour κ = 1/2
