"""Compiled (Numba) kernels of the time steppers: error norm and Runge–Kutta stage sums.

Compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

from numba import njit

__all__ = ["scaled_error_max", "ark_scatter"]


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
def ark_scatter(acc, first, coefficients, increment, error, w_increment, w_error, k):
    """Scatter one Runge–Kutta stage derivative ``k`` into every sum that needs it, in one call.

    ``acc[i] += coefficients[i] k`` for the later stage right-hand sides ``i >= first``,
    ``increment += w_increment k`` and ``error += w_error k``. ``acc`` is ``(rows, size)`` with one
    row per later stage right-hand side, the others flat of length ``size``.
    """
    n = k.size
    for i in range(first, acc.shape[0]):
        c = coefficients[i]
        if c != 0.0:
            row = acc[i]
            for q in range(n):
                row[q] += c * k[q]
    for q in range(n):
        increment[q] += w_increment * k[q]
        error[q] += w_error * k[q]
