"""The one integration loop: :func:`integrate` a :class:`SemiDiscrete` system with a stepper.

Every run of crossdiff, at any scale, goes through :func:`integrate`: it owns the step/save loop,
asks the controller for steps, keeps densities non-negative, and hands accepted steps and saved
frames to the observers (frame writer, progress bar, failure monitor). Nothing else loops in time.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from ..validation import finite_number, positive_number
from ._controllers import Controller, ControllerState
from ._events import FailureReport, Stats, Status
from ._observers import Observer
from ._steppers import Stepper, StepResult
from ._system import SemiDiscrete

__all__ = ["SaveAt", "Integration", "integrate", "clip_negative"]

#: relative distance to a save time below which a step is taken to have landed on it
_SNAP = 64 * float(np.finfo(float).eps)

#: relative tolerance within which a save time counts as reached
_TIME_TOL = 1e-9


@dataclass(frozen=True)
class SaveAt:
    """When to save: every ``every`` time units from the start, and at the end time.

    Save times are generated lazily (a run with ``every = 1e-9`` up to ``t = 1`` never holds a
    list of 10⁹ times). The last interval is shortened to end exactly at ``t_end``.

    Parameters
    ----------
    every : float
        Interval between saved frames.
    initial : bool
        Also save the initial state (not when continuing a run that has saved it).
    origin : float, optional
        The time the save times count from, ``origin + k every`` (default: the start time). A
        resumed run counts from its first start, so that its frames fall, to the last bit, where
        those of the run without interruption do.
    """

    every: float
    initial: bool = True
    origin: float | None = None

    def __post_init__(self) -> None:
        positive_number(self.every, "save interval")
        if self.origin is not None:
            finite_number(self.origin, "save origin")

    def times(self, t0: float, t_end: float) -> Iterator[float]:
        """The save times after ``t0``, ending exactly at ``t_end``."""
        tol = _TIME_TOL * max(1.0, abs(t_end))
        base = t0 if self.origin is None else self.origin
        n = int(math.floor((t_end - base) / self.every + _TIME_TOL))
        first = 1 if self.origin is None else max(1, int(math.floor((t0 - base) / self.every + _TIME_TOL)) + 1)
        last = t0
        for k in range(first, n + 1):
            last = base + k * self.every
            if k == n and abs(last - t_end) < tol:
                yield t_end
                return
            yield last
        if n < first or t_end - last > tol:
            yield t_end


@dataclass
class Integration:
    """Outcome of :func:`integrate`: final time and state, status, failure report, counters."""

    t: float
    U: np.ndarray
    status: Status
    report: FailureReport | None
    stats: Stats

    @property
    def success(self) -> bool:
        return self.status.success


def clip_negative(U: np.ndarray, nonneg: np.ndarray, tol: float) -> bool:
    """Remove small negative values of non-negative components in place, conserving their total.

    Spectral solves leave round-off of about ``1e-16 max|u|``, and the IMEX weights are not all
    positive, so where a density nearly vanishes a step may end slightly below zero, within the
    step's absolute tolerance. Reaction dynamics with an unstable zero state would amplify such
    values. Values in ``[-tol, 0)`` are set to zero and the component is rescaled so that its
    total ``Σ u`` is unchanged (mass is still conserved to round-off). Returns True if a value
    below ``-tol`` remains: an adaptive step is then rejected and retried with a smaller step.
    """
    negative = False
    for i in np.flatnonzero(nonneg):
        u = U[i]
        low = float(np.min(u))
        if low >= 0:
            continue
        if low < -tol:
            negative = True
            continue
        total = float(np.sum(u))
        np.maximum(u, 0.0, out=u)
        positive_total = float(np.sum(u))
        if positive_total > 0 and total > 0:
            u *= total / positive_total
    return negative


def _nonfinite(system: SemiDiscrete, t: float, V: np.ndarray, what: str) -> FailureReport | None:
    """A NONFINITE report locating the first non-finite value of ``V`` (a state or a rate), or
    None if ``V`` is finite."""
    if np.all(np.isfinite(V)):
        return None
    F = system.fields(V)
    names = system.layout.field_names
    for i in range(F.shape[0]):
        bad = ~np.isfinite(F[i])
        if bad.any():
            flat = int(np.argmax(bad.ravel()))
            return FailureReport(
                Status.NONFINITE, t, names[i], system.layout.location(flat), None, what, where=system.layout.where(flat)
            )
    return FailureReport(Status.NONFINITE, t, detail=what)


class _Observers:
    """The observers of a run, called in order; ``step`` and the explanations stop at the first
    observer that returns a report. Times the output they do (``save``)."""

    def __init__(self, observers: Sequence[Observer], stats: Stats):
        for obs in observers:
            if not isinstance(obs, Observer):
                raise InputError(f"observers must be crossdiff.time.Observer objects, got {type(obs).__name__}")
        self.items = tuple(observers)
        self.stats = stats
        self.t_saved = -math.inf

    def start(self, system: SemiDiscrete, t: float, U: np.ndarray) -> None:
        for obs in self.items:
            obs.start(system, t, U)

    def save(self, t: float, U: np.ndarray, state: ControllerState | None = None) -> None:
        w0 = _time.perf_counter()
        if state is not None:  # the loop's state at this frame, for a run to be continued exactly
            for obs in self.items:
                obs.checkpoint(t, replace(state))
        for obs in self.items:
            obs.save(t, U)
        self.t_saved = t
        self.stats.wall_output += _time.perf_counter() - w0

    def step(self, t: float, U: np.ndarray) -> FailureReport | None:
        for obs in self.items:
            report = obs.step(t, U)
            if report is not None:
                return report
        return None

    def explain_collapse(self, t: float, U: np.ndarray, dt: float) -> FailureReport | None:
        for obs in self.items:
            report = obs.explain_collapse(t, U, dt)
            if report is not None:
                return report
        return None

    def explain_negative(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        for obs in self.items:
            report = obs.explain_negative(t, U, rate)
            if report is not None:
                return report
        return None

    def finish(self, t: float, U: np.ndarray, status: Status, report: FailureReport | None) -> None:
        for obs in self.items:
            obs.finish(t, U, status, report)


class _Run:
    """One integration in progress: the time and state reached, the stepper's and the
    controller's states, the report that ends it; its methods are the named steps of
    :func:`integrate`. Holds no state but the accepted one between steps (a rejected trial state
    is dropped at once, so that a stepper may reuse its array)."""

    def __init__(
        self,
        system: SemiDiscrete,
        stepper: Stepper,
        controller: Controller,
        observers: _Observers,
        t0: float,
        U0: np.ndarray,
        resumed: ControllerState | None = None,
    ):
        self.wall0 = _time.perf_counter()
        self.system, self.stepper, self.controller, self.observers = system, stepper, controller, observers
        self.stats = observers.stats
        self.t, self.U = t0, U0
        components = range(U0.shape[0])
        self.nonneg = np.asarray(system.nonnegative, dtype=bool) & np.array([np.min(U0[i]) >= 0 for i in components])
        self.stepper_state = stepper.init(system, t0, U0)
        self.cstate: ControllerState  # the controller's, from start()
        self.resumed = resumed
        self.report: FailureReport | None = None
        #: where the last rejected step was not finite (explains a later step-size collapse)
        self.nonfinite_trial: FailureReport | None = None

    def start(self, save_initial: bool) -> None:
        """The observers' ``start``, the initial frame, the checks of the initial data and the
        controller's first step."""
        system, t, U = self.system, self.t, self.U
        self.observers.start(system, t, U)
        if save_initial:
            self.observers.save(t, U)
        # a right-hand side that is not finite on the initial data (e.g. sqrt(-u), log(u - c) below
        # c) ends the run at once: no step size can make it finite
        with np.errstate(all="ignore"):
            self.report = _nonfinite(system, t, U, "the initial data is not finite") or _nonfinite(
                system,
                t,
                system.rhs(t, U),
                "the right-hand side is not finite on the initial data "
                "(an expression undefined there, e.g. sqrt or log of a negative number)",
            )
            if self.resumed is not None:  # where the interrupted run's controller was
                self.cstate = replace(self.resumed)
            else:
                self.cstate = self.controller.init(system, self.stepper, t, U)
        if self.report is None and not self.cstate.dt > 0:  # NaN or zero first step
            self.report = FailureReport(Status.NONFINITE, t, detail=f"the first step size is {self.cstate.dt!r}")

    def advance_to(self, t_save: float) -> None:
        """Steps until ``t_save`` is reached or a report ends the run."""
        while self.t < t_save and self.report is None:
            self.trial_step(t_save)

    def trial_step(self, t_save: float) -> None:
        """One trial step towards ``t_save``: proposed by the controller under the stepper's
        limit, taken, cleaned of round-off negatives, then accepted or rejected."""
        system, controller, t, U = self.system, self.controller, self.t, self.U
        remaining = t_save - t
        system.prepare(t, U)
        limit = self.stepper.step_limit(system, t, U)
        dt = controller.propose(self.cstate, limit, remaining)
        if controller.adaptive and dt < controller.dt_min * max(1.0, abs(t)):
            self.report = self.collapsed(dt)
            return
        with np.errstate(all="ignore"):
            result = self.stepper.step(system, t, U, dt, self.stepper_state)
        self.stepper_state = result.state
        if result.failure is not None:
            self.report = self.stepper_failed(result.failure, result.nonfinite)
            return
        t_new, U_new = self.landing(result, t_save, dt, remaining), result.U
        finite = bool(np.all(np.isfinite(U_new)))
        negative = finite and self.nonneg.any() and clip_negative(U_new, self.nonneg, controller.clip_tolerance)
        if not controller.adaptive:
            if finite:
                self.accept(t_new, U_new, dt, limit, remaining, 0.0)
            else:
                self.report = self.observers.step(t_new, U_new) or FailureReport(Status.NONFINITE, t_new)
            return
        err = controller.error_norm(system, U, U_new, result.error) if finite and not negative else 0.0
        if finite and not negative and err <= 1.0:
            self.accept(t_new, U_new, dt, limit, remaining, err)
        else:
            self.reject(U_new, dt, err, finite, negative)

    def landing(self, result: StepResult, t_save: float, dt: float, remaining: float) -> float:
        """The time a step reached: the stepper's, else the save time or ``t + dt``."""
        t_new = result.t if result.t is not None else (t_save if dt == remaining else self.t + dt)
        if t_save - _SNAP * max(1.0, abs(t_save)) <= t_new < t_save:
            # a run of equal steps (at a stability limit) accumulates round-off in t: a step that
            # ends within it of the save time ends there, instead of leaving a step of 1e-16
            # that would count as a step-size collapse
            t_new = t_save
        return t_new

    def accept(self, t_new: float, U_new: np.ndarray, dt: float, limit: float, remaining: float, err: float) -> None:
        """The step is taken: counters, the observers' ``step`` hook, the controller's next step."""
        self.t, self.U = t_new, U_new
        self.stats.n_steps += 1
        adaptive = self.controller.adaptive
        if adaptive and dt == limit and limit <= self.cstate.dt:
            self.stats.n_limited += 1
        self.report = self.observers.step(self.t, self.U)
        if adaptive:
            self.cstate = self.controller.accept(self.cstate, dt, remaining, err)

    def reject(self, U_new: np.ndarray, dt: float, err: float, finite: bool, negative: bool) -> None:
        """The step is retried smaller; a negative density the observers can explain ends the run."""
        system, t, U = self.system, self.t, self.U
        self.stats.n_rejected += 1
        self.nonfinite_trial = None
        if not finite:
            self.nonfinite_trial = _nonfinite(
                system,
                t,
                U_new,
                f"every step from t = {t:.6g} gives non-finite values, down to step size {dt:.3g} "
                "(an expression undefined near the solution, or a blow-up)",
            )
        if negative:
            with np.errstate(all="ignore"):
                self.report = self.observers.explain_negative(t, U, system.rhs(t, U))
        self.cstate = self.controller.reject(self.cstate, dt, err, not finite or negative)

    def collapsed(self, dt: float) -> FailureReport:
        """Why the step size collapsed to ``dt``: an observer's explanation, the last non-finite
        trial, or a plain step-size collapse."""
        t = self.t
        return (
            self.observers.explain_collapse(t, self.U, dt)
            or self.nonfinite_trial
            or FailureReport(Status.STEP_COLLAPSE, t, detail=f"step size {dt:.3g} at t = {t:.6g} collapsed")
        )

    def stepper_failed(self, failure: str, nonfinite: bool) -> FailureReport:
        """The report of a step the stepper could not take (``failure``: why; ``nonfinite``:
        from non-finite values), diagnosing a non-finite rate at the state reached."""
        system, t, U = self.system, self.t, self.U
        status = Status.NONFINITE if nonfinite else Status.STEP_COLLAPSE
        with np.errstate(all="ignore"):
            rate = _nonfinite(
                system,
                t,
                system.rhs(t, U),
                f"the right-hand side is not finite at the state reached ({failure})",
            )
        return self.observers.step(t, U) or rate or FailureReport(status, t, detail=failure)

    def interrupted(self) -> None:
        """The observers' ``finish`` with the ``interrupted`` status (the caller re-raises)."""
        self.observers.finish(self.t, self.U, Status.INTERRUPTED, FailureReport(Status.INTERRUPTED, self.t))

    def finish(self) -> Integration:
        """The last good state saved after a failure, the observers' ``finish``, the counters."""
        report, t, U = self.report, self.t, self.U
        status = Status.SUCCESS if report is None else report.status
        if report is not None and t > self.observers.t_saved and np.all(np.isfinite(U)):
            self.observers.save(t, U)
        self.observers.finish(t, U, status, report)
        stats, counters = self.stats, self.system.counters
        stats.nfev = counters.nfev
        stats.n_implicit_solves = counters.n_implicit_solves
        stats.n_krylov_solves = counters.n_krylov_solves
        stats.wall_stepping = _time.perf_counter() - self.wall0 - stats.wall_output
        return Integration(t, U, status, report, stats)


def integrate(
    system: SemiDiscrete,
    stepper: Stepper,
    U0: np.ndarray,
    t_span: tuple[float, float],
    *,
    save: SaveAt,
    observers: Sequence[Observer] = (),
    controller: Controller | None = None,
    controller_state: ControllerState | None = None,
) -> Integration:
    """Integrate ``dU/dt = E(t, U) + L U`` from ``t_span[0]`` to ``t_span[1]``.

    Each step: ``system.prepare``; a trial step from the controller, capped by the stepper's
    stability limit and landing exactly on save times; the step; non-negative components
    cleaned of round-off negatives (:func:`clip_negative`); acceptance by the controller's error
    norm (adaptive controllers reject non-finite or negative states and retry smaller); after an
    accepted step every observer's ``step`` hook (the monitor's failure checks). At each save time
    the observers' ``save`` hook. The state ``U0`` is owned by the loop from here.

    Parameters
    ----------
    system : SemiDiscrete
    stepper : Stepper
        Bound to ``system`` here unless it is bound already (:meth:`Stepper.bind`: the system's
        optional capabilities are read once, before the first step).
    U0 : ndarray
        Initial state (consistent: algebraic components solved).
    t_span : (float, float)
        Start and end time.
    save : SaveAt
        When the observers' ``save`` hook runs.
    observers : sequence of Observer
        Called in order (e.g. frame recorder, file writer, progress bar, failure monitor).
    controller : Controller, optional
        Default: ``stepper.step_controller()``; bound to ``system`` (:meth:`Controller.bind`).
    controller_state : ControllerState, optional
        The controller's state to start from instead of its first step: that of a saved frame
        (:meth:`Observer.checkpoint`) when continuing a run. With ``save.origin`` the run's first
        start, the continued run takes the same steps as the uninterrupted one.

    Returns
    -------
    Integration
        Final time and state, status (``SUCCESS`` or why it stopped), report and counters. A
        numerical failure is returned, not raised; the last good state is saved when it is
        later than the last save time.

    Raises
    ------
    KeyboardInterrupt
        After the observers' ``finish`` hook has recorded the ``interrupted`` status.
    """
    t0 = finite_number(t_span[0], "start time")
    t_end = finite_number(t_span[1], "end time")
    if t_end <= t0:
        raise InputError(f"end time {t_end:g} must be after the start time {t0:g}")
    if stepper.capabilities is None:
        stepper = stepper.bind(system)
    controller = (controller if controller is not None else stepper.step_controller()).bind(system)
    run = _Run(system, stepper, controller, _Observers(observers, Stats()), t0, U0, controller_state)
    run.start(save.initial)
    try:
        for t_save in save.times(t0, t_end) if run.report is None else ():
            run.advance_to(t_save)
            if run.report is not None:
                break
            run.observers.save(t_save, run.U, run.cstate)
    except KeyboardInterrupt:
        run.interrupted()
        raise
    return run.finish()
