"""The sparsity pattern of the finite-volume stencil (for implicit methods on the whole system)."""

from __future__ import annotations

import numpy as np

__all__ = ["jacobian_sparsity"]


def jacobian_sparsity(grid, n_species: int, radius: int = 2):
    """Sparsity pattern of ``d rhs / d U``: every species couples to every species within
    ``radius`` cells along each axis, plus the diagonal neighbours (tensor cross terms)."""
    import scipy.sparse as sps  # imported here: only the BDF stepper needs SciPy's sparse stack
    size = grid.size
    index = np.arange(size).reshape(grid.shape)
    offsets = {(0,) * grid.ndim}
    for a in range(grid.ndim):
        for r in range(1, radius + 1):
            for sgn in (-1, 1):
                o = [0] * grid.ndim
                o[a] = sgn * r
                offsets.add(tuple(o))
    if grid.ndim > 1:
        for a in range(grid.ndim):
            for b in range(a + 1, grid.ndim):
                for sa in (-1, 1):
                    for sb in (-1, 1):
                        o = [0] * grid.ndim
                        o[a], o[b] = sa, sb
                        offsets.add(tuple(o))
    rows, cols = [], []
    for o in offsets:
        shifted = index
        valid = np.ones(grid.shape, bool)
        for a, k in enumerate(o):
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
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    spatial = sps.csr_matrix((np.ones_like(r, dtype=np.int8), (r, c)), shape=(size, size))
    return sps.kron(np.ones((n_species, n_species), dtype=np.int8), spatial, format="csr")
