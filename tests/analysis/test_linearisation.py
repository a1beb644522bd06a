"""The general form's pieces in the dispersion relation, each against a closed form: relaxation
times (generalised eigenproblem), quasi-stationary species (Schur complement, mean-free form),
tensor diffusion, and steady states that only the numerical root finder finds."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.analysis import admissible_modes, critical, dispersion, steady_states
from crossdiff.model import RunDefaults

L = 10.0


def _ks(tau: float | str, reaction_v: str = "u - v", chi: float = 2.0) -> cd.Model:
    return cd.Model(
        species=(
            cd.Species("u", diffusion=1, taxis=[cd.Taxis("v", "chi")], initial=3),
            cd.Species("v", diffusion=1, reaction=reaction_v, tau=tau, initial=0),
        ),
        parameters={"chi": chi},
        defaults=RunDefaults(extent=((0.0, L),), cells=(64,)),
    )


def test_relaxation_time_generalised_eigenproblem():
    """u_t = u_xx - chi (u v_x)_x, tau v_t = v_xx - v + u at (u*, u*): lambda B w = A w with
    A = [[-k^2, chi u* k^2], [1, -1 - k^2]], B = diag(1, tau), so lambda solves
    lambda^2 - tr lambda + det = 0 with tr = -k^2 - (1 + k^2)/tau and det = k^2 (1 + k^2 - chi u*)/tau."""
    tau, chi, ustar = 0.3, 2.0, 3.0
    d = dispersion(_ks(tau, chi=chi))
    assert d.state.values == {"u": ustar, "v": ustar}
    for _, row in d.modes.iterrows():
        k2 = row["k"] ** 2
        if k2 == 0:
            continue
        tr = -k2 - (1 + k2) / tau
        det = k2 * (1 + k2 - chi * ustar) / tau
        disc = tr**2 - 4 * det
        lam = (tr + math.sqrt(disc)) / 2 if disc >= 0 else tr / 2
        assert row["growth"] == pytest.approx(lam, rel=1e-10, abs=1e-12)
    # the threshold does not depend on tau (det changes sign at chi u* = 1 + k^2)
    c = critical(_ks(tau, chi=chi), "chi")
    assert c.value == pytest.approx((1 + (math.pi / L) ** 2) / ustar, rel=1e-6)


def test_quasi_stationary_species_schur_complement():
    """tau = 0, 0 = v_xx - v + u: v_hat = u_hat/(1 + k^2), so lambda = -k^2 + chi u* k^2/(1 + k^2).
    Mean-free form 0 = v_xx + u (docs/theory.md §1.3): v* = 0, v_hat = u_hat/k^2, lambda = -k^2 + chi u*."""
    chi, ustar = 2.0, 3.0
    d = dispersion(_ks(0, chi=chi))
    modes = d.modes[d.modes["k"] > 0]
    k2 = modes["k"].to_numpy() ** 2
    np.testing.assert_allclose(modes["growth"], -k2 + chi * ustar * k2 / (1 + k2), rtol=1e-10)
    free = _ks(0, reaction_v="u", chi=chi)
    (state,) = steady_states(free)
    assert state.values == {"u": ustar, "v": 0.0}
    d = dispersion(free)
    modes = d.modes[d.modes["k"] > 0]
    np.testing.assert_allclose(modes["growth"], -(modes["k"].to_numpy() ** 2) + chi * ustar, rtol=1e-10, atol=1e-12)
    assert np.isnan(d.homogeneous.growth)  # k = 0 is removed by the constraint mean(v) = 0
    c = critical(free, "chi")
    assert c.value == pytest.approx((math.pi / L) ** 2 / ustar, rel=1e-6)


def test_tensor_diffusion_on_box_modes():
    """u_t = div(D grad u) - u with D = diag(2, 0.5): mode (m_x, m_y) decays at
    1 + 2 (pi m_x/Lx)^2 + 0.5 (pi m_y/Ly)^2; periodic axes use 2 pi m/L."""
    model = cd.Model(
        species=(cd.Species("u", diffusion=[[2.0, 0.0], [0.0, 0.5]], reaction="1 - u", initial=1),),
        defaults=RunDefaults(extent=((0.0, 3.0), (0.0, 5.0)), cells=(6, 8)),
    )
    grid = cd.Grid((6, 8), ((0.0, 3.0), (0.0, 5.0)), boundary=("noflux", "periodic"))
    ms, kvec = admissible_modes(grid)
    assert ms[:, 0].max() == 5 and ms[:, 1].max() == 4
    np.testing.assert_allclose(kvec[:, 0], np.pi * ms[:, 0] / 3.0)
    np.testing.assert_allclose(kvec[:, 1], 2 * np.pi * ms[:, 1] / 5.0)
    d = dispersion(model, grid=grid)
    expected = -1 - 2 * (np.pi * d.modes["m_x"] / 3.0) ** 2 - 0.5 * (2 * np.pi * d.modes["m_y"] / 5.0) ** 2
    np.testing.assert_allclose(d.modes["growth"], expected, rtol=1e-12)
    assert d.stable and d.onset is None


def test_numerical_steady_states_when_sympy_cannot_solve():
    """g(u) = 2 - u - sin(u)/2 has no closed-form root: the root finder gives u* with g(u*) = 0,
    v* = u*. With J = [[g'(u*), 0], [1, -1]] the Keller-Segel threshold is
    chi_c = min_k (k^2 - g'(u*))(1 + k^2)/(u* k^2) over the admissible k = pi m/L."""
    model = cd.Model(
        species=(
            cd.Species("u", diffusion=1, taxis=[cd.Taxis("v", "chi")], reaction="2 - u - sin(u)/2", initial=1),
            cd.Species("v", diffusion=1, reaction="u - v", initial=1),
        ),
        parameters={"chi": 1.0},
        defaults=RunDefaults(extent=((0.0, L),), cells=(64,)),
    )
    (state,) = steady_states(model)
    assert state.method == "numerical"
    u = state.values["u"]
    assert 2 - u - math.sin(u) / 2 == pytest.approx(0.0, abs=1e-12)
    assert state.values["v"] == pytest.approx(u, rel=1e-12)
    assert state.stability == "stable"
    gp = -1 - math.cos(u) / 2
    k = np.pi * np.arange(1, 64) / L
    chi_c = np.min((k**2 - gp) * (1 + k**2) / (u * k**2))
    assert critical(model, "chi").value == pytest.approx(chi_c, rel=1e-6)
