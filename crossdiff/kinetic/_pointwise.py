r"""Kinetic expressions and turning operators at every point of the grid, for
:class:`~crossdiff.kinetic.KineticDiscretisation` (``docs/kinetic.md``).

* :class:`FieldFunction`: an expression of ``v``, ``v*``, the equilibria, the densities and their
  gradients (names in :mod:`crossdiff.kinetic.symbols`: turning rates, bias kernels, the
  interaction ``G``) evaluated on arrays, at the nodes of the velocity quadrature and at every
  point of the grid; a kernel of ``v*`` only that is affine in ``v*`` (every bias of type (41) of
  the paper, ``τ(v*) = c_0 + c·v*``) also gives its ``1 + d`` coefficient fields.
* :class:`LocalTurning`: a turning operator at every point, as the matrix
  ``A_kl = w_l T(v_k, v_l) − δ_kl Σ_m w_m T(v_m, v_k)`` of :func:`crossdiff.kinetic.turning_matrix`
  (``T(v, v*)`` the rate of turning FROM ``v*`` TO ``v``), or for a kernel of ``v*`` only by its
  values or affine coefficients, applied in O(m) instead of O(m²).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import KineticModelError
from . import symbols as S
from ._kernels import face4
from ._nodal import NodalModel

__all__ = ["FieldFunction", "LocalTurning", "bias_size", "star_matrix"]


class FieldFunction:
    """A kinetic expression of ``v``, ``v*``, the densities and their gradients, on arrays."""

    def __init__(self, nodal: NodalModel, expr: sp.Expr, species: str, what: str):
        model = nodal.model
        expr = nodal.numbers(model.expand(nodal.resolve(expr, species)))
        self.names = list(model.species_names)
        d = nodal.dim
        grads = [S.grad(n, a) for n in self.names for a in range(d)]
        eq = list(nodal.equilibria)
        self.args = [*nodal.v, *nodal.vs, *[S.m_symbol(s) for s in eq], *[S.ms_symbol(s) for s in eq]]
        self.args += [sp.Symbol(n) for n in self.names] + grads
        unknown = sorted(str(x) for x in expr.free_symbols - set(self.args))
        if unknown:
            raise KineticModelError(
                f"species {species!r}: the kinetic solver cannot evaluate {what} with {', '.join(unknown)}"
            )
        self.uses_state = bool(expr.free_symbols & set(self.args[2 * d + 2 * len(eq) :]))
        #: a kernel of v* only (``T(v, v*) = τ(v*)``, as every catalogue bias): applied in O(m)
        self.star_only = not expr.free_symbols & ({*nodal.v} | {S.m_symbol(s) for s in eq})
        self.uses_gradients = bool(expr.free_symbols & set(grads))
        #: a function of the densities (and gradients) alone: the same value at every node
        self.independent_of_v = not expr.free_symbols & set(self.args[: 2 * d + 2 * len(eq)])
        self.func = sp.lambdify(self.args, expr, "numpy")
        self.nodal = nodal
        self.expr = expr
        #: for a kernel of ``v*`` only that is affine in ``v*``, ``τ(v*) = c_0 + c·v*`` (every bias
        #: of type (41)): the functions of the ``1 + d`` coefficients, evaluated on the faces
        #: only (never on faces × nodes); None otherwise
        self.affine: list | None = None
        if self.star_only:
            uniform = {
                S.ms_symbol(s): float(e[0]) for s, e in nodal.equilibria.items() if np.ptp(e) <= 1e-14 * abs(e[0])
            }
            linear = expr.xreplace(uniform)
            coefficients = [sp.diff(linear, x) for x in nodal.vs]
            star_symbols = set(nodal.vs) | {S.ms_symbol(s) for s in eq}
            if not any(c.free_symbols & star_symbols for c in coefficients):
                constant = linear.xreplace({x: 0 for x in nodal.vs})
                if not constant.free_symbols & star_symbols:
                    self.affine = [sp.lambdify(self.args, c, "numpy") for c in (constant, *coefficients)]

    def affine_fields(self, rho: np.ndarray, grads: np.ndarray | None) -> np.ndarray:
        """The coefficients ``(c_0, c_1, …, c_d)`` of an affine kernel of ``v*`` at the points of
        ``rho`` ``(n_species, *space)``: shape ``(1 + d, *space)``."""
        assert self.affine is not None
        d = self.nodal.dim
        space = rho.shape[1:]
        vals: list[object] = [0.0] * (2 * d + 2 * len(self.nodal.equilibria))
        vals += list(rho)
        for i in range(len(self.names)):
            for a in range(d):
                vals.append(grads[i, a] if grads is not None else 0.0)
        out = np.empty((1 + d, *space))
        with np.errstate(all="ignore"):
            for r, func in enumerate(self.affine):
                out[r] = func(*vals)
        return out

    def __call__(self, rho: np.ndarray, grads: np.ndarray | None, pair: bool, star: bool = False) -> np.ndarray:
        """Values on the nodes: ``(m, *space)``, or with ``pair`` ``(m, m, *space)`` (``[k, l] = (v_k, v*_l)``).

        ``rho``: ``(n_species, *space)``; ``grads``: ``(n_species, d, *space)`` or None.
        """
        nodal = self.nodal
        d, m = nodal.dim, nodal.size
        space = rho.shape[1:]
        pad = (1,) * len(space)
        pts = nodal.nodes
        if pair:
            vals = [pts[:, a].reshape((m, 1) + pad) for a in range(d)]
            vals += [pts[:, a].reshape((1, m) + pad) for a in range(d)]
            vals += [e.reshape((m, 1) + pad) for e in nodal.equilibria.values()]
            vals += [e.reshape((1, m) + pad) for e in nodal.equilibria.values()]
            lead: tuple[int, ...] = (1, 1)
            shape = (m, m) + space
        else:
            node_vals = [pts[:, a].reshape((m,) + pad) for a in range(d)]
            eq_vals = [e.reshape((m,) + pad) for e in nodal.equilibria.values()]
            zeros_v, zeros_m = [np.zeros((m,) + pad)] * d, [np.zeros((m,) + pad)] * len(nodal.equilibria)
            vals = zeros_v + node_vals + zeros_m + eq_vals if star else node_vals + zeros_v + eq_vals + zeros_m
            lead = (1,)
        vals += [r.reshape(lead + space) for r in rho]
        for i in range(len(self.names)):
            for a in range(d):
                vals.append(grads[i, a].reshape(lead + space) if grads is not None else np.zeros(lead + space))
        shape = ((m, m) if pair else (m,)) + space
        with np.errstate(all="ignore"):
            out = self.func(*vals)
        return np.broadcast_to(np.asarray(out, dtype=float), shape)


class LocalTurning:
    """A turning operator at every point: a matrix ``(m, m, *space)``, or for a kernel of ``v*``
    only, ``T(v, v*) = τ(v*)``, the values ``τ`` ``(m, *space)``, with
    ``(𝒯 g)_k = Σ_l w_l τ_l g_l − |V| τ_k g_k`` (:func:`crossdiff.kinetic.turning_matrix` of that
    kernel, applied in O(m) instead of O(m²)), or for such a kernel affine in ``v*`` only its
    coefficients ``(c_0, c)`` ``(1 + d, *space)`` (``τ_k = c_0 + c·v_k``; the values are formed
    only on request)."""

    def __init__(
        self,
        weights: np.ndarray,
        matrix: np.ndarray | None = None,
        star: np.ndarray | None = None,
        affine: np.ndarray | None = None,
        nodes: np.ndarray | None = None,
    ):
        self.w, self.matrix, self._star, self.affine, self.nodes = weights, matrix, star, affine, nodes

    @property
    def star(self) -> np.ndarray | None:
        """The values ``τ_k`` ``(m, *space)`` of a kernel of ``v*`` only (formed from the affine
        coefficients on first use), or None for a matrix."""
        if self._star is None and self.affine is not None:
            assert self.nodes is not None
            pad = (1,) * (self.affine.ndim - 1)
            tau = np.broadcast_to(self.affine[0], (len(self.w),) + self.affine.shape[1:]).copy()
            for b in range(self.nodes.shape[1]):
                tau += self.nodes[:, b].reshape((-1,) + pad) * self.affine[1 + b]
            self._star = tau
        return self._star

    def kernel_values(self) -> tuple[np.ndarray, bool] | None:
        """What :mod:`crossdiff.kinetic._kernels` takes: ``(C, affine)`` as 4D arrays, or None
        for a matrix."""
        if self.affine is not None:
            return face4(self.affine), True
        if self._star is not None:
            return face4(self._star), False
        return None

    def moment(self, u: np.ndarray) -> np.ndarray:
        """``Σ_k u_k τ_k`` at every point for a kernel of ``v*`` only (no array of nodes × points
        for an affine kernel)."""
        if self.affine is not None:
            assert self.nodes is not None
            out = float(u.sum()) * self.affine[0]
            for b in range(self.nodes.shape[1]):
                out = out + float(u @ self.nodes[:, b]) * self.affine[1 + b]
            return out
        tau = self.star
        assert tau is not None
        return np.einsum("k,k...->...", u, tau)

    def drift(self, M: np.ndarray, wv: np.ndarray) -> np.ndarray:
        """``Σ_k wv_k (𝒯 M)_k`` (with ``wv = w v_a``: the mean velocity ``⟨v_a 𝒯 M⟩``)."""
        if self.matrix is not None:
            return np.einsum("k,k...->...", wv, self.apply_vector(M))
        W = float(self.w.sum())
        return float(wv.sum()) * self.moment(self.w * M) - W * self.moment(wv * M)

    def apply(self, g: np.ndarray) -> np.ndarray:
        """``𝒯 g`` for ``g`` of shape ``(m, *space)``."""
        if self.matrix is not None:
            return np.einsum("kl...,l...->k...", self.matrix, g)
        tau = self.star
        assert tau is not None
        out = tau * g
        gain = np.einsum("k,k...->...", self.w, out)
        out *= -float(self.w.sum())
        out += gain[None]
        return out

    def apply_vector(self, v: np.ndarray) -> np.ndarray:
        """``𝒯 v`` for a vector ``v`` of shape ``(m,)`` (e.g. the equilibrium), shape ``(m, *space)``."""
        if self.matrix is not None:
            return np.einsum("kl...,l->k...", self.matrix, v)
        tau = self.star
        assert tau is not None
        vb = v.reshape((-1,) + (1,) * (tau.ndim - 1))
        return self.apply(np.broadcast_to(vb, tau.shape))


def bias_size(A1: LocalTurning) -> int:
    """Points at which a turning operator is given."""
    values = A1.star if A1.star is not None else A1.matrix
    assert values is not None
    return int(np.prod(values.shape[1 if A1.star is not None else 2 :]))


def star_matrix(A1: LocalTurning) -> np.ndarray:
    """The matrix ``(m, m, *space)`` of a kernel of ``v*`` only: off the diagonal ``w_l τ_l``."""
    tau = A1.star
    assert tau is not None
    m = tau.shape[0]
    out = np.broadcast_to((A1.w.reshape((m,) + (1,) * (tau.ndim - 1)) * tau)[None], (m,) + tau.shape).copy()
    idx = np.arange(m)
    out[idx, idx] -= float(A1.w.sum()) * tau
    return out
