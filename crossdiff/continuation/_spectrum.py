r"""Eigenvalues of the linearised steady problem, ``J w = λ M w``, near given shifts.

``M`` is diagonal with ones on the differential rows and zeros on the algebraic ones
(quasi-stationary species, constraints). Shift-invert: the eigenvalues ``μ`` of largest modulus of
``(J − σM)^{-1} M`` give the finite eigenvalues ``λ = σ + 1/μ`` nearest ``σ`` (Saad, *Numerical
Methods for Large Eigenvalue Problems*, 2011, docs/references.md [Saa11]); the algebraic rows give ``μ = 0`` and drop out. A real shift ``σ = 0`` finds the
eigenvalues that cross zero at branch points and folds; a Hopf point, a complex pair crossing the
imaginary axis at ``±iω``, is seen by a shift ``σ = iω`` (complex arithmetic; the conjugates are
added). ARPACK (:func:`scipy.sparse.linalg.eigs`) starts from a fixed vector, so that a diagram
is reproducible; small systems are solved densely (:func:`scipy.linalg.eig` of the pencil: every
finite eigenvalue; those nearest the shifts and the rightmost kept). BLAS is held to one thread (``threadpoolctl``): on a busy
2-core machine its spinning threads made one complex shift-invert 300× slower (5 s against 16 ms),
as they made GMRES slower (crossdiff/fv/_krylov.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NumericalError
from ._linear import sparse_lu

if TYPE_CHECKING:
    import scipy.sparse as sps

__all__ = ["leading_eigenvalues", "DENSE_BELOW"]

#: Systems with fewer unknowns are solved densely.
DENSE_BELOW = 160


@cache
def one_blas_thread() -> Any:
    """A context manager holding BLAS to one thread (made once per process, after SciPy's BLAS is
    loaded: a controller knows only the libraries loaded before it)."""
    import scipy.linalg
    import scipy.sparse.linalg  # noqa: F401
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")


def leading_eigenvalues(
    J: sps.spmatrix,
    M: sps.spmatrix,
    k: int,
    shifts: Sequence[complex] = (0.0,),
    vectors: bool = False,
    zero_lu: Any = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Finite eigenvalues of ``J w = λ M w``: the ``k`` nearest each shift (with their complex
    conjugates; densely also the ``k`` of largest real part); by decreasing real part.

    Parameters
    ----------
    J : scipy.sparse matrix, shape (N, N)
    M : scipy.sparse diagonal matrix, shape (N, N)
    k : int
    shifts : sequence of complex
        Where to look (``J − σM`` must be regular).
    vectors : bool
        Also return the eigenvectors (columns ``w``, in the same order).
    zero_lu : SuperLU, optional
        Factors of ``J`` already computed (:func:`sparse_lu`): used for the shift ``σ = 0``.

    Returns
    -------
    eigenvalues : ndarray of complex
    eigenvectors : ndarray of complex, shape (N, k'), or None

    Raises
    ------
    NumericalError
        ``J − σM`` is singular, or ARPACK did not converge.
    """
    with one_blas_thread()():
        return _leading(J, M, k, shifts, vectors, zero_lu)


def _leading(
    J: sps.spmatrix, M: sps.spmatrix, k: int, shifts: Sequence[complex], vectors: bool, zero_lu: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    import scipy.linalg as sla
    import scipy.sparse as sps
    import scipy.sparse.linalg as spla

    N = J.shape[0]
    P = int(np.count_nonzero(M.diagonal()))
    vec: np.ndarray | None = None
    if N < DENSE_BELOW or P < k + 3:
        if vectors:
            lam, vec = sla.eig(J.toarray(), M.toarray(), right=True)
        else:
            lam = sla.eig(J.toarray(), M.toarray(), right=False)
        # LAPACK returns the infinite eigenvalues of a singular M as alpha/beta with beta at
        # round-off: huge, of either sign; a finite one is bounded by ‖J‖/eps-free constants
        bound = 1e8 * max(1.0, float(abs(J).max()))
        finite = np.isfinite(lam) & (np.abs(lam) < bound)
        lam = lam[finite]
        vec = vec[:, finite] if vec is not None else None
        # the k nearest each shift, as the sparse path finds them, and the k rightmost
        wanted = set(np.argsort(-lam.real, kind="stable")[:k].tolist())
        for sigma in shifts:
            for z in (complex(sigma), complex(sigma).conjugate()):
                wanted.update(np.argsort(np.abs(lam - z), kind="stable")[:k].tolist())
        chosen = np.array(sorted(wanted), dtype=int)
        order = chosen[np.argsort(-lam[chosen].real, kind="stable")]
        return lam[order], (vec[:, order] if vec is not None else None)
    found: list[np.ndarray] = []
    vecs: list[np.ndarray] = []
    Mc = sps.csr_matrix(M)
    for sigma in shifts:
        sigma = complex(sigma)
        real = sigma.imag == 0
        dtype = float if real else complex
        lu = zero_lu if sigma == 0 and zero_lu is not None else None
        if lu is None:
            lu = sparse_lu(sps.csc_matrix(J - (sigma.real if real else sigma) * M, dtype=dtype))
        if lu is None:
            raise NumericalError(f"J - σM is singular at the shift σ = {sigma:g}")
        op = spla.LinearOperator((N, N), matvec=lambda v, lu=lu: lu.solve(np.asarray(Mc @ v, dtype=dtype)), dtype=dtype)
        kk = min(k, P - 2)
        v0 = (np.cos(np.arange(N) * 0.7) + 1.0).astype(dtype)  # a fixed start: reproducible eigenvalues
        try:
            mu, v = spla.eigs(op, k=kk, which="LM", v0=v0, ncv=min(N, max(2 * kk + 1, 20)), tol=1e-12)
        except spla.ArpackNoConvergence as err:
            mu, v = err.eigenvalues, err.eigenvectors
            if mu.size == 0:
                raise NumericalError("the eigenvalue solver (ARPACK) did not converge") from None
        keep = np.abs(mu) > 1e-12 * max(1.0, float(np.max(np.abs(mu)))) if mu.size else np.zeros(0, bool)
        lam = (sigma.real if real else sigma) + 1.0 / mu[keep]
        v = v[:, keep]
        if not real:  # the conjugate pairs
            lam = np.concatenate([lam, lam.conj()])
            v = np.concatenate([v, v.conj()], axis=1)
        found.append(lam)
        vecs.append(v)
    lam, vec = found[0], vecs[0]
    for more, v in zip(found[1:], vecs[1:]):  # the same eigenvalue seen from two shifts: keep one
        new = [i for i, z in enumerate(more) if not np.any(np.abs(lam - z) <= 1e-9 * max(1.0, abs(z)))]
        lam, vec = np.concatenate([lam, more[new]]), np.concatenate([vec, v[:, new]], axis=1)
    order = np.argsort(-lam.real, kind="stable")
    return lam[order], (vec[:, order] if vectors else None)
