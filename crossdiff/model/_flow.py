r"""The flow that carries advected species: ``∂t u_i + ∇·(u_i 𝐮) = …`` with ``∇·𝐮 = 0``.

A model's ``flow`` (the ``[flow]`` table of a model file) is, for now, **prescribed**: a velocity
field ``𝐮(x, y, z, t)`` given by one expression per axis, or, in two dimensions, a stream function
``ψ(x, y, t)`` with

.. math::

    \mathbf{u} = \nabla^\perp\psi = (-\partial_y\psi,\ \partial_x\psi), \qquad
    \omega = \partial_x u_y - \partial_y u_x = \Delta\psi

(the convention of Majda & Bertozzi, *Vorticity and Incompressible Flow*, 2002, §2.1). A stream
function gives a flow that is divergence-free on the grid exactly (face velocities are
differences of ψ at the cell corners); a velocity is checked divergence-free on the grid by the
discretisation (:class:`crossdiff.flow.PrescribedFlow`). Species opt in with ``advected = true``.

This module holds the description only (expressions); the numbers come from :mod:`crossdiff.flow`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..errors import ModelError
from ..expressions import to_expr
from ..registry import Registry
from ._boundary import SIDES, _out

__all__ = ["Flow", "FLOWS", "WALLS", "FLOW_FIELDS"]


#: Kinds of flow a model can have (model files' ``[flow] kind``).
FLOWS: Registry[str] = Registry("flow")
FLOWS.register(
    "prescribed", "prescribed", "a given velocity of x, y, z, t, or a 2D stream function (u = perp grad psi)"
)
FLOWS.register("stokes", "stokes", "2D steady (creeping) Stokes flow driven by the densities: grad p = eta lap u + f")
FLOWS.register(
    "unsteady-stokes",
    "unsteady-stokes",
    "2D unsteady Stokes flow driven by the densities: rho u_t + grad p = eta lap u + f",
)
FLOWS.register(
    "navier-stokes", "navier-stokes", "2D incompressible Navier-Stokes (Boussinesq) flow driven by the densities"
)

#: Wall kinds of a computed flow.
WALLS = ("no-slip", "free-slip")
#: Names of the flow's output fields (no species may have them).
FLOW_FIELDS = ("vorticity", "stream", "u_x", "u_y")


def _pairs(value: object, what: str) -> tuple[tuple[str, object], ...]:
    """A mapping (or pairs) as a tuple of ``(name, value)`` pairs (hashable, picklable)."""
    if isinstance(value, Mapping):
        return tuple((str(k), v) for k, v in value.items())
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return value
    raise ModelError(f"flow {what} must be a table of names to values, got {value!r}")


@dataclass(frozen=True)
class Flow:
    r"""The incompressible flow ``𝐮`` that carries the advected species.

    **Prescribed** (``kind = "prescribed"``, the module docstring): ``velocity`` or ``stream``.

    **Computed** (``kind = "stokes"``, ``"unsteady-stokes"`` or ``"navier-stokes"``, 2D,
    :class:`crossdiff.flow.FlowSystem`):

    .. math::

        \rho(\partial_t\mathbf{u} + [\mathbf{u}\cdot\nabla\mathbf{u}]) + \nabla p
            = \eta\,\Delta\mathbf{u} - \sum_i g_i u_i \nabla\Phi, \qquad \nabla\cdot\mathbf{u} = 0,

    with ``Φ = y`` (gravity along ``−y``: a density with ``g_i > 0`` sinks), the bracket only for
    Navier–Stokes, and no ``ρ`` term at all for (steady, creeping) Stokes, the limit of a large
    Schmidt number ``ν/D`` where the flow follows the densities at once; walls no-slip (default) or free-slip, a no-slip wall may move along itself
    (``lid``); periodic axes of the grid have no walls. Solved for the vorticity
    ``ω = ∂x u_y − ∂y u_x`` and the stream function ``Δψ = ω``.

    Parameters
    ----------
    kind : str
        A name in :data:`FLOWS`.
    velocity : sequence of expressions
        Prescribed: ``(u_x, u_y[, u_z])``, expressions of ``x, y, z, t`` and the parameters; or
    stream : expression
        Prescribed: ``ψ(x, y, t)`` in two dimensions, ``𝐮 = (−∂_y ψ, ∂_x ψ)``.
    density, viscosity : expression
        Computed: ``ρ > 0`` and ``η > 0`` (constants; parameters allowed).
    buoyancy : mapping of species name to expression
        Computed: ``g_i``, the weight per unit density of species ``i`` (constants).
    walls : mapping of side to ``"no-slip"`` or ``"free-slip"``
        Computed: the kind of each wall side (``x_low``, …); unnamed walls are no-slip.
    lid : mapping of side to expression
        Computed: the tangential velocity of a no-slip wall (along +x on y walls, +y on x walls).
    initial : expression
        Computed: the initial vorticity, an expression of ``x, y`` and the parameters (default 0).

    Examples
    --------
    >>> Flow(stream="(x**2 + y**2)/2").describe()
    ['vel = (-d psi/dy, d psi/dx), psi = x**2/2 + y**2/2']
    """

    kind: str = "prescribed"
    velocity: tuple[sp.Expr, ...] = ()
    stream: sp.Expr | None = None
    density: sp.Expr = sp.Integer(1)
    viscosity: sp.Expr = sp.Integer(1)
    buoyancy: Any = ()
    walls: Any = ()
    lid: Any = ()
    initial: sp.Expr = sp.Integer(0)

    @property
    def computed(self) -> bool:
        """Whether the flow is solved for (Stokes, Navier–Stokes), not prescribed."""
        return self.kind != "prescribed"

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in FLOWS:
            raise ModelError(f"unknown flow kind {self.kind!r}; choose one of: {', '.join(FLOWS)}")
        object.__setattr__(self, "kind", self.kind.lower())
        if self.computed:
            self._check_computed()
            return
        given = [k for k in ("buoyancy", "walls", "lid") if getattr(self, k)]
        given += [k for k in ("density", "viscosity") if getattr(self, k) != 1]
        if self.initial != 0:
            given.append("initial")
        if given:
            raise ModelError(f"a prescribed flow takes velocity or stream, not {given[0]} (a computed flow's key)")
        velocity = self.velocity
        if isinstance(velocity, (str, sp.Basic)) or not isinstance(velocity, Sequence):
            raise ModelError(f"flow velocity must be a list of expressions, one per axis, got {velocity!r}")
        if velocity and self.stream is not None:
            raise ModelError("a flow is given by its velocity or by its stream function, not both")
        if not velocity and self.stream is None:
            raise ModelError("a prescribed flow needs a velocity = [u_x, u_y, ...] or a stream function")
        if velocity and not 1 <= len(velocity) <= 3:
            raise ModelError(f"flow velocity has 1 to 3 components, got {len(velocity)}")
        axes = "xyz"
        object.__setattr__(
            self,
            "velocity",
            tuple(to_expr(v, f"flow velocity u_{axes[a]}") for a, v in enumerate(velocity)),
        )
        if self.stream is not None:
            object.__setattr__(self, "stream", to_expr(self.stream, "flow stream function"))

    def _check_computed(self) -> None:
        if self.velocity or self.stream is not None:
            raise ModelError(f"a {self.kind} flow is computed: it takes no velocity or stream function")
        for key in ("density", "viscosity", "initial"):
            object.__setattr__(self, key, to_expr(getattr(self, key), f"flow {key}"))
        buoyancy = _pairs(self.buoyancy, "buoyancy")
        object.__setattr__(self, "buoyancy", tuple((k, to_expr(v, f"flow buoyancy of {k!r}")) for k, v in buoyancy))
        walls = _pairs(self.walls, "walls")
        for side, kind in walls:
            if side not in SIDES:
                raise ModelError(f"flow walls: unknown side {side!r}; sides: {', '.join(SIDES)}")
            if kind not in WALLS:
                raise ModelError(f"flow wall {side}: {kind!r} is not one of {', '.join(WALLS)}")
        object.__setattr__(self, "walls", walls)
        lid = _pairs(self.lid, "lid")
        kinds = dict(walls)
        for side, _ in lid:
            if side not in SIDES:
                raise ModelError(f"flow lid: unknown side {side!r}; sides: {', '.join(SIDES)}")
            if kinds.get(side, "no-slip") != "no-slip":
                raise ModelError(f"flow lid {side}: a moving wall must be no-slip")
        object.__setattr__(self, "lid", tuple((k, to_expr(v, f"flow lid velocity of {k}")) for k, v in lid))

    def wall(self, side: str) -> str:
        """The kind of the wall ``side`` of a computed flow (default no-slip)."""
        return dict(self.walls).get(side, "no-slip")

    def expressions(self) -> dict[str, sp.Expr]:
        """Every expression of the flow, keyed by what it is (for validation)."""
        out = {f"flow velocity u_{'xyz'[a]}": v for a, v in enumerate(self.velocity)}
        if self.stream is not None:
            out["flow stream function"] = self.stream
        if self.computed:
            out["flow density"] = self.density
            out["flow viscosity"] = self.viscosity
            out.update({f"flow buoyancy of {k!r}": v for k, v in self.buoyancy})
            out.update({f"flow lid velocity of {k}": v for k, v in self.lid})
        return out

    def describe(self, latex: bool = False) -> list[str]:
        """The flow's equations as text (or LaTeX)."""
        from ._show import to_latex

        if self.computed:
            return self._describe_computed(latex)
        if self.stream is not None:
            if latex:
                return [
                    rf"\mathbf{{u}} = \nabla^\perp\psi = (-\partial_y\psi, \partial_x\psi),\quad \psi = {to_latex(self.stream)}"
                ]
            return [f"vel = (-d psi/dy, d psi/dx), psi = {sp.sstr(self.stream)}"]
        if latex:
            return [r"\mathbf{u} = \left(" + ", ".join(to_latex(v) for v in self.velocity) + r"\right)"]
        return ["vel = (" + ", ".join(sp.sstr(v) for v in self.velocity) + ")"]

    def _describe_computed(self, latex: bool) -> list[str]:
        from ._show import to_latex

        fmt = to_latex if latex else sp.sstr
        force = " + ".join(f"{fmt(g)}*{k}" for k, g in self.buoyancy) or "0"
        if latex:
            conv = r" + \mathbf{u}\cdot\nabla\mathbf{u}" if self.kind == "navier-stokes" else ""
            force_l = " + ".join(f"{fmt(g)}\\,{k}" for k, g in self.buoyancy) or "0"
            inertia_l = (
                "" if self.kind == "stokes" else rf"{fmt(self.density)}\left(\partial_t \mathbf{{u}}{conv}\right) + "
            )
            return [
                rf"{inertia_l}\nabla p = "
                rf"{fmt(self.viscosity)}\,\Delta \mathbf{{u}} - \left({force_l}\right)\mathbf{{e}}_y,"
                r"\quad \nabla\cdot\mathbf{u} = 0"
            ]
        conv = " + vel.grad(vel)" if self.kind == "navier-stokes" else ""
        inertia = "" if self.kind == "stokes" else f"{fmt(self.density)}*(d vel/dt{conv}) + "
        lines = [f"{inertia}grad(p) = {fmt(self.viscosity)}*lap(vel) - ({force})*e_y, div(vel) = 0"]
        walls = ", ".join(f"{side} {kind}" for side, kind in self.walls)
        lids = ", ".join(f"{side} moves at {fmt(v)}" for side, v in self.lid)
        lines.append("walls: " + ", ".join(p for p in ("no-slip unless named", walls, lids) if p))
        return lines

    def to_dict(self) -> dict[str, object]:
        """The ``[flow]`` table of a model file."""
        out: dict[str, object] = {"kind": self.kind}
        if self.computed:
            out["density"] = _out(self.density)
            out["viscosity"] = _out(self.viscosity)
            if self.buoyancy:
                out["buoyancy"] = {k: _out(v) for k, v in self.buoyancy}
            if self.walls:
                out["walls"] = dict(self.walls)
            if self.lid:
                out["lid"] = {k: _out(v) for k, v in self.lid}
            if self.initial != 0:
                out["initial"] = _out(self.initial)
            return out
        if self.stream is not None:
            out["stream"] = sp.sstr(self.stream)
        else:
            out["velocity"] = [sp.sstr(v) for v in self.velocity]
        return out
