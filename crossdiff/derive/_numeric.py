"""Numerical velocity calculus: quadrature on ``V`` and dense linear algebra for ``L_i^{-1}``.

Used for kernels with no closed form (e.g. a von Mises turning kernel on the circle) and, on
discrete velocity sets, as a cross-check of the exact path. The parameters take numbers, the
velocity integrals become quadratures (:meth:`Sphere.quadrature`), while the densities, their
gradients and the definitions stay symbolic: a function of ``v`` is stored as a finite sum
``Σ_m B_m a_m(v)`` with symbolic coefficients ``B_m`` and value arrays ``a_m`` (:class:`Lin`),
so that ``D_i``, ``α_i`` and ``ψ_i`` come out as expressions with floating-point coefficients.
Kernels must therefore separate into (velocity part) × (density part) after expansion.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from ..errors import KineticModelError
from ..kinetic import _symbols as S
from ..kinetic._operators import Relaxation
from ..kinetic._velocity import Sphere

__all__ = ["Lin", "QuadratureCalculus", "separate"]

Lin = dict  # {symbolic coefficient: ndarray of values}; one function of v (or kernel of v, v*)


def _add(out: dict, key: sp.Expr, value: np.ndarray) -> None:
    out[key] = out[key] + value if key in out else value


def separate(expr: sp.Expr, velocity_symbols: set[sp.Symbol], what: str) -> dict[sp.Expr, sp.Expr]:
    """Write ``expr = Σ_m B_m A_m`` with ``A_m`` of the velocity symbols only; ``{B_m: A_m}``."""
    if not expr.free_symbols & velocity_symbols:
        return {sp.Integer(1): expr} if expr.is_number else {expr: sp.Integer(1)}
    out: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        b, a = term.as_independent(*velocity_symbols, as_Add=False)
        if a.free_symbols - velocity_symbols:
            raise KineticModelError(
                f"{what}: {sp.sstr(term)} does not separate into velocity and density factors; "
                "the numerical derivation needs such kernels"
            )
        if b.is_number:  # numeric factors belong to the velocity part
            b, a = sp.Integer(1), a * b
        out[b] = out.get(b, 0) + a
    return out


class QuadratureCalculus:
    """Numeric calculus on quadrature nodes (sphere) or on the points of a discrete set."""

    def __init__(self, model, nodes: int = 64, values: Mapping[str, float] | None = None):
        self.model = model
        self.d = model.dim
        self.values = {**model.parameter_symbols(), **{sp.Symbol(k): sp.Float(v) for k, v in (values or {}).items()}}
        space = model.velocity
        if isinstance(space, Sphere) and space.dim > 1:
            radius = float(space.radius.xreplace(self.values))
            self.points, self.weights = space.quadrature(nodes, radius)
        else:
            self.points, self.weights = space.discrete().quadrature(0, self.values)
        self.n = len(self.weights)
        self.v, self.vs = S.velocity(self.d), S.velocity_star(self.d)
        self.m_v: dict[str, sp.Expr] = {}
        self.m_vs: dict[str, sp.Expr] = {}
        self.m: dict[str, np.ndarray] = {}
        for s in model.species_names:
            eq = model[s].equilibrium
            if eq.values is not None:  # tabulated: placeholder symbols, arrays fed to lambdify
                self.m_v[s], self.m_vs[s] = S.m_symbol(s), S.ms_symbol(s)
                self.m[s] = np.array([float(x.xreplace(model.constants()).xreplace(self.values)) for x in eq.values])
            else:
                expr = self._numbers(model.equilibrium_expr(s))
                self.m_v[s] = expr
                self.m_vs[s] = expr.xreplace(dict(zip(self.v, self.vs)))
                self.m[s] = self._lambdify_v(expr)
        self._inverse: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------ evaluation helpers
    def _numbers(self, expr: sp.Expr) -> sp.Expr:
        return expr.xreplace(self.model.constants()).xreplace(self.values)

    def _velocity_symbols(self) -> set[sp.Symbol]:
        placeholders = {x for s in self.m for x in (S.m_symbol(s), S.ms_symbol(s))}
        return set(self.v) | set(self.vs) | placeholders

    def _args(self, pair: bool):
        names = list(self.m)
        syms = [*self.v, *self.vs, *[S.m_symbol(s) for s in names], *[S.ms_symbol(s) for s in names]]
        if pair:
            vals = [self.points[:, None, a] for a in range(self.d)] + [self.points[None, :, a] for a in range(self.d)]
            vals += [self.m[s][:, None] for s in names] + [self.m[s][None, :] for s in names]
        else:
            vals = [self.points[:, a] for a in range(self.d)] + [np.zeros(self.n)] * self.d
            vals += [self.m[s] for s in names] + [np.zeros(self.n)] * len(names)
        return syms, vals

    def _evaluate(self, expr: sp.Expr, pair: bool) -> np.ndarray:
        syms, vals = self._args(pair)
        shape = (self.n, self.n) if pair else (self.n,)
        with np.errstate(all="raise"):
            try:
                out = sp.lambdify(syms, expr, "numpy")(*vals)
            except (FloatingPointError, ZeroDivisionError):
                raise KineticModelError(f"{sp.sstr(expr)} is not finite on the velocity nodes") from None
        return np.broadcast_to(np.asarray(out, dtype=float), shape).copy()

    def _lambdify_v(self, expr: sp.Expr) -> np.ndarray:
        return self._evaluate(expr, pair=False)

    def _lin(self, expr: sp.Expr, s: str, pair: bool, what: str) -> Lin:
        resolved = self._numbers(self.model.resolve(expr, s, self.v, self.vs, self.m_v, self.m_vs))
        return {b: self._evaluate(a, pair) for b, a in separate(resolved, self._velocity_symbols(), what).items()}

    # ------------------------------------------------------------ the calculus interface
    def equilibrium(self, s: str) -> Lin:
        return {sp.Integer(1): self.m[s]}

    def velocity(self, a: int) -> Lin:
        return {sp.Integer(1): self.points[:, a].copy()}

    @staticmethod
    def mul(f: Lin, g: Lin) -> Lin:
        out: Lin = {}
        for b1, a1 in f.items():
            for b2, a2 in g.items():
                _add(out, b1 * b2, a1 * a2)
        return out

    @staticmethod
    def scale(f: Lin, c: sp.Expr) -> Lin:
        out: Lin = {}
        for b, a in f.items():
            _add(out, c * b, a)
        return out

    @staticmethod
    def sub(f: Lin, g: Lin) -> Lin:
        out = dict(f)
        for b, a in g.items():
            _add(out, b, -a)
        return out

    def pointwise(self, expr: sp.Expr, s: str) -> Lin:
        return self._lin(expr, s, pair=False, what=f"species {s!r}")

    def integrate(self, g: Lin) -> sp.Expr:
        return sp.Add(*[b * sp.Float(float(self.weights @ a)) for b, a in g.items()])

    def kernel(self, expr_or_matrix, s: str) -> Lin:
        """``T(v_k, v_l)`` as ``{B: (n, n) array}``."""
        if isinstance(expr_or_matrix, tuple):
            try:
                table = np.array([[float(self._numbers(x)) for x in row] for row in expr_or_matrix])
            except TypeError:
                raise KineticModelError(f"species {s!r}: the kernel matrix must be numeric for the numerical derivation") from None
            return {sp.Integer(1): table}
        return self._lin(expr_or_matrix, s, pair=True, what=f"kernel of species {s!r}")

    def _matrix(self, table: np.ndarray) -> np.ndarray:
        w = self.weights
        return table * w[None, :] - np.diag(w @ table)

    def apply(self, kernel: Lin, g: Lin) -> Lin:
        out: Lin = {}
        for bk, table in kernel.items():
            mat = self._matrix(table)
            for bg, a in g.items():
                _add(out, bk * bg, mat @ a)
        return out

    def invert(self, s: str, h: Lin) -> Lin:
        """``L_s^{-1} h`` (mean zero): dense solve when ``T^0`` is numeric, else relaxation ``-h/σ``."""
        if s not in self._inverse:
            turning = self.model[s].turning
            if isinstance(turning, Relaxation):
                rate = self._numbers(turning.rate)
                if not rate.is_number:
                    return self.scale(h, -1 / rate)
                table = float(rate) * np.broadcast_to(self.m[s][:, None], (self.n, self.n))
            else:
                kernel = self.kernel(turning.matrix if turning.matrix is not None else turning.expr, s)
                if set(kernel) != {sp.Integer(1)}:
                    raise KineticModelError(f"species {s!r}: T0 must not depend on the densities for the numerical derivation")
                table = kernel[sp.Integer(1)]
            a = self._matrix(np.asarray(table, dtype=float))
            a[0, :] = self.weights
            if np.linalg.cond(a) > 1e12:
                from ._exact import AssumptionErrorFor

                raise AssumptionErrorFor(s)
            self._inverse[s] = np.linalg.inv(a)
        inv = self._inverse[s]
        out: Lin = {}
        for b, a in h.items():
            rhs = a.copy()
            rhs[0] = 0.0
            _add(out, b, inv @ rhs)
        return out
