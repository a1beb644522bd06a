"""Compiled (Numba) kernels of the time steppers and the loop: error norm, Runge–Kutta stage
sums and the monitor's field summary and spike search.

Compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["pattern_error", "ark_scatter", "gsa_start", "gsa_scatter", "spike_mass", "field_summary"]

#: relative round-off floor of the error scale (100 machine epsilons)
_ROUNDOFF = 100 * float(np.finfo(float).eps)


@njit(cache=True)
def pattern_error(err, u, u_new, rtol, atol):  # pragma: no cover - compiled
    """Scaled error of one component (flat arrays): mean part against the mean, the rest against
    the pattern.

    With ``a_k = max(|u_k|, |u_new_k|)``, ``R = max(ptp u, ptp u_new)`` (the spatial range) and
    ``ε = Σ err / Σ a`` (the part of the error that rescales the whole species),

        max( |mean err| / (atol + rtol mean a),  max_k |err_k − ε a_k| / (atol + rtol min(a_k, R)) ).

    The first term is a relative error of the species' total; the second of its shape, relative
    to the cell's value but never to more than the pattern's amplitude ``R``. Near a homogeneous
    state, where ``|u| ≫ R``, the error of the pattern is thus measured against the pattern and
    not against the background value it sits on. The shape's scale is at least ``100 ε a_k``
    (ε the machine epsilon): the round-off of the stage sums, which no step size can reduce.
    Returns NaN if ``err`` has a NaN.
    """
    n = err.size
    s_err = 0.0
    s_a = 0.0
    lo, hi = np.inf, -np.inf
    lo_new, hi_new = np.inf, -np.inf
    for k in range(n):
        s_err += err[k]
        s_a += max(abs(u[k]), abs(u_new[k]))
        lo, hi = min(lo, u[k]), max(hi, u[k])
        lo_new, hi_new = min(lo_new, u_new[k]), max(hi_new, u_new[k])
    if s_err != s_err:
        return np.nan
    pattern = max(hi - lo, hi_new - lo_new)
    eps = s_err / s_a if s_a > 0 else 0.0
    worst = abs(s_err / n) / (atol + rtol * s_a / n)
    for k in range(n):
        a = max(abs(u[k]), abs(u_new[k]))
        e = abs(err[k] - eps * a) / (atol + max(rtol * min(a, pattern), _ROUNDOFF * a))
        if e > worst:
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


#: elements per block of the fused stage sums: the block of the derivatives stays in cache while
#: every row reads it (vectorised inner loops, each array streamed from memory once)
_BLOCK = 2048


@njit(cache=True, parallel=True)
def gsa_start(acc, u, e, coefficients):
    """The stage right-hand sides of a globally stiffly accurate IMEX step after its explicit
    first stage, in one pass: ``acc[i] = u + coefficients[i] e`` for every row (flat arrays;
    blocks spread over the threads)."""
    rows, n = acc.shape
    for block in prange((n + _BLOCK - 1) // _BLOCK):
        start = block * _BLOCK
        stop = min(start + _BLOCK, n)
        # one-dimensional slices of the block: contiguous loops that the compiler vectorises
        # (indexing ``acc[i, q]`` over the block's range ran at half the speed)
        ub, eb = u[start:stop], e[start:stop]
        for i in range(rows):
            c = coefficients[i]
            row = acc[i, start:stop]
            for q in range(stop - start):
                row[q] = ub[q] + c * eb[q]


@njit(cache=True, parallel=True)
def gsa_scatter(acc, first, stage, rhs, inv_gamma_dt, c_implicit, e, c_explicit):
    """Scatter stage ``j``'s two derivatives into the later right-hand sides, in one pass:
    ``acc[i] += c_implicit[i] L + c_explicit[i] e`` for ``i >= first``, with the implicit
    derivative ``L = (stage − rhs)/(γΔt)`` formed on the fly (never stored). Flat arrays;
    blocks spread over the threads."""
    rows, n = acc.shape
    for block in prange((n + _BLOCK - 1) // _BLOCK):
        start = block * _BLOCK
        stop = min(start + _BLOCK, n)
        size = stop - start
        sb, rb, eb = stage[start:stop], rhs[start:stop], e[start:stop]
        implicit = np.empty(size)
        for q in range(size):
            implicit[q] = (sb[q] - rb[q]) * inv_gamma_dt
        for i in range(first, rows):
            ci, ce = c_implicit[i], c_explicit[i]
            row = acc[i, start:stop]  # as in gsa_start: contiguous one-dimensional loops
            for q in range(size):
                row[q] += ci * implicit[q] + ce * eb[q]


@njit(cache=True)
def spike_mass(u):  # pragma: no cover - compiled
    """Mass of the unresolved spikes of a non-negative field ``u`` of shape ``(a, b, c)`` (a 2D
    field as ``(1, b, c)``), in one compiled pass (:class:`~crossdiff.time.Monitor`).

    A spike is a cell with ``u > 0`` that is a maximum of its ``3^d`` block (cells beyond a wall
    left out) and whose every face neighbour (0 beyond a wall) is below ``u / 4``; its mass is the
    sum of ``u`` over that block. Returns the total mass of the spikes, or 0 if there are fewer
    than two, or if ``max u <= 4 mean u`` (then no cell can stand out that far). The criterion
    is the monitor's (docs/analysis.md, "Concentration into many spikes"): a Gaussian bump that
    steep is narrower than 0.6 cells, which the grid no longer resolves.
    """
    na, nb, nc = u.shape
    top = -np.inf
    total = 0.0
    for i in range(na):
        for j in range(nb):
            for k in range(nc):
                total += u[i, j, k]
                top = max(top, u[i, j, k])
    if top <= 4.0 * (total / u.size):
        return 0.0
    count = 0
    mass = 0.0
    for i in range(na):
        for j in range(nb):
            for k in range(nc):
                x = u[i, j, k]
                if not x > 0.0:
                    continue
                quarter = 0.25 * x
                # face neighbours: 0 beyond a wall (0 < x/4 holds there)
                if i > 0 and not u[i - 1, j, k] < quarter:
                    continue
                if i < na - 1 and not u[i + 1, j, k] < quarter:
                    continue
                if j > 0 and not u[i, j - 1, k] < quarter:
                    continue
                if j < nb - 1 and not u[i, j + 1, k] < quarter:
                    continue
                if k > 0 and not u[i, j, k - 1] < quarter:
                    continue
                if k < nc - 1 and not u[i, j, k + 1] < quarter:
                    continue
                block = 0.0
                peak = True
                for p in range(max(i - 1, 0), min(i + 2, na)):
                    for q in range(max(j - 1, 0), min(j + 2, nb)):
                        for r in range(max(k - 1, 0), min(k + 2, nc)):
                            y = u[p, q, r]
                            if y > x:
                                peak = False
                            block += y
                if peak:
                    count += 1
                    mass += block
    return mass if count >= 2 else 0.0


@njit(cache=True)
def field_summary(fields):  # pragma: no cover - compiled
    """What the monitor reads of every field, in one pass over ``fields`` (``(m, n)``: one row a
    field): whether the row is finite, the flat index of its (first) minimum, of its (first)
    largest magnitude and of its (first) maximum, and its sum. The indices and sums of a row
    that is not finite are meaningless."""
    m, n = fields.shape
    finite = np.ones(m, dtype=np.bool_)
    i_min = np.zeros(m, dtype=np.int64)
    i_abs = np.zeros(m, dtype=np.int64)
    i_max = np.zeros(m, dtype=np.int64)
    total = np.zeros(m)
    for i in range(m):
        row = fields[i]
        low, high, big = np.inf, -np.inf, -1.0
        s = 0.0
        ok = True
        for q in range(n):
            x = row[q]
            if not np.isfinite(x):
                ok = False
            if x < low:
                low, i_min[i] = x, q
            if x > high:
                high, i_max[i] = x, q
            if abs(x) > big:
                big, i_abs[i] = abs(x), q
            s += x
        finite[i] = ok
        total[i] = s
    return finite, i_min, i_abs, i_max, total
