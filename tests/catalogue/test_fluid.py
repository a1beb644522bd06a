"""The chemotaxis–fluid catalogue entries: keller-segel-fluid forms plumes from 1 % noise with the
bacteria conserved and non-negative; keller-segel-stokes; both show their flow."""

from __future__ import annotations

import numpy as np

import crossdiff as cd
from crossdiff import catalogue
from crossdiff.grid import Grid


def _horizontal_variance(n: np.ndarray) -> float:
    """Mean over heights of the variance along x: zero for a layered state, large for plumes."""
    return float(np.var(n, axis=0).mean())


def test_plumes_form_with_bacteria_conserved():
    model = catalogue.load("keller-segel-fluid")
    grid = Grid((32, 16), ((0.0, 2.0), (0.0, 1.0)), ("periodic", "noflux"))
    sol = cd.solve(model, grid, t_end=0.5, save_every=0.1)
    assert sol.success
    # Navier–Stokes at Sc = 500: the steps follow the densities (measured 193 steps); with the
    # buoyancy explicit and the vorticity's raw error estimate they were ~3e-6 (1e5 steps)
    assert sol.stats.n_steps < 1000
    n = sol.frames[:, 0]
    mass = grid.integrate(n)
    # no-flux walls for n, conservative fluxes: the mass changes by round-off only (measured
    # 1.7e-13 relative after 193 steps)
    assert np.abs(mass - mass[0]).max() <= 1e-12 * mass[0]
    assert n.min() >= 0
    # the bacteria first gather under the surface (a layer: the noise diffuses away, variance
    # 3.3e-5 → 1.5e-8 at t = 0.1), then the layer falls as plumes (variance 1.41 at t = 0.5,
    # measured); a growth by 100 from the initial 1 % noise cannot come from the noise itself
    variance = [_horizontal_variance(f) for f in n]
    assert variance[-1] > 100 * variance[0], variance
    top = n[-1][:, -3:].mean()  # the layer under the surface holds more than the mean
    assert top > 1.5 * n[-1].mean()
    # oxygen enters through the top (Dirichlet c = 1) and is consumed below
    c = sol.final[1]
    assert c[:, -1].min() > c.mean()


def test_keller_segel_stokes_cells_sink():
    model = catalogue.load("keller-segel-stokes")
    grid = Grid((32, 32))
    sol = cd.solve(model, grid, t_end=12.0, save_every=3.0)
    assert sol.success
    n = sol.frames[:, 0]
    mass = grid.integrate(n)
    assert np.abs(mass - mass[0]).max() <= 1e-12 * mass[0]
    Y = grid.mesh()[1]
    centre = [float((f * Y).sum() / f.sum()) for f in n]
    # the aggregates grow from the noise (max n 1.01 → 1.14) and, heavier than the fluid, sink:
    # the centre of mass goes down (measured 0.4963 from 0.5000 at t = 12 on 32²)
    assert n[-1].max() > 1.1
    assert centre[-1] < centre[0] - 0.002, centre


def test_show_prints_the_flow(cli):
    for name, kind in (("keller-segel-fluid", "navier-stokes"), ("keller-segel-stokes", "stokes")):
        res = cli("show", name)
        assert res.rc == 0, res.err
        assert f"flow ({kind}):" in res.out
        assert "grad(p) = " in res.out and "div(vel) = 0" in res.out
        assert "- div(n vel)" in res.out
    res = cli("show", "keller-segel-fluid")
    assert "c at y_high: c = 1" in res.out
