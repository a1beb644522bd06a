"""Sparse Jacobians by coloured finite differences on a known sparsity pattern.

Columns that share no nonzero row (structurally orthogonal columns) are perturbed together, so
that the whole Jacobian costs one evaluation of the function per colour (Curtis, Powell & Reid
1974, docs/references.md [CPR74]): for the finite-volume stencil of radius two, five colours per
species in 1D whatever the number of cells.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sps

__all__ = ["column_colouring", "ColouredJacobian", "block_positions"]


def column_colouring(pattern: sps.spmatrix) -> np.ndarray:
    """A colour per column such that no two columns of one colour have a nonzero in the same row.

    Greedy colouring of the column intersection graph ``PᵀP`` in the natural column order
    ([CPR74]); for a banded pattern of half-width ``w`` it uses ``2w + 1`` colours.

    Parameters
    ----------
    pattern : scipy.sparse matrix, shape (m, n)
        Nonzeros where the Jacobian may be nonzero.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    import scipy.sparse as sps

    P = sps.csc_matrix(pattern, dtype=np.int8)
    P.data[:] = 1
    conflicts = sps.csr_matrix(P.T @ P)
    n = P.shape[1]
    colour = np.full(n, -1, dtype=np.int64)
    indptr, indices = conflicts.indptr, conflicts.indices
    for c in range(n):
        used = colour[indices[indptr[c] : indptr[c + 1]]]
        used = np.unique(used[used >= 0])
        # the smallest colour not used by a conflicting column
        gap = np.flatnonzero(used != np.arange(used.size))
        colour[c] = int(gap[0]) if gap.size else used.size
    return colour


class ColouredJacobian:
    """``∂F/∂x`` of ``F: R^n → R^m`` on a fixed pattern, by forward differences per colour.

    ``J[:, c] ≈ (F(x + δ_c e_c) − F(x))/δ_c`` with ``δ_c = √ε_mach · max(1, |x_c|)``, every
    column of one colour perturbed in the same evaluation (error ``O(δ)`` per entry).

    Parameters
    ----------
    pattern : scipy.sparse matrix, shape (m, n)
    """

    def __init__(self, pattern: sps.spmatrix):
        import scipy.sparse as sps

        P = sps.csc_matrix(pattern, dtype=np.float64)
        P.sum_duplicates()
        P.sort_indices()
        self.shape = P.shape
        self.indptr = P.indptr.copy()
        self.indices = P.indices.copy()
        self.colour = column_colouring(P)
        self.n_colours = int(self.colour.max()) + 1 if self.colour.size else 0
        cols = np.repeat(np.arange(P.shape[1]), np.diff(P.indptr))
        entry_colour = self.colour[cols]
        #: per colour: the entries (positions in the CSC data), their rows and columns
        self._groups = []
        for k in range(self.n_colours):
            where = np.flatnonzero(entry_colour == k)
            self._groups.append((where, self.indices[where], cols[where], np.flatnonzero(self.colour == k)))

    def __call__(self, F: Callable[[np.ndarray], np.ndarray], x: np.ndarray, F0: np.ndarray | None = None):
        """The Jacobian at ``x`` as a CSC matrix (``F0 = F(x)`` when known)."""
        import scipy.sparse as sps

        return sps.csc_matrix((self.data(F, x, F0), self.indices, self.indptr), shape=self.shape)

    def data(self, F: Callable[[np.ndarray], np.ndarray], x: np.ndarray, F0: np.ndarray | None = None) -> np.ndarray:
        """The Jacobian's entries at ``x`` in the order of the pattern's CSC data."""
        x = np.asarray(x, dtype=float)
        if F0 is None:
            F0 = F(x)
        step = np.sqrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
        step = (x + step) - x  # exactly representable steps
        data = np.zeros(self.indices.size)
        for where, rows, cols, members in self._groups:
            xp = x.copy()
            xp[members] += step[members]
            diff = F(xp) - F0
            data[where] = diff[rows] / step[cols]
        return data


def block_positions(blocks: list[list[Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """The CSC structure of a block matrix whose blocks hold the positions ``1, 2, …`` of their
    entries in one source vector: ``(indptr, indices, perm, shape)`` such that
    ``csc_matrix((source[perm], indices, indptr), shape)`` is the matrix (assembled once, refilled
    without SciPy's block machinery)."""
    import scipy.sparse as sps

    M = sps.csc_matrix(sps.bmat(blocks, format="csc"))
    M.sort_indices()
    perm = np.rint(M.data).astype(np.int64) - 1
    return M.indptr.copy(), M.indices.copy(), perm, M.shape
