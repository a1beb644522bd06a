"""Stepper contracts: tableau validation, registry, fixed/adaptive behaviour, failure reports."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import InputError
from crossdiff.time import KENCARP3, KENCARP4, STEPPERS, IMEXTableau, Status, stepper_from_name


def test_kencarp3_tableau_is_consistent():
    assert KENCARP3.stages == 4 and KENCARP3.order == 3
    assert np.allclose(KENCARP3.c, [0, 2 * KENCARP3.gamma, 0.6, 1.0])
    # stiffly accurate: the last implicit row equals b
    assert np.allclose(KENCARP3.implicit[-1], KENCARP3.b)
    # order conditions up to 3 for the explicit and implicit parts (and the coupling b·A_E c = 1/6)
    for a in (KENCARP3.explicit, KENCARP3.implicit):
        assert abs(KENCARP3.b @ KENCARP3.c - 0.5) < 1e-12
        assert abs(KENCARP3.b @ (a @ KENCARP3.c) - 1 / 6) < 1e-12
        assert abs(KENCARP3.b @ KENCARP3.c**2 - 1 / 3) < 1e-12


def test_tableau_validation_raises():
    with pytest.raises(ValueError, match="sum to 1"):
        IMEXTableau(
            "bad",
            np.array([[0, 0], [1.0, 0]]),
            np.array([[0, 0], [0.5, 0.5]]),
            np.array([0.5, 0.4]),
            np.array([0.5, 0.5]),
            1,
            1,
        )
    with pytest.raises(ValueError, match="strictly lower"):
        IMEXTableau("bad", np.eye(2), np.array([[0, 0], [0.5, 0.5]]), np.array([0.5, 0.5]), np.array([0.5, 0.5]), 1, 1)


@pytest.mark.parametrize("name", sorted(STEPPERS))
def test_registry_builds_every_stepper(name):
    stepper = stepper_from_name(name)
    model = cd.Model(species=[cd.Species("u", diffusion=1, reaction="-u", initial="1 + cos(pi*x)")])
    sol = cd.solve(model, cd.Grid((16,)), 0.1, stepper=stepper, save_every=0.1)
    # mode cos(pi x) decays like exp(-(1 + λ_h) t); the mean like exp(-t)
    assert abs(sol.final[0].mean() - np.exp(-0.1)) < 1e-4


def test_unknown_stepper_lists_names():
    with pytest.raises(InputError, match="imex, imex3, ssprk3, bdf"):
        stepper_from_name("rk45")


@pytest.mark.parametrize(
    "kwargs", [{"rtol": 0}, {"atol": -1}, {"dt": 0}, {"dt": float("nan")}, {"cfl": 0}, {"cfl": -1.0}]
)
def test_imex_rejects_bad_options(kwargs):
    with pytest.raises(InputError):
        cd.IMEX(**kwargs)


def test_diffusion_does_not_set_the_step():
    """Pure diffusion with IMEX: the step count does not grow with resolution (no dx² limit).

    At a fixed rtol: the default rtol tightens like 1/N² on purpose (the time error follows the
    space error), which is not a stability limit."""
    model = cd.Model(species=[cd.Species("u", diffusion=1, reaction="u*(1 - u)", initial="0.5 + 0.4*cos(pi*x)")])
    stepper = cd.IMEX(rtol=1e-4)
    steps = [cd.solve(model, cd.Grid((n,)), 1.0, stepper=stepper, save_every=1.0).stats.n_steps for n in (32, 128, 512)]
    assert steps[-1] <= 2 * steps[0]


def test_singular_sensitivity_meeting_zero_is_reported():
    """χ = 1/v with v driven to zero by its reaction: the run stops with a SINGULAR report."""
    model = cd.Model(
        species=[
            cd.Species("u", diffusion=1, taxis=[cd.Taxis("v", "1/v")], initial=1),
            cd.Species("v", diffusion=0, reaction="-2", initial="1 + 0.5*x"),
        ]
    )
    sol = cd.solve(model, cd.Grid((16,)), 1.0, save_every=0.1, throw=False)
    assert sol.status is Status.SINGULAR
    assert sol.report.species == "v" and 0.45 < sol.report.time <= 0.55
    assert "1/v" in str(sol.report)


def test_nonfinite_is_reported_not_returned():
    """A reaction that explodes in finite time (u' = u², u(0) = 1 blows up at t = 1)."""
    model = cd.Model(species=[cd.Species("u", diffusion=0.1, reaction="u**2", initial=1)])
    sol = cd.solve(model, cd.Grid((8,)), 2.0, save_every=0.5, throw=False)
    assert not sol.success
    assert sol.status in (Status.BLOWUP, Status.STEP_COLLAPSE, Status.NONFINITE)
    assert 0.95 < sol.report.time < 1.01  # exact blow-up time 1; the discrete one is within rtol
    assert np.all(np.isfinite(sol.final))
    with pytest.raises(cd.NumericalError):
        cd.solve(model, cd.Grid((8,)), 2.0, save_every=0.5)


@pytest.mark.parametrize("tableau", [KENCARP3, KENCARP4], ids=lambda t: t.name)
def test_upwind_courant_limit_of_the_explicit_part(tableau):
    """The stored Courant limit is where |R(ν(e^{iθ} − 1))| first exceeds 1 (upwind eigenvalues),
    and the default IMEX transport multiplier is 0.8 of it."""
    from crossdiff.time._tableau import upwind_courant_limit

    assert abs(upwind_courant_limit(tableau) - tableau.upwind_courant) < 1e-3
    theta = np.linspace(0, 2 * np.pi, 4001)
    circle = np.exp(1j * theta) - 1
    assert np.max(np.abs(tableau.stability_function(tableau.upwind_courant * circle))) <= 1 + 1e-9
    assert np.max(np.abs(tableau.stability_function(1.01 * tableau.upwind_courant * circle))) > 1
    # R is the stability function: exp(z) to the method's order near 0
    z = 1e-2
    assert abs(tableau.stability_function(np.array([z]))[0] - np.exp(z)) < 10 * z ** (tableau.order + 1)
    assert cd.IMEX(tableau=tableau).cfl == pytest.approx(0.8 * tableau.upwind_courant)


def test_bdf_refuses_a_quasi_stationary_species_by_name():
    model = cd.Model(
        [
            cd.Species("u", diffusion=1, initial="1 + 0.1*cos(pi*x)"),
            cd.Species("v", diffusion=1, tau=0, reaction="u - v"),
        ]
    )
    with pytest.raises(cd.errors.ModelError, match="v is an algebraic component .*tau = 0"):
        cd.solve(model, cd.Grid((8,)), t_end=0.01, stepper="bdf")
