r"""The operators of the species of :class:`~crossdiff.kinetic.KineticDiscretisation` at the
faces of the staggered grid (``docs/kinetic.md``).

For species ``i`` with exponents ``p_i``, ``b_i`` (paper (9)-(10)) and densities ``ρ`` at the
cell centres, on the faces of axis ``a``: the leading turning operator ``𝒯_i^0`` (a relaxation
rate ``σ_i``, or the matrix of a kernel, :func:`crossdiff.kinetic.turning_matrix`, at the face
densities), the bias ``𝒯_i^1`` (:class:`~._pointwise.LocalTurning` at the face densities and
gradients, cached for the last densities: a stage's solve and its explicit part see the same
ones), the stiff forcing of the micro equation

.. math::

    F_i = -\varepsilon^{p_i-1} v\cdot\nabla(M_i\rho_i) + \varepsilon^{b_i-1}\rho_i^{\text{up}}\,\mathcal T_i^1 M_i,

with ``ρ^{up}`` the limited upwind reconstruction (:func:`crossdiff.fv.limited_slopes`) from the
side the bias drift ``⟨v_a 𝒯^1 M⟩`` comes from (the upwind value of the macroscopic taxis flux),
the interaction ``⟨G_i⟩`` and ``(I − Π) G_i``, and the limit diffusion
``D_i = ⟨v_a (−𝒯_i^0)^{-1} v_a M_i⟩`` and the spectral gap of ``𝒯_i^0`` that the penalisation
(Boscarino, Pareschi & Russo, SIAM J. Sci. Comput. 35 (2013) A22–A51) and the step limits read.
"""

from __future__ import annotations

import numpy as np

from ..errors import KineticModelError
from ..fv import limited_slopes
from ._model import KineticModel
from ._nodal import NodalModel, turning_matrix
from ._operators import Relaxation
from ._pointwise import FieldFunction, LocalTurning
from ._staggered import StaggeredGrid

__all__ = ["FaceOperators"]


class FaceOperators:
    """The turning operators, forcing and interactions of the species of ``model`` at the faces
    of ``staggered`` (see the module docstring).

    Parameters
    ----------
    model : KineticModel
    nodal : NodalModel
        The model on the velocity nodes (equilibria, kernels, parameter values).
    staggered : StaggeredGrid
    eps : float
        ``ε ∈ (0, 1]``.
    M : ndarray, shape (n_species, m)
        The equilibria on the nodes.
    limiter : str
        Slope limiter of the upwind density of the bias flux.
    """

    def __init__(
        self, model: KineticModel, nodal: NodalModel, staggered: StaggeredGrid, eps: float, M: np.ndarray, limiter: str
    ):
        self.model, self.nodal, self.staggered = model, nodal, staggered
        self.eps, self.M, self.limiter = eps, M, limiter
        self.n_species, self.dim, self.m = staggered.n_species, staggered.dim, staggered.m
        self.walls = staggered.walls
        ns, w = self.n_species, nodal.weights
        # species exponents and operators
        self.p = np.array([s.p for s in model.species])
        self.b = np.array([s.b for s in model.species])
        self.rate: list[FieldFunction | None] = []
        self.kernel0: list[np.ndarray | None] = []
        self.kernel0_expr: list[FieldFunction | None] = []
        for spec in model.species:
            if isinstance(spec.turning, Relaxation):
                rate = FieldFunction(self.nodal, spec.turning.rate, spec.name, "the relaxation rate")
                if rate.uses_gradients:
                    raise KineticModelError(
                        f"species {spec.name!r}: a relaxation rate depending on gradients is not supported"
                    )
                self.rate.append(rate)
                self.kernel0.append(None)
                self.kernel0_expr.append(None)
            else:
                self.rate.append(None)
                if spec.turning.matrix is not None:
                    try:
                        table = np.array(
                            [[float(self.nodal.numbers(model.expand(x))) for x in row] for row in spec.turning.matrix]
                        )
                    except TypeError:
                        raise KineticModelError(
                            f"species {spec.name!r}: a turning matrix depending on the densities is not supported"
                        ) from None
                    self.kernel0.append(turning_matrix(table, w))
                    self.kernel0_expr.append(None)
                else:
                    f = FieldFunction(self.nodal, spec.turning.expr, spec.name, "the turning kernel")
                    if f.uses_state:
                        self.kernel0.append(None)
                        self.kernel0_expr.append(f)
                    else:
                        zero = np.zeros((ns, 1))
                        self.kernel0.append(turning_matrix(f(zero, None, pair=True)[:, :, 0], w))
                        self.kernel0_expr.append(None)
        self.bias: list[FieldFunction | None] = []
        for spec in model.species:
            if spec.bias is None:
                self.bias.append(None)
            elif spec.bias.kernel is None:
                raise KineticModelError(
                    f"species {spec.name!r}: the kinetic solver needs the bias as a kernel T1(v, v*), not as an operator"
                )
            else:
                self.bias.append(FieldFunction(self.nodal, spec.bias.kernel, spec.name, "the bias kernel"))
        self.interaction = [
            None if s.interaction == 0 else FieldFunction(self.nodal, s.interaction, s.name, "the interaction G")
            for s in model.species
        ]
        w_total = float(self.nodal.weights.sum())
        #: species whose ``(I − Π) G`` is zero at every node whatever the state: ``G`` independent
        #: of ``v`` and a uniform equilibrium (``1 − M_k Σw = 0``, the test of :meth:`add_reaction`),
        #: so that it skips evaluating ``G`` at the faces (a catalogue model's usual case)
        self.projected_reaction_vanishes = [
            f is not None and f.independent_of_v and bool(np.all(np.abs(1.0 - self.M[i] * w_total) <= 1e-14))
            for i, f in enumerate(self.interaction)
        ]
        self.cache: dict[int, tuple[np.ndarray, tuple[np.ndarray, np.ndarray, list[LocalTurning | None]]]] = {}
        self.constant_rate = [
            None if r is None or r.uses_state else float(r(np.zeros((ns, 1)), None, pair=False).flat[0])
            for r in self.rate
        ]

    @property
    def h(self) -> tuple[float, ...]:
        """The spacing per axis, read from the staggered grid at every call (a growing domain
        moves its cells: :class:`~crossdiff.kinetic.GrowingKineticDiscretisation`)."""
        return self.staggered.h

    def leading(self, i: int, rho_face: np.ndarray) -> np.ndarray | float | None:
        """The relaxation rate ``σ_i`` at the faces (array or float), or None for a kernel."""
        rate = self.rate[i]
        if rate is None:
            return None
        constant = self.constant_rate[i]
        if constant is not None:
            return constant
        value = rate(rho_face, None, pair=False)[0]
        return float(value.flat[0]) if not rate.uses_state else value

    def matrix0(self, i: int, rho_face: np.ndarray) -> np.ndarray:
        """``𝒯_i^0`` as ``(m, m)`` or ``(m, m, *ext)``."""
        if self.kernel0[i] is not None:
            return self.kernel0[i]  # type: ignore[return-value]
        table = self.kernel0_expr[i](rho_face, None, pair=True)  # type: ignore[misc]
        w = self.nodal.weights
        wb = w.reshape((1, self.m) + (1,) * self.dim)
        diag = np.einsum("k,kl...->l...", w, table)
        out = table * wb
        idx = np.arange(self.m)
        out[idx, idx] -= diag
        return out

    def bias_matrix(self, i: int, rho_face: np.ndarray, grads: np.ndarray) -> LocalTurning | None:
        """``𝒯_i^1`` at the faces (:func:`crossdiff.kinetic.turning_matrix` of the bias kernel)."""
        f = self.bias[i]
        if f is None:
            return None
        w = self.nodal.weights
        if f.affine is not None:
            return LocalTurning(w, affine=f.affine_fields(rho_face, grads), nodes=self.nodal.nodes)
        if f.star_only:
            return LocalTurning(w, star=np.asarray(f(rho_face, grads, pair=False, star=True)))
        table = f(rho_face, grads, pair=True)
        out = table * w.reshape((1, self.m) + (1,) * self.dim)
        diag = np.einsum("k,kl...->l...", w, table)
        idx = np.arange(self.m)
        out[idx, idx] -= diag
        return LocalTurning(w, matrix=out)

    def faces(self, rho: np.ndarray, a: int) -> tuple[np.ndarray, np.ndarray, list[LocalTurning | None]]:
        """Face densities, gradients and bias matrices on axis ``a``, cached for the last
        densities (a stage's solve and its explicit part see the same ones)."""
        cached = self.cache.get(a)
        if cached is not None and cached[0].shape == rho.shape and np.array_equal(cached[0], rho):
            return cached[1]
        rho_face, grads = self.staggered.face_mean(rho, a), self.staggered.gradients_at_faces(rho, a)
        biases = [self.bias_matrix(i, rho_face, grads) for i in range(self.n_species)]
        value = (rho_face, grads, biases)
        self.cache[a] = (np.array(rho, copy=True), value)
        return value

    def upwind_density(self, i: int, rho: np.ndarray, a: int, A1: LocalTurning) -> np.ndarray:
        """The density of species ``i`` at the faces of axis ``a`` reconstructed from the side the
        bias drift ``⟨v_a 𝒯^1 M⟩`` comes from (limited slopes, zero at wall cells): the upwind
        value of the macroscopic taxis flux."""
        drift = A1.drift(self.M[i], self.nodal.weights * self.nodal.nodes[:, a])
        slopes = limited_slopes(rho[i], a, not self.walls[a], self.limiter)  # 0 at wall cells
        east = rho[i] + 0.5 * slopes
        west = rho[i] - 0.5 * slopes
        if self.walls[a]:  # the reflected ghost's east value is the wall cell's west one
            left = np.concatenate([np.take(west, [0], axis=a), east], axis=a)
            right = np.concatenate([west, np.take(east, [-1], axis=a)], axis=a)
        else:
            left, right = np.roll(east, 1, axis=a), west  # from cell j−1 at face j
        return np.where(drift >= 0, left, right)

    def gradient_coefficients(self, i: int) -> np.ndarray:
        """``−ε^{p−1} M_k v_k`` ``(m, d)``: the forcing ``−ε^{p−1} v·∇(Mρ)`` is ``coef @ ∇ρ``."""
        return -(self.eps ** (self.p[i] - 1)) * self.M[i][:, None] * self.nodal.nodes

    def forcing(self, i: int, rho: np.ndarray, a: int) -> np.ndarray:
        """The stiff forcing ``F = −ε^{p−1} v·∇(Mρ) + ε^{b−1} ρ^{up} 𝒯^1 M`` of species ``i`` at
        the faces of axis ``a``, ``(m, *faces)`` (NumPy; the relaxation species of the stage
        solve use :func:`relaxation_solve`, which forms it face by face)."""
        _, grads, biases = self.faces(rho, a)
        out = np.tensordot(self.gradient_coefficients(i), grads[i], axes=1)
        A1 = biases[i]
        if A1 is not None:
            up = self.upwind_density(i, rho, a, A1)
            out += self.eps ** (self.b[i] - 1) * up[None] * A1.apply_vector(self.M[i])
        return out

    def apply0(self, i: int, rho_face: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``𝒯_i^0 g`` at the faces, ``g`` ``(m, *faces)`` (``−σ (g − M Σ_k w_k g_k)`` for a relaxation)."""
        rate = self.leading(i, rho_face)
        if rate is not None:
            return -rate * (
                g - self.M[i].reshape((self.m,) + (1,) * self.dim) * np.einsum("k,k...->...", self.nodal.weights, g)
            )
        A0 = self.matrix0(i, rho_face)
        return np.einsum("kl...,l...->k...", A0, g) if A0.ndim > 2 else np.tensordot(A0, g, axes=1)

    def diffusion(self, i: int, rho: np.ndarray) -> float:
        """Largest limit diffusion ``D = ⟨v_a (−𝒯^0)^{-1} v_a M⟩`` of species ``i`` over the cells."""
        nodes, w = self.nodal.nodes, self.nodal.weights
        second = np.array([w @ (nodes[:, a] ** 2 * self.M[i]) for a in range(self.dim)])
        rate = self.leading(i, rho)
        if rate is not None:
            sigma = float(np.min(rate)) if isinstance(rate, np.ndarray) else rate
            return float(np.max(second)) / sigma if sigma > 0 else 0.0
        A0 = self.matrix0(i, rho)
        mats = [A0] if A0.ndim == 2 else [A0[(slice(None), slice(None), *j)] for j in np.ndindex(*A0.shape[2:])]
        best = 0.0
        for mat in mats[:: max(1, len(mats) // 64)]:
            pinv = np.linalg.pinv(mat)
            for a in range(self.dim):
                chi = pinv @ (nodes[:, a] * self.M[i])
                chi -= self.M[i] * (w @ chi)
                best = max(best, float(-(w @ (nodes[:, a] * chi))))
        return best

    def gap(self, i: int, rho: np.ndarray) -> float:
        """The smallest relaxation rate of ``𝒯_i^0`` (``σ``, or the spectral gap of the matrix)."""
        rate = self.leading(i, self.staggered.face_mean(rho, 0))
        if rate is not None:
            return float(np.min(rate))
        A0 = self.matrix0(i, rho)
        mat = A0 if A0.ndim == 2 else A0.reshape(self.m, self.m, -1)[:, :, 0]
        ev = np.sort(np.abs(np.linalg.eigvals(mat).real))
        return float(ev[1]) if len(ev) > 1 else float(ev[0])

    def mean_reaction(self, rho: np.ndarray) -> np.ndarray | None:
        """``⟨G_i⟩`` at the centres, ``(ns, *cells)``, one species at a time; None without G."""
        if all(f is None for f in self.interaction):
            return None
        out = np.zeros_like(rho)
        for i, f in enumerate(self.interaction):
            if f is not None:
                Gi = f(rho, None, pair=False)
                w = self.nodal.weights
                out[i] = float(w.sum()) * Gi[0] if Gi.strides[0] == 0 else np.einsum("k,k...->...", w, Gi)
        return out

    def add_reaction(self, rho: np.ndarray, a: int, out: np.ndarray, scale: float) -> None:
        """``out += scale (I − Π) G`` at the faces of axis ``a``, one species at a time."""
        if all(f is None or zero for f, zero in zip(self.interaction, self.projected_reaction_vanishes)):
            return
        state = self.staggered.face_mean(rho, a)
        w = self.nodal.weights
        for i, f in enumerate(self.interaction):
            if f is None or self.projected_reaction_vanishes[i]:
                continue
            Gi = f(state, None, pair=False)
            if Gi.strides[0] == 0:  # G independent of v: (I − Π)G = (1 − M_k Σw) G, zero for uniform M
                coefficient = 1.0 - self.M[i] * float(w.sum())
                for kk in np.flatnonzero(np.abs(coefficient) > 1e-14):
                    out[i, kk] += (scale * coefficient[kk]) * Gi[0]
                continue
            Gi = np.array(Gi)
            mean = np.einsum("k,k...->...", w, Gi)
            for k in range(self.m):
                Gi[k] -= self.M[i, k] * mean
            Gi *= scale
            out[i] += Gi
