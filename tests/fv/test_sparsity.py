"""The stencil's Jacobian pattern (``crossdiff.fv.jacobian_sparsity``) covers the actual Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.fv import Discretisation, jacobian_sparsity


def _model(ndim: int) -> cd.Model:
    """Every kind of coupling the stencil has: density-dependent diffusion, a diffusion tensor
    with cross terms, taxis with a density-dependent sensitivity, reactions coupling species."""
    tensor = [[1.0, 0.3, 0.2], [0.3, 0.5, 0.1], [0.2, 0.1, 0.8]]
    d = [row[:ndim] for row in tensor[:ndim]] if ndim > 1 else 0.7
    return cd.Model(
        species=[
            cd.Species("u", diffusion="0.1 + u**2", taxis=[cd.Taxis("v", "2/(1 + u)")], reaction="u*(1 - u) - u*v"),
            cd.Species("v", diffusion=d, taxis=[cd.Taxis("u", "-0.5")], reaction="u - v**2"),
        ]
    )


GRIDS = [
    cd.Grid((11,)),
    cd.Grid((8, 7), boundary=("periodic", "noflux")),
    cd.Grid((7, 7)),
    cd.Grid((5, 4, 5), boundary=("noflux", "periodic", "noflux")),
]


def _jacobian_nonzeros(disc: Discretisation, U: np.ndarray) -> np.ndarray:
    """Nonzero pattern of the central finite-difference Jacobian of ``disc.rhs`` (column by
    column). Entries outside the true stencil are exactly 0: those cells' right-hand sides do
    not read the perturbed unknown, so both evaluations are bitwise equal."""
    size = U.size
    nz = np.zeros((size, size), bool)
    flat = U.ravel()
    delta = 1e-6
    for j in range(size):
        plus, minus = flat.copy(), flat.copy()
        plus[j] += delta
        minus[j] -= delta
        column = disc.rhs(0.0, plus.reshape(U.shape)) - disc.rhs(0.0, minus.reshape(U.shape))
        nz[:, j] = column.ravel() != 0.0
    return nz


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: g.describe())
def test_pattern_covers_the_jacobian_of_the_discretisation(grid):
    disc = Discretisation(_model(grid.ndim), grid)
    U = np.random.default_rng(1).uniform(0.5, 1.5, (2, *grid.shape))  # rough: taxis slopes of both signs
    disc.refresh(0.0, U)
    actual = _jacobian_nonzeros(disc, U)
    pattern = jacobian_sparsity(grid, 2).toarray() != 0
    assert pattern.shape == actual.shape
    assert not np.any(actual & ~pattern), "Jacobian entries outside the stencil's pattern"
    # the pattern is needed as wide as it is: radius 1 misses entries of the taxis flux
    narrow = jacobian_sparsity(grid, 2, radius=1).toarray() != 0
    assert np.any(actual & ~narrow)
    # and it is sparse where the grid is large enough to have far cells
    if min(grid.shape) > 5:
        assert pattern.sum() < pattern.size // 2


def test_pattern_is_symmetric_and_wraps_periodic_axes():
    """Cell 0 couples to cells n − 1 and n − 2 on a periodic axis, not on a no-flux one."""
    for boundary, wraps in (("periodic", True), ("noflux", False)):
        p = jacobian_sparsity(cd.Grid((9,), boundary=boundary), 1).toarray() != 0
        assert np.array_equal(p, p.T)
        assert p[0, 8] == wraps and p[0, 7] == wraps and p[0, 2] and not p[0, 3]
