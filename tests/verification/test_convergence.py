"""Convergence orders on manufactured solutions with taxis and reaction (issue 3).

Space: second order (limited MUSCL taxis flux + central diffusion flux), measured with a time
step small enough that the time error is negligible. Time: the stepper's order, measured on a
fixed grid against a reference run on the same grid with a much smaller step (so the spatial
error cancels). Acceptance: measured slope within ±0.2 of the expected order.
"""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.time import KENCARP3, KENCARP4

from ._mms import exact_on, mms_model, slope

T_END = 0.5


def _l2(grid, a, b):
    return float(np.sqrt(grid.integrate((a - b) ** 2)))


def _space_order(ndim: int, cells, dt: float, chi: float = 1.0, nonlinear: bool = False) -> tuple[float, list]:
    """Fitted order of the L2 error (u and v) at T_END on grids of ``cells`` per axis."""
    model, ue, ve = mms_model(ndim, chi=chi, nonlinear=nonlinear)
    hs, errs = [], []
    for n in cells:
        grid = cd.Grid((n,) * ndim, ((0, 1),) * ndim)
        sol = cd.solve(model, grid, T_END, stepper=cd.IMEX(dt=dt), save_every=T_END)
        errs.append(
            _l2(grid, sol.final[0], exact_on(grid, ue, T_END)) + _l2(grid, sol.final[1], exact_on(grid, ve, T_END))
        )
        hs.append(1.0 / n)
    return slope(hs, errs), errs


@pytest.mark.parametrize("nonlinear", [False, True], ids=["constant-D", "nonlinear-D"])
def test_space_order_1d(nonlinear):
    # dt = 1e-3 with a 3rd-order method: time error ~1e-9, far below the space error (>1e-5)
    p, errs = _space_order(1, (16, 32, 64, 128), 1e-3, nonlinear=nonlinear)
    assert abs(p - 2.0) <= 0.2, f"space order {p:.3f}, errors {errs}"


def test_space_order_2d():
    p, errs = _space_order(2, (12, 24, 48), 2.5e-3)
    assert abs(p - 2.0) <= 0.2, f"space order {p:.3f}, errors {errs}"


def _time_errors(model, grid, make, dts, t_end):
    ref = cd.solve(model, grid, t_end, stepper=make(dts[-1] / 8), save_every=t_end).final
    errs = []
    for dt in dts:
        sol = cd.solve(model, grid, t_end, stepper=make(dt), save_every=t_end)
        errs.append(float(np.max(np.abs(sol.final - ref))))
    return errs


@pytest.mark.parametrize("tableau", [KENCARP3, KENCARP4], ids=lambda t: t.name)
@pytest.mark.parametrize("ndim", [1, 2])
def test_time_order_imex(ndim, tableau):
    """Each IMEX tableau converges at its order (3 for ARK3(2)4L[2]SA, 4 for ARK4(3)6L[2]SA)."""
    model, _, _ = mms_model(ndim, chi=1.0)
    grid = cd.Grid((32,) * ndim, ((0, 1),) * ndim)
    dts = [0.1, 0.05, 0.025, 0.0125]
    errs = _time_errors(model, grid, lambda dt: cd.IMEX(dt=dt, tableau=tableau), dts, 0.5)
    p = slope(dts, errs)
    assert abs(p - tableau.order) <= 0.2, f"{tableau.name} time order {p:.3f}, errors {errs}"


def test_default_imex_is_fourth_order():
    assert cd.IMEX().tableau is KENCARP4 and cd.IMEX().order == 4


def test_time_order_ssprk3():
    model, _, _ = mms_model(1, chi=1.0)
    grid = cd.Grid((16,), ((0, 1),))
    # explicit diffusion: dt <= h^2/2 = 2e-3 for stability
    dts = [1.6e-3, 8e-4, 4e-4, 2e-4]
    errs = _time_errors(model, grid, lambda dt: cd.SSPRK3(dt=dt), dts, 0.2)
    p = slope(dts, errs)
    assert abs(p - 3.0) <= 0.2, f"SSPRK3 time order {p:.3f}, errors {errs}"


def test_adaptive_imex_meets_tolerance():
    """Adaptive IMEX with tight tolerances matches the fixed-step reference on the same grid."""
    model, ue, _ = mms_model(1)
    grid = cd.Grid((64,), ((0, 1),))
    ref = cd.solve(model, grid, T_END, stepper=cd.IMEX(dt=1e-3), save_every=T_END).final
    sol = cd.solve(model, grid, T_END, stepper=cd.IMEX(rtol=1e-7, atol=1e-9), save_every=T_END)
    # local error per step <= 1e-7 relative; a few hundred steps accumulate to well below 1e-5
    assert np.max(np.abs(sol.final - ref)) < 1e-5
    assert sol.stats.n_steps < 1000  # the step is not limited by diffusion (h^2/2 would need 16000)


def test_bdf_agrees_with_imex():
    model, _, _ = mms_model(1)
    grid = cd.Grid((32,), ((0, 1),))
    a = cd.solve(model, grid, T_END, stepper=cd.IMEX(dt=1e-3), save_every=T_END).final
    b = cd.solve(model, grid, T_END, stepper=cd.BDF(rtol=1e-8, atol=1e-10), save_every=T_END).final
    # same spatial discretisation, both time errors < 1e-7
    assert np.max(np.abs(a - b)) < 1e-6


def test_caret_is_a_power_with_power_precedence():
    """'^' means '**' with its precedence (regression: it was parsed as XOR precedence)."""
    import sympy as sp

    from crossdiff.model import parse_expression

    R, d, u, r = sp.symbols("R d u r")
    assert parse_expression("R^2/d") == R**2 / d
    assert parse_expression("1 - u^r") == 1 - u**r
    assert parse_expression("2^3^2") == 512  # right associative, like **


@pytest.mark.slow
def test_space_order_2d_fine_grids():
    """Slow study (`make test-slow`): 2D space order on finer grids 32² .. 128²."""
    p, errs = _space_order(2, (32, 64, 128), 1e-3, chi=2.0)
    assert abs(p - 2.0) <= 0.2, f"space order {p:.3f}, errors {errs}"


def test_cancer_invasion_elliptic_limit_is_close_to_small_sigma():
    """σ = 0 (quasi-stationary enzyme, solved exactly each stage) is the limit of small σ:
    the difference of the two runs is O(σ) (σ = 1e-3 here, so well below 1e-2)."""
    base = cd.catalogue.load("cancer-invasion")
    grid = cd.Grid((24, 24), ((0, 30), (0, 30)))
    a = cd.solve(base.with_parameters(sigma=0.0), grid, 2.0, save_every=2.0).final
    b = cd.solve(base.with_parameters(sigma=1e-3), grid, 2.0, save_every=2.0).final
    assert np.max(np.abs(a - b)) < 1e-2
    assert np.max(np.abs(a[0] - cd.solve(base, grid, 2.0, save_every=2.0).final[0])) > 1e-3  # σ matters
