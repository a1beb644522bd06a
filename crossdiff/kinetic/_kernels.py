r"""Compiled (Numba) pointwise kernels of the micro part of :class:`KineticDiscretisation`.

Each kernel makes one pass over the micro part ``g_i^a(v_k)`` of one species on the faces of one
axis, instead of the dozen NumPy passes (and state-sized temporaries) of the same formulas:

* :func:`relaxation_solve`: the implicit stage solve of a relaxation species
  ``(ε^{p+1} + γΔt σ) g = ε^{p+1} B + γΔt F(ρ)`` with the stiff forcing
  ``F_k = −ε^{p−1} M_k v_k·∇ρ + ε^{b−1} ρ^{up} (𝒯^1 M)_k``;
* :func:`micro_explicit`: the pointwise rest of the explicit micro part once the transport is
  in ``dg``: ``(1/ε)(I − Π) dg + ε^{b−p−1} 𝒯^1 g``.

The bias enters through the values ``τ_k`` of a kernel ``T^1(v, v*) = τ(v*)`` of ``v*`` only
(``(𝒯^1 h)_k = Σ_l w_l τ_l h_l − |V| τ_k h_k``, :func:`crossdiff.kinetic.turning_matrix`),
given either at every node (``affine = False``: ``C`` is ``(m, …)``) or, for a kernel affine in
``v*`` (every bias of type (41) of the paper: ``τ(v*) = c_0 + c·v*``), by its ``d + 1``
coefficient fields (``affine = True``: ``C`` is ``(1 + d, …)``, ``τ_k = C_0 + Σ_b v_kb C_{1+b}``),
so that no array of size ``m ×`` faces is ever formed for it.

Arrays are 4D ``(m or rows, A, B, C)`` views: 1D ``(·, 1, 1, n)``, 2D ``(·, 1, n0, n1)``, 3D
``(·, n0, n1, n2)``. Face fields (gradients, densities, rates) have the face shape, which sets
the loops' extents; the micro part may be larger along any face axis (the state's block of
``g_i^a`` with the extra slot of every wall axis, :meth:`~._staggered.StaggeredGrid.block`): only
its leading face-shaped box is read and written. Passed that way the arrays are C-contiguous and
the compiler vectorises the loops over a row (the face views of a wall axis are strided, and
a strided array's loops ran 1.5 times slower). The loops run over the last axis
innermost, a row of faces at a time for all ``m`` velocities. Compiled on first use, cached on
disk (``cache=True``); ``tests/kinetic`` checks them against the NumPy formulas.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["relaxation_solve", "micro_explicit", "face4"]


def face4(x: np.ndarray, lead: int = 1) -> np.ndarray:
    """``x`` of shape ``(*lead, *faces)`` (1–3 face axes) as the kernels' 4D view (a view)."""
    head, faces = x.shape[:lead], x.shape[lead:]
    pad = (1,) * (3 - len(faces))
    return x.reshape(head + pad + faces) if lead else x.reshape(pad + faces)


@njit(inline="always")
def _tau_row(C, affine, nodes, i0, i1, tau):
    """``τ_k`` on one row of faces ``(i0, i1, :)`` into ``tau`` ``(m, n2)`` (see the module docstring)."""
    m, n2 = tau.shape
    for k in range(m):
        if affine:
            for i2 in range(n2):
                tau[k, i2] = C[0, i0, i1, i2]
            for b in range(nodes.shape[1]):
                v = nodes[k, b]
                for i2 in range(n2):
                    tau[k, i2] += v * C[1 + b, i0, i1, i2]
        else:
            for i2 in range(n2):
                tau[k, i2] = C[k, i0, i1, i2]


@njit(inline="always")
def _chunk(rows, threads):
    """Rows per task and tasks of a parallel loop: about four tasks a thread (each allocates its
    work arrays once). ``threads`` comes from the caller (``crossdiff.threads.numba_threads``:
    asked in compiled code it would keep the kernel from the disk cache)."""
    size = max(1, (rows + 4 * threads - 1) // (4 * threads))
    return size, (rows + size - 1) // size


@njit(cache=True, parallel=True)
def relaxation_solve(B, X, e, gdt, sigma, coef, grads, bias, up, C, affine, nodes, M, w, threads):  # pragma: no cover
    """``X_k = (e B_k + γΔt F_k) / (e + γΔt σ)`` with
    ``F_k = Σ_b coef_kb ∇_b ρ + bias ρ^{up} (Σ_l w_l τ_l M_l − |V| τ_k M_k)``.

    ``B, X`` ``(m, A', B', C')`` (at least the face shape); ``sigma`` the rate ``(A, B, C)``; ``coef`` ``(m, d)``
    (``−ε^{p−1} M_k v_k``); ``grads`` ``(d, A, B, C)``; ``bias`` the factor ``ε^{b−1}`` (0: no
    bias, ``up`` and ``C`` unused); ``up`` ``(A, B, C)`` the upwind density. Rows of faces are
    independent: spread over ``threads`` threads.
    """
    m = B.shape[0]
    n0, n1, n2 = sigma.shape
    d = coef.shape[1]
    W = w.sum()
    rows = n0 * n1
    size, tasks = _chunk(rows, threads)
    for chunk in prange(tasks):
        tau = np.zeros((m, n2))
        gain = np.zeros(n2)
        loss = np.zeros(n2)
        scale = np.empty(n2)
        eb = np.empty(n2)
        for row in range(chunk * size, min(rows, (chunk + 1) * size)):
            i0, i1 = row // n1, row % n1
            for i2 in range(n2):
                scale[i2] = 1.0 / (e + gdt * sigma[i0, i1, i2])
            if bias != 0.0:
                _tau_row(C, affine, nodes, i0, i1, tau)
                gain[:] = 0.0
                for k in range(m):
                    c = w[k] * M[k]
                    for i2 in range(n2):
                        gain[i2] += c * tau[k, i2]
                for i2 in range(n2):
                    bu = bias * up[i0, i1, i2]
                    gain[i2] *= bu
                    loss[i2] = W * bu
            for k in range(m):
                for i2 in range(n2):
                    eb[i2] = gain[i2] - loss[i2] * M[k] * tau[k, i2]
                for b in range(d):
                    c = coef[k, b]
                    for i2 in range(n2):
                        eb[i2] += c * grads[b, i0, i1, i2]
                for i2 in range(n2):
                    X[k, i0, i1, i2] = (e * B[k, i0, i1, i2] + gdt * eb[i2]) * scale[i2]


@njit(cache=True, parallel=True)
def micro_explicit(dg, g, out, inv_eps, bias, C, affine, nodes, M, w, wv, flux, threads):  # pragma: no cover
    """``out_k = (1/ε)(dg_k − M_k Σ_l w_l dg_l) + bias (Σ_l w_l τ_l g_l − |V| τ_k g_k)``, and the
    density flux ``flux = Σ_k wv_k g_k`` (``wv = w v_a``: ``⟨v_a g⟩``) from the same reading of ``g``.

    ``dg`` the transport ``−v·∇g`` (``(m, A', B', C')``, at least the face shape), ``g`` the micro
    part and ``out`` likewise (``out`` may be ``dg`` itself); ``bias`` the factor ``ε^{b−p−1}``
    (0: none, ``C`` unused); ``flux`` ``(A, B, C)``, the face shape. Rows of faces are independent: spread over ``threads`` threads.
    """
    m = dg.shape[0]
    n0, n1, n2 = flux.shape
    W = w.sum()
    rows = n0 * n1
    size, tasks = _chunk(rows, threads)
    for chunk in prange(tasks):
        tau = np.zeros((m, n2))
        mean = np.empty(n2)
        gain = np.empty(n2)
        total = np.empty(n2)
        row_out = np.empty(n2)
        for row in range(chunk * size, min(rows, (chunk + 1) * size)):
            i0, i1 = row // n1, row % n1
            mean[:] = 0.0
            gain[:] = 0.0
            total[:] = 0.0
            if bias != 0.0:
                _tau_row(C, affine, nodes, i0, i1, tau)
            # one array written per loop, and ``out`` (which may be ``dg``) written from a row
            # buffer: loops the compiler vectorises (with three sums in one loop, or a result
            # written over its own input, it kept them scalar); the same sums in the same order
            for k in range(m):
                c, cv, cb = w[k], wv[k], w[k] * bias
                dk, gk, tk = dg[k, i0, i1], g[k, i0, i1], tau[k]
                for i2 in range(n2):
                    mean[i2] += c * dk[i2]
                for i2 in range(n2):
                    total[i2] += cv * gk[i2]
                for i2 in range(n2):
                    gain[i2] += cb * tk[i2] * gk[i2]
            flux[i0, i1, :] = total
            loss = W * bias
            for k in range(m):
                mk = M[k] * inv_eps
                dk, gk, tk = dg[k, i0, i1], g[k, i0, i1], tau[k]
                for i2 in range(n2):
                    row_out[i2] = inv_eps * dk[i2] - mk * mean[i2] + gain[i2] - loss * tk[i2] * gk[i2]
                out[k, i0, i1, :n2] = row_out
