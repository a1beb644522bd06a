"""The linearisation of a model at a homogeneous state, as fast numerical functions.

For the general form (docs/theory.md (1.1))

.. math::

    \\tau_i \\partial_t u_i = \\nabla\\cdot\\Big(D_i(u)\\nabla u_i - \\sum_j u_i\\chi_{ij}(u)\\nabla u_j\\Big)
        + \\psi_i(u)

a perturbation ``w e^{λt} e^{ik·x}`` of a homogeneous state ``u*`` obeys ``λ B w = (J − K(k)) w``
with ``J = ∂ψ/∂u(u*)``, ``B = diag(τ)`` and ``K_ij(k) = (k·D_i(u*) k) δ_ij − |k|² u_i* χ_ij(u*)``
(docs/theory.md (4.3); ``∇u* = 0`` removes every derivative of ``D_i`` and ``χ_ij``). The
quasi-stationary species (``τ_i = 0``) are eliminated by a Schur complement, (4.4).

The expressions come from the model (:meth:`crossdiff.model.Model.expand` of each species'
diffusion, sensitivities and reaction) and are compiled once by :func:`sympy.lambdify` with the
densities and the parameters as arguments, so that a critical-value search evaluates them many
times without touching SymPy again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InputError
from ..expressions import real_jacobian
from ..model import SPACE, TIME, Model, species_symbols

__all__ = ["Linearisation", "growth_eigenvalues"]


def _lambdify(args: list[sp.Symbol], exprs: list[sp.Expr]):
    func = sp.lambdify(args, exprs, modules="numpy")

    def call(*values: float) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = func(*values)
        return np.array([np.broadcast_to(np.asarray(v, dtype=float), ()) for v in out], dtype=float)

    return call


@dataclass(frozen=True)
class _Parts:
    reactions: list[sp.Expr]
    diffusion: list[sp.Expr | sp.ImmutableMatrix]
    sensitivity: list[list[sp.Expr]]
    tau: list[sp.Expr]


class Linearisation:
    """Reaction, Jacobian, diffusion, sensitivities and relaxation times of ``model`` as functions
    of the densities and the parameter values.

    Parameters
    ----------
    model : Model
        A macroscopic model whose reactions do not depend on ``t`` or ``x`` (homogeneous states
        exist only then).

    Raises
    ------
    InputError
        If a reaction, diffusion or sensitivity depends on ``t`` or on the position.
    """

    def __init__(self, model: Model):
        if not isinstance(model, Model):
            raise InputError(f"the analysis needs a macroscopic crossdiff Model, got {type(model).__name__}")
        self.model = model
        self.species = species_symbols(model)
        self.parameter_names = tuple(sorted(model.parameters))
        self.parameters = [sp.Symbol(p) for p in self.parameter_names]
        n = model.n_species
        index = {name: i for i, name in enumerate(model.species_names)}
        forbidden = set(SPACE) | {TIME}
        reactions, diffusion, tau = [], [], []
        sensitivity = [[sp.Integer(0)] * n for _ in range(n)]
        for i, s in enumerate(model.species):
            psi = model.expand(s.reaction)
            if psi.free_symbols & forbidden:
                raise InputError(
                    f"the reaction of species {s.name!r} depends on t or on the position: "
                    "the model has no homogeneous steady states"
                )
            reactions.append(psi)
            if s.is_tensor:
                diffusion.append(s.diffusion.applyfunc(model.expand))
            else:
                diffusion.append(model.expand(s.diffusion))
            for term in s.taxis:
                j = index[term.signal]
                sensitivity[i][j] = sensitivity[i][j] + model.expand(term.sensitivity)
            tau.append(model.expand(s.tau))
        for what, exprs in (("diffusion", diffusion), ("sensitivity", [e for row in sensitivity for e in row])):
            for e in exprs:
                free = e.free_symbols if not isinstance(e, sp.MatrixBase) else set().union(*(x.free_symbols for x in e))
                if free & forbidden:
                    raise InputError(f"a {what} depends on t or on the position: no homogeneous linearisation")
        self.parts = _Parts(reactions, diffusion, sensitivity, tau)
        self.tensor = [isinstance(d, sp.MatrixBase) for d in diffusion]
        args = [*self.species, *self.parameters]
        jac = real_jacobian(reactions, self.species)  # |u| differentiates to sign(u)
        self._psi = _lambdify(args, reactions)
        self._jac = _lambdify(args, list(jac))
        scalar = [d if not isinstance(d, sp.MatrixBase) else sp.Integer(0) for d in diffusion]
        self._diff = _lambdify(args, scalar)
        self._tensors = {
            i: _lambdify(self.parameters, list(d)) for i, d in enumerate(diffusion) if isinstance(d, sp.MatrixBase)
        }
        self._chi = _lambdify(args, [e for row in sensitivity for e in row])
        self._tau = _lambdify(self.parameters, tau)
        self.n = n
        #: quasi-stationary species whose equation does not contain the species itself: the
        #: mean-free form of docs/theory.md §1.3 (their homogeneous value is 0)
        self.mean_free = tuple(
            i
            for i, s in enumerate(model.species)
            if model.tau_value(s.name) == 0 and sp.diff(reactions[i], self.species[i]) == 0
        )

    # ------------------------------------------------------------------ parameters
    def values(self, model: Model | None = None, changes: dict[str, float] | None = None) -> np.ndarray:
        """The parameter vector of ``model`` (default: the one this was built from), with changes."""
        params = dict((model or self.model).parameters)
        params.update(changes or {})
        return np.array([params[p] for p in self.parameter_names], dtype=float)

    # ------------------------------------------------------------------ evaluation
    def reaction(self, u: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``ψ(u)``."""
        return self._psi(*u, *p)

    def jacobian(self, u: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``J = ∂ψ/∂u`` at ``u``."""
        return self._jac(*u, *p).reshape(self.n, self.n)

    def tau(self, p: np.ndarray) -> np.ndarray:
        """The relaxation times ``τ_i``."""
        return self._tau(*p)

    def transport(self, u: np.ndarray, p: np.ndarray, kvec: np.ndarray) -> np.ndarray:
        """``K(k)`` for each wave vector: shape ``(len(kvec), n, n)``.

        ``K_ij = (k·D_i k) δ_ij − |k|² u_i χ_ij(u)``; ``kvec`` has shape ``(m, d)``. A tensor
        diffusion of a higher dimension than ``d`` enters with its leading ``d×d`` block.
        """
        kvec = np.atleast_2d(np.asarray(kvec, dtype=float))
        k2 = np.sum(kvec**2, axis=1)
        d = kvec.shape[1]
        diff = self._diff(*u, *p)
        chi = self._chi(*u, *p).reshape(self.n, self.n)
        K = -(k2[:, None, None] * (np.asarray(u, dtype=float)[:, None] * chi)[None])
        for i in range(self.n):
            if self.tensor[i]:
                T = self._tensors[i](*p)
                size = int(round(np.sqrt(T.size)))
                T = T.reshape(size, size)[:d, :d]
                kk = np.einsum("ma,ab,mb->m", kvec[:, : T.shape[0]], T, kvec[:, : T.shape[0]])
            else:
                kk = k2 * diff[i]
            K[:, i, i] += kk
        return K

    def diffusion_values(self, u: np.ndarray, p: np.ndarray) -> list[float | np.ndarray]:
        """``D_i(u*)`` per species (a number, or the tensor)."""
        diff = self._diff(*u, *p)
        out: list[float | np.ndarray] = []
        for i in range(self.n):
            if self.tensor[i]:
                T = self._tensors[i](*p)
                size = int(round(np.sqrt(T.size)))
                out.append(T.reshape(size, size))
            else:
                out.append(float(diff[i]))
        return out

    def sensitivity_values(self, u: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``χ_ij(u*)``."""
        return self._chi(*u, *p).reshape(self.n, self.n)

    def eigenvalues(self, u: np.ndarray, p: np.ndarray, kvec: np.ndarray) -> np.ndarray:
        """Eigenvalues ``λ`` of ``λ B w = (J − K(k)) w`` per wave vector, shape ``(m, n_P)``
        (``n_P`` the species with ``τ_i > 0``; NaN where the elimination is singular)."""
        A = self.jacobian(u, p)[None] - self.transport(u, p, kvec)
        return growth_eigenvalues(A, self.tau(p))


def growth_eigenvalues(A: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Eigenvalues of ``λ B w = A w``, ``B = diag(τ)``, with the ``τ_i = 0`` rows eliminated.

    With ``P = {i: τ_i > 0}`` and ``Q = {i: τ_i = 0}`` the constraint rows give
    ``w_Q = −A_QQ⁻¹ A_QP w_P`` and ``λ w_P = B_PP⁻¹ (A_PP − A_PQ A_QQ⁻¹ A_QP) w_P``
    (docs/theory.md (4.4)). Batched over the first axis of ``A``; a singular ``A_QQ`` gives NaN
    rows (for the mean-free form that is the mode ``k = 0``, which the constraint removes).

    Parameters
    ----------
    A : ndarray, shape (m, n, n)
    tau : ndarray, shape (n,)
    """
    tau = np.asarray(tau, dtype=float)
    P = np.flatnonzero(tau > 0)
    Q = np.flatnonzero(tau == 0)
    if Q.size:
        App = A[:, P][:, :, P]
        Apq = A[:, P][:, :, Q]
        Aqp = A[:, Q][:, :, P]
        Aqq = A[:, Q][:, :, Q]
        cond = np.linalg.cond(Aqq)
        ok = np.isfinite(cond) & (cond < 1e12)
        S = np.full(App.shape, np.nan)
        if np.any(ok):
            S[ok] = App[ok] - Apq[ok] @ np.linalg.solve(Aqq[ok], Aqp[ok])
    else:
        S = A
    S = S / tau[P][None, :, None]
    out = np.full(S.shape[:2], np.nan + 0j, dtype=complex)
    good = np.all(np.isfinite(S), axis=(1, 2))
    if np.any(good):
        out[good] = np.linalg.eigvals(S[good])
    return out
