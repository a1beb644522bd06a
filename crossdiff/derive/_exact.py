"""Exact (SymPy) velocity calculus for the derivation: functions of ``v``, integrals over ``V``,
turning operators and the inverse of ``L_i = 𝒯_i^0`` on mean-zero functions.

Two back-ends share one interface:

* :class:`ContinuousCalculus` — a continuous velocity space: the sphere ``R S^(d-1)`` (d = 2,
  3), the ball ``|v| <= R`` or ``R^d`` (d = 1, 2, 3); a function of ``v`` is an expression of
  ``vx, vy, vz``; integrals are the spaces' closed-form moments (:class:`crossdiff.kinetic.Sphere`,
  :class:`~crossdiff.kinetic.Ball`, :class:`~crossdiff.kinetic.Gaussian`: polynomials, and on
  ``R^d`` polynomials times centred Gaussians such as the Maxwellian).
* :class:`DiscreteCalculus` — a finite set ``{v_k}`` with weights ``w_k`` (and the 1D sphere
  ``{-R, R}``); a function is the tuple of its values ``g(v_k)``.

The turning operator (``docs/theory.md`` §2) is ``𝒯(g)(v) = ∫ [T(v, v*) g(v*) − T(v*, v) g(v)] dv*``.
"""

from __future__ import annotations

import sympy as sp

from ..errors import AssumptionError, KineticModelError
from ..kinetic import Relaxation
from ..kinetic import symbols as S

__all__ = ["ContinuousCalculus", "DiscreteCalculus", "calculus_for", "not_invertible"]


def _no_closed_form(species: str, why: str) -> KineticModelError:
    return KineticModelError(
        f"species {species!r}: no closed-form solution of L(theta) = v M ({why}); "
        "use the numerical derivation (method='numeric')"
    )


class ContinuousCalculus:
    """Exact calculus on a continuous velocity space: the sphere ``R S^(d-1)`` (d = 2, 3), the
    ball or ``R^d`` (d = 1, 2, 3), through the space's ``integrate``."""

    def __init__(self, model):
        self.model = model
        self.space = model.velocity
        self.d = model.dim
        self.v = S.velocity(self.d)
        self.vs = S.velocity_star(self.d)
        self.m_v = {s: model.equilibrium_expr(s) for s in model.species_names}
        self.m_vs = {s: e.xreplace(dict(zip(self.v, self.vs))) for s, e in self.m_v.items()}

    def equilibrium(self, s: str) -> sp.Expr:
        return self.m_v[s]

    @staticmethod
    def mul(f: sp.Expr, g: sp.Expr) -> sp.Expr:
        return f * g

    @staticmethod
    def scale(f: sp.Expr, c: sp.Expr) -> sp.Expr:
        return c * f

    @staticmethod
    def sub(f: sp.Expr, g: sp.Expr) -> sp.Expr:
        return f - g

    def velocity(self, a: int) -> sp.Expr:
        return self.v[a]

    def pointwise(self, expr: sp.Expr, s: str) -> sp.Expr:
        """An expression of ``v`` (kinetic names resolved)."""
        return self.model.resolve(expr, s, self.v, self.vs, self.m_v, self.m_vs)

    def integrate(self, g: sp.Expr) -> sp.Expr:
        return self.space.integrate(g, self.v)

    def kernel(self, expr: sp.Expr, s: str) -> sp.Expr:
        """``T(v, v*)`` as an expression of ``v`` and ``v*``."""
        return self.model.resolve(expr, s, self.v, self.vs, self.m_v, self.m_vs)

    def apply(self, kernel: sp.Expr, g: sp.Expr) -> sp.Expr:
        """``𝒯(g)(v) = ∫ T(v, v*) g(v*) dv* − g(v) ∫ T(v*, v) dv*``."""
        swap = {**dict(zip(self.v, self.vs)), **dict(zip(self.vs, self.v))}
        gain = self.space.integrate(kernel * g.xreplace(dict(zip(self.v, self.vs))), self.vs)
        loss = self.space.integrate(kernel.xreplace(swap), self.vs)
        return gain - g * loss

    def invert(self, s: str, h: sp.Expr) -> sp.Expr:
        """``L_s^{-1} h`` for ``∫h = 0``, normalised by ``∫ L^{-1}h = 0``.

        Relaxation (38): ``-h/σ``. A general kernel: if ``L(v_a M) = -λ v_a M`` for every
        ``a`` with one ``λ`` independent of ``v`` (e.g. kernels of ``v·v*`` with uniform ``M``)
        and ``h = (c·v) M``, then ``L^{-1} h = -h/λ``; otherwise no closed form.
        """
        species = self.model[s]
        if isinstance(species.turning, Relaxation):
            return -h / self.model.resolve(species.turning.rate, s, self.v, self.vs, self.m_v, self.m_vs)
        lam = self._eigenvalue(s)
        m = self.m_v[s]
        ratio = sp.cancel(h / m)
        poly = sp.expand(ratio).as_poly(*self.v)
        if poly is None or any(sum(mon) != 1 for mon, _ in poly.terms()):
            raise _no_closed_form(s, "the right-hand side is not of the form (c.v) M")
        return -h / lam

    def _eigenvalue(self, s: str) -> sp.Expr:
        species = self.model[s]
        if species.turning.expr is None:
            raise _no_closed_form(s, "a kernel matrix needs a discrete velocity set")
        kernel = self.kernel(species.turning.expr, s)
        m = self.m_v[s]
        lams = []
        for a in range(self.d):
            image = self.apply(kernel, self.v[a] * m)
            lam = sp.simplify(-image / (self.v[a] * m))
            if lam.free_symbols & set(self.v):
                raise _no_closed_form(s, "v M is not an eigenfunction of the kernel")
            lams.append(lam)
        if any(sp.simplify(lam - lams[0]) != 0 for lam in lams[1:]):
            raise _no_closed_form(s, "the kernel is anisotropic on v M")
        return lams[0]


class DiscreteCalculus:
    """Exact calculus on a finite velocity set (functions are tuples of values)."""

    def __init__(self, model):
        self.model = model
        self.space = model.velocity.discrete()
        self.d = model.dim
        self.points = self.space.points
        self.weights = self.space.weights
        self.n = len(self.points)
        self.m = {s: model.equilibrium_values(s) for s in model.species_names}
        self._inverse: dict[str, sp.Matrix] = {}

    def _at(self, k: int, l: int | None = None) -> dict:
        return {
            "v": self.points[k],
            "vs": self.points[l] if l is not None else S.velocity_star(self.d),
            "m_v": {s: vals[k] for s, vals in self.m.items()},
            "m_vs": {s: (vals[l] if l is not None else S.ms_symbol(s)) for s, vals in self.m.items()},
        }

    def equilibrium(self, s: str) -> tuple:
        return self.m[s]

    @staticmethod
    def mul(f: tuple, g: tuple) -> tuple:
        return tuple(a * b for a, b in zip(f, g))

    @staticmethod
    def scale(f: tuple, c: sp.Expr) -> tuple:
        return tuple(c * a for a in f)

    @staticmethod
    def sub(f: tuple, g: tuple) -> tuple:
        return tuple(a - b for a, b in zip(f, g))

    def velocity(self, a: int) -> tuple:
        return tuple(p[a] for p in self.points)

    def pointwise(self, expr: sp.Expr, s: str) -> tuple:
        return tuple(self.model.resolve(expr, s, **self._at(k)) for k in range(self.n))

    def integrate(self, g: tuple) -> sp.Expr:
        return sp.Add(*[w * x for w, x in zip(self.weights, g)])

    def kernel(self, expr_or_matrix, s: str) -> tuple:
        """``K[k][l] = T(v_k, v_l)`` from an expression or a table."""
        if isinstance(expr_or_matrix, tuple):
            consts = self.model.constants()
            return tuple(tuple(x.xreplace(consts) for x in row) for row in expr_or_matrix)
        return tuple(
            tuple(self.model.resolve(expr_or_matrix, s, **self._at(k, l)) for l in range(self.n)) for k in range(self.n)
        )

    def matrix(self, kernel: tuple) -> sp.Matrix:
        """The operator matrix ``L[k, l] = w_l K[k][l] − δ_kl Σ_m w_m K[m][k]``."""
        w, n = self.weights, self.n
        return sp.Matrix(
            n, n, lambda k, l: w[l] * kernel[k][l] - (sp.Add(*[w[m] * kernel[m][k] for m in range(n)]) if k == l else 0)
        )

    def apply(self, kernel: tuple, g: tuple) -> tuple:
        return tuple(self.matrix(kernel) * sp.Matrix(g))

    def invert(self, s: str, h: tuple) -> tuple:
        """``L_s^{-1} h`` with ``Σ w_k (L^{-1}h)_k = 0``: relaxation ``-h/σ``; otherwise the
        linear system ``L θ = h`` with its first row replaced by the constraint (``w^T L = 0``
        makes that row redundant when ``Σ w h = 0``)."""
        species = self.model[s]
        if isinstance(species.turning, Relaxation):
            sigma = species.turning.rate.xreplace(self.model.constants())
            return tuple(-x / sigma for x in h)
        if s not in self._inverse:
            turning = species.turning
            kernel = self.kernel(turning.matrix if turning.matrix is not None else turning.expr, s)
            a = self.matrix(kernel)
            a[0, :] = sp.Matrix([list(self.weights)])
            if sp.simplify(a.det()) == 0:
                raise not_invertible(s)
            self._inverse[s] = a.inv()
        rhs = sp.Matrix(h)
        rhs[0] = 0
        return tuple(self._inverse[s] * rhs)


def not_invertible(s: str) -> AssumptionError:
    """The error for an ``L_s = 𝒯_s^0`` that is not invertible on mean-zero functions."""
    return AssumptionError(
        f"species {s!r}: L = T0 is not invertible on mean-zero functions (kernel of L larger than "
        "span(M); Lemma 1 iv / lower bound (17) fails)"
    )


def calculus_for(model):
    """The exact back-end for the model's velocity space."""
    return DiscreteCalculus(model) if model.velocity.is_discrete else ContinuousCalculus(model)
