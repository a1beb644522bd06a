"""Preconditioned Krylov solves of the implicit operators, in one place.

Conjugate gradients (symmetric operators) or restarted GMRES (Saad & Schultz, SIAM J. Sci.
Stat. Comput. 7, 1986) from SciPy, preconditioned by a fast (spectral) solve. The vectors are
grid fields (10⁴–10⁶ entries): multithreaded BLAS gains nothing on their dot products and, with
its threads spinning on a loaded machine, made GMRES 30× slower than with one thread (measured
on 2 shared cores, a 128² vorticity solve: 1.5 s vs 0.04 s), so the solves hold BLAS to one
thread (``threadpoolctl``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

__all__ = ["krylov_solve", "one_blas_thread"]


@cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context in which BLAS runs on one thread (the module docstring says why)."""
    return _controller().limit(limits=1, user_api="blas")


def krylov_solve(
    matvec: Callable[[np.ndarray], np.ndarray],
    precondition: Callable[[np.ndarray], np.ndarray],
    b: np.ndarray,
    x0: np.ndarray,
    rtol: float,
    symmetric: bool,
) -> tuple[np.ndarray, bool]:
    """Solve ``A x = b`` for flat vectors, ``A`` given by ``matvec``, ``M⁻¹`` by ``precondition``.

    CG (``symmetric``, at most 500 iterations) or GMRES(50) (at most 20 restarts), relative
    residual ``rtol``. Returns the solution and whether it converged.
    """
    import scipy.sparse.linalg as spla

    size = b.size
    A = spla.LinearOperator((size, size), matvec=matvec, dtype=float)
    M = spla.LinearOperator((size, size), matvec=precondition, dtype=float)
    with one_blas_thread():
        if symmetric:
            x, info = spla.cg(A, b, x0=x0, rtol=rtol, atol=0.0, M=M, maxiter=500)
        else:
            x, info = spla.gmres(A, b, x0=x0, rtol=rtol, atol=0.0, M=M, restart=50, maxiter=20)
    return x, info == 0
