"""Tolerances mean what users think (issue 9, section 3): ``atol`` follows ``rtol`` unless given,
and the global error is proportional to ``rtol`` on the issue's problem (keller-segel-logistic
64², t = 4, a pattern grown from 1 % noise)."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import InputError
from crossdiff.fv import Discretisation
from crossdiff.time import (
    ATOL_PER_RTOL,
    BDF,
    IMEX,
    IController,
    PIController,
    default_atol,
    default_rtol,
    pattern_error,
    stepper_from_name,
)

# --- atol follows rtol ------------------------------------------------------------------------


def test_atol_follows_rtol_unless_given():
    assert ATOL_PER_RTOL == 1e-2
    assert IMEX(rtol=1e-4).tolerances() == pytest.approx((1e-4, 1e-6))  # the former defaults
    assert IMEX(rtol=1e-8).tolerances() == pytest.approx((1e-8, 1e-10))
    assert IMEX(rtol=1e-8, atol=1e-6).tolerances() == pytest.approx((1e-8, 1e-6))
    assert BDF(rtol=1e-8).atol == pytest.approx(1e-10)
    assert BDF(rtol=1e-8, atol=1e-12).atol == 1e-12
    assert IController(rtol=1e-6).tolerances() == pytest.approx((1e-6, 1e-8))
    assert PIController(rtol=1e-6, atol=1e-3).tolerances() == pytest.approx((1e-6, 1e-3))
    # the CLI builds steppers by name and passes atol only when the user gives it
    stepper = stepper_from_name("imex", rtol=1e-8)
    assert "rtol=1e-08, atol=1e-10" in stepper.describe()
    controller = stepper.step_controller()
    assert isinstance(controller, IController) and controller.tolerances() == pytest.approx((1e-8, 1e-10))
    assert controller.clip_tolerance == pytest.approx(1e-10)
    assert IMEX(rtol=1e-8, dt=0.1).step_controller().clip_tolerance == pytest.approx(1e-10)
    assert default_atol(1e-5) == pytest.approx(1e-7) and default_atol(1e-5, 1e-3) == 1e-3


def test_default_rtol_follows_the_grid():
    """rtol = 0.5/N² (N cells along the longest axis) within [1e-8, 1e-3], resolved on the
    system: the space error falls like h² and the time error like rtol."""
    assert default_rtol((64, 64)) == pytest.approx(0.5 / 64**2)
    assert default_rtol((128, 32)) == pytest.approx(0.5 / 128**2) == default_rtol((128,))
    assert default_rtol((512, 512)) == pytest.approx(1.91e-6, rel=1e-2)
    assert default_rtol((8,)) == 1e-3 and default_rtol((100_000,)) == 1e-8
    model = cd.catalogue.load("keller-segel")
    for cells in ((64, 64), (256, 256)):
        system = Discretisation(model, cd.Grid(cells, ((-0.5, 0.5), (-0.5, 0.5))))
        expected = (0.5 / cells[0] ** 2, 0.005 / cells[0] ** 2)
        assert IMEX().tolerances(system) == pytest.approx(expected)
        controller = IMEX().step_controller()
        assert isinstance(controller, IController) and controller.rtol is None
        assert controller.tolerances(system) == pytest.approx(expected)
        bound = controller.bind(system)
        assert isinstance(bound, IController) and bound.rtol == pytest.approx(expected[0])
        assert bound.clip_tolerance == pytest.approx(expected[1])
        assert bound.bind(system) is bound  # a given rtol stays
        # atol given with the default rtol: only rtol follows the grid
        assert IMEX(atol=1e-9).tolerances(system) == pytest.approx((expected[0], 1e-9))
    assert "0.5/N^2" in IMEX().describe() and "atol=rtol/100" in IMEX().describe()


def test_default_tolerance_is_resolved_on_the_grid_of_the_run():
    """The same IMEX() object runs with 0.5/N² on each grid: the same run as an explicit rtol."""
    model = cd.catalogue.load("keller-segel")
    for n in (32, 64):
        grid = cd.Grid((n, n), ((-0.5, 0.5), (-0.5, 0.5)))
        auto = cd.solve(model, grid, 0.01, stepper=IMEX(), save_every=0.01)
        given = cd.solve(model, grid, 0.01, stepper=IMEX(rtol=0.5 / n**2), save_every=0.01)
        assert auto.stats.n_steps == given.stats.n_steps
        np.testing.assert_array_equal(auto.final, given.final)
        # what is reported (and stored in output files, for resume) is the value that ran
        assert f"rtol={0.5 / n**2:g}" in auto.stepper and auto.stepper == given.stepper


def test_a_resumed_run_keeps_the_tolerance_it_ran_with(tmp_path):
    """The output file stores the resolved rtol, not "default": resuming continues with it."""
    model = cd.catalogue.load("keller-segel")
    grid = cd.Grid((32, 32), ((-0.5, 0.5), (-0.5, 0.5)))
    path = tmp_path / "run.nc"
    cd.solve(model, grid, 0.01, save_every=0.005, output=path)
    record = cd.Run.from_file(path)
    assert record.stepper.rtol == pytest.approx(0.5 / 32**2)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), "x"])
def test_tolerances_are_validated(bad):
    for make in (
        lambda: IMEX(atol=bad),
        lambda: IMEX(rtol=bad),
        lambda: BDF(atol=bad),
        lambda: IController(atol=bad),
        lambda: IController(rtol=bad),
    ):
        with pytest.raises(InputError):
            make()


# --- the error norm ---------------------------------------------------------------------------


def _pattern_error_numpy(err, u, u_new, rtol, atol):
    """The definition of :func:`crossdiff.time.pattern_error`, written with whole arrays."""
    a = np.maximum(np.abs(u), np.abs(u_new))
    pattern = max(np.ptp(u), np.ptp(u_new))
    eps = err.sum() / a.sum() if a.sum() > 0 else 0.0
    total = abs(err.mean()) / (atol + rtol * a.mean())
    scale = atol + np.maximum(rtol * np.minimum(a, pattern), 100 * np.finfo(float).eps * a)
    return max(total, float(np.max(np.abs(err - eps * a) / scale)))


def _cases():
    rng = np.random.default_rng(3)
    x = np.linspace(-10, 10, 400)
    bump = np.exp(-(x**2))
    return {
        "noise": (rng.normal(size=300), rng.uniform(0.1, 2, 300), rng.uniform(0.1, 2, 300)),
        "pattern on a background": (1e-6 * np.cos(x), 1 + 0.01 * np.cos(x), 1 + 0.011 * np.cos(x)),
        "bump": (1e-4 * bump + 1e-7 * np.sin(x), bump, 1.01 * bump),
        "zero species": (1e-7 * np.sin(x), np.zeros_like(x), np.zeros_like(x)),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_pattern_error_matches_its_definition(case):
    err, u, u_new = _cases()[case]
    got = pattern_error(err, u, u_new, 1e-4, 1e-6)
    assert got == pytest.approx(_pattern_error_numpy(err, u, u_new, 1e-4, 1e-6), rel=1e-12)


def test_pattern_error_measures_the_pattern_not_the_background():
    x = np.linspace(0, 2 * np.pi, 256)
    rtol, atol = 1e-4, 1e-6
    # a 1 % pattern on a background of 1 with an error of 1e-6 in its shape: against |u| the
    # error is 1e-6/(1e-6 + 1e-4) ≈ 0.01 of the tolerance; against the pattern (range 0.02) it is
    # 1e-6/(1e-6 + 2e-6) = 1/3
    u = 1 + 0.01 * np.cos(x)
    e = pattern_error(1e-6 * np.cos(2 * x), u, u, rtol, atol)
    assert e == pytest.approx(1e-6 / (atol + rtol * np.ptp(u)), rel=1e-2)  # up to the removed rescaling part
    # a uniform error of a uniform state is a relative error of its total, not of a pattern
    assert pattern_error(np.full(64, 5e-5), np.ones(64), np.ones(64), rtol, atol) == pytest.approx(
        5e-5 / (atol + rtol), rel=1e-12
    )
    # a bump in an empty domain with a 1e-5 relative error: the part of the error that rescales
    # the species is judged against its total, so the empty cells do not see it (a plain
    # subtraction of the mean error would put 1e-5 × mean(bump) ≈ 1e-6 = atol there)
    bump = np.exp(-(((x - np.pi) / 0.1) ** 2))
    assert pattern_error(1e-5 * bump, bump, bump, rtol, atol) < 0.2
    # a NaN in the estimate is the worst error
    assert np.isnan(pattern_error(np.array([0.0, np.nan]), np.ones(2), np.ones(2), rtol, atol))


def test_round_off_does_not_fail_the_error_test():
    """An error estimate at round-off level (1e-16 of a state of 1 with a pattern of 1e-14) passes
    even for rtol = 1e-13: the scale of a cell is at least 100 ε |u|."""
    rng = np.random.default_rng(0)
    u = 1 + 1e-14 * rng.normal(size=1000)
    err = 2e-16 * rng.normal(size=1000)
    assert pattern_error(err, u, u, 1e-13, 1e-15) < 0.2


# --- tolerance proportionality on the problem ----------------------------------------

_RTOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)
_T = 4.0


def _ks(rtol, controller=IController, atol=None):
    model = cd.catalogue.load("keller-segel-logistic")
    grid = cd.default_grid(model, (64, 64))
    stepper = IMEX(rtol=rtol, atol=atol, controller=controller(rtol, atol))
    return cd.solve(model, grid, _T, stepper=stepper, save_every=_T)


@pytest.fixture(scope="module")
def ks_reference():
    # rtol 1e-9: its own error is about 7e-9 (7 × rtol, as measured below), 1 % of the error of
    # the rtol = 1e-7 run that it is the reference for
    return _ks(1e-9).final[0]


def _l1(u, ref):
    return float(np.sum(np.abs(u - ref)) / np.sum(np.abs(ref)))


@pytest.mark.parametrize("controller", [IController, PIController])
def test_global_error_is_proportional_to_rtol(ks_reference, controller):
    """keller-segel-logistic 64², catalogue data (u = 1 + 1 % white noise), L1-relative error of u
    at t = 4 (the pattern has just formed) against rtol = 1e-9, over rtol = 1e-3…1e-7.

    Measured (I control): error/rtol = 9.8, 9.9, 8.7, 7.7, 6.9, fitted slope 1.04 (14–167 steps);
    PI control: 1.3, 2.0, 2.3, 2.4, 2.4, slope 0.94. Before the error was measured against the
    pattern: 24, 69, 164, 215, 238 × rtol, slope 0.75. The issue asks for a slope in
    [0.85, 1.15]; the ratio is asserted within [1, 30], a factor 3 around the measured values."""
    errors, steps, rejected = [], [], []
    for rtol in _RTOLS:
        sol = _ks(rtol, controller)
        assert sol.success
        errors.append(_l1(sol.final[0], ks_reference))
        steps.append(sol.stats.n_steps)
        rejected.append(sol.stats.n_rejected)
    slope = np.polyfit(np.log(_RTOLS), np.log(errors), 1)[0]
    ratios = np.array(errors) / np.array(_RTOLS)
    assert 0.85 <= slope <= 1.15, (slope, ratios)
    assert np.all((ratios >= 1) & (ratios <= 30)), ratios
    # the controller stays efficient: few rejections (measured at most 4 per run), and the step
    # count grows no faster than rtol^(-1/3) (measured rtol^(-0.27): 14 → 167)
    assert all(r <= 5 + 0.05 * n for r, n in zip(rejected, steps)), (rejected, steps)
    assert steps[-1] <= steps[0] * 1e4 ** (1 / 3), steps


def test_rtol_alone_is_not_capped_by_atol(ks_reference):
    """The issue's case: rtol = 1e-8 alone took 51 steps and stayed at error 2.2e-4 (atol = 1e-6
    fixed). With atol following rtol the error falls with rtol (measured about 7e-8)."""
    sol = _ks(1e-8)
    err = _l1(sol.final[0], ks_reference)
    # the reference's own error (about 7e-9) is a tenth of this one: bound at 1e-6, 14× the
    # measured error, 200× below the capped one
    assert err < 1e-6 and sol.stats.n_steps > 200, (err, sol.stats.n_steps)
    capped = _ks(1e-8, atol=1e-6)
    assert _l1(capped.final[0], ks_reference) > 100 * err
