"""Numerical velocity calculus: quadrature on ``V`` and dense linear algebra for ``L_i^{-1}``.

Used for kernels with no closed form (e.g. a von Mises turning kernel on the circle) and, on
discrete velocity sets, as a cross-check of the exact path. The parameters take numbers, the
velocity integrals become quadratures and the turning operators matrices on the quadrature
nodes (:class:`crossdiff.kinetic.NodalModel`, :func:`crossdiff.kinetic.turning_matrix`), while
the densities, their
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
from ..kinetic import NodalModel, Relaxation, relaxation_matrix, turning_matrix
from ..resources import refuse_if_too_large
from ._exact import not_invertible

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


#: The most velocities a numeric derivation takes: its turning matrices are dense (m × m, solved
#: in O(m³)); the quadratures converge spectrally, so a few hundred nodes are plenty.
MAX_NODES = 20_000


class QuadratureCalculus:
    """Numeric calculus on quadrature nodes (sphere, ball, ``R^d``) or on the points of a discrete set."""

    def __init__(self, model, nodes: int = 64, values: Mapping[str, float] | None = None):
        self.model = model
        self.d = model.dim
        if isinstance(nodes, (int, np.integer)) and not isinstance(nodes, bool) and nodes >= 2:
            m = model.velocity.node_count(int(nodes))
            if m > MAX_NODES:
                raise KineticModelError(
                    f"{nodes} quadrature nodes give {m:,} velocities, more than {MAX_NODES:,}: the dense "
                    f"turning matrices cost m² memory and m³ time; the derivation converges spectrally with far fewer"
                )
            refuse_if_too_large(
                8.0 * m * m * (2 + len(model.species)),
                f"the derivation on {m:,} velocities",
                "use fewer --nodes",
                KineticModelError,
            )
        self.nodal = NodalModel(model, nodes, values)
        self.points, self.weights = self.nodal.quadrature
        self.n = self.nodal.size
        self.m: dict[str, np.ndarray] = self.nodal.equilibria
        self._inverse: dict[str, np.ndarray] = {}

    def _lin(self, expr: sp.Expr, s: str, pair: bool, what: str) -> Lin:
        nodal = self.nodal
        parts = separate(nodal.resolve(expr, s), nodal.velocity_symbols, what)
        return {b: nodal.evaluate(a, pair) for b, a in parts.items()}

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
                return {sp.Integer(1): self.nodal.kernel(expr_or_matrix, s)}
            except KineticModelError:
                raise KineticModelError(
                    f"species {s!r}: the kernel matrix must be numeric for the numerical derivation"
                ) from None
        return self._lin(expr_or_matrix, s, pair=True, what=f"kernel of species {s!r}")

    def apply(self, kernel: Lin, g: Lin) -> Lin:
        out: Lin = {}
        for bk, table in kernel.items():
            mat = turning_matrix(table, self.weights)
            for bg, a in g.items():
                _add(out, bk * bg, mat @ a)
        return out

    def invert(self, s: str, h: Lin) -> Lin:
        """``L_s^{-1} h`` (mean zero): dense solve when ``T^0`` is numeric, else relaxation ``-h/σ``."""
        if s not in self._inverse:
            turning = self.model[s].turning
            if isinstance(turning, Relaxation):
                rate = self.nodal.numbers(turning.rate)
                if not rate.is_number:
                    return self.scale(h, -1 / rate)
                a = relaxation_matrix(float(rate), self.m[s], self.weights)
            else:
                kernel = self.kernel(turning.matrix if turning.matrix is not None else turning.expr, s)
                if set(kernel) != {sp.Integer(1)}:
                    raise KineticModelError(
                        f"species {s!r}: T0 must not depend on the densities for the numerical derivation"
                    )
                a = turning_matrix(kernel[sp.Integer(1)], self.weights)
            a[0, :] = self.weights
            if np.linalg.cond(a) > 1e12:
                raise not_invertible(s)
            self._inverse[s] = np.linalg.inv(a)
        inv = self._inverse[s]
        out: Lin = {}
        for b, a in h.items():
            rhs = a.copy()
            rhs[0] = 0.0
            _add(out, b, inv @ rhs)
        return out
