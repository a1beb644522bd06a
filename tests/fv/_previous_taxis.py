"""The compiled taxis kernels as they were at commit fcf24c7 (verbatim, reformatted): the
regression reference for :func:`crossdiff.fv._transport.taxis_divergence`, now a thin wrapper over
the shared upwind skeletons (``test_taxis_wrapper_equals_previous_kernel``). Test code only, never
imported by the library."""

from __future__ import annotations

import numpy as np
from numba import njit


def previous_taxis_divergence(u, w, chi, chi_const, use_const, h, periodic, theta, out, scale):
    if u.shape[2] == 1:
        pre, n = u.shape[0], u.shape[1]
        _taxis_along(
            u.reshape(pre, n),
            w.reshape(pre, n),
            chi.reshape(chi.shape[0], chi.shape[1]),
            chi_const,
            use_const,
            h,
            periodic,
            theta,
            out.reshape(pre, n),
            scale,
        )
    else:
        _taxis_across(u, w, chi, chi_const, use_const, h, periodic, theta, out, scale)


@njit(cache=True, inline="always")
def _taxis_line(u, w, chi, chi_const, use_const, inv_h, periodic, theta, out, scale, slope, flux):
    n = u.shape[0]
    for k in range(1, n - 1):
        dl = u[k] - u[k - 1]
        dr = u[k + 1] - u[k]
        m = min(theta * abs(dl), 0.5 * abs(dl + dr), theta * abs(dr))
        slope[k] = 0.5 * (np.sign(dl) + np.sign(dr)) * m
    for k in (0, n - 1):
        km = k - 1 if k > 0 else (n - 1 if periodic else 0)
        kp = k + 1 if k < n - 1 else (0 if periodic else n - 1)
        dl = u[k] - u[km]
        dr = u[kp] - u[k]
        m = min(theta * abs(dl), 0.5 * abs(dl + dr), theta * abs(dr))
        slope[k] = 0.5 * (np.sign(dl) + np.sign(dr)) * m
    for k in range(1, n):
        c = chi_const if use_const else 0.5 * (chi[k - 1] + chi[k])
        a = c * (w[k] - w[k - 1]) * inv_h
        flux[k] = max(a, 0.0) * (u[k - 1] + 0.5 * slope[k - 1]) + min(a, 0.0) * (u[k] - 0.5 * slope[k])
    if periodic:
        c = chi_const if use_const else 0.5 * (chi[n - 1] + chi[0])
        a = c * (w[0] - w[n - 1]) * inv_h
        flux[0] = max(a, 0.0) * (u[n - 1] + 0.5 * slope[n - 1]) + min(a, 0.0) * (u[0] - 0.5 * slope[0])
        flux[n] = flux[0]
    else:
        flux[0] = 0.0
        flux[n] = 0.0
    for k in range(n):
        out[k] -= scale * (flux[k + 1] - flux[k]) * inv_h


@njit(cache=True)
def _taxis_along(u, w, chi, chi_const, use_const, h, periodic, theta, out, scale):
    n = u.shape[1]
    slope = np.empty(n)
    flux = np.empty(n + 1)
    for p in range(u.shape[0]):
        _taxis_line(
            u[p],
            w[p],
            chi[p] if not use_const else chi[0],
            chi_const,
            use_const,
            1.0 / h,
            periodic,
            theta,
            out[p],
            scale,
            slope,
            flux,
        )


@njit(cache=True)
def _taxis_across(u, w, chi, chi_const, use_const, h, periodic, theta, out, scale):
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
                prev[q] = max(a, 0.0) * (u[p, last, q] + 0.5 * slope[last, q]) + min(a, 0.0) * (
                    u[p, 0, q] - 0.5 * slope[0, q]
                )
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
