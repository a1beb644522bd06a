"""The ε ≈ h band: the micro transport in the implicit part (``ImplicitTransport``,
docs/kinetic.md "The ε ≈ h band"): the Fourier solve against the stencil, the telegraph model's
exact solution in the band with steps not bounded by εh/c, mass to round-off, walls."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.kinetic import KineticDiscretisation, KineticModel, KineticSpecies, Relaxation, Sphere
from crossdiff.kinetic._transport import ImplicitTransport
from crossdiff.time import GSAIMEX

from .test_solver import A, telegraph_amplitude, telegraph_model


def fromm(g: np.ndarray, v: float, h: float, axis: int) -> np.ndarray:
    """``v ∂g`` by the conservative upwind divergence of the centred-slope (unlimited) MUSCL
    reconstruction on a periodic axis, written with rolls (the reference of the symbols)."""

    def shift(k: int) -> np.ndarray:
        return np.roll(g, -k, axis=axis)

    if v >= 0:  # face j + 1/2 takes the value of cell j
        face = g + 0.25 * (shift(1) - shift(-1))
    else:  # of cell j + 1
        face = shift(1) - 0.25 * (shift(2) - g)
    flux = v * face
    return (flux - np.roll(flux, 1, axis=axis)) / h


def test_fourier_operator_is_the_fromm_stencil_and_solve_inverts_it_2d():
    """Periodic 2D, 8 directions: ``apply`` is ``(I − Π)`` of the stencil to round-off
    (relative 1e-12: FFT round-off on 24×20 points), and ``solve`` returns ``g`` with
    ``D g + c (I − Π) A g = R`` to 1e-12 relative."""
    model = KineticModel([KineticSpecies("u", Relaxation(1.0), initial="1")], Sphere(2, 1.0), name="t2")
    grid = cd.Grid((24, 20), ((0.0, 2.0), (0.0, 3.0)), "periodic")
    system = KineticDiscretisation(model, grid, 0.05, velocities=8)
    nodes, w = system.nodal.nodes, system.nodal.weights
    M = system.M[0]
    op = ImplicitTransport(system.staggered, nodes, w)
    rng = np.random.default_rng(3)
    g = rng.standard_normal((len(w), 24, 20))
    stencil = sum(np.stack([fromm(g[k], float(nodes[k, b]), system.h[b], b) for k in range(len(w))]) for b in range(2))
    stencil -= M[:, None, None] * np.einsum("k,k...->...", w, stencil)
    applied = op.apply(g, 0, M)
    assert np.max(np.abs(applied - stencil)) < 1e-12 * np.max(np.abs(stencil))
    D, c = 1.7, 0.3
    R = rng.standard_normal(g.shape)
    x = op.solve(R, 1, D, c, M)
    residual = D * x + c * op.apply(x, 1, M) - R
    assert np.max(np.abs(residual)) < 1e-12 * np.max(np.abs(R))


def test_walls_solve_on_the_doubled_domain_is_even_and_solves_the_equation():
    """Walls in 1D (faces 0 … n of the wall axis): the solution satisfies the equation with the
    operator of the doubled domain (``apply``), to 1e-12 relative, and keeps a wall point's
    value even in v when the right-hand side is (specular reflection)."""
    model = telegraph_model()
    grid = cd.Grid((16,), ((0.0, math.pi),), "noflux")
    system = KineticDiscretisation(model, grid, 0.02)
    op = ImplicitTransport(system.staggered, system.nodal.nodes, system.nodal.weights)
    M = system.M[0]
    R = np.random.default_rng(5).standard_normal((2, 17))
    R[:, [0, 16]] = R[:, [0, 16]].mean(axis=0)  # even at the walls
    x = op.solve(R, 0, 2.0, 0.7, M)
    residual = 2.0 * x + 0.7 * op.apply(x, 0, M) - R
    assert np.max(np.abs(residual)) < 1e-12 * np.max(np.abs(R))
    assert np.max(np.abs(x[0, [0, 16]] - x[1, [0, 16]])) < 1e-12


@pytest.mark.parametrize("boundary", ["periodic", "noflux"])
def test_telegraph_in_the_band_exact_with_few_steps(boundary):
    """ε = 0.02 and 0.05 on 64 cells (``ε h/c`` about 0.001-0.005: the band, where the explicit
    transport bounded the step by ``max(εh/c, 0.8h²/D)/2``, 130-520 steps to t = 1): the transport
    is implicit, the default stepper takes at most 40 steps (measured 13-15), the amplitude is
    within 0.5 % of the exact solution (the tolerance of the telegraph test at every ε;
    measured below 0.1 %) and the mass is conserved to round-off."""
    model = telegraph_model()
    length = 2 * math.pi if boundary == "periodic" else math.pi
    grid = cd.Grid((64,), ((0.0, length),), boundary)
    mode = np.cos(grid.coordinates[0])
    h = grid.spacing[0]
    for eps in (0.05, 0.02):
        assert KineticDiscretisation(model, grid, eps).implicit_transport == (True,)
        sol = cd.solve(model, grid, 1.0, eps=eps, save_every=0.5)
        old_bound = 0.5 * max(eps * h, 0.8 * h * h)  # the explicit transport's step (docs/kinetic.md)
        assert sol.stats.n_steps <= 40 < 1.0 / old_bound, (eps, sol.stats.n_steps)
        amplitude = np.sum((sol.final[0] - 1) * mode) / np.sum(mode * mode)
        exact = A * telegraph_amplitude(1.0, eps)
        assert abs(amplitude / exact - 1) < 5e-3, (eps, amplitude, exact)
        mass = sol.mass()[:, 0]
        assert np.all(np.abs(mass - mass[0]) < 1e-12 * mass[0]), (eps, mass)


def test_steps_flat_in_eps_and_large_fixed_steps_stable():
    """The cost is flat as ε → 0: the default stepper's steps to t = 1 on 64 cells differ by
    less than a factor 2 between ε = 0.05 and 1e-6 (measured 13-20); and a fixed step 50× the
    old transport bound (Δt = 0.1 at ε = 0.02, h ≈ 0.1) on 10 % noise stays bounded (the
    densities within the data's range: no growth), with the mass to round-off."""
    model = telegraph_model()
    grid = cd.Grid((64,), ((0.0, 2 * math.pi),), "periodic")
    steps = [cd.solve(model, grid, 1.0, eps=eps).stats.n_steps for eps in (0.05, 0.02, 1e-3, 1e-6)]
    assert max(steps) < 2 * min(steps), steps
    noisy = KineticModel([KineticSpecies("u", Relaxation(1.0), initial="1 + 0.1*noise")], Sphere(1, 1.0), name="n")
    sol = cd.solve(noisy, grid, 2.0, eps=0.02, stepper=GSAIMEX(dt=0.1), save_every=2.0)
    first, last = sol.frames[0, 0], sol.final[0]
    assert sol.success and np.all(np.isfinite(last))
    assert last.min() >= first.min() - 1e-12 and last.max() <= first.max() + 1e-12
    mass = sol.mass()[:, 0]
    assert abs(mass[-1] - mass[0]) < 1e-12 * mass[0]


def test_the_switch_by_the_local_ratio_of_relaxation_to_transport():
    """The transport is implicit exactly in the band ``0.4 ≤ σh/(εc) < 5`` (64 cells on [0, 2π],
    h ≈ 0.098: ε = 0.1 and 0.03 inside, ε = 0.3 (kinetic, 0.33) and 1e-3 (diffusive, 98)
    outside), never with a density-dependent rate, and not for a Fourier solve above
    ``SOLVE_POINTS`` velocities × doubled points (512² × 16 with walls)."""
    model = telegraph_model()
    grid = cd.Grid((64,), ((0.0, 2 * math.pi),), "periodic")
    decided = {eps: KineticDiscretisation(model, grid, eps).implicit_transport for eps in (1.0, 0.3, 0.1, 0.03, 1e-3)}
    assert decided == {1.0: (False,), 0.3: (False,), 0.1: (True,), 0.03: (True,), 1e-3: (False,)}
    varying = KineticModel([KineticSpecies("u", Relaxation("1 + u"), initial="1")], Sphere(1, 1.0), name="v")
    assert KineticDiscretisation(varying, grid, 0.05).implicit_transport == (False,)
    plane = KineticModel([KineticSpecies("u", Relaxation(1.0), initial="1")], Sphere(2, 1.0), name="p")
    small = cd.Grid((32, 32), ((0.0, 3.2), (0.0, 3.2)), "noflux")
    large = cd.Grid((512, 512), ((0.0, 51.2), (0.0, 51.2)), "noflux")
    assert KineticDiscretisation(plane, small, 0.05, velocities=16).implicit_transport == (True,)
    assert KineticDiscretisation(plane, large, 0.05, velocities=16).implicit_transport == (False,)
