"""SpectralLaplacian with Dirichlet and Neumann walls: the DCT/DST variants against the dense
3-point matrices with the ghost cells u_{-1} = ±u_0 (reflection for Neumann, antisymmetric for
Dirichlet)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crossdiff.fv import SpectralLaplacian
from crossdiff.grid import Grid

WALLS = [("neumann", "neumann"), ("dirichlet", "dirichlet"), ("dirichlet", "neumann"), ("neumann", "dirichlet")]


def _second_difference(n: int, h: float, walls: tuple[str, str] | None) -> np.ndarray:
    """The dense 3-point matrix: ``None`` for periodic."""
    a = np.diag(-2.0 * np.ones(n)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
    if walls is None:
        a[0, -1] = a[-1, 0] = 1.0
    else:
        a[0, 0] += 1.0 if walls[0] == "neumann" else -1.0
        a[-1, -1] += 1.0 if walls[1] == "neumann" else -1.0
    return a / h**2


@pytest.mark.parametrize(("wx", "wy"), list(itertools.product(WALLS, [*WALLS[:2], None])))
def test_solve_diagonal_against_dense(wx, wy):
    grid = Grid((7, 6), extent=((0, 2), (0, 1)), boundary=("noflux", "noflux" if wy else "periodic"))
    spectral = SpectralLaplacian(grid, walls=(wx, wy or ("neumann", "neumann")))
    ax = _second_difference(7, 2 / 7, wx)
    ay = _second_difference(6, 1 / 6, wy)
    scales = np.array([[0.3, 0.7], [1.0, 2.0]])
    b = np.random.default_rng(1).standard_normal((2, 7, 6))
    x = spectral.solve_diagonal(b, scales)
    for m, (cx, cy) in enumerate(scales):
        a = np.eye(42) - np.kron(cx * ax, np.eye(6)) - np.kron(np.eye(7), cy * ay)
        # a direct solve of a well-conditioned (I − L) system: round-off of a few ulps
        np.testing.assert_allclose(a @ x[m].ravel(), b[m].ravel(), rtol=0, atol=1e-13)
    # the eigenvalues are those of the dense matrices
    lam = np.sort(np.ravel(spectral.symbol([1.0, 1.0])))
    dense = np.sort(np.linalg.eigvalsh(np.kron(ax, np.eye(6)) + np.kron(np.eye(7), ay)))
    np.testing.assert_allclose(lam, dense, rtol=1e-12, atol=1e-10)


def test_default_walls_are_neumann_and_bad_walls_refused():
    grid = Grid((4, 4))
    assert SpectralLaplacian(grid).walls == (("neumann", "neumann"),) * 2
    with pytest.raises(ValueError, match="walls"):
        SpectralLaplacian(grid, walls=(("robin", "neumann"), ("neumann", "neumann")))
