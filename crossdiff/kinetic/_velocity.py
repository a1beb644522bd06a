"""Velocity spaces: the sphere ``R S^(d-1)``, the ball ``|v| <= R``, all of ``R^d`` with a
Maxwellian, and finite weighted velocity sets (``docs/theory.md`` §2, ``docs/kinetic-files.md``).

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

On the ball ``B_R = {|v| <= R}`` (Lebesgue measure) the moments follow in polar coordinates,

.. math::

    \\int_{B_R} v^\\alpha \\, dv = \\frac{R^{|\\alpha| + d}}{|\\alpha| + d}
        \\int_{S^{d-1}} v^\\alpha \\, dv,

and on ``R^d`` (Lebesgue measure; the space :class:`Gaussian`) a polynomial times a centred
Gaussian ``exp(c_0 - Σ_j a_j v_j²)`` (``a_j > 0``) integrates axis by axis,

.. math::

    \\int_{\\mathbb R} v^k e^{-a v^2} \\, dv = \\Gamma\\Big(\\frac{k+1}{2}\\Big)\\,
        a^{-(k+1)/2} \\quad (k \\text{ even; zero if odd}),

(M. Abramowitz, I. A. Stegun, *Handbook of Mathematical Functions*, 1964, 6.1.1 and 7.4.4,
``docs/references.md`` [AS64]), so that ``∫ v⊗v M dv / σ`` of a Maxwellian comes out in closed form.

Every velocity space gives a quadrature with one signature, ``space.quadrature(n, values) ->
Quadrature(nodes, weights)``: the sphere a rule exact for polynomials up to a degree set by
``n``, the ball Gauss–Legendre in the radius times the sphere's directions, ``R^d`` the
Gauss–Hermite tensor rule scaled to the Maxwellian's temperature, a finite set itself (``n`` is
ignored). ``space.node_count(n)`` is the number of its nodes and ``space.default_resolution`` the
``n`` a kinetic run takes by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from ..errors import KineticModelError
from .symbols import MEASURE, velocity

__all__ = [
    "Sphere",
    "Ball",
    "Gaussian",
    "DiscreteVelocities",
    "VelocitySpace",
    "Quadrature",
    "sphere_moment",
    "ball_moment",
    "gaussian_moment",
]


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


#: Default resolutions (the ``n`` of ``quadrature(n)``) by dimension.
_SPHERE_RESOLUTION = {1: 2, 2: 16, 3: 6}
_BALL_RESOLUTION = {1: 16, 2: 16, 3: 6}
_GAUSSIAN_RESOLUTION = {1: 16, 2: 12, 3: 6}
#: The largest Gauss-Hermite rule: beyond it the weights ``w_k exp(x_k²/2)`` leave float64.
MAX_HERMITE_NODES = 200


def _check_resolution(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise KineticModelError(f"a quadrature needs at least 2 nodes, got {n!r}")
    return int(n)


def _check_dim(dim: object, what: str) -> None:
    if isinstance(dim, bool) or dim not in (1, 2, 3):
        raise KineticModelError(f"{what} dimension must be 1, 2 or 3, got {dim!r}")


def _check_radial(space: Any, what: str) -> None:
    """The dimension (1, 2 or 3) and radius (positive where it is a number) of a sphere or ball;
    the radius as a SymPy expression."""
    _check_dim(space.dim, what)
    object.__setattr__(space, "radius", sp.sympify(space.radius))
    if space.radius.is_number and not space.radius.is_positive:
        raise KineticModelError(f"{what} radius must be positive, got {space.radius}")


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
        _check_radial(self, "velocity sphere")

    @property
    def measure(self) -> sp.Expr:
        """``|V|``: 2 (d = 1), ``2πR`` (d = 2), ``4πR²`` (d = 3)."""
        return sphere_moment((0,) * self.dim, self.radius)

    @property
    def is_discrete(self) -> bool:
        """Whether ``V`` is finite (only in d = 1)."""
        return self.dim == 1

    @property
    def default_resolution(self) -> int:
        """The ``n`` of :meth:`quadrature` a kinetic run takes by default: 16 directions on the
        circle, 6 polar nodes (72 velocities) on the sphere (ignored in d = 1)."""
        return _SPHERE_RESOLUTION[self.dim]

    @property
    def default_equilibrium(self) -> sp.Expr:
        """The uniform equilibrium ``1/|V|`` (``absV`` is replaced by the measure later)."""
        return 1 / MEASURE

    def with_dim(self, dim: int) -> Sphere:
        """The sphere of the same radius in dimension ``dim``."""
        return Sphere(dim, self.radius)

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
        n = _check_resolution(n)
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


def ball_moment(alpha: tuple[int, ...], radius: sp.Expr) -> sp.Expr:
    """``∫_{|v| <= R} v^α dv`` for the multi-index ``α`` (``d = len(α)``), exactly:
    ``R^(|α| + d)/(|α| + d)`` times the unit sphere's moment (polar coordinates)."""
    k = sum(alpha) + len(alpha)
    return sphere_moment(alpha, sp.Integer(1)) * sp.sympify(radius) ** k / k


def gaussian_moment(k: int, a: sp.Expr) -> sp.Expr:
    """``∫_R v^k exp(−a v²) dv = Γ((k + 1)/2) a^(−(k + 1)/2)`` (zero for odd ``k``), ``a > 0``."""
    if k % 2:
        return sp.Integer(0)
    beta = sp.Rational(k + 1, 2)
    return sp.powdenest(sp.gamma(beta) * sp.sympify(a) ** (-beta), force=True)


def _no_closed_form(expr: sp.Expr, where: str, why: str) -> KineticModelError:
    return KineticModelError(
        f"cannot integrate {sp.sstr(expr)} over {where} in closed form ({why}); "
        "use the numerical derivation (method='numeric')"
    )


def _gaussian_integral(expr: sp.Expr, gens: tuple[sp.Symbol, ...]) -> sp.Expr:
    """``∫_{R^d} expr dv`` for ``expr`` a sum of polynomials in ``v`` times centred Gaussians
    ``exp(c_0 − Σ_j a_j v_j²)`` (module docstring); anything else is a one-line error."""
    where = f"R^{len(gens)}"
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        if not term.free_symbols & set(gens):
            if term == 0:
                continue
            raise _no_closed_form(term, where, "a function that does not decay has no integral over R^d")
        exponent, rest = sp.Integer(0), []
        for factor in sp.Mul.make_args(term):
            if factor.func == sp.exp:
                exponent += factor.args[0]
            else:
                rest.append(factor)
        poly = sp.Mul(*rest).as_poly(*gens)
        quad = sp.expand(exponent).as_poly(*gens)
        if poly is None or quad is None or quad.total_degree() > 2:
            raise _no_closed_form(term, where, "exact integrals need a polynomial times a Gaussian")
        coeffs = dict(quad.terms())
        a = []
        for j in range(len(gens)):
            square = tuple(2 if i == j else 0 for i in range(len(gens)))
            aj = -coeffs.pop(square, sp.Integer(0))
            if aj == 0 or (aj.is_number and not aj.is_positive):
                raise _no_closed_form(term, where, f"it does not decay in {gens[j]}")
            a.append(aj)
        c0 = coeffs.pop((0,) * len(gens), sp.Integer(0))
        if coeffs:
            raise _no_closed_form(term, where, "the Gaussian must be centred, with no cross terms")
        for monomial, c in poly.terms():
            total += sp.exp(c0) * c * sp.Mul(*[gaussian_moment(k, aj) for k, aj in zip(monomial, a)])
    return total


@dataclass(frozen=True)
class Ball:
    """The velocity ball ``V = B_R = {v : |v| <= R}`` with the Lebesgue measure.

    Parameters
    ----------
    dim : int
        ``d`` = 1, 2 or 3 (in d = 1 the interval ``[−R, R]``).
    radius : sympy.Expr
        ``R > 0``: a number or an expression of the parameters.
    """

    dim: int
    radius: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        _check_radial(self, "velocity ball")

    @property
    def measure(self) -> sp.Expr:
        """``|V|``: ``2R`` (d = 1), ``πR²`` (d = 2), ``4πR³/3`` (d = 3)."""
        return ball_moment((0,) * self.dim, self.radius)

    @property
    def is_discrete(self) -> bool:
        return False

    @property
    def default_resolution(self) -> int:
        """The default ``n`` of :meth:`quadrature`: 16 (d = 1: 16 nodes; d = 2: 144), 6 (d = 3: 288)."""
        return _BALL_RESOLUTION[self.dim]

    @property
    def default_equilibrium(self) -> sp.Expr:
        """The uniform equilibrium ``1/|V|`` (``absV`` is replaced by the measure later)."""
        return 1 / MEASURE

    def with_dim(self, dim: int) -> Ball:
        """The ball of the same radius in dimension ``dim``."""
        return Ball(dim, self.radius)

    def discrete(self) -> DiscreteVelocities:
        raise KineticModelError("the velocity ball is not a finite velocity set")

    def integrate(self, expr: sp.Expr, gens: tuple[sp.Symbol, ...] | None = None) -> sp.Expr:
        """``∫_{|v| <= R} expr dv`` exactly, for ``expr`` polynomial in ``v`` (after cancellation).

        Raises
        ------
        KineticModelError
            For any other integrand (the numerical derivation integrates those).
        """
        gens = gens or velocity(self.dim)
        const, expr = expr.as_independent(*gens, as_Add=False)
        if not expr.free_symbols & set(gens):
            return const * expr * self.measure
        poly = sp.expand(expr).as_poly(*gens) or sp.cancel(expr).as_poly(*gens)
        if poly is None:
            raise _no_closed_form(expr, "the velocity ball", "exact integrals need integrands polynomial in v")
        return const * sp.Add(*[c * ball_moment(m, self.radius) for m, c in poly.terms()])

    def node_count(self, n: int) -> int:
        """The number of nodes of :meth:`quadrature` ``(n)``: ``n``, ``n (⌊n/2⌋ + 1)``,
        ``2n² (⌊n/2⌋ + 1)`` in 1D, 2D, 3D."""
        n = int(n)
        return n if self.dim == 1 else Sphere(self.dim).node_count(n) * (n // 2 + 1)

    def quadrature(self, n: int, values: Mapping | None = None) -> Quadrature:
        """A product quadrature on the ball: Gauss–Legendre in the radius times directions.

        Parameters
        ----------
        n : int
            Resolution, ``n >= 2``. d = 1: ``n`` Gauss–Legendre nodes on ``[−R, R]``, exact for
            polynomials of degree ``<= 2n − 1``. d = 2, 3: the directions of
            :meth:`Sphere.quadrature` ``(n)`` times ``k = ⌊n/2⌋ + 1`` Gauss–Legendre radii on
            ``[0, R]`` with the weight ``r^(d−1)`` folded into the weights; exact for
            polynomials of degree ``<= n − 1`` (d = 2) and ``<= 2⌊n/2⌋ − 1`` (d = 3).
        values : mapping, optional
            Parameter values (keyed by name or symbol) for a radius given as an expression.

        Returns
        -------
        Quadrature
            Nodes in the ball and positive weights summing to ``|V|``; symmetric under every
            reflection ``v_a → −v_a`` (for even ``n`` in 2D), as walls need.

        References
        ----------
        P. J. Davis, P. Rabinowitz, *Methods of Numerical Integration*, 2nd ed., Academic Press
        (1984), §2.7 (Gauss–Legendre) and §5.6 (product rules in polar coordinates)
        (``docs/references.md`` [DR84]); the directions as in :meth:`Sphere.quadrature`.
        """
        n = _check_resolution(n)
        radius = _number(self.radius, _substitutions(values), "the velocity ball radius")
        x, w = np.polynomial.legendre.leggauss(n if self.dim == 1 else n // 2 + 1)
        if self.dim == 1:
            return Quadrature(radius * x[:, None], radius * w)
        r, wr = radius * (x + 1) / 2, radius * w / 2 * (radius * (x + 1) / 2) ** (self.dim - 1)
        directions = Sphere(self.dim).quadrature(n)
        nodes = (r[:, None, None] * directions.nodes[None, :, :]).reshape(-1, self.dim)
        return Quadrature(nodes, np.outer(wr, directions.weights).ravel())

    def describe(self) -> str:
        return f"ball |v| <= R in d = {self.dim}, R = {sp.sstr(self.radius)}"


@dataclass(frozen=True)
class Gaussian:
    """All of ``V = R^d`` (Lebesgue measure) with the Maxwellian of temperature ``T``,

    .. math::

        M_T(v) = (2\\pi T)^{-d/2} \\exp\\big(-|v|^2/(2T)\\big),

    the default equilibrium of its species (``∫ M_T = 1``, ``∫ v⊗v M_T dv = T I``).

    Parameters
    ----------
    dim : int
        ``d`` = 1, 2 or 3.
    temperature : sympy.Expr
        ``T > 0``: a number or an expression of the parameters. It sets the default
        equilibrium and scales the Gauss–Hermite nodes of :meth:`quadrature`.
    """

    dim: int
    temperature: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        _check_dim(self.dim, "Gaussian velocity space")
        object.__setattr__(self, "temperature", sp.sympify(self.temperature))
        if self.temperature.is_number and not self.temperature.is_positive:
            raise KineticModelError(f"the Maxwellian's temperature must be positive, got {self.temperature}")

    @property
    def radius(self) -> None:
        return None

    @property
    def measure(self) -> sp.Expr:
        """``|V| = ∞`` (the uniform ``1/|V|`` is no equilibrium here; the Maxwellian is)."""
        return sp.oo

    @property
    def is_discrete(self) -> bool:
        return False

    @property
    def default_resolution(self) -> int:
        """The default ``n`` of :meth:`quadrature`: 16, 12, 6 per axis (16, 144, 216 nodes)."""
        return _GAUSSIAN_RESOLUTION[self.dim]

    @property
    def default_equilibrium(self) -> sp.Expr:
        """The Maxwellian ``M_T(v)`` as an expression of ``vx, vy, vz``."""
        t = self.temperature
        square = sp.Add(*[c**2 for c in velocity(self.dim)])
        return (2 * sp.pi * t) ** sp.Rational(-self.dim, 2) * sp.exp(-square / (2 * t))

    def with_dim(self, dim: int) -> Gaussian:
        """``R^dim`` with the same temperature."""
        return Gaussian(dim, self.temperature)

    def discrete(self) -> DiscreteVelocities:
        raise KineticModelError("R^d is not a finite velocity set")

    def integrate(self, expr: sp.Expr, gens: tuple[sp.Symbol, ...] | None = None) -> sp.Expr:
        """``∫_{R^d} expr dv`` exactly, for ``expr`` a sum of polynomials in ``v`` times
        centred Gaussians (e.g. moments of the Maxwellian; module docstring).

        Raises
        ------
        KineticModelError
            For any other integrand (the numerical derivation integrates those).
        """
        gens = gens or velocity(self.dim)
        const, expr = expr.as_independent(*gens, as_Add=False)
        return const * _gaussian_integral(expr, gens)

    def node_count(self, n: int) -> int:
        """The number of nodes of :meth:`quadrature` ``(n)``: ``n^d``."""
        return int(n) ** self.dim

    def quadrature(self, n: int, values: Mapping | None = None) -> Quadrature:
        """The Gauss–Hermite tensor rule on ``R^d`` scaled to the temperature ``T``.

        Parameters
        ----------
        n : int
            Nodes per axis, ``2 <= n <= 200``: ``v = √T x`` with ``x`` the ``n`` nodes of the
            Gauss rule for the weight ``exp(−x²/2)``, ``n^d`` nodes in all. The rule is exact
            for ``∫ p(v) M_T(v) dv`` with ``p`` of degree ``<= 2n − 1`` in each component, and
            converges spectrally for ``g M_T`` with ``g`` analytic near the real axis.
        values : mapping, optional
            Parameter values (keyed by name or symbol) for a temperature given as an expression.

        Returns
        -------
        Quadrature
            Nodes and the positive weights of the Lebesgue measure,
            ``w_k = Π_a √T ω_{k_a} exp(x_{k_a}²/2)``, so that ``∫ g dv ≈ Σ w_k g(v_k)``;
            symmetric under every reflection ``v_a → −v_a``.

        References
        ----------
        G. H. Golub, J. H. Welsch, *Calculation of Gauss quadrature rules*, Math. Comp. 23
        (1969) 221–230; P. J. Davis, P. Rabinowitz, *Methods of Numerical Integration*, 2nd ed.,
        Academic Press (1984), §2.7 and §5.6 (product rules) (``docs/references.md`` [GW69],
        [DR84]).
        """
        n = _check_resolution(n)
        if n > MAX_HERMITE_NODES:
            raise KineticModelError(f"a Gauss-Hermite rule takes at most {MAX_HERMITE_NODES} nodes per axis, got {n}")
        t = _number(self.temperature, _substitutions(values), "the Maxwellian's temperature")
        if not t > 0:
            raise KineticModelError(f"the Maxwellian's temperature must be positive, got {t:g}")
        x, w = np.polynomial.hermite_e.hermegauss(n)
        v1, w1 = math.sqrt(t) * x, math.sqrt(t) * np.exp(np.log(w) + x**2 / 2)
        grids = np.meshgrid(*([v1] * self.dim), indexing="ij")
        weights = np.ones(1)
        for _ in range(self.dim):
            weights = np.multiply.outer(weights, w1)
        return Quadrature(np.stack([g.ravel() for g in grids], axis=1), weights.ravel())

    def describe(self) -> str:
        return f"R^{self.dim} with the Maxwellian of temperature T = {sp.sstr(self.temperature)}"


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

    @property
    def default_resolution(self) -> int:
        """The number of points (a finite set is its own quadrature)."""
        return len(self.points)

    @property
    def default_equilibrium(self) -> sp.Expr:
        """The uniform equilibrium ``1/|V|`` (``absV`` is replaced by the measure later)."""
        return 1 / MEASURE

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


VelocitySpace = Sphere | Ball | Gaussian | DiscreteVelocities
