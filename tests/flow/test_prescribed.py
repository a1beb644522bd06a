"""Advection by a prescribed incompressible flow: the rigid rotation (exact solution), mass,
positivity, the divergence check, the step limit, model files and the equations shown."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import ModelError
from crossdiff.flow import PrescribedFlow, discretise
from crossdiff.fv import Discretisation
from crossdiff.grid import Grid
from crossdiff.model import Flow, Model, Species, model_from_dict, model_to_dict

#: rigid clockwise rotation about (1/2, 1/2) with period 1: psi = -pi r^2, u = (-psi_y, psi_x)
ROTATION_STREAM = "-pi*((x - 0.5)**2 + (y - 0.5)**2)"
ROTATION_VELOCITY = ["2*pi*(y - 0.5)", "-2*pi*(x - 0.5)"]
BLOB = "exp(-((x - 0.5)**2 + (y - 0.75)**2)/0.01)"


def _blob(x, y):
    return np.exp(-((x - 0.5) ** 2 + (y - 0.75) ** 2) / 0.01)


def _cell_averages(f, grid: Grid) -> np.ndarray:
    """Cell averages by the 3×3 Gauss rule (error ~h^6, far below the scheme's h^2)."""
    nodes, weights = np.polynomial.legendre.leggauss(3)
    X, Y = grid.mesh()
    hx, hy = grid.spacing
    out = np.zeros(grid.shape)
    for xi, wi in zip(nodes, weights):
        for yj, wj in zip(nodes, weights):
            out += wi * wj / 4 * f(X + xi * hx / 2, Y + yj * hy / 2)
    return out


def _rotation(initial: str = BLOB, stream: bool = True) -> Model:
    flow = Flow(stream=ROTATION_STREAM) if stream else Flow(velocity=ROTATION_VELOCITY)
    return Model([Species("u", advected=True, initial=initial)], flow=flow)


def test_rigid_rotation_second_order_and_mass():
    # half a turn moves the blob from (1/2, 3/4) to (1/2, 1/4): u(x, y, 1/2) = u0(x, 1 - y)
    errors = []
    for n in (32, 64, 128):
        grid = Grid((n, n))
        sol = cd.solve(_rotation(), grid, t_end=0.5, save_every=0.5, progress=False)
        assert sol.success
        exact = _cell_averages(lambda x, y: _blob(x, 1 - y), grid)
        errors.append(float(np.abs(sol.final[0] - exact).sum() * grid.cell_volume))
        mass = grid.integrate(sol.frames[:, 0])
        # conservative fluxes, no-flux walls: the mass changes only by round-off of ~steps·ulp
        assert abs(mass[-1] - mass[0]) <= 1e-13 * mass[0]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured 5.9e-3, 1.85e-3, 4.7e-4 (orders 1.68, 1.97): limited MUSCL is second order where
    # smooth, the limiter clips the peak (first order at extrema) on coarse grids
    assert orders[-1] > 1.8, (errors, orders)
    assert errors[-1] < 1e-3, errors


def test_velocity_and_stream_function_agree():
    # the rotation's velocity is linear: face-centre values equal the corner differences of psi
    grid = Grid((24, 24))
    a = discretise(_rotation(stream=True), grid)
    b = discretise(_rotation(stream=False), grid)
    for va, vb in zip(a.flow.face_velocities(0.0), b.flow.face_velocities(0.0)):
        np.testing.assert_allclose(va, vb, rtol=0, atol=1e-13)


def test_stream_function_flow_is_divergence_free_on_the_grid():
    model = Model(
        [Species("u", advected=True, initial=1)],
        flow=Flow(stream="sin(2*pi*x)*cos(3*pi*y)*(1 + t)"),
    )
    grid = Grid((16, 12), extent=((0, 1), (0, 2)))
    ux, uy = PrescribedFlow(model, grid).face_velocities(0.7)
    div = np.diff(ux, axis=0) / grid.spacing[0] + np.diff(uy, axis=1) / grid.spacing[1]
    # differences of one corner field: the divergence cancels to round-off of |u|/h ~ 50
    assert np.max(np.abs(div)) < 1e-11 * np.max(np.abs(ux)) / min(grid.spacing)


def test_discontinuous_profile_stays_non_negative_under_its_cfl():
    # a disc of ones: SSPRK3 is a convex combination of forward-Euler steps, each positive for
    # Δt ≤ explicit_step_limit (upwind MUSCL, Δt |a|/h ≤ 1/2): no value may go below zero, and
    # no value above the initial maximum either (the disc is advected, not compressed)
    model = _rotation(initial="heaviside(0.15 - sqrt((x - 0.5)**2 + (y - 0.75)**2))")
    grid = Grid((40, 40))
    disc = Discretisation(model, grid, flow=PrescribedFlow(model, grid))
    X, Y = grid.mesh()
    U = disc.initial_state({"u": (np.hypot(X - 0.5, Y - 0.75) < 0.15).astype(float)})
    mass0 = grid.integrate(U[0])
    t = 0.0
    dt = disc.explicit_step_limit(t, U)
    assert np.isfinite(dt)
    for _ in range(60):
        u1 = U + dt * disc.rhs(t, U)
        u2 = 0.75 * U + 0.25 * (u1 + dt * disc.rhs(t, u1))
        U = U / 3 + 2 / 3 * (u2 + dt * disc.rhs(t, u2))
        t += dt
        assert U.min() >= 0.0
        assert U.max() <= 1.0 + 1e-14
    assert abs(grid.integrate(U[0]) - mass0) <= 1e-13 * mass0


def test_step_limit_is_the_advective_cfl():
    # pure advection: the IMEX limit is 1/Σ_a max|u_a|/h_a over the interior faces
    grid = Grid((20, 20))
    model = _rotation(stream=False)
    disc = Discretisation(model, grid, flow=PrescribedFlow(model, grid))
    U = disc.initial_state({"u": np.ones(grid.shape)})
    ux, uy = disc.flow.face_velocities(0.0)
    rate = np.abs(ux[1:-1]).max() / grid.spacing[0] + np.abs(uy[:, 1:-1]).max() / grid.spacing[1]
    assert disc.imex_step_limit(0.0, U) == pytest.approx(1 / rate, rel=1e-14)
    assert disc.explicit_step_limit(0.0, U) == pytest.approx(1 / (2 * rate), rel=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "grid", "message"),
    [
        ({"velocity": ["x", "0"]}, Grid((8, 8)), "not divergence-free"),
        ({"velocity": ["sin(x)*y", "y*cos(x)"]}, Grid((8, 8)), "not divergence-free"),
        ({"velocity": ["1"]}, Grid((8, 8)), "1 component"),
        ({"stream": "x*y"}, Grid(8), "2D grid"),
        ({"velocity": ["1/(x - 0.5 + 1/16)", "0"]}, Grid((8, 8)), "not divergence-free"),
    ],
)
def test_bad_flows_are_refused(kwargs, grid, message):
    model = Model([Species("u", advected=True, initial=1)], flow=Flow(**kwargs))
    with pytest.raises(ModelError, match=message):
        discretise(model, grid)


def test_a_prescribed_flow_is_passed_to_the_finite_volumes():
    # crossdiff.fv never imports crossdiff.flow: the face velocities are injected
    model, grid = _rotation(), Grid((8, 8))
    with pytest.raises(ModelError, match=r"prescribed flow: pass flow=crossdiff\.flow\.PrescribedFlow"):
        Discretisation(model, grid)
    disc = discretise(model, grid)
    assert isinstance(disc, Discretisation) and isinstance(disc.flow, PrescribedFlow)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Model([Species("u", advected=True)]), "no \\[flow\\]"),
        (
            lambda: Model([Species("u", advected=True, tau=0, diffusion=1, reaction="-u")], flow=Flow(velocity=["1"])),
            "cannot be advected",
        ),
        (lambda: Model([Species("u", advected=True)], flow=Flow(velocity=["u", "0"])), "cannot depend on species"),
        (lambda: Model([Species("u", advected=True)], flow=Flow(velocity=["k*y", "0"])), "unknown symbol 'k'"),
        (lambda: Flow(), "needs a velocity"),
        (lambda: Flow(velocity=["y"], stream="x"), "not both"),
        (lambda: Flow(kind="magic", velocity=["1"]), "unknown flow kind"),
        (lambda: Species("u", advected="yes"), "true or false"),
    ],
)
def test_bad_models_are_refused(build, message):
    with pytest.raises(ModelError, match=message):
        build()


def test_model_file_round_trip_and_equations():
    data = {
        "model": {"name": "stirred"},
        "parameters": {"U0": 2.0, "D": 0.01},
        "flow": {"stream": "U0*sin(pi*x)*sin(pi*y)/pi"},
        "species": [{"name": "c", "diffusion": "D", "advected": True, "initial": "x"}],
    }
    model = model_from_dict(data)
    assert model.species[0].advected and model.flow is not None
    again = model_from_dict(model_to_dict(model))
    assert again.flow == model.flow and again.species[0].advected
    lines = model.equations()
    assert lines[0] == "dc/dt = D*lap(c) - div(c vel)"
    assert lines[1] == "vel = (-d psi/dy, d psi/dx), psi = U0*sin(pi*x)*sin(pi*y)/pi"
    assert r"\mathbf{u}" in model.equations(latex=True)[0]
    with pytest.raises(ModelError, match="unknown key"):
        model_from_dict({**data, "flow": {"stream": "x", "speed": 1}})
    with pytest.raises(ModelError, match="true or false"):
        model_from_dict({**data, "species": [{"name": "c", "advected": 1}]})
