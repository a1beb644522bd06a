"""A globally stiffly accurate IMEX Runge–Kutta stepper (ARS(4,4,3)) for asymptotic-preserving schemes.

The additive Runge–Kutta pairs of :class:`~crossdiff.time.IMEX` share one weight vector ``b``
between the explicit and the implicit part and advance with ``U + Δt Σ b_j (E_j + L_j)``. For
kinetic equations in the diffusive scaling the explicit part holds terms of size ``1/ε`` (the
transport of the micro part), so that combination is not a discretisation of the limit unless
the new state *is* the last stage, whose micro part the stiff implicit solve has just projected
onto the local equilibrium. Schemes with that property are *globally stiffly accurate* (GSA):
the last rows of both tableaux are their weights, and ``U^{n+1} = U_s``. Boscarino, Pareschi
& Russo, SIAM J. Sci. Comput. 35 (2013) A22–A51, show that GSA IMEX schemes of type CK whose
implicit part has a zero first column (no ``L U^n``, which a stiff relaxation evaluates only to
round-off over ``ε²``) are asymptotic-preserving in the diffusive limit.

:data:`ARS443` is the four-stage, third-order L-stable scheme of Ascher, Ruuth & Spiteri,
Appl. Numer. Math. 25 (1997) 151–167, §2.8, with both tableaux padded to five stages (the
explicit first stage).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from ..errors import InputError
from ..threads import numba_threads
from ..validation import positive_number
from ._controllers import Controller, FixedStep, IController, resolve_tolerances
from ._kernels import gsa_scatter, gsa_start
from ._steppers import Stepper, StepResult, _set
from ._system import HasErrorComponents, TimeDependentImplicit
from ._tableau import ARS443, GSATableau

__all__ = ["GSAIMEX"]


@dataclass(frozen=True, eq=False)
class GSAIMEX(Stepper):
    """Globally stiffly accurate IMEX Runge–Kutta stepper (default :data:`ARS443`), for
    asymptotic-preserving kinetic discretisations.

    Stage ``i`` solves ``(I − γΔt L) U_i = U + Δt Σ_{j<i} (a^E_ij E(U_j) + a^I_ij L U_j)`` with
    :meth:`~crossdiff.time.SemiDiscrete.solve_implicit`; the new state is the last stage. ``L U^n``
    is never used (zero first implicit column). The implicit part may be nonlinear where the
    system's :meth:`solve_implicit` solves it exactly (e.g. block-triangular: densities first,
    then the micro part given the densities).

    Steps are at most ``cfl ×`` the system's explicit stability limit
    (:meth:`~crossdiff.time.SemiDiscrete.imex_step_limit`) and ``dt_max``. Error control: the
    stiff components of an AP system (the micro part) have no meaningful embedded estimate, so
    only the components a system lists in its optional boolean array ``error_components``
    (:class:`~crossdiff.time.HasErrorComponents`; the densities of a kinetic system) are controlled, against the second-order midpoint solution
    ``U + Δt (E_2 + L_2)`` of the second stage (``c_2 = 1/2``) by
    :class:`~crossdiff.time.IController` with ``rtol, atol``. Without that attribute there is
    no estimate and the steps are the stability limit.

    Parameters
    ----------
    rtol, atol : float, optional
        Tolerances of the error control (defaults as :class:`~crossdiff.time.IMEX`:
        ``rtol = 0.5/N²``, ``atol = rtol/100``, also the tolerance of round-off negatives).
    cfl : float
        Multiple of the stability limit (default 0.5).
    dt : float, optional
        Fixed step (no limit, no error control).
    dt_max : float, optional
        Largest step.
    """

    order = 3
    error_order = 2
    work_states = 8

    rtol: float | None = None
    atol: float | None = None
    cfl: float = 0.5
    dt: float | None = None
    dt_max: float | None = None
    tableau: GSATableau = ARS443

    def __post_init__(self) -> None:
        for name in ("rtol", "atol", "dt", "dt_max"):
            value = getattr(self, name)
            _set(self, name, None if value is None else positive_number(value, name))
        _set(self, "cfl", positive_number(self.cfl, "cfl"))
        if not isinstance(self.tableau, GSATableau):
            raise InputError(f"tableau must be a GSATableau, got {type(self.tableau).__name__}")
        _set(self, "order", self.tableau.order)
        _set(self, "name", f"GSA-IMEX {self.tableau.name}")

    def describe(self) -> str:
        if self.dt:
            return f"{self.name} (dt={self.dt:g})"
        if self.rtol is not None:
            cap = f", rtol={self.rtol:g}" + (f", dt_max={self.dt_max:g}" if self.dt_max else "")
            return f"{self.name} (cfl={self.cfl:g}{cap})"
        cap = f", dt_max={self.dt_max:g}" if self.dt_max else ""
        return f"{self.name} (cfl={self.cfl:g}{cap})"

    def settings(self) -> tuple[str, dict[str, Any]] | None:
        if self.tableau is not ARS443:
            return None
        options: dict[str, Any] = {"rtol": self.rtol, "atol": self.atol, "cfl": self.cfl}
        if self.dt is not None:
            options["dt"] = self.dt
        if self.dt_max is not None:
            options["dt_max"] = self.dt_max
        return "ars443", options

    def step_controller(self) -> Controller:
        if self.dt is not None:
            return FixedStep(self.dt, clip_tolerance=resolve_tolerances(self.rtol, self.atol, None)[1])
        return IController(self.rtol, self.atol)

    def initial_step(self, system, t, U):
        """The forward-Euler limit of the whole right-hand side (for a kinetic system the
        relaxation time ``ε^{p+1}/σ``): the first steps resolve an initial layer of the stiff
        part, then grow geometrically (no error estimate) up to :meth:`step_limit`."""
        first = max(min(system.explicit_step_limit(t, U), self.step_limit(system, t, U)), 1e-9 * max(1.0, abs(t)))
        return first if np.isfinite(first) else None

    def step_limit(self, system, t, U):
        limit = self.cfl * system.imex_step_limit(t, U)
        return min(limit, self.dt_max) if self.dt_max else limit

    def step(self, system, t, U, dt, state):
        """One step, scattering each stage's two derivatives into every later stage's right-hand
        side as soon as they are known, in one pass (:func:`~crossdiff.time.gsa_scatter`):
        ``acc[i − 1] = U + Δt Σ_{j<i} (a^E_ij E_j + a^I_ij L_j)``, with ``L_j = (U_j − rhs_j)/(γΔt)``
        formed on the fly from the stage and its right-hand side (never stored).

        The work arrays (the ``s − 1`` right-hand sides, the stage, the explicit derivative) are
        the stepper's own state, kept from step to step, and the system solves every stage but
        the last into one of them (the ``out`` of :meth:`~crossdiff.time.SemiDiscrete.solve_implicit`):
        a state-sized array allocated afresh costs its page faults again (first touch, as much as
        a kernel's pass over a large kinetic state). The new state goes into a state this stepper
        returned before and nothing refers to any more (:func:`_released`), else a fresh array
        (the states alternate between two arrays). Memory: ``s + 1`` work states, ``U`` and the
        new state (8 states for ARS(4,4,3)).
        """
        tab = self.tableau
        s, g = tab.stages, tab.gamma
        a_e, a_i = tab.explicit, tab.implicit
        offers_components = self.offered(system).error_components
        timed = self.offered(system).implicit_at
        c = np.asarray(cast(HasErrorComponents, system).error_components, dtype=bool) if offers_components else None
        work_states, spares = state if isinstance(state, tuple) else (None, [])
        if not isinstance(work_states, np.ndarray) or work_states.shape != (s + 1,) + U.shape:
            work_states, spares = np.zeros((s + 1,) + U.shape), []
        acc, stage_buffer, E = work_states[: s - 1], work_states[s - 1], work_states[s]
        flat = acc.reshape(s - 1, -1)
        # stage 0 is explicit only (the implicit tableau's first column is zero)
        system.explicit(t, U, out=E)
        numba_threads(flat.size)  # the stage sums spread their blocks over these (crossdiff.threads)
        gsa_start(flat, U.reshape(-1), E.reshape(-1), dt * a_e[1:, 0])
        midpoint = None  # the controlled part of U + Δt (E_1 + L_1) (embedded second-order solution)
        stage = U
        for i in range(1, s):
            ti = t + tab.c[i] * dt
            rhs = acc[i - 1]
            last = i == s - 1
            target = _released(spares) if last else stage_buffer
            if timed:  # L(t): the stage's operator at its time
                stage = cast(TimeDependentImplicit, system).solve_implicit_at(ti, rhs, g * dt, out=target)
            else:
                stage = system.solve_implicit(rhs, g * dt, out=target)
            system.constrain(ti, stage)
            if last:  # the new state; its derivatives have weight 0
                break
            system.explicit(ti, stage, out=E)
            if i == 1 and c is not None:
                midpoint = U[c] + dt * ((stage[c] - rhs[c]) / (g * dt) + E[c])
            numba_threads(flat.size)
            gsa_scatter(
                flat,
                i,
                stage.reshape(-1),
                rhs.reshape(-1),
                1.0 / (g * dt),
                dt * a_i[1:, i],
                E.reshape(-1),
                dt * a_e[1:, i],
            )
        U_new = stage
        del target, stage, rhs
        # the new states handed out: the one before last is free again once the loop has moved on
        spares = [a for a in spares if a is not U_new][-1:] + [U_new]
        if c is None:
            return StepResult(U_new, state=(work_states, spares))
        # zeros outside the controlled components: untouched (calloc'd) pages cost no memory,
        # and the controller reads only the controlled components
        error = np.zeros(U_new.shape)
        error[c] = U_new[c] - midpoint
        return StepResult(U_new, error, state=(work_states, spares))


def _released(spares: list[np.ndarray]) -> np.ndarray | None:
    """A state this stepper returned earlier that nothing else refers to any more (the loop has
    moved on, no observer or view kept it), to solve the new state into: a fresh state-sized
    array costs its page faults (on 256² × 32 kinetic states about a tenth of a step). Only the
    list's reference, the loop variable's and the call's argument may remain (CPython's
    reference count); else None, and the new state is a fresh array."""
    for candidate in spares:
        if sys.getrefcount(candidate) <= 3:
            return candidate
    return None
