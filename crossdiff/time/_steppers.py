"""Time steppers for a :class:`~crossdiff.time.SemiDiscrete` system ``dU/dt = E(t, U) + L U``.

* :class:`IMEX` (default): additive Runge–Kutta ARK4(3)6L[2]SA (or ARK3(2)4L[2]SA) of Kennedy &
  Carpenter (2003): ``L`` implicit (one solve of ``(I − γΔt L) X = B`` per implicit stage),
  ``E`` explicit; embedded error estimate; steps capped by the explicit part's stability limit.
* :class:`SSPRK3`: the explicit three-stage strong-stability-preserving Runge–Kutta method of
  Shu & Osher (1988); positivity preserving under its CFL condition.
* :class:`BDF`: SciPy's variable-order BDF on the whole right-hand side with the sparse Jacobian
  pattern of the stencil: a stiff method-of-lines reference.

A stepper is a small object (as diffrax's solvers): :meth:`Stepper.step` takes one step of a
given size from explicit state and returns the new state, its error estimate and the stepper's
own state; it knows nothing of save times, failure monitoring or output, which belong to the
loop (:func:`~crossdiff.time.integrate`), and nothing of step-size control, which belongs to a
:class:`~crossdiff.time.Controller` (:meth:`Stepper.step_controller` gives the one it runs with).
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Self, cast

import numpy as np

from ..errors import InputError, ModelError
from ..validation import positive_number
from ._controllers import (
    DEFAULT_RTOL_N2,
    Controller,
    FixedStep,
    IController,
    SolverControlled,
    default_atol,
    resolve_tolerances,
)
from ._kernels import ark_scatter
from ._registry import STEPPERS, stepper_from_name, stepper_options
from ._system import Capabilities, FiltersError, HasJacobianSparsity, SemiDiscrete, TimeDependentImplicit
from ._tableau import KENCARP3, KENCARP4, IMEXTableau

__all__ = ["Stepper", "StepResult", "IMEX", "SSPRK3", "BDF", "STEPPERS", "stepper_from_name", "stepper_options"]


@dataclass
class StepResult:
    """What one step returns.

    Attributes
    ----------
    U : ndarray
        The state at ``t + dt``.
    error : ndarray or None
        The embedded error estimate (same shape as ``U``), or None.
    state : object
        The stepper's own state for the next step.
    t : float or None
        The time reached, when the stepper chose a shorter step than offered (None: the whole
        step was taken).
    failure : str or None
        Why the stepper could not take a step (it then returns its last good state).
    nonfinite : bool
        The failure came from non-finite values (of the right-hand side or its Jacobian).
    """

    U: np.ndarray
    error: np.ndarray | None = None
    state: Any = None
    t: float | None = None
    failure: str | None = None
    nonfinite: bool = False


class Stepper(ABC):
    """Contract of a time stepper: :meth:`step`, plus optional stability limit and state.

    A stepper is an immutable option object (a frozen dataclass: options validated on
    construction, changed with :func:`dataclasses.replace`). :meth:`bind` gives the stepper for
    one system: options that depend on the system resolved and the optional capabilities the
    system offers (:class:`~crossdiff.time.Capabilities`) recorded, so that :meth:`step` never
    looks for them. :func:`~crossdiff.solve` and :func:`~crossdiff.time.integrate` bind (the
    latter only a stepper not bound yet); a step of an unbound stepper (a hand-written loop)
    reads the system's capabilities at that step.

    Attributes
    ----------
    name : str
        Short name.
    order : int
        Order of accuracy in time.
    error_order : int
        Order of the embedded solution used for error control.
    capabilities : Capabilities or None
        What the system bound to offers (None: not bound).
    """

    name: str = ""
    order: int = 0
    error_order: int = 1
    #: copies of the state a step holds at its peak (for memory estimates)
    work_states: int = 6
    #: what the system this stepper is bound to offers (set by :meth:`bind`; None: unbound)
    capabilities: Capabilities | None = None

    def describe(self) -> str:
        """One line naming the method and its options (stored in output files)."""
        return self.name

    def bind(self, system: SemiDiscrete) -> Stepper:
        """This stepper for ``system``: the options that depend on the system resolved (the
        default tolerance of :class:`IMEX` depends on the grid), so that what is described and
        stored is what runs, and the optional capabilities the system offers recorded
        (:attr:`capabilities`, read once here); :func:`~crossdiff.solve` calls it once the system
        is built. The stepper itself is unchanged (a copy is returned)."""
        return self._bound_to(system)

    def _bound_to(self, system: SemiDiscrete) -> Self:
        """A copy of this stepper with the capabilities of ``system`` recorded."""
        bound = copy.copy(self)
        object.__setattr__(bound, "capabilities", Capabilities.of(system))
        return bound

    def offered(self, system: SemiDiscrete) -> Capabilities:
        """The capabilities recorded by :meth:`bind`; for an unbound stepper those of ``system``."""
        return self.capabilities if self.capabilities is not None else Capabilities.of(system)

    def settings(self) -> tuple[str, dict[str, Any]] | None:
        """``(name, options)`` with ``stepper_from_name(name, **options)`` rebuilding this stepper
        (stored in output files, so that a resumed run continues with the same stepper); None if
        it cannot be rebuilt from its name (e.g. a user-defined stepper or controller)."""
        return None

    @abstractmethod
    def step_controller(self) -> Controller:
        """The step-size controller this stepper runs with unless the loop is given another
        (the one given to the stepper, else its default)."""

    def init(self, system: SemiDiscrete, t0: float, U0: np.ndarray) -> Any:
        """The stepper's own state before the first step (None for one-step methods)."""
        return None

    @abstractmethod
    def step(self, system: SemiDiscrete, t: float, U: np.ndarray, dt: float, state: Any) -> StepResult:
        """One step of size ``dt`` from ``(t, U)``; ``U`` is not modified."""

    def step_limit(self, system: SemiDiscrete, t: float, U: np.ndarray) -> float:
        """Largest step allowed by stability/positivity at this state (``inf`` if none)."""
        return math.inf

    def initial_step(self, system: SemiDiscrete, t: float, U: np.ndarray) -> float | None:
        """A natural first step, or None to let the controller estimate one."""
        return None


@dataclass(frozen=True, eq=False)
class IMEX(Stepper):
    """Implicit–explicit additive Runge–Kutta stepper (default).

    ``L`` (diffusion: constant, diagonal-tensor, or the frozen part of a nonlinear diffusion)
    is implicit, solved by DCT/FFT; ``E`` (taxis, reactions, the remaining diffusion) explicit.

    Parameters
    ----------
    rtol : float, optional
        Relative tolerance of the embedded error estimate: the error of each species' total
        relative to the total, and of every cell relative to ``atol + rtol min(|U|, R)``, ``R``
        the species' spatial range (max norm, so that local peaks are controlled; see
        :class:`~crossdiff.time.IController`). The global error is then proportional to
        ``rtol``: on keller-segel-logistic 64² at t = 4 (a pattern grown from 1 % noise),
        7–10 × ``rtol`` in the L1 norm over ``rtol`` = 1e-3…1e-7 (docs/numerics.md).

        Default: ``0.5 / N²`` with ``N`` the number of cells along the grid's longest axis
        (:func:`~crossdiff.time.default_rtol`; 1.2e-4 on 64², 3.1e-5 on 128², 7.6e-6 on 256²),
        resolved when the run starts. The space error of the second-order finite volumes
        falls like ``h² ∝ 1/N²`` and the time error like ``rtol``, so this keeps the time error
        below the space error under refinement; the constant is the largest for which it holds
        on every catalogue model's default grid and on the Keller–Segel benchmark on 256² and
        512² (``bench/tolerance.py``, docs/numerics.md "The default tolerance").
    atol : float, optional
        Absolute tolerance; default ``rtol / 100`` (:func:`~crossdiff.time.default_atol`:
        relative control down to 1 % of an O(1) density), so that setting ``rtol`` alone is
        never capped by a fixed ``atol``. Also the tolerance of round-off negative values.
    dt : float, optional
        Fixed step size (no error control); for convergence studies.
    cfl : float, optional
        Multiplier of the explicit transport limit of the system
        (:meth:`~crossdiff.time.SemiDiscrete.imex_step_limit`; for finite volumes
        ``Δt <= max(1/Σ_a max|a_a|/h_a, 2D/Σ_a max a_a²)``: the hyperbolic CFL condition where
        the cell Péclet number is large, the diffusive von Neumann bound where diffusion resolves
        the aggregates, so that the step does not shrink like ``h``). Default: 0.8 × the Courant
        number up to which the tableau's explicit part is stable on upwind transport
        (:attr:`IMEXTableau.upwind_courant`: 2.117 for ARK4(3)6L[2]SA, 1.832 for ARK3(2)4L[2]SA).
        On may-nowak-taxis, where the limit holds almost every step, the default 1.69 takes half
        the steps of 0.8 with the same result (difference 1e-7 against a rtol 1e-6 run).
        Resolved on construction: ``replace(stepper, tableau=KENCARP3)`` keeps the value of
        the former tableau, ``replace(stepper, tableau=KENCARP3, cfl=None)`` takes the new one's.
    tableau : IMEXTableau
        The additive Runge–Kutta scheme: :data:`KENCARP4` (default, fourth order, five implicit
        solves per step) or :data:`KENCARP3` (third order, three solves). On Keller–Segel with
        logistic growth (128², rtol 1e-4) the fourth-order pair halves the error (9.9e-3 against
        1.9e-2 at t = 4) in 7 % less time, and on cancer-invasion and oncolytic-virus it is 3×
        faster at rtol 1e-4 (measured with the error against ``|U|`` used before issue 9); where the step is held by the transport limit rather than
        by accuracy (nonlinear-singular, the late phase of may-nowak-taxis) the third-order pair
        is 1.3–1.5× cheaper.
    controller : Controller, optional
        Step-size controller; default :class:`IController` with ``rtol, atol`` (or
        :class:`FixedStep` when ``dt`` is given): :meth:`step_controller`.
    """

    rtol: float | None = None
    atol: float | None = None
    dt: float | None = None
    cfl: float | None = None
    tableau: IMEXTableau = KENCARP4
    controller: Controller | None = None

    def __post_init__(self) -> None:
        #: the tolerances given (None: the defaults; :meth:`tolerances` gives the values used)
        _set(self, "rtol", None if self.rtol is None else positive_number(self.rtol, "rtol"))
        _set(self, "atol", None if self.atol is None else positive_number(self.atol, "atol"))
        _set(self, "dt", None if self.dt is None else positive_number(self.dt, "dt"))
        tableau = self.tableau
        if not isinstance(tableau, IMEXTableau):
            raise InputError(f"tableau must be an IMEXTableau, got {type(tableau).__name__}")
        _set(self, "cfl", positive_number(0.8 * tableau.upwind_courant if self.cfl is None else self.cfl, "cfl"))
        if self.controller is not None and not isinstance(self.controller, Controller):
            raise InputError(f"controller must be a Controller, got {type(self.controller).__name__}")
        _set(self, "order", tableau.order)
        _set(self, "error_order", tableau.embedded_order)
        _set(self, "work_states", tableau.stages + 3)  # s − 1 stage sums, increment, error, state, work
        _set(self, "name", f"IMEX {tableau.name}")

    def tolerances(self, system: SemiDiscrete | None = None) -> tuple[float, float]:
        """``(rtol, atol)`` used on ``system`` (without one, the default ``rtol`` of 128 cells)."""
        return resolve_tolerances(self.rtol, self.atol, system)

    def bind(self, system: SemiDiscrete) -> IMEX:
        if self.rtol is not None or self.dt is not None or self.controller is not None:
            return self._bound_to(system)
        return replace(self, rtol=self.tolerances(system)[0])._bound_to(system)

    def describe(self) -> str:
        if self.dt:
            return f"{self.name} (dt={self.dt:g})"
        if self.rtol is not None:
            rtol, atol = self.tolerances()
            return f"{self.name} (rtol={rtol:g}, atol={atol:g})"
        atol_text = f"{self.atol:g}" if self.atol is not None else "rtol/100"
        return (
            f"{self.name} (rtol=default {DEFAULT_RTOL_N2:g}/N^2 with N cells along the longest axis, atol={atol_text})"
        )

    def settings(self) -> tuple[str, dict[str, Any]] | None:
        names = {KENCARP4.name: "imex", KENCARP3.name: "imex3"}
        if self.controller is not None or self.tableau.name not in names:
            return None
        options: dict[str, Any] = {"rtol": self.rtol, "atol": self.atol, "cfl": self.cfl}
        if self.dt is not None:
            options["dt"] = self.dt
        return names[self.tableau.name], options

    def step_controller(self) -> Controller:
        if self.controller is not None:
            return self.controller
        if self.dt is not None:
            return FixedStep(self.dt, clip_tolerance=self.tolerances()[1])
        return IController(self.rtol, self.atol)

    def step_limit(self, system, t, U):
        return cast(float, self.cfl) * system.imex_step_limit(t, U)  # resolved on construction

    def step(self, system, t, U, dt, state):
        """One ARK step, scattering each stage derivative into every sum that needs it as soon as
        it is known (:func:`~crossdiff.time.ark_scatter`): the later stage right-hand sides, the
        increment and the error estimate.

        Memory: 9 states for the six-stage pair. These are the ``s − 1`` right-hand sides, the
        increment, the error, the state and one work array. The right-hand side of stage ``j``
        is consumed by its solve. Its storage then holds the stage's implicit derivative
        ``L U_j = (U_j − rhs)/(γΔt)``, and, once that is scattered, the explicit derivative
        ``E(U_j)``.
        """
        tab = self.tableau
        s, g = tab.stages, tab.gamma
        algebraic = ~system.differential
        any_algebraic = bool(algebraic.any())
        # the step's coefficients, once per step (each stage only picks its row): row j of
        # c_implicit / c_explicit holds Δt a_ij for the later stages i >= 1, contiguous
        c_implicit = np.ascontiguousarray((dt * tab.implicit[1:]).T)
        c_explicit = np.ascontiguousarray((dt * tab.explicit[1:]).T)
        w_increment = dt * tab.b
        w_error = dt * (tab.b - tab.b_embedded)
        # acc[i - 1] = U + Δt Σ_{j<i} (a^E_ij E_j + a^I_ij L_j): the right-hand side of stage i >= 1
        acc = np.empty((s - 1,) + U.shape)
        acc[:] = U
        flat = acc.reshape(s - 1, -1)
        increment = np.zeros_like(U)
        error = np.zeros_like(U)
        inc_flat, err_flat = increment.reshape(-1), error.reshape(-1)

        timed = self.offered(system).implicit_at  # L(t): each stage's operator at its time
        for j in range(s):
            tj = t + tab.c[j] * dt
            if j == 0:
                stage = U
                work = cast(TimeDependentImplicit, system).implicit_at(t, U) if timed else system.implicit(U)
            else:
                work = acc[j - 1]
                if timed:
                    stage = cast(TimeDependentImplicit, system).solve_implicit_at(tj, work, g * dt)
                else:
                    stage = system.solve_implicit(work, g * dt)
                system.constrain(tj, stage)
                # L U_j = (U_j - rhs)/(γΔt), in the storage of the consumed right-hand side
                np.subtract(stage, work, out=work)
                work *= 1.0 / (g * dt)
                if any_algebraic:
                    work[algebraic] = 0.0
            k = work.reshape(-1)
            ark_scatter(flat, j, c_implicit[j], inc_flat, err_flat, w_increment[j], w_error[j], k)
            system.explicit(tj, stage, out=work)
            ark_scatter(flat, j, c_explicit[j], inc_flat, err_flat, w_increment[j], w_error[j], k)
            del work, k
            stage = None  # free the stage before the next solve allocates its successor
        increment += U
        U_new = increment
        system.constrain(t + dt, U_new)
        if self.offered(system).filter_error:
            # optional: a system with stiff components whose embedded estimate is meaningless
            # where Δt resolves no time scale of theirs filters it by (I − γΔt L)^{-1}
            # (Hairer & Wanner 1996, §IV.8; crossdiff.flow.FlowSystem.filter_error)
            error = cast(FiltersError, system).filter_error(error, g * dt)
        return StepResult(U_new, error)


@dataclass(frozen=True, eq=False)
class SSPRK3(Stepper):
    """Explicit SSP Runge–Kutta method of order 3 (Shu & Osher 1988).

    Step ``Δt = cfl · Δt_FE`` with ``Δt_FE`` the system's forward-Euler positivity limit
    (:meth:`~crossdiff.time.SemiDiscrete.explicit_step_limit`; for finite volumes
    ``1/(ρ_diff + 2 ρ_taxis)``, ``ρ_diff = 2 Σ_a D/h_a²``, ``ρ_taxis = Σ_a max|a_a|/h_a``), since
    the SSP coefficient is 1. Algebraic components are re-imposed after each stage.

    Parameters
    ----------
    cfl : float
        Fraction of the forward-Euler limit (default 0.9).
    dt : float, optional
        Fixed step size (for convergence studies); no CFL check.
    """

    name = "SSPRK3"
    order = 3
    #: tolerance of round-off negative values (see :class:`~crossdiff.time.Controller`)
    atol: ClassVar[float] = 1e-6

    cfl: float = 0.9
    dt: float | None = None

    def __post_init__(self) -> None:
        _set(self, "dt", None if self.dt is None else positive_number(self.dt, "dt"))
        cfl = positive_number(self.cfl, "cfl")
        if cfl > 1:
            raise InputError(f"cfl must be in (0, 1], got {cfl!r}")
        _set(self, "cfl", cfl)

    def describe(self) -> str:
        return f"SSPRK3 ({'dt=' + format(self.dt, 'g') if self.dt else f'cfl={self.cfl:g}'})"

    def settings(self) -> tuple[str, dict[str, Any]] | None:
        return "ssprk3", {"cfl": self.cfl, **({"dt": self.dt} if self.dt is not None else {})}

    def step_controller(self) -> Controller:
        if self.dt is not None:
            return FixedStep(self.dt, clip_tolerance=self.atol)
        return IController(atol=self.atol)  # no error estimate: the step is the CFL limit

    def initial_step(self, system, t, U):
        return self.step_limit(system, t, U)

    def step_limit(self, system, t, U):
        return self.cfl * system.explicit_step_limit(t, U)

    def step(self, system, t, U, dt, state):
        f = system.rhs
        U1 = system.constrain(t + dt, U + dt * f(t, U))
        U2 = system.constrain(t + 0.5 * dt, 0.75 * U + 0.25 * (U1 + dt * f(t + dt, U1)))
        U3 = system.constrain(t + dt, U / 3.0 + (2.0 / 3.0) * (U2 + dt * f(t + 0.5 * dt, U2)))
        return StepResult(U3)


@dataclass
class _BDFState:
    solver: Any = None
    last_step: float | None = None
    nlu: int = 0
    flags: dict[str, bool] = field(default_factory=lambda: {"nonfinite": False})


@dataclass(frozen=True, eq=False)
class BDF(Stepper):
    """SciPy's BDF (orders 1–5) on the full right-hand side, with the stencil's sparse Jacobian
    pattern (:func:`crossdiff.fv.jacobian_sparsity` for finite volumes, via the system's
    ``jacobian_sparsity()`` when it has one).

    A stiff method-of-lines reference: robust but slower; algebraic (quasi-stationary)
    components are not supported (use :class:`IMEX` or :class:`SSPRK3`). It chooses its own
    steps (:class:`SolverControlled`), restarting at every save time from the last step size.

    Parameters
    ----------
    rtol : float
        SciPy's relative tolerance (its own RMS norm, component-wise, not the pattern norm of
        :class:`IMEX`).
    atol : float, optional
        SciPy's absolute tolerance; default ``rtol / 100`` (the rule of
        :func:`~crossdiff.time.default_atol`; it was a fixed 1e-9).
    """

    order = 1  # variable order; the guaranteed minimum
    name = "BDF"
    #: history of up to 6 states, Newton work arrays, and the sparse Jacobian and its LU factors
    #: (about 13 nonzeros per unknown and species in 2D, with fill-in)
    work_states = 60

    rtol: float = 1e-6
    atol: float | None = None

    def __post_init__(self) -> None:
        _set(self, "rtol", positive_number(self.rtol, "rtol"))
        _set(self, "atol", default_atol(self.rtol, self.atol))

    def describe(self) -> str:
        return f"BDF (scipy, rtol={self.rtol:g}, atol={self.atol:g})"

    def settings(self) -> tuple[str, dict[str, Any]] | None:
        return "bdf", {"rtol": self.rtol, "atol": self.atol}

    def step_controller(self) -> Controller:
        return SolverControlled()

    def init(self, system, t0, U0):
        algebraic = np.flatnonzero(~np.asarray(system.differential, dtype=bool))
        if algebraic.size:
            names = system.layout.field_names
            which = ", ".join(names[i] if i < len(names) else f"component {i}" for i in algebraic)
            raise ModelError(
                f"the BDF stepper integrates differential equations only, and {which} "
                f"{'is an algebraic component' if algebraic.size == 1 else 'are algebraic components'} "
                "(solved from the others at every stage: a quasi-stationary species with tau = 0, or a "
                "computed flow's stream function); use IMEX or SSPRK3"
            )
        return _BDFState()

    def step(self, system, t, U, dt, state):
        from scipy.integrate import BDF as ScipyBDF  # imported here: ~40 MB only this stepper needs

        shape = U.shape
        t_bound = t + dt
        solver = state.solver
        if solver is None or solver.t != t or solver.t_bound != t_bound:
            sparsity = (
                cast(HasJacobianSparsity, system).jacobian_sparsity if self.offered(system).jacobian_sparsity else None
            )

            flags = {"nonfinite": False}

            def f(tt, y):
                rate = system.rhs(tt, y.reshape(shape)).ravel()
                if not flags["nonfinite"] and not np.all(np.isfinite(rate)):
                    flags["nonfinite"] = True  # at some trial state of Newton or the Jacobian
                return rate

            solver = ScipyBDF(
                f,
                t,
                U.ravel(),
                t_bound,
                rtol=self.rtol,
                atol=self.atol,
                jac_sparsity=sparsity() if sparsity is not None else None,
                first_step=state.last_step,
            )
            state = _BDFState(solver, state.last_step, 0, flags)
        try:
            message = solver.step()
        except (ArithmeticError, ValueError, RuntimeError) as err:  # e.g. SuperLU's "Factor is exactly singular"
            message = f"{type(err).__name__}: {err}"
        system.counters.n_implicit_solves += solver.nlu - state.nlu
        state.nlu = solver.nlu
        if solver.status == "failed" or message is not None:
            nonfinite = state.flags["nonfinite"]
            if nonfinite:
                message = (
                    f"{message}; the right-hand side is not finite near the solution (an expression undefined there?)"
                )
            return StepResult(U, state=state, t=t, failure=f"BDF failed: {message}", nonfinite=nonfinite)
        state.last_step = float(solver.t - solver.t_old)  # the next restart's first step
        finished = solver.status == "finished"
        return StepResult(solver.y.reshape(shape).copy(), state=state, t=None if finished else float(solver.t))


def _imex3(**options: Any) -> IMEX:
    """IMEX with the third-order pair ARK3(2)4L[2]SA (cheaper per step where stability, not
    accuracy, sets the step)."""
    return IMEX(tableau=KENCARP3, **options)


def _set(obj: object, name: str, value: object) -> None:
    """Set an attribute of a frozen dataclass while it is constructed (``__post_init__``)."""
    object.__setattr__(obj, name, value)
