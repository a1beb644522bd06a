"""Structural validation of a :class:`KineticModel`: every name in every expression is known in
its context, tables fit the velocity set. (The Hilbert-expansion assumptions (13)-(17) are
checked by :mod:`crossdiff.derive`, which needs integrals.)"""

from __future__ import annotations

import sympy as sp

from ..errors import KineticModelError
from . import symbols as S
from ._operators import Relaxation
from ._velocity import Ball, DiscreteVelocities, Gaussian, Sphere

__all__ = ["validate", "allowed_symbols"]

_DENS, _V, _VS, _M, _MS, _F, _FS, _GRAD_V, _GRAD_VS, _SIGMA, _DEFS = (
    "densities",
    "v",
    "vs",
    "M",
    "Ms",
    "f",
    "fs",
    "grad_v",
    "grad_vs",
    "sigma",
    "definitions",
)

#: What each kind of expression may use, beyond the parameters and the constants R, d, absV.
CONTEXTS: dict[str, set[str]] = {
    "equilibrium": {_V},
    "relaxation rate": {_DENS, _DEFS},
    "turning kernel": {_DENS, _DEFS, _V, _VS, _M, _MS},
    "bias kernel": {_DENS, _DEFS, _V, _VS, _M, _MS, _F, _FS, _GRAD_V, _GRAD_VS, _SIGMA},
    "bias operator": {_DENS, _DEFS, _V, _M, _F, _GRAD_V, _SIGMA},
    "interaction": {_DENS, _DEFS, _V, _M, _F},
    "definition": {_DENS, _DEFS},
}


def allowed_symbols(model, context: str) -> set[sp.Symbol]:
    """The symbols an expression of kind ``context`` may use in ``model`` (``R`` on a sphere or
    a ball, ``absV`` on every space but ``R^d``)."""
    d = model.dim
    parts = CONTEXTS[context]
    out = {sp.Symbol(k) for k in model.parameters} | {S.DIM}
    if not isinstance(model.velocity, Gaussian):
        out.add(S.MEASURE)
    if isinstance(model.velocity, (Sphere, Ball)):
        out.add(S.RADIUS)
    names = model.species_names
    if _DENS in parts:
        out |= {sp.Symbol(n) for n in names}
    if _DEFS in parts:
        out |= {sp.Symbol(k) for k in model.definitions}
    if _V in parts:
        out |= set(S.velocity(d))
    if _VS in parts:
        out |= set(S.velocity_star(d))
    for n in names:
        if _M in parts:
            out.add(S.m_symbol(n))
        if _MS in parts:
            out.add(S.ms_symbol(n))
        if _F in parts:
            out.add(S.f_symbol(n))
        if _FS in parts:
            out.add(S.fs_symbol(n))
        if _GRAD_V in parts or _GRAD_VS in parts:
            out |= set(S.grad_symbols(n, d))
        if _GRAD_V in parts:
            out |= {sp.Symbol(f"v_grad_{n}"), sp.Symbol(f"v_grad_f_{n}")}
        if _GRAD_VS in parts:
            out |= {sp.Symbol(f"vs_grad_{n}"), sp.Symbol(f"vs_grad_fs_{n}")}
    if _SIGMA in parts:
        out |= {S.sigma_symbol(sp_.name) for sp_ in model.species if sp_.sigma is not None}
    return out


def check_symbols(model, expr: sp.Expr, context: str, where: str) -> None:
    """Raise :class:`KineticModelError` if ``expr`` uses a name not allowed in ``context``."""
    unknown = sorted(str(s) for s in expr.free_symbols - allowed_symbols(model, context))
    if unknown:
        name = unknown[0]
        hint = ""
        if name in {str(s) for s in S.V + S.VS}:
            hint = f" (velocity components in d = {model.dim}: {', '.join(str(s) for s in S.velocity(model.dim))})"
        elif name == "R" and not isinstance(model.velocity, (Sphere, Ball)):
            hint = " (R is only defined on a velocity sphere or ball)"
        elif name == "absV" and isinstance(model.velocity, Gaussian):
            hint = " (|V| is infinite on R^d: use M_<species>, the Maxwellian, instead of 1/absV)"
        elif name.startswith("sigma_"):
            hint = " (sigma_<species> is allowed in a bias, for a species with a relaxation turning operator)"
        raise KineticModelError(f"{where}: unknown or misplaced symbol {name!r} in the {context}{hint}")


def validate(model) -> None:
    """Check names, contexts and table sizes of a kinetic model (one-line errors)."""
    space = model.velocity
    if isinstance(space, (Sphere, Ball)):
        kind = "sphere" if isinstance(space, Sphere) else "ball"
        extra = space.radius.free_symbols - {sp.Symbol(k) for k in model.parameters}
        if extra:
            raise KineticModelError(f"velocity radius uses unknown symbol {sorted(map(str, extra))[0]!r}")
        if "R" in model.parameters and space.radius != S.RADIUS:
            raise KineticModelError(f"parameter 'R' clashes with the {kind} radius R; set radius = \"R\"")
    elif isinstance(space, Gaussian):
        extra = space.temperature.free_symbols - {sp.Symbol(k) for k in model.parameters}
        if extra:
            raise KineticModelError(f"the Maxwellian's temperature uses unknown symbol {sorted(map(str, extra))[0]!r}")
    else:
        for p in space.points + tuple((w,) for w in space.weights):
            for c in p:
                extra = c.free_symbols - {sp.Symbol(k) for k in model.parameters}
                if extra:
                    raise KineticModelError(f"discrete velocities use unknown symbol {sorted(map(str, extra))[0]!r}")
    for key, expr in model.definitions.items():
        check_symbols(model, expr, "definition", f"definition {key!r}")
    for s in model.species:
        where = f"species {s.name!r}"
        eq = s.equilibrium
        if eq.expr is not None:
            check_symbols(model, eq.expr, "equilibrium", where)
        if eq.values is not None:
            _check_table_size(space, len(eq.values), f"{where}: equilibrium has {len(eq.values)} values")
            for value in eq.values:
                check_symbols(model, value, "relaxation rate", where)
                if value.free_symbols & {sp.Symbol(n) for n in model.species_names}:
                    raise KineticModelError(f"{where}: the equilibrium cannot depend on the densities")
        turning = s.turning
        if isinstance(turning, Relaxation):
            check_symbols(model, turning.rate, "relaxation rate", where)
        elif turning.expr is not None:
            check_symbols(model, turning.expr, "turning kernel", where)
        else:
            _check_table_size(space, len(turning.matrix), f"{where}: turning matrix has {len(turning.matrix)} rows")
            for row in turning.matrix:
                for x in row:
                    check_symbols(model, x, "relaxation rate", where)
        if s.bias is not None:
            if s.bias.kernel is not None:
                check_symbols(model, s.bias.kernel, "bias kernel", where)
            else:
                check_symbols(model, s.bias.operator, "bias operator", where)
        check_symbols(model, s.interaction, "interaction", where)


def _check_table_size(space, n: int, what: str) -> None:
    if not isinstance(space, DiscreteVelocities) and not (isinstance(space, Sphere) and space.dim == 1):
        raise KineticModelError(f"{what}, but tables need a discrete velocity set")
    size = space.discrete().size
    if n != size:
        raise KineticModelError(f"{what}, but the velocity set has {size} velocities")
