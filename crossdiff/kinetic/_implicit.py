r"""The implicit part of :class:`~crossdiff.kinetic.KineticDiscretisation` and its stage solve
(``docs/kinetic.md``).

The stiff bracket of the micro equation and the penalisation are implicit,

.. math::

    L_\rho = \mu\Delta\rho, \qquad
    L_g = \varepsilon^{-p-1}\big[\mathcal T^0 g + F(\rho)\big], \quad
    F = -\varepsilon^{p-1} v\cdot\nabla(M\rho) + \varepsilon^{b-1}\rho^{\text{up}}\,\mathcal T^1 M,

(Lemou & Mieussens, SIAM J. Sci. Comput. 31, 2008; the penalisation ``μΔρ`` of Boscarino,
Pareschi & Russo, SIAM J. Sci. Comput. 35 (2013) A22–A51). The operator is block triangular, so
a stage of the globally stiffly accurate ARS(4,4,3) (:class:`crossdiff.time.GSAIMEX`) solves
``(I − γΔt μΔ) ρ = B_ρ`` spectrally (:class:`crossdiff.fv.SpectralLaplacian`), then the micro
part pointwise given those densities (rates and bias evaluated at them): a compiled pass for a
relaxation species (:func:`~._kernels.relaxation_solve`), a small dense solve per face for a
turning kernel, with ``𝒯̃^0 = 𝒯^0 − κ M wᵀ`` (equal to ``𝒯^0`` on mean-free ``g``, invertible).

In the ε ≈ h band the micro transport of a species with a constant relaxation rate may be
implicit too (``docs/kinetic.md``, "The ε ≈ h band"): ``L_g`` then also holds
``−ε^{-1}(I − Π) A g`` (``A`` the linear upwind ``v·∇`` of Fromm's scheme), the stage solve of that species
is :meth:`~._transport.ImplicitTransport.solve` of the pointwise relaxation solve's right-hand
side, and the step is bounded by the bias drift only (:func:`implicit_transport_step_limit`).
"""

from __future__ import annotations

import numpy as np

from ..fv import SpectralLaplacian
from ..threads import numba_threads
from ._face_operators import FaceOperators
from ._kernels import face4, relaxation_solve
from ._transport import ImplicitTransport

__all__ = ["implicit_part", "stage_solve", "implicit_transport_step_limit"]


def implicit_part(
    ops: FaceOperators,
    mu: np.ndarray,
    U: np.ndarray,
    transport: ImplicitTransport | None = None,
    implicit: tuple[bool, ...] = (),
) -> np.ndarray:
    """The implicit part ``L U``: ``μΔρ`` and ``ε^{−p−1}[𝒯^0 g + F(ρ)]``, and
    ``−ε^{-1}(I − Π) A g`` for the species marked in ``implicit`` (see the module docstring)."""
    st = ops.staggered
    eps, d = ops.eps, ops.dim
    out = np.zeros_like(U)
    rho = st.rho(U)
    st.set_rho(out, mu.reshape((-1,) + (1,) * d) * st.laplacian(rho))
    for a in range(d):
        rho_face = ops.faces(rho, a)[0]
        g, res = st.g(U, a), st.g(out, a)
        for i in range(ops.n_species):
            res[i] = ops.apply0(i, rho_face, g[i]) + ops.forcing(i, rho, a)
            res[i] *= eps ** (-ops.p[i] - 1.0)
            if transport is not None and i < len(implicit) and implicit[i]:
                res[i] -= transport.apply(g[i], a, ops.M[i]) / eps
    return out


def stage_solve(
    ops: FaceOperators,
    spectral: SpectralLaplacian,
    mu: np.ndarray,
    B: np.ndarray,
    gamma_dt: float,
    X: np.ndarray,
    transport: ImplicitTransport | None = None,
    implicit: tuple[bool, ...] = (),
) -> np.ndarray:
    """``ρ = (I − γΔt μΔ)^{-1} B_ρ`` spectrally, then per face
    ``(ε^{p+1} I − γΔt 𝒯̃^0) g = ε^{p+1} B_g + γΔt F(ρ)``, with ``𝒯̃^0 = 𝒯^0 − κ M wᵀ``
    (the same on mean-free ``g``, invertible), into ``X`` (zero in the unused slots); for the
    species marked in ``implicit`` (constant rate ``σ``) with the transport:
    ``(ε^{p+1} + γΔt σ) g + γΔt ε^p (I − Π) A g = ε^{p+1} B_g + γΔt F(ρ)``
    (:meth:`~._transport.ImplicitTransport.solve`)."""
    st = ops.staggered
    eps, m, d = ops.eps, ops.m, ops.dim
    scales = np.repeat((gamma_dt * mu)[:, None], d, axis=1)
    rho = spectral.solve_diagonal(st.rho(B), scales)
    st.set_rho(X, rho)
    w, nodes = ops.nodal.weights, ops.nodal.nodes
    none3, none4 = np.zeros((1, 1, 1)), np.zeros((1, 1, 1, 1))
    for a in range(d):
        rho_face, grads, biases = ops.faces(rho, a)
        Bg, Xg = st.g(B, a), st.g(X, a)
        for i in range(ops.n_species):
            e = eps ** (ops.p[i] + 1.0)
            rate = ops.leading(i, rho_face)
            A1 = biases[i]
            values = A1.kernel_values() if A1 is not None else None
            if rate is not None and (A1 is None or values is not None):  # 𝒯̃^0 = −σ I, face by face
                sigma = np.ascontiguousarray(np.broadcast_to(rate, rho_face.shape[1:]), dtype=float)
                if A1 is not None and values is not None:
                    up, C, affine = ops.upwind_density(i, rho, a, A1), values[0], values[1]
                    bias = eps ** (ops.b[i] - 1)
                else:
                    up, C, affine, bias = none3, none4, False, 0.0
                relaxation_solve(  # on the blocks with the padding: contiguous (vectorised loops)
                    face4(st.block(B, i, a)),
                    face4(st.block(X, i, a)),
                    e,
                    gamma_dt,
                    face4(sigma, 0),
                    ops.gradient_coefficients(i),
                    face4(grads[i]),
                    bias,
                    face4(up, 0),
                    C,
                    affine,
                    nodes,
                    ops.M[i],
                    w,
                    numba_threads(Xg[i].size),
                )
                if transport is not None and i < len(implicit) and implicit[i]:
                    D = e + gamma_dt * float(ops.constant_rate[i])  # type: ignore[arg-type]
                    Xg[i] = transport.solve(Xg[i] * D, a, D, gamma_dt * eps ** ops.p[i], ops.M[i])
                continue
            rhs = ops.forcing(i, rho, a)
            rhs *= gamma_dt
            rhs += e * Bg[i]
            if rate is not None:
                if transport is not None and i < len(implicit) and implicit[i]:
                    D = e + gamma_dt * float(ops.constant_rate[i])  # type: ignore[arg-type]
                    Xg[i] = transport.solve(rhs, a, D, gamma_dt * eps ** ops.p[i], ops.M[i])
                    continue
                rhs /= e + gamma_dt * rate
                Xg[i] = rhs
                continue
            A0 = ops.matrix0(i, rho_face)
            kappa = float(np.max(np.abs(A0)))
            deflate = kappa * np.outer(ops.M[i], w)
            if A0.ndim == 2:
                mat = e * np.eye(m) - gamma_dt * (A0 - deflate)
                sol = np.linalg.solve(mat, rhs.reshape(m, -1))
            else:
                mats = e * np.eye(m)[..., None] - gamma_dt * (A0.reshape(m, m, -1) - deflate[..., None])
                sol = np.linalg.solve(np.moveaxis(mats, -1, 0), np.moveaxis(rhs.reshape(m, -1), -1, 0)[..., None])
                sol = np.moveaxis(sol[..., 0], 0, -1)
            Xg[i] = sol.reshape((m,) + rhs.shape[1:])
    return X


def implicit_transport_step_limit(ops: FaceOperators, U: np.ndarray) -> float:
    """The step bound of the scheme with the micro transport implicit (``docs/kinetic.md``, "The
    ε ≈ h band"): neither the transport CFL ``εh/c`` nor a parabolic bound (the penalisation is
    the whole limit diffusion, ``μ = D``), only the taxis CFL ``h/(d·drift)`` of a bias, drift
    ``ε^{b−1}|⟨v𝒯¹M⟩|/σ`` (the macroscopic solver's). Measured in the band where the transport is
    implicit (``0.4 ≤ λ/a < 5``): every fixed step up to 0.5 stable on the two-velocity model
    (h from 0.1 to 0.00625, periodic and walls) and in 2D with 8 directions (periodic and walls)."""
    rho = ops.staggered.rho(U)
    nodes, w = ops.nodal.nodes, ops.nodal.weights
    limit = np.inf
    for i in range(ops.n_species):
        if ops.bias[i] is None:
            continue
        sigma = ops.gap(i, rho)
        for a in range(ops.dim):
            A1 = ops.faces(rho, a)[2][i]
            if A1 is None or sigma <= 0:
                continue
            speed = float(np.max(np.abs(A1.drift(ops.M[i], w * nodes[:, a])))) * ops.eps ** (ops.b[i] - 1) / sigma
            if speed > 0:
                limit = min(limit, ops.h[a] / (ops.dim * speed))
    return float(limit)
