"""Compiled (Numba) kernels of the explicit finite-volume terms.

One kernel per numerical idea, written once for any axis: a field of any dimension is viewed as
``(pre, n, post)`` with the transport axis in the middle (a free reshape of a C-contiguous
array), so the inner loop runs over the contiguous ``post`` axis. The NumPy functions of
:mod:`._faces` are the reference implementation; ``tests/fv`` checks the two agree to round-off.
Kernels are compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["taxis_divergence", "axis_view", "scaled_error_max", "axpy", "LIMITER_THETA"]

#: θ of the generalised minmod limiter for each limiter name.
LIMITER_THETA = {"minmod": 1.0, "gminmod": 1.5, "mc": 2.0}


def axis_view(a: np.ndarray, axis: int) -> np.ndarray:
    """``a`` (C-contiguous) as a 3D view ``(pre, n, post)`` around ``axis``."""
    shape = a.shape
    pre = int(np.prod(shape[:axis], dtype=np.int64))
    post = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    return a.reshape(pre, shape[axis], post)


@njit(cache=True)
def taxis_divergence(u, w, chi, chi_const, use_const, h, periodic, theta, out, scale):
    """``out -= scale · (F_{k+1/2} − F_{k−1/2}) / h`` for the taxis flux of ``u`` up ``∇w``.

    ``F = a⁺ u⁻ + a⁻ u⁺`` with face velocity ``a = χ̄ (w_{k+1} − w_k) / h``, ``χ̄`` the mean of the
    cell values of ``chi`` (or ``chi_const``), and MUSCL face values ``u⁻ = u_k + s_k/2``,
    ``u⁺ = u_{k+1} − s_{k+1}/2`` with generalised-minmod slopes
    ``s = minmod(θ(u_k − u_{k−1}), (u_{k+1} − u_{k−1})/2, θ(u_{k+1} − u_k))`` (reflected ghost
    cells on walls, so wall cells have zero slope). Two branch-free passes per line (slopes, then
    fluxes), vectorised over the contiguous ``post`` axis. Arrays are ``(pre, n, post)`` views;
    ``chi`` is ignored when ``use_const``.
    """
    pre, n, post = u.shape
    inv_h = 1.0 / h
    slope = np.empty((n, post))
    prev = np.empty(post)
    for p in range(pre):
        for k in range(n):
            km = k - 1 if k > 0 else (n - 1 if periodic else 0)
            kp = k + 1 if k < n - 1 else (0 if periodic else n - 1)
            for q in range(post):
                dl = u[p, k, q] - u[p, km, q]
                dr = u[p, kp, q] - u[p, k, q]
                m = min(theta * abs(dl), 0.5 * abs(dl + dr), theta * abs(dr))
                sgn = 0.5 * (np.sign(dl) + np.sign(dr))
                slope[k, q] = sgn * m
        if periodic:
            last = n - 1
            for q in range(post):
                c = chi_const if use_const else 0.5 * (chi[p, last, q] + chi[p, 0, q])
                a = c * (w[p, 0, q] - w[p, last, q]) * inv_h
                prev[q] = max(a, 0.0) * (u[p, last, q] + 0.5 * slope[last, q]) + min(a, 0.0) * (u[p, 0, q] - 0.5 * slope[0, q])
        else:
            prev[:] = 0.0
        for k in range(n):
            if k == n - 1:
                if periodic:
                    k1 = 0
                else:
                    for q in range(post):
                        out[p, k, q] += scale * prev[q] * inv_h
                    continue
            else:
                k1 = k + 1
            for q in range(post):
                c = chi_const if use_const else 0.5 * (chi[p, k, q] + chi[p, k1, q])
                a = c * (w[p, k1, q] - w[p, k, q]) * inv_h
                f = max(a, 0.0) * (u[p, k, q] + 0.5 * slope[k, q]) + min(a, 0.0) * (u[p, k1, q] - 0.5 * slope[k1, q])
                out[p, k, q] -= scale * (f - prev[q]) * inv_h
                prev[q] = f


@njit(cache=True)
def scaled_error_max(err, u, u_new, rtol, atol):
    """``max_k |err_k| / (atol + rtol max(|u_k|, |u_new_k|))`` in one pass (flat arrays)."""
    worst = 0.0
    for k in range(err.size):
        scale = atol + rtol * max(abs(u[k]), abs(u_new[k]))
        e = abs(err[k]) / scale
        if e > worst or e != e:  # NaN propagates as the worst error
            worst = e
    return worst


@njit(cache=True)
def _axpy_flat(y, a, x):
    for k in range(y.size):
        y[k] += a * x[k]


def axpy(y: np.ndarray, a: float, x: np.ndarray) -> None:
    """``y += a x`` in place without temporaries (C-contiguous arrays of equal shape)."""
    if a != 0.0:
        _axpy_flat(y.reshape(-1), a, x.reshape(-1))
