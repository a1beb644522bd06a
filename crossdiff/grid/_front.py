r"""A free boundary: the high end of a 1D domain moves with a speed the solution sets.

The domain is ``[a, s(t)]`` with ``s(0)`` the box's high end and

.. math::

    s'(t) = V\big(t, u_i(s), \partial_x u_i(s)\big),

``V`` an expression of ``t``, the model's parameters, and for each species ``u`` its value ``u``
and gradient ``u_x`` at the front: the Stefan condition ``s' = −μ ∂_x u`` is ``"-mu*u_x"`` (Du &
Lin 2010, [DL10]). The cells stretch uniformly with ``s`` (front fixing, Landau's transformation,
[Cra84]) while the material does not move with them; how a model is discretised on it is
``docs/theory.md`` §7.6 and :class:`crossdiff.fv.FrontDiscretisation`.

A free boundary is one **domain kind** (:data:`crossdiff.grid.DOMAINS`, ``"front"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import GridError
from ._box import Grid, default_grid
from ._growth import MovingBox, parse_law

__all__ = ["Front", "FrontGrid", "default_front"]


@dataclass(frozen=True)
class Front:
    """The speed of a free boundary (module docstring).

    Parameters
    ----------
    speed : str
        ``s'`` as an expression of ``t``, the parameters, and each species' value ``u`` and gradient
        ``u_x`` at the front, e.g. ``"-mu*u_x"``.
    species : sequence of str
        The model's species (the names the speed may use).
    parameters : mapping, optional
        Values of the parameters the speed uses.

    Raises
    ------
    GridError
        A speed that is not an expression, or names anything else.
    """

    speed: str
    species: tuple[str, ...] = ()
    parameters: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.speed, str) or not self.speed.strip():
            raise GridError(f"the front speed must be an expression such as '-mu*u_x', got {self.speed!r}")
        object.__setattr__(self, "species", tuple(self.species))
        object.__setattr__(self, "parameters", {str(k): float(v) for k, v in dict(self.parameters).items()})
        self._expr  # noqa: B018  # parsed and checked now: one line if bad

    @cached_property
    def _expr(self) -> Any:
        allowed = {"t", *self.species, *(f"{n}_x" for n in self.species)}
        expr, unknown = parse_law(self.speed, self.parameters, allowed, "front speed")
        if unknown:
            names = ", ".join(f"{n}, {n}_x" for n in self.species) or "none"
            raise GridError(
                f"front speed {self.speed!r} names unknown symbols {', '.join(unknown)}; it may use t, the "
                f"parameters, and each species' value and gradient at the front ({names})"
            )
        return expr

    @cached_property
    def _numeric(self) -> Any:
        import sympy as sp

        symbols = [sp.Symbol("t"), *(sp.Symbol(n) for n in self.species), *(sp.Symbol(f"{n}_x") for n in self.species)]
        return sp.lambdify(symbols, self._expr, "numpy")

    def __call__(self, t: float, values: Sequence[float], gradients: Sequence[float]) -> float:
        """``s'`` at time ``t`` from the species' values and gradients at the front."""
        with np.errstate(all="ignore"):
            return float(self._numeric(float(t), *values, *gradients))

    def attributes(self) -> dict[str, object]:
        return {
            "front_speed": self.speed,
            "front_species": ",".join(self.species),
            "front_parameters": json.dumps(dict(self.parameters)),
        }


@dataclass(frozen=True)
class FrontGrid(MovingBox):
    """A 1D box ``[a, s(t)]`` whose high end moves with the speed :class:`Front` gives.

    The geometry (``cells``, ``extent``, …) is that of ``t = 0``, when the front is at the box's
    high end; :meth:`at_position` gives the cells with the front at ``s``.

    Raises
    ------
    GridError
        A box that is not 1D (radially symmetric and 2D fronts are not supported), or a periodic one.
    """

    front: Front = field(default=None)  # type: ignore[assignment]  # required: checked below

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.front, Front):
            raise GridError("a free boundary needs its speed (a crossdiff.grid.Front)")
        if self.box.ndim != 1:
            raise GridError(
                f"a free boundary moves the high end of a 1D domain; this box has {self.box.ndim} axes (radially "
                "symmetric and 2D fronts are not supported yet)"
            )
        if self.box.periodic[0]:
            raise GridError("a free boundary on a periodic axis: the front needs walls (boundary noflux)")

    @property
    def origin(self) -> float:
        """The fixed low end ``a``."""
        return self.box.extent[0][0]

    @property
    def initial_position(self) -> float:
        """``s(0)``: the box's high end."""
        return self.box.extent[0][1]

    def scale(self, s: float) -> float:
        """``ℓ = (s − a)/(s(0) − a)``: the cells' stretch with the front at ``s``."""
        return (s - self.origin) / (self.initial_position - self.origin)

    def at_position(self, s: float) -> Grid:
        """The cells with the front at ``s``."""
        return self.box.stretched([self.scale(s)])

    def describe(self) -> str:
        """``"100 on [0, 1], noflux, the high end moving at s' = -mu*u_x"``."""
        return f"{self.box.describe()}, the high end moving at s' = {self.front.speed}"

    def attributes(self) -> dict[str, object]:
        return {**self.box.attributes(), "grid": self.describe(), **self.front.attributes()}

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, object]) -> FrontGrid:
        box = Grid.from_attributes(attrs)
        try:
            speed = str(attrs["front_speed"])
            species = tuple(n for n in str(attrs.get("front_species", "")).split(",") if n)
            params = json.loads(str(attrs.get("front_parameters", "{}")))
        except KeyError:
            raise GridError("the run file's free boundary has no speed") from None
        except ValueError as err:
            raise GridError(f"the run file's front speed cannot be read ({err})") from None
        return cls(box, Front(speed, species, params))

    def with_parameters(self, **values: float) -> FrontGrid:
        params = dict(self.front.parameters)
        if not set(values) & set(params):
            return self
        params.update({k: float(v) for k, v in values.items() if k in params})
        return FrontGrid(self.box, Front(self.front.speed, self.front.species, params))

    def __repr__(self) -> str:
        return f"FrontGrid({self.describe()})"


def default_front(
    model: Any, cells: Sequence[int] | None = None, boundary: str | None = None, front: str | None = None
) -> FrontGrid:
    """A model's default box with its ``[domain] front`` speed (or the ``front`` speed given here)."""
    box = default_grid(model, cells, boundary)
    defaults = getattr(model, "defaults", None) or model
    if front is None:
        front = getattr(defaults, "front", None)
    if front is None:
        raise GridError(f"model {getattr(model, 'name', '')!r} has no free boundary: its [domain] gives no front")
    names = tuple(getattr(model, "species_names", ()))
    return FrontGrid(box, Front(front, names, dict(getattr(model, "parameters", {}) or {})))
