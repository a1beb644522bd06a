r"""Eigenvalues of the linearised steady problem, ``J w = λ M w``, nearest a shift.

Shift-invert: the eigenvalues ``μ`` of largest modulus of ``(J − σM)^{-1} M`` give the finite
eigenvalues ``λ = σ + 1/μ`` nearest ``σ`` (Saad, *Numerical Methods for Large Eigenvalue
Problems*, 2nd ed., 2011, §4, docs/references.md [Saa11]); algebraic rows (``M = 0``) give
``μ = 0`` and drop out. ARPACK (:func:`scipy.sparse.linalg.eigs`) computes them from a fixed
start vector, so that a diagram is reproducible; small systems are solved densely
(:func:`scipy.linalg.eig` of the pencil).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import NumericalError

if TYPE_CHECKING:
    import scipy.sparse as sps

__all__ = ["nearest_eigenvalues", "DENSE_BELOW"]

#: Systems with fewer unknowns are solved densely.
DENSE_BELOW = 160


def nearest_eigenvalues(
    J: sps.spmatrix, M: sps.spmatrix, k: int, sigma: float = 0.0, vectors: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``k`` finite eigenvalues of ``J w = λ M w`` nearest ``sigma``, by decreasing real part.

    Parameters
    ----------
    J, M : scipy.sparse matrices, shape (N, N)
    k : int
    sigma : float
        The shift (a real number at which ``J − σM`` is regular).
    vectors : bool
        Also return the eigenvectors (columns, in the same order).

    Returns
    -------
    eigenvalues : ndarray of complex
    eigenvectors : ndarray of complex, shape (N, k'), or None

    Raises
    ------
    NumericalError
        ``J − σM`` is singular, or ARPACK did not converge.
    """
    import scipy.linalg as sla
    import scipy.sparse as sps
    import scipy.sparse.linalg as spla

    N = J.shape[0]
    if N < DENSE_BELOW:
        A = np.asarray(J.toarray())
        B = np.asarray(M.toarray())
        vec: np.ndarray | None = None
        if vectors:
            lam, vec = sla.eig(A, B, right=True)
        else:
            lam = sla.eig(A, B, right=False)
        finite = np.isfinite(lam) & (np.abs(lam) < 1e300)
        lam = lam[finite]
        vec = vec[:, finite] if vec is not None else None
        order = np.argsort(np.abs(lam - sigma), kind="stable")[:k]
        lam = lam[order]
        vec = vec[:, order] if vec is not None else None
    else:
        try:
            lu = spla.splu(sps.csc_matrix(J - sigma * M))
        except RuntimeError as err:  # "Factor is exactly singular"
            raise NumericalError(f"the Jacobian is singular at the shift {sigma:g}: {err}") from None
        Mc = sps.csr_matrix(M)
        op = spla.LinearOperator((N, N), matvec=lambda v: lu.solve(np.asarray(Mc @ v, dtype=float)), dtype=float)
        kk = min(k, N - 2)
        v0 = np.cos(np.arange(N) * 0.7) + 1.0  # a fixed start: reproducible eigenvalues
        try:
            mu, vec = spla.eigs(op, k=kk, which="LM", v0=v0, ncv=min(N, max(2 * kk + 1, 24)), tol=1e-12)
        except spla.ArpackNoConvergence as err:
            mu, vec = err.eigenvalues, err.eigenvectors
            if mu.size == 0:
                raise NumericalError("the eigenvalue solver (ARPACK) did not converge") from None
        keep = np.abs(mu) > 1e-12 * max(1.0, float(np.max(np.abs(mu)))) if mu.size else np.zeros(0, bool)
        lam = sigma + 1.0 / mu[keep]
        vec = vec[:, keep]
    order = np.argsort(-lam.real, kind="stable")
    lam = lam[order]
    if vectors and vec is not None:
        return lam, vec[:, order]
    return lam, None
