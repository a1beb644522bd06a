"""Unit tests of the finite-volume operators and the spectral solver."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.fv import (
    LIMITERS,
    Discretisation,
    SpectralLaplacian,
    axis_view,
    divergence,
    face_difference,
    upwind_flux,
)

GRIDS = [
    cd.Grid((17,), ((0, 2),)),
    cd.Grid((12, 9), ((0, 1), (0, 3))),
    cd.Grid((12, 9), ((0, 1), (0, 3)), boundary="periodic"),
    cd.Grid((10, 8), ((0, 1), (0, 2)), boundary=("periodic", "noflux")),
    cd.Grid((6, 5, 4), ((0, 1), (0, 1), (0, 1))),
]


def _laplacian(u, grid):
    out = np.zeros_like(u)
    for a in range(grid.ndim):
        per, h = grid.periodic[a], grid.spacing[a]
        divergence(face_difference(u, a, per) / h, a, per, h, out=out)
    return out


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g.describe())
def test_spectral_solve_inverts_fv_laplacian(grid):
    """(I - c Δ_h) u = b solved by DCT/FFT satisfies the FV equations to round-off."""
    rng = np.random.default_rng(1)
    b = rng.normal(size=grid.shape)
    sp = SpectralLaplacian(grid)
    u = sp.solve(b, 0.7 * sp.symbol([1.0] * grid.ndim), 1.0)
    assert np.max(np.abs(u - 0.7 * _laplacian(u, grid) - b)) < 1e-12


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g.describe())
def test_divergence_conserves(grid):
    """Σ_k div(F)_k h^d = boundary flux = 0 for any face fluxes (no-flux) or wrap (periodic)."""
    rng = np.random.default_rng(2)
    u = rng.uniform(size=grid.shape)
    total = 0.0
    for a in range(grid.ndim):
        per = grid.periodic[a]
        flux = rng.normal(size=face_difference(u, a, per).shape)
        total += float(grid.integrate(divergence(flux, a, per, grid.spacing[a])))
    assert abs(total) < 1e-12


@pytest.mark.parametrize("limiter", LIMITERS.names())
def test_upwind_face_values_between_neighbours(limiter):
    """Limited reconstruction: the upwind flux is a⁺·(value between u_k and u_{k+1}) — the
    property behind positivity (Chertock & Kurganov 2008)."""
    rng = np.random.default_rng(3)
    u = rng.uniform(0, 1, 50) ** 4
    ones = np.ones(49)
    left = upwind_flux(u, ones, 0, False, limiter)  # a > 0: value from the left cell
    right = -upwind_flux(u, -ones, 0, False, limiter)  # a < 0: value from the right cell
    lo, hi = np.minimum(u[:-1], u[1:]), np.maximum(u[:-1], u[1:])
    assert np.all(left >= lo - 1e-15) and np.all(left <= hi + 1e-15)
    assert np.all(right >= lo - 1e-15) and np.all(right <= hi + 1e-15)
    assert np.all(left >= 0) and np.all(right >= 0)


def test_upwind_second_order_on_smooth_profile():
    """Face values of a smooth monotone profile are second-order accurate."""
    errs = []
    for n in (40, 80, 160):
        h = 1.0 / n
        xc = (np.arange(n) + 0.5) * h
        # cell averages of exp(x)
        u = (np.exp(xc + h / 2) - np.exp(xc - h / 2)) / h
        face = upwind_flux(u, np.ones(n - 1), 0, False, "mc")
        errs.append(np.max(np.abs(face[1:-1] - np.exp(xc[1:-2] + h / 2))))
    p = np.log2(errs[0] / errs[1]), np.log2(errs[1] / errs[2])
    assert min(p) > 1.8


def test_elliptic_species_solves_its_equation():
    """0 = DΔv - v + u holds to round-off after solve_elliptic, including in the stages."""
    model = cd.catalogue.load("keller-segel-elliptic")
    grid = cd.Grid((24, 24), ((-0.5, 0.5), (-0.5, 0.5)))
    disc = Discretisation(model, grid)
    rng = np.random.default_rng(4)
    U = np.stack([rng.uniform(size=grid.shape), np.zeros(grid.shape)])
    disc.solve_elliptic(0.0, U)
    residual = _laplacian(U[1], grid) - U[1] + U[0]
    assert np.max(np.abs(residual)) < 1e-10


def test_mean_free_elliptic_form():
    """c = 0 (Jäger–Luckhaus form): 0 = Δv + u - mean(u), mean(v) = 0."""
    model = cd.Model(
        species=[
            cd.Species("u", diffusion=1, taxis=[cd.Taxis("v", 1)], initial="1 + 0.1*noise"),
            cd.Species("v", diffusion=1, reaction="u", tau=0),
        ]
    )
    grid = cd.Grid((16, 16))
    disc = Discretisation(model, grid)
    U = disc.initial_state(cd.solve(model, grid, 1e-9, save_every=1e-9).frames[0])
    residual = _laplacian(U[1], grid) + U[0] - U[0].mean()
    assert np.max(np.abs(residual)) < 1e-10 and abs(U[1].mean()) < 1e-12


def test_tensor_diffusion_decay_rate():
    """A plane wave decays at the rate k·Dk for a constant anisotropic tensor (periodic box)."""
    d = np.array([[1.0, 0.6], [0.6, 0.5]])
    model = cd.Model(species=[cd.Species("u", diffusion=d.tolist(), initial="1 + 0.1*cos(2*pi*(x + y))")])
    grid = cd.Grid((64, 64), boundary="periodic")
    sol = cd.solve(model, grid, 0.02, stepper=cd.IMEX(dt=1e-3), save_every=0.02)
    k = 2 * np.pi * np.array([1.0, 1.0])
    amp = np.max(sol.final[0]) - 1.0
    expected = 0.1 * np.exp(-k @ d @ k * 0.02)
    # second-order discretisation at 64 cells per wavelength: relative error ~ (k h)^2/12 ~ 1 %
    assert abs(amp - expected) / expected < 0.02


def test_nonlinear_diffusion_matches_bdf():
    """Linearly implicit IMEX with frozen D(u) agrees with BDF on the full nonlinear problem."""
    model = cd.Model(species=[cd.Species("u", diffusion="u**2", initial="0.5 + exp(-20*(x - 0.5)**2)")])
    grid = cd.Grid((64,))
    a = cd.solve(model, grid, 0.05, stepper=cd.IMEX(rtol=1e-8, atol=1e-10), save_every=0.05).final
    b = cd.solve(model, grid, 0.05, stepper=cd.BDF(rtol=1e-9, atol=1e-11), save_every=0.05).final
    assert np.max(np.abs(a - b)) < 1e-6  # both time errors far below this


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g.describe())
@pytest.mark.parametrize("limiter", LIMITERS.names())
def test_compiled_taxis_kernel_matches_numpy_reference(grid, limiter):
    """The fused Numba taxis kernel equals the NumPy reference (upwind_flux + divergence)."""
    from crossdiff.fv._transport import taxis_divergence

    rng = np.random.default_rng(5)
    u, w, chi = (rng.uniform(0.1, 2.0, grid.shape) for _ in range(3))
    for const in (True, False):
        ref = np.zeros(grid.shape)
        out = np.zeros(grid.shape)
        for a in range(grid.ndim):
            per, h = grid.periodic[a], grid.spacing[a]
            chi_face = (
                0.7
                if const
                else 0.5 * (chi + np.roll(chi, 1, a))
                if per
                else np.diff(chi, axis=a) * 0
                + (np.take(chi, range(grid.shape[a] - 1), a) + np.take(chi, range(1, grid.shape[a]), a)) / 2
            )
            vel = chi_face * face_difference(w, a, per) / h
            ref -= divergence(upwind_flux(u, vel, a, per, limiter), a, per, h)
            taxis_divergence(
                axis_view(u, a),
                axis_view(w, a),
                axis_view(chi, a),
                0.7,
                const,
                h,
                per,
                LIMITERS[limiter],
                axis_view(out, a),
                1.0,
            )
        assert np.max(np.abs(out - ref)) <= 1e-12 * np.max(np.abs(ref))


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g.describe())
def test_compiled_second_difference_matches_numpy_reference(grid):
    """The compiled 3-point second difference equals ∇_h·(D ∇_h u) built from the NumPy face
    operators, on every axis (both compiled loops: across lines and along the contiguous axis)."""
    from crossdiff.fv._kernels import second_difference

    u = np.random.default_rng(6).uniform(0.1, 2.0, grid.shape)
    ref = np.zeros(grid.shape)
    out = np.zeros(grid.shape)
    for a in range(grid.ndim):
        per, h = grid.periodic[a], grid.spacing[a]
        divergence(1.7 * face_difference(u, a, per) / h, a, per, h, out=ref)
        second_difference(axis_view(u, a), 1.7 / h**2, per, axis_view(out, a))
    # same sums in a different order: round-off relative to the largest term
    assert np.max(np.abs(out - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_space_dependent_terms_with_sparse_coordinates():
    """Cell centres are kept as broadcastable (sparse) arrays; expressions of x alone (taxis
    sensitivity, reaction, transport limit) give exactly what full meshes give."""
    model = cd.Model(
        species=[
            cd.Species(
                "u", diffusion=1, taxis=[cd.Taxis("v", "1 + x")], reaction="sin(x)*u", initial="1 + 0.1*cos(pi*y)"
            ),
            cd.Species("v", diffusion=1, reaction="u - v + y", initial="cos(pi*x)"),
        ]
    )
    grid = cd.Grid((12, 9), ((0, 1), (0, 2)))
    sparse = Discretisation(model, grid)
    full = Discretisation(model, grid)
    mesh = grid.mesh()
    full.coords = (mesh[0], mesh[1], 0.0)
    U = np.random.default_rng(7).uniform(0.5, 1.5, (2, *grid.shape))
    assert sparse.coords[0].shape == (12, 1)  # not a full mesh
    assert np.array_equal(sparse.explicit(0.0, U), full.explicit(0.0, U))
    assert sparse.transport_limit(0.0, U, 0.8) == full.transport_limit(0.0, U, 0.8)
    assert sparse.taxis_rate(0.0, U) == full.taxis_rate(0.0, U)
