"""The sparsity pattern of the finite-volume stencil (for sparse Jacobians of the right-hand side)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..grid import Grid

if TYPE_CHECKING:  # SciPy's sparse stack is imported only when a pattern is built
    import scipy.sparse as sps

__all__ = ["jacobian_sparsity"]


def jacobian_sparsity(grid: Grid, n_species: int, radius: int = 2) -> sps.csr_matrix:
    """Sparsity pattern of ``d rhs / d U`` of the finite-volume discretisation on ``grid``.

    Every species couples to every species (reactions, taxis, density-dependent diffusion) in
    the cells within ``radius`` cells along each axis, and to the diagonal neighbours (the cross
    terms of a diffusion tensor: the face gradient across a face is the mean of the adjacent
    central differences). ``radius = 2`` is the reach of the taxis flux: the divergence of cell
    ``k`` uses faces ``k ± 1/2``, whose MUSCL face values use the limited slopes of cells
    ``k − 1 … k + 1``, which read cells ``k − 2 … k + 2``. Periodic axes wrap around.

    Parameters
    ----------
    grid : Grid
    n_species : int
    radius : int
        Reach of the stencil along each axis, in cells.

    Returns
    -------
    scipy.sparse.csr_matrix of int8, shape (n_species · grid.size, n_species · grid.size)
        Ones where the Jacobian may be nonzero; unknowns ordered species-major, then the grid in
        C order (the layout of ``U.ravel()`` for a state ``U`` of shape ``(n_species, *grid.shape)``).
    """
    import scipy.sparse as sps  # imported here: only the BDF stepper needs SciPy's sparse stack

    size = grid.size
    index = np.arange(size).reshape(grid.shape)
    offsets = {(0,) * grid.ndim}
    for a in range(grid.ndim):
        for r in range(1, radius + 1):
            for sgn in (-1, 1):
                step = [0] * grid.ndim
                step[a] = sgn * r
                offsets.add(tuple(step))
    if grid.ndim > 1:
        for a in range(grid.ndim):
            for b in range(a + 1, grid.ndim):
                for sa in (-1, 1):
                    for sb in (-1, 1):
                        step = [0] * grid.ndim
                        step[a], step[b] = sa, sb
                        offsets.add(tuple(step))
    rows, cols = [], []
    for offset in offsets:
        shifted = index
        valid = np.ones(grid.shape, bool)
        for a, k in enumerate(offset):
            if k == 0:
                continue
            shifted = np.roll(shifted, -k, axis=a)
            if not grid.periodic[a]:
                pos = np.arange(grid.shape[a]) + k
                mask = (pos >= 0) & (pos < grid.shape[a])
                shape = [1] * grid.ndim
                shape[a] = -1
                valid = valid & mask.reshape(shape)
        rows.append(index[valid])
        cols.append(shifted[valid])
    row_index = np.concatenate(rows)
    col_index = np.concatenate(cols)
    ones = np.ones_like(row_index, dtype=np.int8)
    spatial = sps.csr_matrix((ones, (row_index, col_index)), shape=(size, size))
    return sps.kron(np.ones((n_species, n_species), dtype=np.int8), spatial, format="csr")
