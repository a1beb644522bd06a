"""The one integration loop: :func:`integrate` a :class:`SemiDiscrete` system with a stepper.

Every run of crossdiff, at any scale, goes through :func:`integrate`: it owns the step/save loop,
asks the controller for steps, keeps densities non-negative, and hands accepted steps and saved
frames to the observers (frame writer, progress bar, failure monitor). Nothing else loops in time.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..validation import finite_number, positive_number
from ._controllers import Controller
from ._events import FailureReport, Stats, Status
from ._observers import Observer
from ._steppers import Stepper
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
    """

    every: float
    initial: bool = True

    def __post_init__(self) -> None:
        positive_number(self.every, "save interval")

    def times(self, t0: float, t_end: float) -> Iterator[float]:
        """The save times after ``t0``, ending exactly at ``t_end``."""
        tol = _TIME_TOL * max(1.0, abs(t_end))
        n = int(math.floor((t_end - t0) / self.every + _TIME_TOL))
        last = t0
        for k in range(1, n + 1):
            last = t0 + k * self.every
            if k == n and abs(last - t_end) < tol:
                yield t_end
                return
            yield last
        if n == 0 or t_end - last > tol:
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
            return FailureReport(Status.NONFINITE, t, names[i], system.layout.location(flat), None, what)
    return FailureReport(Status.NONFINITE, t, detail=what)


class _Observers:
    """Calls the hooks of several observers in order, timing the output they do."""

    def __init__(self, observers: Sequence[Observer], stats: Stats):
        for obs in observers:
            if not isinstance(obs, Observer):
                raise InputError(f"observers must be crossdiff.time.Observer objects, got {type(obs).__name__}")
        self.items = tuple(observers)
        self.stats = stats
        self.t_saved = -math.inf

    def save(self, t: float, U: np.ndarray) -> None:
        w0 = _time.perf_counter()
        for obs in self.items:
            obs.save(t, U)
        self.t_saved = t
        self.stats.wall_output += _time.perf_counter() - w0

    def first(self, hook: str, *args: object) -> FailureReport | None:
        for obs in self.items:
            report = getattr(obs, hook)(*args)
            if report is not None:
                return report
        return None


def integrate(
    system: SemiDiscrete,
    stepper: Stepper,
    U0: np.ndarray,
    t_span: tuple[float, float],
    *,
    save: SaveAt,
    observers: Sequence[Observer] = (),
    controller: Controller | None = None,
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
    U0 : ndarray
        Initial state (consistent: algebraic components solved).
    t_span : (float, float)
        Start and end time.
    save : SaveAt
        When the observers' ``save`` hook runs.
    observers : sequence of Observer
        Called in order (e.g. frame recorder, file writer, progress bar, failure monitor).
    controller : Controller, optional
        Default: ``stepper.step_controller()``.

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
    stats = Stats()
    obs = _Observers(observers, stats)
    wall0 = _time.perf_counter()
    t, U = t0, U0
    nonneg = np.asarray(system.nonnegative, dtype=bool) & np.array([np.min(U[i]) >= 0 for i in range(U.shape[0])])
    stepper_state = stepper.init(system, t, U)
    for o in obs.items:
        o.start(system, t, U)
    if save.initial:
        obs.save(t, U)
    # a right-hand side that is not finite on the initial data (e.g. sqrt(-u), log(u - c) below c)
    # ends the run at once: no step size can make it finite
    with np.errstate(all="ignore"):
        report = _nonfinite(system, t, U, "the initial data is not finite") or _nonfinite(
            system,
            t,
            system.rhs(t, U),
            "the right-hand side is not finite on the initial data "
            "(an expression undefined there, e.g. sqrt or log of a negative number)",
        )
        cstate = controller.init(system, stepper, t, U)
    if report is None and not cstate.dt > 0:  # NaN or zero first step
        report = FailureReport(Status.NONFINITE, t, detail=f"the first step size is {cstate.dt!r}")
    nonfinite_trial: FailureReport | None = None  # where the last rejected step was not finite
    status = Status.SUCCESS
    adaptive = controller.adaptive
    try:
        for t_save in save.times(t0, t_end) if report is None else ():
            while t < t_save and report is None:
                remaining = t_save - t
                system.prepare(t, U)
                limit = stepper.step_limit(system, t, U)
                dt = controller.propose(cstate, limit, remaining)
                if adaptive and dt < controller.dt_min * max(1.0, abs(t)):
                    report = (
                        obs.first("explain_collapse", t, U, dt)
                        or nonfinite_trial
                        or FailureReport(Status.STEP_COLLAPSE, t, detail=f"step size {dt:.3g} at t = {t:.6g} collapsed")
                    )
                    break
                with np.errstate(all="ignore"):
                    result = stepper.step(system, t, U, dt, stepper_state)
                stepper_state = result.state
                U_new = result.U
                if result.failure is not None:
                    status = Status.NONFINITE if result.nonfinite else Status.STEP_COLLAPSE
                    with np.errstate(all="ignore"):
                        rate = _nonfinite(
                            system,
                            t,
                            system.rhs(t, U),
                            f"the right-hand side is not finite at the state reached ({result.failure})",
                        )
                    report = obs.first("step", t, U) or rate or FailureReport(status, t, detail=result.failure)
                    break
                t_new = result.t if result.t is not None else (t_save if dt == remaining else t + dt)
                if t_save - _SNAP * max(1.0, abs(t_save)) <= t_new < t_save:
                    # a run of equal steps (at a stability limit) accumulates round-off in t: a step
                    # that ends within it of the save time ends there, instead of leaving a step of
                    # 1e-16 that would count as a step-size collapse
                    t_new = t_save
                finite = bool(np.all(np.isfinite(U_new)))
                negative = finite and nonneg.any() and clip_negative(U_new, nonneg, controller.clip_tolerance)
                err = 0.0
                if not adaptive:
                    if not finite:
                        report = obs.first("step", t_new, U_new) or FailureReport(Status.NONFINITE, t_new)
                        break
                    accepted = True
                else:
                    if finite and not negative:
                        err = controller.error_norm(system, U, U_new, result.error)
                    accepted = finite and not negative and err <= 1.0
                if accepted:
                    t, U = t_new, U_new
                    stats.n_steps += 1
                    if adaptive and dt == limit and limit <= cstate.dt:
                        stats.n_limited += 1
                    report = obs.first("step", t, U)
                    if adaptive:
                        cstate = controller.accept(cstate, dt, remaining, err)
                else:
                    stats.n_rejected += 1
                    nonfinite_trial = None
                    if not finite:
                        nonfinite_trial = _nonfinite(
                            system,
                            t,
                            U_new,
                            f"every step from t = {t:.6g} gives non-finite values, down to step size {dt:.3g} "
                            "(an expression undefined near the solution, or a blow-up)",
                        )
                    if negative:
                        with np.errstate(all="ignore"):
                            report = obs.first("explain_negative", t, U, system.rhs(t, U))
                    cstate = controller.reject(cstate, dt, err, not finite or negative)
                del U_new, result
            if report is not None:
                break
            obs.save(t_save, U)
    except KeyboardInterrupt:
        report = FailureReport(Status.INTERRUPTED, t)
        for o in obs.items:
            o.finish(t, U, Status.INTERRUPTED, report)
        raise
    if report is not None:
        status = report.status
        if t > obs.t_saved and np.all(np.isfinite(U)):
            obs.save(t, U)
    for o in obs.items:
        o.finish(t, U, status, report)
    counters = system.counters
    stats.nfev = counters.nfev
    stats.n_implicit_solves = counters.n_implicit_solves
    stats.n_krylov_solves = counters.n_krylov_solves
    stats.wall_stepping = _time.perf_counter() - wall0 - stats.wall_output
    return Integration(t, U, status, report, stats)
