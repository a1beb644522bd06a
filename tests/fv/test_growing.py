"""Finite volumes on a growing box (docs/theory.md §7): Simpson's exact amplitudes, mass to
round-off, and the operators equal to the fixed grid's on the cells of time t."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.fv import Discretisation, GrowingDiscretisation
from crossdiff.grid import Grid, GrowingGrid, Growth
from crossdiff.model import Model, Species

D = 0.1
#: tolerances of the time integration far below the space errors measured (≥ 1e-6)
TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def _cos_average(X: np.ndarray, h: float, k: float) -> np.ndarray:
    """Cell averages of cos(k X) on cells of width h centred at X."""
    return (np.sin(k * (X + h / 2)) - np.sin(k * (X - h / 2))) / (k * h)


def _mode_error(n: int, ndim: int, growth: tuple[str, ...], amplitude) -> float:
    """Max error of the mode 1 + ½ Π_b cos(π X_b) on [0, 1]^d at t = 1 against the exact solution
    ``mean/J + ½ A(1) Π_b cos`` (cell averages)."""
    model = Model([Species("u", diffusion=D, initial=1)])
    box = Grid((n,) * ndim, ((0, 1),) * ndim)
    domain = GrowingGrid(box, Growth(growth, ndim=ndim))
    h = 1.0 / n
    profile = np.ones(box.shape)
    for b, X in enumerate(box.coordinates):
        shape = [1] * ndim
        shape[b] = n
        profile = profile * _cos_average(X, h, np.pi).reshape(shape)
    u0 = 1 + 0.5 * profile
    sol = cd.solve(model, domain, 1.0, initial={"u": u0}, save_every=1.0, stepper=cd.time.IMEX(**TIGHT))
    J = domain.volume_scale(1.0)
    exact = 1 / J + 0.5 * amplitude * profile
    return float(np.max(np.abs(sol.final[0] - exact)))


def _orders(errors: list[float]) -> list[float]:
    return [float(np.log2(a / b)) for a, b in zip(errors, errors[1:])]


def test_exponential_growth_1d_matches_simpsons_amplitude_at_second_order():
    # ℓ = e^{ρt}: A(t) = ℓ^{-1} exp(−π² D (1 − e^{−2ρt})/(2ρ)) (docs/theory.md §7.2, [Sim15])
    rho = 1.0
    A = np.exp(-rho) * np.exp(-(np.pi**2) * D * (1 - np.exp(-2 * rho)) / (2 * rho))
    errors = [_mode_error(n, 1, (f"exp({rho}*t)",), A) for n in (16, 32, 64)]
    # second-order finite volumes: the order of a smooth mode is 2 up to O(h²) corrections
    assert all(o > 1.9 for o in _orders(errors)), errors
    assert errors[-1] < 2e-5  # measured 1.0e-5 at 64 cells


def test_logistic_growth_2d_matches_simpsons_amplitude_at_second_order():
    # ℓ = K/(1 + (K − 1)e^{−rt}), d = 2: A(t) = ℓ^{-2} exp(−2π² D ∫ ds/ℓ²) with the closed-form
    # integral of docs/theory.md §7.2 (each axis contributes π² D/ℓ²)
    K, r, t = 3.0, 2.0, 1.0
    ell = K / (1 + (K - 1) * np.exp(-r * t))
    integral = (t + 2 * (K - 1) * (1 - np.exp(-r * t)) / r + (K - 1) ** 2 * (1 - np.exp(-2 * r * t)) / (2 * r)) / K**2
    A = ell**-2 * np.exp(-2 * np.pi**2 * D * integral)
    errors = [_mode_error(n, 2, (f"{K}/(1 + ({K} - 1)*exp(-{r}*t))",), A) for n in (8, 16, 32)]
    assert all(o > 1.85 for o in _orders(errors)), errors


def test_anisotropic_growth_takes_each_axis_factor():
    # ℓ_x = e^t, ℓ_y = 1 + t: A(1) = (ℓ_x ℓ_y)^{-1} exp(−π² D (∫ e^{−2s} ds + ∫ (1+s)^{-2} ds))
    t = 1.0
    integral = (1 - np.exp(-2 * t)) / 2 + (1 - 1 / (1 + t))
    A = np.exp(-(np.pi**2) * D * integral) / (np.exp(t) * (1 + t))
    errors = [_mode_error(n, 2, ("exp(t)", "1 + t"), A) for n in (8, 16, 32)]
    assert all(o > 1.85 for o in _orders(errors)), errors


_KS = Model(
    [
        Species("u", diffusion=0.2, taxis={"signal": "v", "sensitivity": 3}, initial="1 + 0.5*cos(3*x)*cos(2*y)"),
        Species("v", diffusion=1.0, reaction="u - v", initial=1),
    ]
)


def test_mass_is_conserved_to_round_off_with_taxis_while_the_domain_quadruples():
    # no reactions in u: ∫ u dx over Ω(t) is J(t) Σ W h² with the state W = J u, whose sum every
    # Runge–Kutta stepper keeps to round-off when the fluxes are in conservation form
    domain = GrowingGrid(Grid((24, 24), ((0, 3), (0, 3))), Growth("exp(0.7*t)", ndim=2))
    sol = cd.solve(_KS, domain, 2.0, save_every=0.5)
    mass = sol.mass().values[:, 0]
    assert np.max(np.abs(mass / mass[0] - 1)) < 1e-12, mass
    assert float(np.nanmin(sol.frames[:, 0])) >= 0
    # the density is diluted: its mean is the initial mean over J(t) = e^{1.4 t}
    assert sol.final[0].mean() == pytest.approx(sol.frames[0, 0].mean() * np.exp(-1.4 * 2.0), rel=1e-12)


_EVERYTHING = Model(
    [
        Species(
            "u",
            diffusion="0.1 + 0.05*u",
            taxis={"signal": "v", "sensitivity": "2/(1 + v)"},
            reaction="u*(1 - u) + 0.01*x",
            initial="1 + 0.3*cos(2*x)",
        ),
        Species(
            "v",
            diffusion=1.0,
            reaction="u - v",
            initial="1 + 0.1*x",
            boundary={"x_low": {"robin": 2, "value": 0.5}, "x_high": {"dirichlet": "1 + 0.1*t"}},
        ),
        Species("w", diffusion=0.5, reaction="u - w", tau=0),
    ]
)


def test_the_operators_are_the_fixed_grids_on_the_cells_of_time_t():
    # every term (nonlinear diffusion, taxis, reactions of x, Dirichlet and Robin sides, a
    # quasi-stationary species): on the state J u at time t the growing system is J times the
    # fixed grid's on the stretched cells, and L(t) is the stretched grid's L
    domain = GrowingGrid(Grid((40,), ((0, 4),)), Growth("1 + 0.5*t^2"))
    growing = GrowingDiscretisation(_EVERYTHING, domain)
    t = 1.3
    fixed = Discretisation(_EVERYTHING, domain.at(t))
    J = domain.volume_scale(t)
    x = fixed.grid.coordinates[0]
    u = np.stack([1 + 0.2 * np.sin(x), 1 + 0.1 * x, np.zeros_like(x)])
    u = fixed.initial_state(u, t)
    W = growing.initial_state(u, t)
    np.testing.assert_allclose(W, J * u, rtol=1e-14, atol=1e-14)
    fixed.prepare(t, u)
    growing.prepare(t, W)
    np.testing.assert_allclose(growing.explicit(t, W), J * fixed.explicit(t, u), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(growing.implicit_at(t, W), J * fixed.implicit(u), rtol=1e-12, atol=1e-12)
    B = W + 0.1
    np.testing.assert_allclose(
        growing.solve_implicit_at(t, B, 0.05), fixed.solve_implicit(B, 0.05), rtol=1e-9, atol=1e-11
    )
    np.testing.assert_allclose(growing.fields_at(t, W), u, rtol=1e-14)
    assert growing.imex_step_limit(t, W) == pytest.approx(fixed.imex_step_limit(t, u), rel=1e-12)


def test_output_carries_the_physical_positions_and_lengths(tmp_path):
    domain = GrowingGrid(Grid((10,), ((0, 2),)), Growth("1 + t"))
    model = Model([Species("u", diffusion=1, initial=1)])
    sol = cd.solve(model, domain, 1.0, save_every=0.5, output=tmp_path / "g.nc")
    ds = cd.io.open_run(tmp_path / "g.nc")
    assert "x_t" in ds.coords and ds["x_t"].dims == ("time", "x")
    np.testing.assert_allclose(ds["length_x"].values, [2.0, 3.0, 4.0])
    np.testing.assert_allclose(ds["x_t"].values[-1], 2 * ds["x"].values)  # ℓ(1) = 2 from the low end 0
    np.testing.assert_allclose(sol.to_xarray()["x_t"].values, ds["x_t"].values)
    # a uniform density is diluted as the domain grows: u = 1/ℓ
    np.testing.assert_allclose(ds["u"].values[:, 0], [1.0, 1 / 1.5, 0.5], rtol=1e-10)


def test_pictures_and_movies_are_drawn_in_physical_coordinates(tmp_path):
    from crossdiff.plot import plot_frame, plot_spacetime, save_movie

    model = Model([Species("u", diffusion=0.05, initial="1 + 0.5*cos(pi*x)*cos(pi*y)")])
    domain = GrowingGrid(Grid((8, 8), ((0, 1), (0, 1))), Growth(("1 + t", "1")))
    ds = cd.solve(model, domain, 1.0, save_every=0.5).to_xarray()
    image = plot_frame(ds).axes[0].images[0]
    assert image.get_extent() == pytest.approx((0.0, 2.0, 0.0, 1.0))  # x stretched by ℓ_x(1) = 2
    path = save_movie(ds, tmp_path / "grow.gif")
    assert path.stat().st_size > 0
    line = Model([Species("u", diffusion=0.05, initial="1 + 0.5*cos(pi*x)")])
    ds1 = cd.solve(line, GrowingGrid(Grid((8,)), Growth("1 + t")), 1.0, save_every=0.5).to_xarray()
    mesh = plot_spacetime(ds1).axes[0].collections[0]
    # the last row's cells end at the domain's length ℓ(1) = 2
    assert float(np.max(mesh.get_coordinates()[..., 0])) == pytest.approx(2.0)
