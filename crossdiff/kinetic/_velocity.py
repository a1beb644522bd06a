"""Velocity spaces: the sphere ``R S^(d-1)`` and finite weighted velocity sets (``docs/theory.md`` §2).

Integrals over ``V`` are exact (SymPy) for the derivation and by quadrature (NumPy) for the
numerical derivation and for a kinetic solver. On the sphere, polynomials in ``v`` are
integrated with the closed-form moments

.. math::

    \\int_{R S^{d-1}} v^\\alpha \\, dv = R^{|\\alpha| + d - 1}\\,
        \\frac{2 \\prod_j \\Gamma(\\beta_j)}{\\Gamma(\\sum_j \\beta_j)}, \\qquad
        \\beta_j = \\frac{\\alpha_j + 1}{2},

(zero if some ``α_j`` is odd; G. B. Folland, *How to integrate a polynomial over a sphere*,
Amer. Math. Monthly 108 (2001)). Exact integrals therefore need integrands that are polynomial
in ``v`` after cancellation (factors free of ``v`` are taken out first); anything else (a von
Mises kernel, an exponential equilibrium) goes to the numerical derivation, whose quadratures
are those of :meth:`Sphere.quadrature`. In d = 1 the sphere is ``{-R, R}`` with counting measure.

Every velocity space gives a quadrature with one signature, ``space.quadrature(n, values) ->
Quadrature(nodes, weights)``: the sphere a rule exact for polynomials up to a degree set by
``n``, a finite set itself (``n`` is ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import sympy as sp

from ..errors import KineticModelError
from .symbols import velocity

__all__ = ["Sphere", "DiscreteVelocities", "VelocitySpace", "Quadrature", "sphere_moment"]


class Quadrature(NamedTuple):
    """A quadrature rule on the velocity space: ``∫_V g(v) dv ≈ Σ_k weights[k] g(nodes[k])``.

    Attributes
    ----------
    nodes : ndarray, shape (m, d)
        The velocities ``v_k``.
    weights : ndarray, shape (m,)
        The weights ``w_k > 0``; they sum to ``|V|``.
    """

    nodes: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        """Number of nodes ``m``."""
        return len(self.weights)

    def integrate(self, values: np.ndarray) -> np.ndarray:
        """``Σ_k w_k g(v_k)`` for ``values[k, ...] = g(v_k)`` (sums over the first axis)."""
        return np.tensordot(self.weights, values, axes=1)


def _substitutions(values: Mapping | None) -> dict[sp.Symbol, sp.Expr]:
    """Parameter values keyed by name or by symbol -> ``{Symbol: value}``."""
    return {sp.Symbol(k) if isinstance(k, str) else k: sp.sympify(v) for k, v in (values or {}).items()}


def _number(expr: sp.Expr, subs: dict, what: str) -> float:
    try:
        return float(sp.sympify(expr).xreplace(subs))
    except TypeError:
        raise KineticModelError(f"{what} must be numeric once the parameters are set, got {sp.sstr(expr)}") from None


def sphere_moment(alpha: tuple[int, ...], radius: sp.Expr) -> sp.Expr:
    """``∫_{R S^(d-1)} v^α dv`` for the multi-index ``α`` (``d = len(α)``), exactly."""
    if any(a % 2 for a in alpha):
        return sp.Integer(0)
    beta = [sp.Rational(a + 1, 2) for a in alpha]
    value = 2 * sp.Mul(*[sp.gamma(b) for b in beta]) / sp.gamma(sum(beta))
    return sp.simplify(value) * radius ** (sum(alpha) + len(alpha) - 1)


def _polynomial_integral(expr: sp.Expr, gens: tuple[sp.Symbol, ...], radius: sp.Expr) -> sp.Expr | None:
    poly = sp.expand(expr).as_poly(*gens)
    if poly is None:
        poly = sp.cancel(expr).as_poly(*gens)
    if poly is None:
        return None
    return sp.Add(*[c * sphere_moment(m, radius) for m, c in poly.terms()])


@dataclass(frozen=True)
class Sphere:
    """The velocity sphere ``V = R S^(d-1)`` with its surface measure.

    Parameters
    ----------
    dim : int
        ``d`` = 1, 2 or 3 (the space dimension).
    radius : sympy.Expr
        ``R > 0``: a number or an expression of the parameters.
    """

    dim: int
    radius: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        if self.dim not in (1, 2, 3):
            raise KineticModelError(f"velocity sphere dimension must be 1, 2 or 3, got {self.dim!r}")
        object.__setattr__(self, "radius", sp.sympify(self.radius))
        if self.radius.is_number and not self.radius.is_positive:
            raise KineticModelError(f"velocity sphere radius must be positive, got {self.radius}")

    @property
    def measure(self) -> sp.Expr:
        """``|V|``: 2 (d = 1), ``2πR`` (d = 2), ``4πR²`` (d = 3)."""
        return sphere_moment((0,) * self.dim, self.radius)

    @property
    def is_discrete(self) -> bool:
        """Whether ``V`` is finite (only in d = 1)."""
        return self.dim == 1

    def discrete(self) -> DiscreteVelocities:
        """``{-R, R}`` with unit weights (only in d = 1)."""
        if self.dim != 1:
            raise KineticModelError("only the 1D sphere {-R, R} is a finite velocity set")
        return DiscreteVelocities(((-self.radius,), (self.radius,)), (1, 1))

    def integrate(self, expr: sp.Expr, gens: tuple[sp.Symbol, ...] | None = None) -> sp.Expr:
        """``∫_V expr dv`` exactly, ``expr`` a function of the components ``gens`` of ``v``.

        Raises
        ------
        KineticModelError
            If SymPy cannot integrate ``expr`` in closed form.
        """
        gens = gens or velocity(self.dim)
        if self.dim == 1:
            return self.discrete().integrate(expr, gens)
        const, expr = expr.as_independent(*gens, as_Add=False)
        if not expr.free_symbols & set(gens):
            return const * expr * self.measure
        value = _polynomial_integral(expr, gens, self.radius)
        if value is not None:
            return const * value
        return const * self._parametrised(expr, gens)

    def _parametrised(self, expr: sp.Expr, gens: tuple[sp.Symbol, ...]) -> sp.Expr:
        raise KineticModelError(
            f"cannot integrate {sp.sstr(expr)} over the velocity sphere in closed form (exact integrals "
            "need integrands polynomial in v); use the numerical derivation (method='numeric')"
        )

    def node_count(self, n: int) -> int:
        """The number of nodes of :meth:`quadrature` ``(n)``, known before it is built (2, ``n``
        or ``2n²`` in 1D, 2D, 3D): what a run's memory estimate needs."""
        return 2 if self.dim == 1 else (int(n) if self.dim == 2 else 2 * int(n) ** 2)

    def quadrature(self, n: int, values: Mapping | None = None) -> Quadrature:
        """A quadrature on ``V = R S^(d-1)`` with ``n`` nodes per angle.

        Parameters
        ----------
        n : int
            Resolution, ``n >= 2``. d = 1: ignored (the two points ``±R`` with unit weights,
            exact for every function). d = 2: ``n`` equispaced angles (the trapezoidal rule),
            exact for polynomials in ``v`` of degree ``<= n - 1`` (trigonometric polynomials of
            degree ``< n``) and spectrally accurate for smooth integrands. d = 3: Gauss-Legendre
            in ``cos ϑ`` (``n`` nodes) times ``2n`` equispaced ``φ`` (``2n²`` nodes), exact for
            polynomials in ``v`` of degree ``<= 2n - 1``.
        values : mapping, optional
            Parameter values (keyed by name or symbol) for a radius given as an expression.

        Returns
        -------
        Quadrature
            Nodes on the sphere of radius ``R`` and positive weights summing to ``|V|``.

        References
        ----------
        L. N. Trefethen, J. A. C. Weideman, *The exponentially convergent trapezoidal rule*,
        SIAM Review 56 (2014) 385-458 (d = 2); K. Atkinson, W. Han, *Spherical Harmonics and
        Approximations on the Unit Sphere*, Lecture Notes in Math. 2044, Springer (2012),
        product Gauss rules (d = 3).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise KineticModelError(f"a quadrature needs at least 2 nodes, got {n!r}")
        radius = _number(self.radius, _substitutions(values), "the velocity sphere radius")
        if self.dim == 1:
            return Quadrature(np.array([[-radius], [radius]]), np.ones(2))
        if self.dim == 2:
            phi = 2 * np.pi * np.arange(n) / n
            nodes = radius * np.stack([np.cos(phi), np.sin(phi)], axis=1)
            return Quadrature(nodes, np.full(n, 2 * np.pi * radius / n))
        mu, w_mu = np.polynomial.legendre.leggauss(n)
        phi = 2 * np.pi * np.arange(2 * n) / (2 * n)
        s = np.sqrt(1 - mu**2)
        nodes = radius * np.stack(
            [np.outer(s, np.cos(phi)).ravel(), np.outer(s, np.sin(phi)).ravel(), np.repeat(mu, 2 * n)], axis=1
        )
        weights = radius**2 * np.repeat(w_mu, 2 * n) * (np.pi / n)
        return Quadrature(nodes, weights)

    def describe(self) -> str:
        return f"sphere R S^{self.dim - 1} in d = {self.dim}, R = {sp.sstr(self.radius)}"


@dataclass(frozen=True)
class DiscreteVelocities:
    """A finite velocity set ``{v_k}`` with weights ``w_k > 0``: ``∫_V g dv = Σ_k w_k g(v_k)``.

    Parameters
    ----------
    points : sequence of sequences
        The velocities, each with ``d`` components (numbers or expressions of parameters).
    weights : sequence
        The weights (default: all 1, the counting measure).
    """

    points: tuple[tuple[sp.Expr, ...], ...]
    weights: tuple[sp.Expr, ...] = ()

    def __post_init__(self) -> None:
        pts = tuple(tuple(sp.sympify(c) for c in p) for p in self.points)
        if len(pts) < 2:
            raise KineticModelError("a discrete velocity set needs at least two velocities")
        dims = {len(p) for p in pts}
        if len(dims) != 1 or not dims <= {1, 2, 3}:
            raise KineticModelError("discrete velocities must all have the same number (1, 2 or 3) of components")
        weights = tuple(sp.sympify(w) for w in self.weights) or (sp.Integer(1),) * len(pts)
        if len(weights) != len(pts):
            raise KineticModelError(f"{len(weights)} weights given for {len(pts)} discrete velocities")
        for w in weights:
            if w.is_number and not w.is_positive:
                raise KineticModelError(f"discrete velocity weights must be positive, got {w}")
        if len(set(pts)) != len(pts):
            raise KineticModelError("discrete velocities must be distinct")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "weights", weights)

    @property
    def dim(self) -> int:
        return len(self.points[0])

    @property
    def radius(self) -> None:
        return None

    @property
    def size(self) -> int:
        return len(self.points)

    @property
    def measure(self) -> sp.Expr:
        """``|V| = Σ_k w_k``."""
        return sp.Add(*self.weights)

    @property
    def is_discrete(self) -> bool:
        return True

    def discrete(self) -> DiscreteVelocities:
        return self

    def integrate(self, expr: sp.Expr, gens: tuple[sp.Symbol, ...] | None = None) -> sp.Expr:
        """``Σ_k w_k expr(v_k)``."""
        gens = gens or velocity(self.dim)
        return sp.Add(*[w * expr.xreplace(dict(zip(gens, p))) for p, w in zip(self.points, self.weights)])

    def node_count(self, n: int | None = None) -> int:
        """The number of points (``n`` is ignored, as in :meth:`quadrature`)."""
        return len(self.points)

    def quadrature(self, n: int | None = None, values: Mapping | None = None) -> Quadrature:
        """The set itself as a quadrature: its points and weights as float arrays.

        Parameters
        ----------
        n : int, optional
            Ignored (a finite set is its own exact quadrature); accepted so that every
            velocity space has the signature ``quadrature(n, values)``.
        values : mapping, optional
            Parameter values (keyed by name or symbol) for points or weights given as
            expressions.
        """
        subs = _substitutions(values)
        nodes = np.array([[_number(c, subs, "discrete velocities") for c in p] for p in self.points])
        weights = np.array([_number(w, subs, "discrete velocity weights") for w in self.weights])
        return Quadrature(nodes, weights)

    def describe(self) -> str:
        pts = ", ".join("(" + ", ".join(sp.sstr(c) for c in p) + ")" for p in self.points)
        return f"{self.size} discrete velocities in d = {self.dim}: {pts}"


VelocitySpace = Sphere | DiscreteVelocities
