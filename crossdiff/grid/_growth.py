r"""Domains that grow by a prescribed law: a box whose cells move with the tissue.

A growing domain is a box grid at ``t = 0`` (the **reference** domain, coordinates ``X``) and a
growth law per axis, the length scale ``ℓ_b(t) = L_b(t)/L_b(0)`` with ``ℓ_b(0) = 1``. The
tissue and everything in it move with the uniform growth velocity: a point at ``X`` is at

.. math::

    x_b(t) = a_b + ℓ_b(t)\,(X_b - a_b)

(``a_b`` the low end of the box along axis ``b``: the domain grows away from its low corner;
any other fixed point is the same up to a translation). The cells move with it, so a cell keeps
its index and its content; its volume is multiplied by ``J(t) = Π_b ℓ_b(t)``. How a model is
discretised on such a domain — in the reference coordinates, with the dilution written as the
time derivative of ``J u`` so that mass is conserved to round-off — is ``docs/theory.md`` §7 and
:class:`crossdiff.fv.GrowingDiscretisation`.

A growing domain is one **domain kind** (:data:`crossdiff.grid.DOMAINS`, ``"growing"``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GridError
from ._box import Grid, OnBox, default_grid

if TYPE_CHECKING:
    import sympy as sp

__all__ = ["Growth", "TissueGrowth", "MovingBox", "GrowingGrid", "default_growing", "parse_law"]

#: samples of a growth law checked over a run's time span (positive, finite, not below one cell)
CHECK_SAMPLES = 2001


def parse_law(text: str, parameters: Mapping[str, float], allowed: set[str], what: str) -> tuple[sp.Expr, list[str]]:
    """``text`` parsed (:func:`crossdiff.expressions.parse_expression`) with the parameters' values
    substituted, and the names it uses beyond ``allowed`` (sorted; the caller says why they are not
    allowed). Raises :class:`GridError` naming ``what`` if it is no expression."""
    import sympy as sp  # imported on first use (start-up: docs/architecture.md)

    from ..errors import ExpressionError
    from ..expressions import parse_expression

    try:
        expr = parse_expression(text)
    except ExpressionError as err:
        raise GridError(f"{what}: {err}") from None
    expr = expr.xreplace({sp.Symbol(k): sp.Float(v) for k, v in parameters.items()})
    return expr, sorted(str(s) for s in expr.free_symbols if str(s) not in allowed)


def _law(text: object, parameters: Mapping[str, float], axis: str) -> sp.Expr:
    """The growth law ``text`` with the parameters' values substituted: an expression of ``t``."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not text.strip():
        raise GridError(f"growth law along {axis} must be an expression of t such as 'exp(0.1*t)', got {text!r}")
    expr, unknown = parse_law(text, parameters, {"t"}, f"growth law along {axis}")
    if unknown:
        space = {"x", "y", "z"} & set(unknown)
        why = (
            f"a growth law is a function of t alone, and {text!r} uses {', '.join(sorted(space))}"
            if space
            else f"{text!r} uses unknown symbols {', '.join(unknown)} (not t, not a parameter of the model)"
        )
        raise GridError(f"growth law along {axis}: {why}")
    return expr


def _check_scales(
    times: np.ndarray, values: np.ndarray, slopes: np.ndarray, names: Sequence[str], cells: Sequence[int]
) -> None:
    """Refuse length scales ``values (ndim, times)`` (slopes alike) that are not finite or not
    positive, or that leave an axis shorter than one of its ``cells``, naming the axis's law."""
    for b, (ell, slope) in enumerate(zip(values, slopes)):
        bad = ~np.isfinite(ell) | ~np.isfinite(slope)
        if bad.any():
            raise GridError(f"{names[b]} is not finite at t = {times[np.argmax(bad)]:.6g}")
        if np.any(ell <= 0):
            raise GridError(
                f"{names[b]} is not positive at t = {times[np.argmax(ell <= 0)]:.6g}: it shrinks the domain to nothing"
            )
        if cells and np.any(ell * cells[b] < 1):
            raise GridError(
                f"{names[b]} shrinks the domain below one cell at t = {times[np.argmax(ell * cells[b] < 1)]:.6g}"
            )


@dataclass(frozen=True)
class Growth:
    """A prescribed growth law per axis: the length scale ``ℓ_b(t) = L_b(t)/L_b(0)``.

    Parameters
    ----------
    laws : str or sequence of str
        One expression of ``t`` for every axis (isotropic growth) or one per axis (anisotropic),
        e.g. ``"exp(0.01*t)"`` (exponential), ``"K/(1 + (K - 1)*exp(-r*t))"`` (logistic),
        ``"1 + 0.1*t"`` (linear). Each must equal 1 at ``t = 0``.
    parameters : mapping, optional
        Values of names the laws use besides ``t`` (a model's parameters).
    ndim : int, optional
        The number of axes (default: as many as laws; a :class:`GrowingGrid` takes one law for
        every axis of its box).

    Raises
    ------
    GridError
        A law that is not an expression of ``t`` alone (and the parameters), not 1 at ``t = 0``, or
        as many laws as neither 1 nor ``ndim``.

    Examples
    --------
    >>> g = Growth("exp(r*t)", {"r": 0.5}, ndim=2)
    >>> [round(v, 6) for v in g.scale(2.0)]
    [2.718282, 2.718282]
    """

    laws: tuple[str, ...] | str
    parameters: Mapping[str, float] = field(default_factory=dict)
    ndim: int | None = None

    def __post_init__(self) -> None:
        laws = (self.laws,) if isinstance(self.laws, str) else tuple(str(v) for v in self.laws)
        if self.ndim is None:  # one law per axis given, or one (the box it serves says how many axes)
            object.__setattr__(self, "ndim", len(laws))
        if len(laws) not in (1, self.ndim):
            raise GridError(
                f"growth gives {len(laws)} laws for {self.ndim} axes: give one for all axes or one per axis"
            )
        object.__setattr__(self, "laws", laws)
        object.__setattr__(self, "parameters", {str(k): float(v) for k, v in dict(self.parameters).items()})
        for axis, expr in zip("xyz", self._exprs):
            at0 = complex(expr.subs("t", 0).evalf())
            if not (math.isfinite(at0.real) and abs(at0.imag) < 1e-12 and abs(at0.real - 1.0) <= 1e-12):
                raise GridError(
                    f"growth law along {axis} ({self._text(axis)!r}) is the length scale L(t)/L(0) and must be 1 at "
                    f"t = 0, got {at0.real:.6g}"
                )

    def _text(self, axis: str) -> str:
        laws = self.laws
        assert isinstance(laws, tuple)
        return laws[0] if len(laws) == 1 else laws["xyz".index(axis)]

    @cached_property
    def _exprs(self) -> tuple[sp.Expr, ...]:
        """Per axis, ``ℓ_b(t)`` as a SymPy expression."""
        laws, ndim = self.laws, self.ndim
        assert isinstance(laws, tuple) and ndim is not None  # set in __post_init__
        per_axis = laws if len(laws) == ndim else laws * ndim
        return tuple(_law(text, self.parameters, axis) for text, axis in zip(per_axis, "xyz"))

    @cached_property
    def _numeric(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """Per axis, ``t -> ℓ_b(t)`` and ``t -> ℓ_b'(t)`` (NumPy functions)."""
        import sympy as sp

        t = sp.Symbol("t")
        scale = tuple(sp.lambdify(t, e, "numpy") for e in self._exprs)
        rate = tuple(sp.lambdify(t, sp.diff(e, t), "numpy") for e in self._exprs)
        return scale, rate

    def _evaluate(self, functions: tuple[Any, ...], t: float | np.ndarray) -> np.ndarray:
        """The functions at ``t`` (a number or an array of times), shape ``(ndim, *t.shape)``."""
        t = np.asarray(t, dtype=float)
        with np.errstate(all="ignore"):
            return np.array([np.broadcast_to(np.asarray(f(t), dtype=float), t.shape) for f in functions])

    @property
    def isotropic(self) -> bool:
        """Whether every axis grows by the same law."""
        return len(set(self._exprs)) == 1

    def scale(self, t: float) -> np.ndarray:
        """``ℓ_b(t)`` per axis."""
        return self._evaluate(self._numeric[0], float(t))

    def derivative(self, t: float) -> np.ndarray:
        """``ℓ_b'(t)`` per axis."""
        return self._evaluate(self._numeric[1], float(t))

    def volume_scale(self, t: float) -> float:
        """``J(t) = Π_b ℓ_b(t)``: a cell's volume over its volume at ``t = 0``."""
        return float(np.prod(self.scale(t)))

    def dilution(self, t: float) -> float:
        """``J'/J = Σ_b ℓ_b'/ℓ_b``: the rate at which growth dilutes a density."""
        return float(np.sum(self.derivative(t) / self.scale(t)))

    def check(self, t_start: float, t_end: float, cells: Sequence[int] = ()) -> None:
        """Refuse a law that is not positive and finite on ``[t_start, t_end]`` (sampled), or that
        shrinks an axis below one of its ``cells`` (the domain's length below one reference cell).

        Raises
        ------
        GridError
            Naming the law, the axis and the first time where it fails.
        """
        times = np.linspace(float(t_start), float(t_end), CHECK_SAMPLES)
        values, slopes = self._evaluate(self._numeric[0], times), self._evaluate(self._numeric[1], times)
        names = [f"growth law along {a} ({self._text(a)!r})" for a in "xyz"[: self.ndim]]
        _check_scales(times, values, slopes, names, cells)

    def attributes(self) -> dict[str, object]:
        """The law as run-file attributes: ``growth`` (JSON list of expressions) and
        ``growth_parameters`` (JSON)."""
        return {"growth": json.dumps(list(self.laws)), "growth_parameters": json.dumps(dict(self.parameters))}

    def describe(self) -> str:
        laws = self.laws
        assert isinstance(laws, tuple)
        return (
            f"growing by {laws[0]}"
            if len(laws) == 1
            else "growing by " + ", ".join(f"{a}: {law}" for a, law in zip("xyz", laws))
        )


@dataclass(frozen=True)
class TissueGrowth:
    """Non-uniform growth: the tissue moves with a velocity ``a_b`` along each axis ``b``, an
    expression of that axis's coordinate, ``t``, the axis's current length ``L`` and the parameters
    (apical growth ``"rho*max(0, x - (L - 1))"``: only the last unit of length grows); the box's high
    end moves with the tissue, ``L_b' = a_b(a + L_b, t)``, its low end stays (``a_b`` must vanish there).

    It serves a :class:`GrowingGrid` like a :class:`Growth`: the length scales ``ℓ_b(t) = L_b(t)/L_b(0)``
    (the lengths integrated once, to ``rtol = 1e-12``, and extended as a run asks for later times),
    and :meth:`velocity`, the tissue's velocity on the faces, which the discretisation carries the
    species with relative to the uniformly stretched cells (docs/theory.md §7.7).

    Parameters
    ----------
    laws : str or sequence of str
        One velocity per axis (``"0"`` for an axis that does not grow); a string for a 1D box.
    extent : sequence of (low, high)
        The box at ``t = 0``.
    parameters : mapping, optional

    Raises
    ------
    GridError
        Not one expression per axis of those names, or a velocity that does not vanish at the low end.
    """

    laws: tuple[str, ...] | str
    extent: tuple[tuple[float, float], ...]
    parameters: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        laws = (self.laws,) if isinstance(self.laws, str) else tuple(str(v) for v in self.laws)
        extent = tuple((float(lo), float(hi)) for lo, hi in self.extent)
        if len(laws) != len(extent):
            raise GridError(
                f"growth_velocity gives {len(laws)} velocities for {len(extent)} axes: give one per axis "
                '("0" for an axis that does not grow)'
            )
        object.__setattr__(self, "laws", laws)
        object.__setattr__(self, "extent", extent)
        object.__setattr__(self, "parameters", {str(k): float(v) for k, v in dict(self.parameters).items()})
        for b, (lo, hi) in enumerate(extent):
            at_end = float(self.velocity(b, np.array([lo]), 0.0, hi - lo)[0])
            if not np.isfinite(at_end) or abs(at_end) > 1e-12 * max(1.0, abs(hi - lo)):
                raise GridError(
                    f"the growth velocity along {'xyz'[b]} ({laws[b]!r}) must vanish at the fixed end "
                    f"{'xyz'[b]} = {lo:g} (the domain grows away from it), got {at_end:.3g}"
                )

    @property
    def ndim(self) -> int:
        return len(self.extent)

    @cached_property
    def _numeric(self) -> tuple[Any, ...]:
        import sympy as sp

        out = []
        for b, law in enumerate(self.laws):
            axis = "xyz"[b]
            expr, unknown = parse_law(law, self.parameters, {axis, "t", "L"}, f"growth velocity along {axis}")
            if unknown:
                raise GridError(
                    f"growth velocity along {axis} ({law!r}) names unknown symbols {', '.join(unknown)}; it may use "
                    f"{axis}, t, L (the current length) and the parameters"
                )
            out.append(sp.lambdify([sp.Symbol(axis), sp.Symbol("t"), sp.Symbol("L")], expr, "numpy"))
        return tuple(out)

    def velocity(self, axis: int, x: np.ndarray, t: float, length: float) -> np.ndarray:
        """``a_b(x, t)`` along ``axis`` with that axis's current length ``length``."""
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(self._numeric[axis](x, float(t), float(length)), dtype=float), x.shape)

    @cached_property
    def _lengths(self) -> dict[str, Any]:
        """The integrated lengths: segments of dense output (mutable: extended on demand)."""
        return {"horizon": 0.0, "segments": []}

    def _rates(self, t: float, L: np.ndarray) -> np.ndarray:
        return np.array(
            [float(self.velocity(b, np.array([lo + L[b]]), t, L[b])[0]) for b, (lo, _) in enumerate(self.extent)]
        )

    def lengths_at(self, t: float) -> np.ndarray:
        """``L_b(t)`` per axis (``L' = a(a + L, t)``, DOP853 to ``rtol = 1e-12``)."""
        from scipy.integrate import solve_ivp

        t = float(t)
        state = self._lengths
        if t < 0:
            raise GridError(f"a growing domain's lengths are known from t = 0, not at t = {t:g}")
        while t > state["horizon"] or not state["segments"]:
            start = state["horizon"]
            L0 = (
                np.array([hi - lo for lo, hi in self.extent])
                if not state["segments"]
                else state["segments"][-1][2](start)
            )
            stop = max(t, 2 * start, 1.0)
            sol = solve_ivp(self._rates, (start, stop), L0, method="DOP853", rtol=1e-12, atol=1e-14, dense_output=True)
            if not sol.success:
                raise GridError(f"the growth velocity's lengths could not be integrated to t = {stop:g}: {sol.message}")
            state["segments"].append((start, stop, sol.sol))
            state["horizon"] = stop
        for start, stop, dense in state["segments"]:
            if start <= t <= stop:
                return np.asarray(dense(t), dtype=float).reshape(self.ndim)
        raise AssertionError("unreachable: the segments cover [0, horizon]")  # pragma: no cover

    def scale(self, t: float) -> np.ndarray:
        """``ℓ_b(t) = L_b(t)/L_b(0)``."""
        return self.lengths_at(t) / np.array([hi - lo for lo, hi in self.extent])

    def derivative(self, t: float) -> np.ndarray:
        """``ℓ_b'(t) = a_b(a + L_b, t)/L_b(0)``."""
        return self._rates(t, self.lengths_at(t)) / np.array([hi - lo for lo, hi in self.extent])

    def volume_scale(self, t: float) -> float:
        return float(np.prod(self.scale(t)))

    def dilution(self, t: float) -> float:
        return float(np.sum(self.derivative(t) / self.scale(t)))

    @property
    def isotropic(self) -> bool:
        return False

    def check(self, t_start: float, t_end: float, cells: Sequence[int] = ()) -> None:
        """As :meth:`Growth.check`, on the integrated lengths."""
        times = np.linspace(float(t_start), float(t_end), CHECK_SAMPLES)
        with np.errstate(all="ignore"):
            try:
                values = np.array([self.scale(t) for t in times]).T
                slopes = np.array([self.derivative(t) for t in times]).T
            except (ValueError, ArithmeticError) as err:
                raise GridError(f"the growth velocity cannot be followed to t = {t_end:g}: {err}") from None
        _check_scales(
            times, values, slopes, [f"growth velocity along {a} ({law!r})" for a, law in zip("xyz", self.laws)], cells
        )

    def attributes(self) -> dict[str, object]:
        return {
            "growth_velocity": json.dumps(list(self.laws)),
            "growth_velocity_parameters": json.dumps(dict(self.parameters)),
        }

    def describe(self) -> str:
        return "growing with the tissue velocity " + ", ".join(f"{a}: {law}" for a, law in zip("xyz", self.laws))

    def with_parameters(self, **values: float) -> TissueGrowth:
        params = {**self.parameters, **{k: float(v) for k, v in values.items() if k in self.parameters}}
        return TissueGrowth(self.laws, self.extent, params)


@dataclass(frozen=True)
class MovingBox(OnBox):
    """A box grid whose cells move: the geometry (``cells``, ``extent``, ``spacing``,
    ``coordinates``, …) is the reference domain's, at ``t = 0``; subclasses say how it moves
    (:class:`GrowingGrid`: by a prescribed law; :class:`FrontGrid`: its high end by a speed the
    solution sets).

    Parameters
    ----------
    box : Grid
        The domain at ``t = 0``.
    """

    def __post_init__(self) -> None:
        if not isinstance(self.box, Grid):
            raise GridError(f"a moving domain is a crossdiff Grid whose cells move, got {type(self.box).__name__}")

    def integrate(self, field: np.ndarray) -> float | np.ndarray:
        """The integral over the reference domain (``Σ u h^d`` at ``t = 0``; at time ``t``
        multiply by the volume scale)."""
        return self.box.integrate(field)


@dataclass(frozen=True)
class GrowingGrid(MovingBox):
    """A box grid whose domain grows by a prescribed law (module docstring).

    The geometry (``cells``, ``extent``, ``spacing``, ``coordinates``, …) is the reference
    domain's, at ``t = 0``; :meth:`centres`, :meth:`lengths` and :meth:`volume_scale` give the
    physical cells at time ``t`` (the :class:`~crossdiff.time.Motion` an output layout carries).

    Parameters
    ----------
    box : Grid
        The domain at ``t = 0``.
    growth : Growth
        The law (as many axes as the box, or one for all).
    """

    growth: Growth | TissueGrowth = field(default=None)  # type: ignore[assignment]  # required: checked below

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.growth, TissueGrowth):
            if self.growth.extent != tuple((float(lo), float(hi)) for lo, hi in self.box.extent):
                raise GridError("a tissue growth velocity must be made for the box it grows (its extent)")
            return
        if not isinstance(self.growth, Growth):
            raise GridError(f"the growth law must be a crossdiff Growth, got {type(self.growth).__name__}")
        if self.growth.ndim != self.box.ndim:  # one law for every axis, or one per axis of the box
            g = self.growth
            object.__setattr__(self, "growth", Growth(g.laws, g.parameters, ndim=self.box.ndim))

    @property
    def tissue(self) -> TissueGrowth | None:
        """The tissue's velocity field of non-uniform growth (None: uniform growth)."""
        return self.growth if isinstance(self.growth, TissueGrowth) else None

    # ---------------------------------------------------------------- the domain at time t
    def at(self, t: float) -> Grid:
        """The physical grid at time ``t``: the box stretched by ``ℓ_b(t)`` from its low corner."""
        return self.box.stretched(self.growth.scale(t))

    def centres(self, t: float) -> tuple[np.ndarray, ...]:
        """Per axis, the physical cell centres at time ``t``."""
        return self.at(t).coordinates

    def lengths(self, t: float) -> np.ndarray:
        """Per axis, the physical length of the domain at time ``t``."""
        return self.growth.scale(t) * np.array([hi - lo for lo, hi in self.box.extent])

    def volume_scale(self, t: float) -> float:
        """``J(t) = Π_b ℓ_b(t)``."""
        return self.growth.volume_scale(t)

    def with_parameters(self, **values: float) -> GrowingGrid:
        """The same domain with the growth law's parameters replaced by ``values`` where it has
        them (a sweep over a growth rate)."""
        params = dict(self.growth.parameters)
        if not set(values) & set(params):
            return self
        if isinstance(self.growth, TissueGrowth):
            return GrowingGrid(self.box, self.growth.with_parameters(**values))
        params.update({k: float(v) for k, v in values.items() if k in params})
        return GrowingGrid(self.box, Growth(self.growth.laws, params, ndim=self.box.ndim))

    # ---------------------------------------------------------------- files
    def describe(self) -> str:
        """``"100 on [0, 1], noflux, growing by exp(0.1*t)"``."""
        return f"{self.box.describe()}, {self.growth.describe()}"

    def attributes(self) -> dict[str, object]:
        """The box's attributes and the growth law's (:meth:`Growth.attributes`)."""
        return {**self.box.attributes(), "grid": self.describe(), **self.growth.attributes()}

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, object]) -> GrowingGrid:
        """The growing domain :meth:`attributes` wrote."""
        box = Grid.from_attributes(attrs)
        if "growth_velocity" in attrs:
            try:
                laws = json.loads(str(attrs["growth_velocity"]))
                params = json.loads(str(attrs.get("growth_velocity_parameters", "{}")))
            except ValueError as err:
                raise GridError(f"the run file's growth velocity cannot be read ({err})") from None
            return cls(box, TissueGrowth(tuple(laws), box.extent, params))
        try:
            laws = json.loads(str(attrs["growth"]))
            params = json.loads(str(attrs.get("growth_parameters", "{}")))
        except KeyError:
            raise GridError("the run file's growing domain has no growth law") from None
        except ValueError as err:
            raise GridError(f"the run file's growth law cannot be read ({err})") from None
        return cls(box, Growth(tuple(laws), params, ndim=box.ndim))

    def __repr__(self) -> str:
        return f"GrowingGrid({self.describe()})"


def default_growing(
    model: Any, cells: Sequence[int] | None = None, boundary: str | None = None, growth: object = None
) -> GrowingGrid:
    """A model's default box growing by its ``[domain] growth`` (or by ``growth`` given here:
    one law or one per axis; the model's parameters may appear in it).

    Raises
    ------
    GridError
        If neither the model nor the call gives a growth law, or the law is bad (:class:`Growth`).
    """
    box = default_grid(model, cells, boundary)
    defaults = getattr(model, "defaults", None) or model
    parameters = dict(getattr(model, "parameters", {}) or {})
    velocity = getattr(defaults, "growth_velocity", None)
    if growth is None and velocity is not None:
        laws = (velocity,) if isinstance(velocity, str) else tuple(velocity)
        return GrowingGrid(box, TissueGrowth(laws, box.extent, parameters))
    if growth is None:
        growth = getattr(defaults, "growth", None)
    if growth is None:
        raise GridError(f"model {getattr(model, 'name', '')!r} has no growth law: its [domain] gives no growth")
    laws = (growth,) if isinstance(growth, str) else tuple(growth)  # type: ignore[arg-type]
    return GrowingGrid(box, Growth(laws, parameters, ndim=box.ndim))
