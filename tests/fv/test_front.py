"""A free boundary by front fixing (docs/theory.md §7.6): the one-phase Stefan problem against its
similarity solution, and the Du–Lin spreading–vanishing dichotomy; non-uniform growth by a tissue
velocity on the same cells (§7.7)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import erf

import crossdiff as cd
from crossdiff.errors import NumericalError
from crossdiff.grid import Front, FrontGrid, GrowingGrid, Growth, TissueGrowth
from crossdiff.model import Model, Species

D, MU, T0, T = 1.0, 1.0, 0.1, 0.4


def _stefan_front_error(n: int) -> float:
    # u_t = D u_xx on (0, s), u(0) = 1, u(s) = 0, s' = −μ u_x(s): s = 2λ√(D t) with
    # λ e^{λ²} erf λ = μ/(D√π); started at t0 = 0.1 from the similarity profile (cell averages)
    lam = brentq(lambda x: x * np.exp(x * x) * erf(x) - MU / (D * np.sqrt(np.pi)), 1e-6, 5)
    s0 = 2 * lam * np.sqrt(D * T0)
    model = Model(
        [Species("u", diffusion=D, initial=0, boundary={"x_low": {"dirichlet": 1}, "x_high": {"dirichlet": 0}})],
        parameters={"mu": MU},
    )
    box = cd.Grid((n,), ((0, s0),))
    edges = np.linspace(0, s0, n + 1)
    # ∫ erf(a y) dy = y erf(a y) + exp(−a² y²)/(a√π), a = 1/(2√(D t0))
    a = 1 / (2 * np.sqrt(D * T0))
    prim = edges * erf(a * edges) + np.exp(-(a**2) * edges**2) / (a * np.sqrt(np.pi))
    u0 = 1 - np.diff(prim) / (s0 / n) / erf(lam)
    domain = FrontGrid(box, Front("-mu*u_x", ("u",), {"mu": MU}))
    sol = cd.solve(model, domain, T, initial={"u": u0}, save_every=T)
    s_num = float(sol.to_xarray()["length_x"].values[-1])
    return abs(s_num - 2 * lam * np.sqrt(D * (T + T0)))


def test_the_stefan_front_converges_at_second_order():
    errors = [_stefan_front_error(n) for n in (12, 24, 48)]
    orders = [np.log2(a / b) for a, b in zip(errors, errors[1:])]
    # the front speed is the scheme's own wall flux (μ/D times it), so the discrete balance of
    # ∫u + (D/μ) s holds and s inherits the second order of the cell values (measured 1.9–2.0)
    assert min(orders) > 1.8, (errors, orders)
    assert errors[-1] < 5e-4


def _du_lin(h0: float, cells: int = 40):
    model = Model(
        [
            Species(
                "u",
                diffusion=1,
                reaction="u*(1 - u)",
                initial=f"0.5*cos(pi*x/(2*{h0}))",
                boundary={"x_high": {"dirichlet": 0}},
            )
        ],
        parameters={"mu": 0.1},
    )
    domain = FrontGrid(cd.Grid((cells,), ((0, h0),)), Front("-mu*u_x", ("u",), {"mu": 0.1}))
    return cd.solve(model, domain, 20.0, save_every=5.0).to_xarray()


def test_du_lin_spreading_vanishing_dichotomy():
    # Du & Lin 2010: with d = a = b = 1 the threshold is h* = π/2; for small μ a range starting
    # below it vanishes (u → 0, h(∞) ≤ π/2), one starting above it spreads (h → ∞, u → 1)
    vanishing, spreading = _du_lin(1.0), _du_lin(2.0)
    h_v, h_s = vanishing["length_x"].values, spreading["length_x"].values
    assert float(vanishing["u"].values[-1].max()) < 1e-3
    assert h_v[-1] < np.pi / 2 and h_v[-1] - h_v[-2] < 1e-4  # stopped below the threshold
    assert float(spreading["u"].values[-1].max()) > 0.7
    assert np.all(np.diff(h_s) > 0.05)  # still advancing at every frame
    assert float(np.nanmin(spreading["u"].values)) >= 0


def test_a_vanishing_domain_is_a_numerical_failure():
    # a front that retreats (speed −1) leaves the domain shorter than one cell at t ≈ 0.97
    model = Model([Species("u", diffusion=1, initial=1)])
    domain = FrontGrid(cd.Grid((10,), ((0, 1),)), Front("-1", ("u",)))
    with pytest.raises(NumericalError, match="shorter than one cell"):
        cd.solve(model, domain, 2.0, save_every=0.5)


# ----------------------------------------------------------------------------- non-uniform growth
_TIGHT = cd.IMEX(rtol=1e-10, atol=1e-12)


def test_a_linear_tissue_velocity_is_uniform_growth():
    # a(x) = ρ x stretches every cell alike: the relative flux vanishes and the run is the
    # growing box's with ℓ = e^{ρt} (the length integrated by the stepper: agreement to its tolerance)
    model = Model([Species("u", diffusion=0.1, initial="1 + 0.5*cos(pi*x)")])
    box = cd.Grid((32,), ((0, 1),))
    ale = cd.solve(model, GrowingGrid(box, TissueGrowth("0.5*x", box.extent)), 1.0, save_every=1.0, stepper=_TIGHT)
    uniform = cd.solve(model, GrowingGrid(box, Growth("exp(0.5*t)")), 1.0, save_every=1.0, stepper=_TIGHT)
    np.testing.assert_allclose(ale.final, uniform.final, rtol=0, atol=1e-10)
    assert float(ale.to_xarray()["length_x"].values[-1]) == pytest.approx(np.exp(0.5), rel=1e-10)


def test_apical_growth_keeps_mass_to_round_off_with_taxis():
    # only the last half unit of length grows (rate ρ = 1): the tip moves at ρ/2, the tissue behind
    # it stays; no reactions in u, so its mass is constant to round-off (conservative relative flux)
    model = Model(
        [
            Species("u", diffusion=0.1, taxis={"signal": "v", "sensitivity": 2}, initial="1 + 0.5*cos(3*x)"),
            Species("v", diffusion=1, reaction="u - v", initial=1),
        ],
        parameters={"rho": 1.0},
    )
    box = cd.Grid((60,), ((0, 2),))
    domain = GrowingGrid(box, TissueGrowth("rho*max(0, x - (L - 0.5))", box.extent, {"rho": 1.0}))
    sol = cd.solve(model, domain, 3.0, save_every=1.0)
    mass = sol.mass().values[:, 0]
    assert np.max(np.abs(mass / mass[0] - 1)) < 1e-12
    np.testing.assert_allclose(sol.to_xarray()["length_x"].values, [2.0, 2.5, 3.0, 3.5], rtol=1e-9)
    assert float(np.min(sol.frames[:, 0])) >= 0


def test_non_uniform_growth_converges_at_second_order():
    # a(x) = 0.6 x²: self-convergence against 256 cells (cell averages nest: every grid stretches
    # uniformly with the same end); L1 orders measured 1.74, 1.82 (L∞ lower near the limiter's
    # clipped extremum at x = 0)
    model = Model([Species("u", diffusion=0.05, reaction="u*(1 - u)", initial="0.5 + 0.4*cos(pi*x)")])

    def final(n):
        domain = GrowingGrid(cd.Grid((n,), ((0, 1),)), TissueGrowth("0.6*x^2", ((0, 1),)))
        return cd.solve(model, domain, 1.0, save_every=1.0, stepper=_TIGHT).final[0]

    ref = final(256)
    errors = [float(np.mean(np.abs(final(n) - ref.reshape(n, -1).mean(axis=1)))) for n in (16, 32, 64)]
    orders = [np.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert min(orders) > 1.6, (errors, orders)


def test_a_growth_velocity_must_vanish_at_the_fixed_end():
    with pytest.raises(cd.errors.GridError, match="must vanish at the fixed end"):
        TissueGrowth("1 + x", ((0, 1),))
    with pytest.raises(cd.errors.GridError, match="unknown symbols y"):
        TissueGrowth("x*y", ((0, 1),))
    with pytest.raises(cd.errors.GridError, match="2 velocities for 1 axes"):
        TissueGrowth(("x", "0"), ((0, 1),))


def test_non_uniform_growth_in_2d_along_each_axis():
    # a_x = ρ x, a_y = ρ y is uniform growth e^{ρt} on both axes; apical growth along x with a
    # still y keeps mass to round-off with taxis in 2D
    model = Model([Species("u", diffusion=0.1, initial="1 + 0.5*cos(pi*x)*cos(pi*y)")])
    box = cd.Grid((12, 12), ((0, 1), (0, 1)))
    ale = cd.solve(model, GrowingGrid(box, TissueGrowth(("0.4*x", "0.4*y"), box.extent)), 1.0, stepper=_TIGHT)
    uniform = cd.solve(model, GrowingGrid(box, Growth("exp(0.4*t)")), 1.0, stepper=_TIGHT)
    np.testing.assert_allclose(ale.final, uniform.final, rtol=0, atol=1e-10)
    ks = Model(
        [
            Species("u", diffusion=0.1, taxis={"signal": "v", "sensitivity": 2}, initial="1 + 0.5*cos(3*x)*cos(2*y)"),
            Species("v", diffusion=1, reaction="u - v", initial=1),
        ]
    )
    box = cd.Grid((16, 12), ((0, 2), (0, 1)))
    apical = GrowingGrid(box, TissueGrowth(("max(0, x - (L - 0.5))", "0"), box.extent))
    sol = cd.solve(ks, apical, 2.0, save_every=1.0)
    mass = sol.mass().values[:, 0]
    assert np.max(np.abs(mass / mass[0] - 1)) < 1e-12
    ds = sol.to_xarray()
    np.testing.assert_allclose(ds["length_x"].values, [2.0, 2.5, 3.0], rtol=1e-9)
    np.testing.assert_allclose(ds["length_y"].values, [1.0, 1.0, 1.0], rtol=1e-12)
    assert float(np.min(sol.frames[:, 0])) >= 0
