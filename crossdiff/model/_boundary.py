r"""Boundary conditions of one species on the sides of the box.

Each side of a non-periodic axis (``x_low``, ``x_high``, ``y_low``, …) carries one condition
per species, with ``n`` the outward normal and ``D`` the species' diffusion:

* ``noflux`` (default): no flux of any kind through the side, ``−D ∂n u + (transport)·n = 0``;
* ``dirichlet``: ``u = g`` on the side, ``g`` an expression of ``x, y, z, t`` and the
  parameters; an advected species flowing in through the side carries ``g``;
* ``robin``: exchange with an outside value, ``∂n u = α (g − u)`` with a constant ``α ≥ 0``
  (e.g. oxygen through the air–water surface, Chertock et al., J. Fluid Mech. 694, 2012, §2).

Transport terms (taxis; advection except at a Dirichlet side) have no flux through the side.
A periodic axis has no sides: a condition there is an error (the discretisation checks it
against the grid). This module holds the description only; :mod:`crossdiff.fv` discretises it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from ..errors import ModelError
from ..expressions import to_expr
from ..registry import Registry

__all__ = ["SideCondition", "SIDE_CONDITIONS", "SIDES", "side_conditions"]

#: Conditions a species can have on a side (model files: ``boundary = { y_high = { dirichlet = "1" } }``).
SIDE_CONDITIONS: Registry[str] = Registry("species boundary condition")
SIDE_CONDITIONS.register("noflux", "noflux", "no flux through the side (default)")
SIDE_CONDITIONS.register("dirichlet", "dirichlet", "a given value u = g(x, t) on the side")
SIDE_CONDITIONS.register("robin", "robin", "exchange with the outside, du/dn = alpha (g - u)")

#: Side names, two per axis, and ``shape``: the boundary of a shape cut out of the box
#: (:class:`crossdiff.grid.Shape`, 2D shapes given by a condition; discretised by the cut cells).
SIDES = ("x_low", "x_high", "y_low", "y_high", "z_low", "z_high", "shape")


@dataclass(frozen=True)
class SideCondition:
    """The condition of one species on one side (module docstring).

    Parameters
    ----------
    kind : str
        ``"noflux"``, ``"dirichlet"`` or ``"robin"`` (:data:`SIDE_CONDITIONS`).
    value : expression
        ``g``: the Dirichlet value or the Robin outside value (``x, y, z, t``, parameters).
    alpha : expression
        The Robin exchange coefficient ``α`` (a constant ≥ 0; parameters allowed).
    """

    kind: str = "noflux"
    value: sp.Expr = sp.Integer(0)
    alpha: sp.Expr = sp.Integer(0)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in SIDE_CONDITIONS:
            raise ModelError(f"unknown boundary condition {self.kind!r}; choose one of: {', '.join(SIDE_CONDITIONS)}")
        object.__setattr__(self, "kind", self.kind.lower())
        object.__setattr__(self, "value", to_expr(self.value, f"{self.kind} boundary value"))
        object.__setattr__(self, "alpha", to_expr(self.alpha, "robin coefficient alpha"))
        if self.kind != "robin" and self.alpha != 0:
            raise ModelError(f"alpha is the coefficient of a robin condition, not of {self.kind}")
        if self.kind == "noflux" and self.value != 0:
            raise ModelError("a noflux side takes no value")

    def to_toml(self) -> object:
        """The side's entry in a model file (``"noflux"``, ``{dirichlet = ...}``, ``{robin = ..., value = ...}``)."""
        if self.kind == "noflux":
            return "noflux"
        if self.kind == "dirichlet":
            return {"dirichlet": _out(self.value)}
        return {"robin": _out(self.alpha), "value": _out(self.value)}

    def describe(self, name: str, latex: bool = False) -> str:
        """``u = g``, ``du/dn = alpha (g - u)`` or ``no flux``."""
        if self.kind == "dirichlet":
            return f"{name} = {sp.sstr(self.value)}" if not latex else f"{name} = {sp.latex(self.value)}"
        if self.kind == "robin":
            return f"d{name}/dn = {sp.sstr(self.alpha)}*({sp.sstr(self.value)} - {name})"
        return "no flux"


def _out(expr: sp.Expr) -> object:
    """A SymPy value as written to a model file: an int, a float or an expression string."""
    if expr.is_Integer:
        return int(expr)
    if expr.is_Float:
        return float(expr)
    return sp.sstr(expr)


def _side(entry: object, where: str) -> SideCondition:
    """One side from a model file or a Python value: a kind name, a table, or a SideCondition."""
    if isinstance(entry, SideCondition):
        return entry
    if isinstance(entry, str):
        if entry not in SIDE_CONDITIONS or entry != "noflux":
            raise ModelError(
                f"{where}: give {{ dirichlet = VALUE }} or {{ robin = ALPHA, value = VALUE }}, or 'noflux'"
            )
        return SideCondition()
    if not isinstance(entry, Mapping):
        raise ModelError(f"{where}: expected 'noflux' or a table such as {{ dirichlet = 1 }}, got {entry!r}")
    keys = set(entry)
    if keys == {"dirichlet"}:
        return SideCondition("dirichlet", _expr(entry["dirichlet"], where))
    if keys == {"robin", "value"}:
        return SideCondition("robin", _expr(entry["value"], where), _expr(entry["robin"], where))
    raise ModelError(
        f"{where}: expected {{ dirichlet = VALUE }} or {{ robin = ALPHA, value = VALUE }}, got keys {sorted(keys)}"
    )


def _expr(value: object, where: str) -> object:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, sp.Basic)):
        raise ModelError(f"{where}: a value must be a number or an expression string, got {value!r}")
    return value


def side_conditions(boundary: object, species: str) -> dict[str, SideCondition]:
    """The non-default sides of ``boundary`` (a mapping of side names to conditions)."""
    if boundary is None:
        return {}
    if not isinstance(boundary, Mapping):
        raise ModelError(
            f"boundary of species {species!r} must be a table of sides (x_low, y_high, ...), got {boundary!r}"
        )
    out = {}
    for side, entry in boundary.items():
        if side not in SIDES:
            raise ModelError(f"boundary of species {species!r}: unknown side {side!r}; sides: {', '.join(SIDES)}")
        cond = _side(entry, f"boundary {side} of species {species!r}")
        if cond.kind != "noflux":
            out[side] = cond
    return {s: out[s] for s in SIDES if s in out}
