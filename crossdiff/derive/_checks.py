"""Checks of the Hilbert-expansion assumptions before deriving (paper Assumptions 3.2-3.3).

* (16): ``∫ M_i dv = 1`` and ``∫ v M_i dv = 0``, ``M_i > 0``;
* (14), (15): detailed balance ``T^0(v, v*) M(v*) = T^0(v*, v) M(v)`` (``T`` = rate from ``v*``
  to ``v``), which makes ``L_i`` self-adjoint in ``L²(dv/M_i)`` (Lemma 1 i);
* (17): ``T^0(v, v*) ≥ σ_i M_i(v)`` with ``σ_i > 0`` for ``v ≠ v*`` (on a finite set the
  diagonal does not enter the operator).

(13), ``∫ 𝒯^1 dv = 0``, holds identically for a bias given by its kernel and is checked on the
derived ``𝒯^1[Mu](M)`` for a bias given as an operator (in :mod:`._hilbert`). Exact checks are
tried first; where SymPy cannot decide, the check is made at the default parameter values on
quadrature nodes and the note says so. A failed check raises :class:`AssumptionError` naming
the assumption and the species.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import AssumptionError, KineticModelError
from ..kinetic import DiscreteVelocities, Relaxation
from ._exact import calculus_for
from ._notes import CHECK, WARNING, Note
from ._numeric import QuadratureCalculus

__all__ = ["check_assumptions"]

_TOL = 1e-10


def _is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(expr) == 0


def _numeric(model, expr: sp.Expr) -> complex | None:
    value = model.expand(expr).xreplace(model.constants()).xreplace(model.parameter_symbols())
    try:
        return complex(value)
    except TypeError:
        return None


def _equilibrium(model, s: str, exact, quad: QuadratureCalculus, notes: list[Note]) -> None:
    m = exact.equilibrium(s)
    try:
        mass = exact.integrate(m)
        moments = [exact.integrate(exact.mul(exact.velocity(a), m)) for a in range(model.dim)]
        exact_ok = True
    except KineticModelError:
        m_num = quad.m[s]
        mass = sp.Float(float(quad.weights @ m_num))
        moments = [sp.Float(float(quad.weights @ (quad.points[:, a] * m_num))) for a in range(model.dim)]
        exact_ok = False
    for what, value, target in [("∫M dv = 1", mass, 1)] + [
        (f"∫v M dv = 0 (component {a + 1})", mom, 0) for a, mom in enumerate(moments)
    ]:
        if exact_ok and _is_zero(value - target):
            continue
        num = _numeric(model, value - target)
        if num is None or abs(num) > 1e-8:
            raise AssumptionError(f"species {s!r}: equilibrium violates (16): {what} fails ({sp.sstr(value)})")
        notes.append(Note(WARNING, f"{what} holds for the default parameters only (checked numerically)", s))
    if np.min(quad.m[s]) <= 0:
        raise AssumptionError(
            f"species {s!r}: equilibrium M must be positive (Assumption 3.3), min {np.min(quad.m[s]):g}"
        )
    notes.append(Note(CHECK, "equilibrium: ∫M = 1, ∫vM = 0, M > 0 (16)", s))


def _relaxation(model, s: str, rate: sp.Expr, notes: list[Note]) -> None:
    value = _numeric(model, rate)
    if value is not None:
        if value.imag != 0 or value.real <= 0:
            raise AssumptionError(
                f"species {s!r}: relaxation rate sigma = {sp.sstr(rate)} must be > 0 (lower bound (17))"
            )
        notes.append(
            Note(CHECK, f"relaxation T0 = sigma M(v): detailed balance (14) holds, sigma = {sp.sstr(rate)} > 0 (17)", s)
        )
        return
    positive = {sp.Symbol(n): sp.Symbol(n, positive=True) for n in model.species_names}
    expanded = model.expand(rate).xreplace(model.constants()).xreplace(model.parameter_symbols()).xreplace(positive)
    if expanded.is_positive:
        notes.append(Note(CHECK, f"relaxation rate sigma = {sp.sstr(rate)} > 0 for positive densities (17)", s))
    else:
        notes.append(
            Note(
                WARNING,
                f"relaxation rate sigma = {sp.sstr(rate)} depends on the densities and must stay "
                "> 0 (Assumption 3.3, (17)); not provable symbolically",
                s,
            )
        )


def _kernel(model, s: str, quad: QuadratureCalculus, strict: bool, notes: list[Note]) -> None:
    turning = model[s].turning
    kernel = quad.kernel(turning.matrix if turning.matrix is not None else turning.expr, s)
    if set(kernel) != {sp.Integer(1)}:
        notes.append(Note(WARNING, "T0 depends on the densities: (14), (17) not checked", s))
        return
    table = kernel[sp.Integer(1)]
    m = quad.m[s]
    flux = table * m[None, :]  # T(v, v*) M(v*)
    scale = max(np.abs(flux).max(), 1e-300)
    if np.abs(flux - flux.T).max() > 1e-9 * scale:
        msg = f"species {s!r}: T0 violates detailed balance (14) T(v, v*) M(v*) = T(v*, v) M(v)"
        if strict:
            raise AssumptionError(msg + "; pass strict=False to use the direct form of alpha")
        notes.append(
            Note(
                WARNING,
                msg + ": L is not self-adjoint, alpha from the direct form -∫ v L^{-1}(T1[Mu](M)) dv, not (36)",
                s,
            )
        )
    off = ~np.eye(len(m), dtype=bool)
    ratio = (table / m[:, None])[off]
    if ratio.min() <= 0:
        raise AssumptionError(
            f"species {s!r}: T0 violates the lower bound (17) T(v, v*) >= sigma M(v) > 0 (min T/M = {ratio.min():g})"
        )
    where = "on the velocity set" if model.velocity.is_discrete else "on quadrature nodes, default parameters"
    notes.append(
        Note(CHECK, f"kernel T0: detailed balance (14) and lower bound (17), sigma = {ratio.min():.6g} ({where})", s)
    )


#: The numerical checks' quadrature: resolution 24 or the largest below it with at most this many nodes.
_CHECK_NODES = 1200


def _check_nodes(space) -> int:
    """The resolution of the checks' quadrature (0 on a discrete set: its own points)."""
    if isinstance(space, DiscreteVelocities):
        return 0
    return next(n for n in range(24, 1, -1) if n == 2 or space.node_count(n) <= _CHECK_NODES)


def check_assumptions(model, strict: bool = True) -> list[Note]:
    """Check (14)-(17) for every species; returns the notes, raises :class:`AssumptionError`."""
    notes: list[Note] = []
    exact = calculus_for(model)
    quad = QuadratureCalculus(model, nodes=_check_nodes(model.velocity))
    for species in model.species:
        s = species.name
        _equilibrium(model, s, exact, quad, notes)
        if isinstance(species.turning, Relaxation):
            _relaxation(model, s, species.turning.rate, notes)
        else:
            _kernel(model, s, quad, strict, notes)
    return notes
