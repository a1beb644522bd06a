r"""Step limits of :class:`~crossdiff.kinetic.KineticDiscretisation` and the explanation of a
density that steps keep making negative (``docs/kinetic.md``, "Step").

:func:`imex_step_limit` bounds the explicit part next to the implicit one with the constants of
the measured amplification factors of ARS(4,4,3) on the two-velocity model: the transport CFL of
the kinetic regime, the parabolic bound of the intermediate one, the explicit remainder
``(D − μ)Δ`` of the penalised diffusion in the diffusive regime (Boscarino, Pareschi & Russo,
SIAM J. Sci. Comput. 35 (2013) A22–A51), and the bias drift (the taxis CFL of the macroscopic
solver). :func:`explicit_step_limit` is forward Euler on the whole right-hand side.
:func:`explain_negative` names a turning kernel ``T⁰ + ε^b T¹`` that is negative, when the
kinetic model itself does not keep ``f ≥ 0``.
"""

from __future__ import annotations

import math

import numpy as np

from ..time import FailureReport, Layout, Status
from ._face_operators import FaceOperators
from ._pointwise import bias_size, star_matrix

__all__ = ["imex_step_limit", "explicit_step_limit", "explain_negative"]


def imex_step_limit(ops: FaceOperators, mu: np.ndarray, U: np.ndarray) -> float:
    """Stability of the explicit part next to the implicit one (docs/kinetic.md, "Step").

    Per species, with the micro transport rate ``a = Σ_b max|v_b| / (ε h_b)``, the relaxation
    rate ``λ = σ/ε^{p+1}`` and the limit diffusion ``D``: where the relaxation dominates
    (``λ ≥ 5a``, the diffusive regime) only the explicit remainder ``(D − μ)Δ`` of the
    penalised diffusion bounds the step, ``h²/(2d(D − μ))`` (infinite as ε → 0, where
    ``μ → D``); otherwise ``max(1/a, 0.8 h²/(d D))`` (the transport CFL of the kinetic regime,
    the parabolic bound of the intermediate one). The constants are those of the measured
    amplification factors of ARS(4,4,3) on the two-velocity model (docs/kinetic.md). In the
    limit also the bias drift ``ε^{b−1}|⟨v 𝒯^1 M⟩|/σ`` (the taxis CFL of the macroscopic
    solver).
    """
    st = ops.staggered
    eps, d = ops.eps, ops.dim
    nodes = ops.nodal.nodes
    rho = st.rho(U)
    a_rate = sum(float(np.max(np.abs(nodes[:, b]))) / (eps * ops.h[b]) for b in range(d))
    h2 = min(ops.h) ** 2
    limit = math.inf
    for i in range(ops.n_species):
        lam = ops.gap(i, rho) / eps ** (ops.p[i] + 1.0)
        diffusion = ops.diffusion(i, rho) if ops.p[i] == 1 else 0.0
        if lam >= 5 * a_rate:
            excess = diffusion - mu[i]
            if excess > 0:
                limit = min(limit, h2 / (2 * d * excess))
        else:
            limit = min(limit, max(1.0 / a_rate, 0.8 * h2 / (d * diffusion) if diffusion > 0 else 0.0))
        if ops.bias[i] is not None:
            sigma = ops.gap(i, rho)
            for a in range(d):
                A1 = ops.faces(rho, a)[2][i]
                if A1 is None:
                    continue
                drift = np.abs(A1.drift(ops.M[i], ops.nodal.weights * nodes[:, a]))
                speed = float(np.max(drift)) * eps ** (ops.b[i] - 1) / sigma if sigma > 0 else 0.0
                if speed > 0:
                    limit = min(limit, ops.h[a] / (d * speed))
    return limit


def explicit_step_limit(ops: FaceOperators, U: np.ndarray) -> float:
    """``1 / (transport rate + largest relaxation rate)``: forward Euler on the whole right-hand side."""
    st = ops.staggered
    eps = ops.eps
    rate = sum(float(np.max(np.abs(ops.nodal.nodes[:, b]))) / (eps * ops.h[b]) for b in range(ops.dim))
    sig = max(ops.gap(i, st.rho(U)) / eps ** (ops.p[i] + 1.0) for i in range(ops.n_species))
    return 1.0 / (rate + sig)


def explain_negative(ops: FaceOperators, layout: Layout, t: float, U: np.ndarray) -> FailureReport | None:
    """Why steps keep making a density negative, when the kinetic model itself does not keep
    ``f ≥ 0``: the turning kernel ``T = T⁰ + ε^b T¹`` (the rate of turning from ``v*`` to ``v``)
    must be non-negative, and a bias stronger than the relaxation makes it negative at large ε
    (for relaxation ``T⁰ = σ M(v)`` and a bias ``T¹ = τ(v*)``: ``σ min M + ε^b min τ < 0``).
    Then a NEGATIVE report naming the species, the place and the largest ε that keeps the
    kernel non-negative at the current state; None if every kernel is non-negative (the
    :class:`crossdiff.time.Monitor`'s own explanation follows)."""
    st = ops.staggered
    rho = st.rho(U)
    eps = ops.eps
    for i, name in enumerate(ops.model.species_names):
        if ops.bias[i] is None:
            continue
        worst: tuple[float, int | None, float | None] = (0.0, None, None)  # (kernel, cell, largest eps)
        for a in range(ops.dim):
            rho_face, _, biases = ops.faces(rho, a)
            A1 = biases[i]
            if A1 is None:
                continue
            sigma = ops.leading(i, rho_face)
            eb = eps ** ops.b[i]
            if sigma is not None and A1.star is not None:
                gain = np.broadcast_to(np.asarray(sigma, dtype=float) * float(np.min(ops.M[i])), A1.star.shape[1:])
                bias = np.min(A1.star, axis=0)
            else:  # the off-diagonal entries of the turning matrices (the weights are > 0)
                m = ops.m
                if m * m * bias_size(A1) > 5e7:
                    continue
                A0 = ops.matrix0(i, rho_face) if sigma is None else None
                off = ~np.eye(m, dtype=bool)
                A1m = A1.matrix if A1.matrix is not None else star_matrix(A1)
                if A0 is None:
                    A0 = (
                        np.asarray(sigma, dtype=float)
                        * np.einsum("k,l->kl", ops.M[i], ops.nodal.weights)[(...,) + (None,) * ops.dim]
                    )
                A0 = np.broadcast_to(A0 if A0.ndim > 2 else A0[(...,) + (None,) * ops.dim], A1m.shape)
                total = (A0 + eb * A1m)[off]
                k = np.argmin(total, axis=0)
                gain = np.take_along_axis(A0[off], k[None], 0)[0]
                bias = np.take_along_axis(A1m[off], k[None], 0)[0]
            kernel = gain + eb * bias
            face = int(np.argmin(kernel))
            value = float(kernel.ravel()[face])
            if value < worst[0]:
                b = ops.b[i]
                g0, b0 = float(gain.ravel()[face]), float(bias.ravel()[face])
                limit = (g0 / -b0) ** (1.0 / b) if b > 0 and g0 > 0 and b0 < 0 else None
                index = [int(j) for j in np.unravel_index(face, kernel.shape)]
                index[a] = min(index[a], st.grid.cells[a] - 1)
                worst = (value, int(np.ravel_multi_index(tuple(index), st.grid.shape)), limit)
        value, flat, limit = worst
        if flat is not None:
            hint = f"use eps below {limit:.3g} (at the current state)" if limit else "use a smaller eps"
            return FailureReport(
                Status.NEGATIVE,
                t,
                name,
                layout.location(flat),
                float(rho[i].ravel()[flat]),
                f"the turning rate of {name} is negative (kernel T0 + eps^b T1 = {value:.3g}): its bias exceeds "
                f"the relaxation at eps = {eps:g}, so the kinetic model does not keep f >= 0; {hint}",
            )
    return None
