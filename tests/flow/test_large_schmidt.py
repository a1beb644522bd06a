"""Navier–Stokes at a large Schmidt number (keller-segel-fluid, Sc = 500): the buoyancy is part
of the implicit operator and the vorticity's error estimate is filtered, so that the steps are
those of the densities, not of the viscous relaxation ``1/(ν k²)`` of the vorticity."""

from __future__ import annotations

import numpy as np

from crossdiff import catalogue
from crossdiff.flow import FlowSystem
from crossdiff.grid import Grid
from crossdiff.model import initial_fields
from crossdiff.time import IMEX


def _system(shape=(32, 16)) -> tuple[FlowSystem, np.ndarray]:
    model = catalogue.load("keller-segel-fluid")
    grid = Grid(shape, ((0.0, 2.0), (0.0, 1.0)), ("periodic", "noflux"))
    system = FlowSystem(model, grid)
    U = system.initial_state(initial_fields(model, grid))
    U[system.omega] = system.creeping_vorticity(U)  # start balanced: the Sc → ∞ limit
    system.constrain(0.0, U)
    return system, U


def test_implicit_operator_is_block_triangular_and_solved_exactly():
    system, U = _system()
    rng = np.random.default_rng(1)
    X = U + 0.01 * rng.standard_normal(U.shape)
    X[system.psi] = system.stream_function(X[system.omega])
    s = 2e-3
    B = X - s * system.implicit(X)
    B[system.psi] = X[system.psi]
    Y = system.solve_implicit(B, s)
    # (I − sL) Y = B: the species, then ω with the buoyancy of the solved species; exact up to
    # the GMRES tolerance 1e-10 of the no-slip solve and round-off of ν·g ~ 1e5
    assert np.abs(Y[: system.psi] - X[: system.psi]).max() <= 1e-8 * np.abs(X[: system.psi]).max()
    # the vorticity row of L holds the buoyancy: −Σ g ∂x n / ρ with g/ρ = γ Sc = 5e5
    n_only = np.zeros_like(X)
    n_only[0] = X[0]
    assert np.abs(system.implicit(n_only)[system.omega]).max() > 1.0


def test_a_long_step_leaves_the_vorticity_balanced_by_its_densities():
    system, U = _system()
    stepper = IMEX()
    dt = 1e-3  # Δt ν k² from 5 (k = π) to 1e5 (grid scale): the vorticity is stiff
    system.prepare(0.0, U)
    result = stepper.step(system, 0.0, U, dt, None)
    V = result.U
    balanced = system.creeping_vorticity(V)
    # stiffly accurate and L-stable with the force implicit: ω after the step is the creeping
    # vorticity of the new densities up to the viscous relaxation not yet complete on the
    # largest scales (measured 8.3e-4 relative; with the force explicit 4.3e-2)
    assert np.abs(V[system.omega] - balanced).max() <= 1e-2 * np.abs(balanced).max()
    # the filtered error estimate of ω is of the size of that of the densities (measured 1.5e-5
    # and 9.0e-5 of their ranges; with the force explicit and no filter, ω's was 0.88)
    rtol = 1e-4
    scaled = [np.abs(result.error[i]).max() / (np.ptp(V[i]) + 1e-300) for i in (0, system.omega)]
    assert scaled[1] <= 10 * max(scaled[0], rtol), scaled


def test_filter_divides_each_mode_by_its_implicit_factor():
    system, _ = _system()
    g = system.grid
    x, y = g.mesh()
    mode = np.sin(5 * np.pi * x) * np.sin(3 * np.pi * y)  # a smooth vorticity error, k² = 34π²
    error = np.zeros((system.n, *g.shape))
    # the filter solves (I − s L_ωω) f = e with the discrete viscous operator (no-slip bottom
    # included): applying that operator gives e back, to the GMRES tolerance of the solve
    error[system.omega] = mode
    s = 1e-3
    filtered = system.filter_error(error.copy(), s)
    back = filtered[system.omega] - s * system.viscous(filtered[system.omega])
    assert np.abs(back - mode).max() <= 1e-8
    assert np.abs(filtered[system.omega]).max() < 0.01 * np.abs(mode).max()  # s ν k² ≈ 300 here
    # the densities' estimates are untouched (as for models without a flow)
    error[0] = mode
    assert np.array_equal(system.filter_error(error.copy(), s)[0], mode)
