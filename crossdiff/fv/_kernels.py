"""Compiled (Numba) kernels of the finite-volume operators, and the axis views they work on.

One kernel per numerical idea, written once for any axis: a field of any dimension is viewed as
``(pre, n, post)`` with the operator's axis in the middle (:func:`axis_view`, a free reshape of a
C-contiguous array), so the inner loop runs over the contiguous ``post`` axis. The NumPy functions
of :mod:`._faces` are the reference implementation; ``tests/fv`` checks the two agree to round-off.
Kernels are compiled on first use and cached on disk (``cache=True``). The upwind transport
kernels (taxis, advection, kinetic transport) are in :mod:`._transport`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["second_difference", "axis_view"]


def axis_view(a: np.ndarray, axis: int) -> np.ndarray:
    """``a`` (C-contiguous) as a 3D view ``(pre, n, post)`` around ``axis``.

    ``pre`` is the product of the sizes of the axes before ``axis`` and ``post`` of those after
    it (1 if none), so any 1D, 2D or 3D field is one shape for the compiled kernels. A view, not
    a copy, when ``a`` is C-contiguous: writing into it writes into ``a``.

    >>> axis_view(np.zeros((4, 5, 6)), 1).shape
    (4, 5, 6)
    >>> axis_view(np.zeros((4, 5)), 1).shape
    (4, 5, 1)
    """
    shape = a.shape
    return a.reshape(math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))


@njit(cache=True)
def _second_difference(u, coef, periodic, out):
    pre, n, post = u.shape
    if n == 1:
        return
    for p in range(pre):
        for k in range(1, n - 1):
            for q in range(post):
                out[p, k, q] += coef * (u[p, k + 1, q] - 2.0 * u[p, k, q] + u[p, k - 1, q])
        left = n - 1 if periodic else 0
        right = 0 if periodic else n - 1
        for q in range(post):
            out[p, 0, q] += coef * (u[p, 1, q] - 2.0 * u[p, 0, q] + u[p, left, q])
            out[p, n - 1, q] += coef * (u[p, right, q] - 2.0 * u[p, n - 1, q] + u[p, n - 2, q])


def second_difference(u: np.ndarray, coef: float, periodic: bool, out: np.ndarray) -> None:
    """``out += coef (u_{k+1} − 2u_k + u_{k−1})`` along the middle axis of ``(pre, n, post)`` views.

    With reflected ghost cells (no-flux walls: the wall face carries no flux) or wrap-around
    (periodic). ``coef = D/h²`` gives the constant-coefficient diffusion ``∇_h·(D ∇_h u)`` along
    one axis, the same operator as :func:`~crossdiff.fv.divergence` of
    :func:`~crossdiff.fv.face_difference` (tested to round-off).
    """
    if u.shape[2] == 1:  # along the contiguous axis: 2D (line, k) arrays, vectorised over k
        pre, n = u.shape[0], u.shape[1]
        _second_difference_lines(u.reshape(pre, n), coef, periodic, out.reshape(pre, n))
    else:
        _second_difference(u, coef, periodic, out)


@njit(cache=True)
def _second_difference_lines(u, coef, periodic, out):
    pre, n = u.shape
    if n == 1:
        return
    left = n - 1 if periodic else 0
    right = 0 if periodic else n - 1
    for p in range(pre):
        row, res = u[p], out[p]
        for k in range(1, n - 1):
            res[k] += coef * (row[k + 1] - 2.0 * row[k] + row[k - 1])
        res[0] += coef * (row[1] - 2.0 * row[0] + row[left])
        res[n - 1] += coef * (row[right] - 2.0 * row[n - 1] + row[n - 2])
