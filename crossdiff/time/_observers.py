"""Observers of the integration loop: frames in memory, progress bar, blow-up / failure monitor.

The loop (:func:`~crossdiff.time.integrate`) calls every observer's hooks in order (the
lifecycle of py-pde's trackers): :meth:`Observer.start` once, :meth:`Observer.step` after every
accepted step (a :class:`FailureReport` stops the run), :meth:`Observer.save` at every save time
(after :meth:`Observer.checkpoint`, the loop's state there),
:meth:`Observer.finish` once at the end, also on failure and interruption. When the loop cannot
continue (step-size collapse, a negative density it cannot step around) it asks the observers
to explain why (:meth:`Observer.explain_collapse`, :meth:`Observer.explain_negative`). Frame
writing to a file is an observer too (:class:`crossdiff.io.FrameWriter`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO, cast

import numpy as np

from ..errors import InputError
from ..validation import positive_number
from ._controllers import ControllerState
from ._events import FailureReport, Status
from ._system import Capabilities, ExplainsNegative, Layout, SemiDiscrete, field_map

__all__ = ["Observer", "Recorder", "ProgressBar", "ProgressLog", "Monitor", "StopWhen"]


class Observer:
    """Base class of observers; every hook is optional (the defaults do nothing)."""

    def start(self, system: SemiDiscrete, t0: float, U0: np.ndarray) -> None:
        """Called once before the first step with the initial state."""

    def step(self, t: float, U: np.ndarray) -> FailureReport | None:
        """Called after every accepted step; a report stops the run with its status
        (``Status.STOPPED`` to end it on purpose, see :class:`StopWhen`)."""
        return None

    def save(self, t: float, U: np.ndarray) -> None:
        """Called at every save time (and for the initial state unless resuming)."""

    def checkpoint(self, t: float, state: ControllerState) -> None:
        """Called just before :meth:`save` at every save time after the start with the step-size
        controller's state there (a copy): what continues the run exactly from that frame
        (``integrate(..., controller_state=state)``)."""

    def finish(self, t: float, U: np.ndarray, status: Status, report: FailureReport | None) -> None:
        """Called once when the run ends, whatever the outcome."""

    def explain_collapse(self, t: float, U: np.ndarray, dt: float) -> FailureReport | None:
        """Why the step size collapsed to ``dt``, if this observer can tell."""
        return None

    def explain_negative(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        """Why steps keep producing negative densities (``rate = dU/dt``), if it can tell."""
        return None


class StopWhen(Observer):
    """Ends a run when a condition on the fields holds (a terminal event, as the ``events`` of
    ``scipy.integrate.solve_ivp``): checked after every accepted step, the run then stops with
    ``Status.STOPPED`` (a success; the state reached is saved as the last frame).

    Parameters
    ----------
    condition : callable
        ``condition(t, fields) -> bool`` with ``fields`` of shape ``(n_fields, *space)`` (the
        densities, :meth:`~crossdiff.time.SemiDiscrete.fields`).
    reason : str
        What the condition means, for the run's report (e.g. ``"plumes have formed"``).

    Examples
    --------
    >>> stop = StopWhen(lambda t, u: u[0].max() > 10, "the peak of u exceeds 10")  # doctest: +SKIP
    >>> sol = crossdiff.solve(model, grid, 50.0, observers=[stop])  # doctest: +SKIP
    """

    def __init__(self, condition: Callable[[float, np.ndarray], object], reason: str = "its condition was met"):
        if not callable(condition):
            raise InputError(f"StopWhen needs a callable condition(t, fields), got {type(condition).__name__}")
        self.condition, self.reason = condition, str(reason)
        self._fields: Callable[[float, np.ndarray], np.ndarray] | None = None

    def start(self, system, t0, U0):
        self._fields = field_map(system)

    def step(self, t, U):
        assert self._fields is not None
        if bool(self.condition(t, self._fields(t, U))):
            return FailureReport(Status.STOPPED, t, detail=f"stopped: {self.reason}")
        return None


class Recorder(Observer):
    """Keeps the saved times and, if ``keep_frames``, the saved fields in memory."""

    def __init__(self, keep_frames: bool = True):
        self.keep_frames = keep_frames
        self.times: list[float] = []
        self.frames: list[np.ndarray] = []
        self._fields: Callable[[float, np.ndarray], np.ndarray] | None = None

    def start(self, system, t0, U0):
        self._fields = field_map(system)

    def save(self, t, U):
        self.times.append(t)
        if self.keep_frames:
            assert self._fields is not None
            self.frames.append(np.array(self._fields(t, U), copy=True))

    def stacked(self) -> np.ndarray | None:
        """The kept frames as one array ``(len(times), n_fields, *space)`` (None if none kept)."""
        return np.stack(self.frames) if self.keep_frames and self.frames else None


class ProgressBar(Observer):
    """A tqdm progress bar in model time on standard error, updated after every step (tqdm
    redraws at most ten times a second) and at every save time."""

    def __init__(self, t_end: float):
        self.t_end = t_end
        self._bar = None
        self._t0 = 0.0

    def step(self, t, U):
        if self._bar is not None:
            self._bar.update(t - self._t0 - self._bar.n)
        return None

    def start(self, system, t0, U0):
        from tqdm import tqdm

        self._t0 = t0
        self._bar = tqdm(
            total=self.t_end - t0,
            unit="t",
            file=sys.stderr,
            leave=False,
            bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} [{elapsed}<{remaining}]",
        )

    def save(self, t, U):
        if self._bar is not None:
            self._bar.update(t - self._t0 - self._bar.n)

    def finish(self, t, U, status, report):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class ProgressLog(Observer):
    """Progress as plain lines on standard error, at most one every ``interval`` seconds (for logs
    and batch jobs, where a progress bar's carriage returns are noise): ``t = 1.25 of 5 (25 %),
    120 steps, 30 s so far, about 90 s left``.

    Parameters
    ----------
    t_end : float
    interval : float
        Seconds between lines (wall clock).
    stream : file, optional
        Where to write (default standard error).
    """

    def __init__(self, t_end: float, interval: float = 10.0, stream: TextIO | None = None):
        self.t_end = t_end
        self.interval = positive_number(interval, "interval")
        self.stream = stream
        self._t0 = 0.0
        self._wall0 = 0.0
        self._last = 0.0
        self._steps = 0

    def start(self, system, t0, U0):
        import time

        self._t0, self._steps = t0, 0
        self._wall0 = self._last = time.perf_counter()

    def step(self, t, U):
        import time

        self._steps += 1
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._last = now
            done = (t - self._t0) / max(self.t_end - self._t0, 1e-300)
            spent = now - self._wall0
            left = f", about {spent * (1 - done) / done:.0f} s left" if done > 0 else ""
            print(
                f"t = {t:.6g} of {self.t_end:g} ({100 * done:.0f} %), {self._steps} steps, {spent:.0f} s so far{left}",
                file=self.stream or sys.stderr,
                flush=True,
            )
        return None


@dataclass
class Monitor(Observer):
    """Detects blow-up and numerical failure after every accepted step.

    Parameters
    ----------
    peak_limit : float or None
        Report blow-up when a density exceeds this (default ``1e6 × max(1, max |U0|)``).
    concentration : float
        Report blow-up when the ``3^d`` block of cells around the peak holds more than this
        fraction of a species' total mass while the initial data did not: a discrete Dirac mass,
        the PDE solution concentrating faster than the grid resolves (Chertock & Kurganov 2008
        observe exactly this saturation of the discrete peak). Only on grids of at least 256
        cells.
    spikes : float
        Report blow-up when two or more unresolved spikes together hold more than this fraction
        of a species' total mass (while the initial data did not): concentration into many points
        at once (a single one is left to ``concentration``). A spike is a local maximum whose every face neighbour is below a quarter of it (a
        Gaussian bump that steep has a width under 0.6 cells, so the grid no longer resolves it);
        its mass is that of the ``3^d`` block around it. Same grids as ``concentration``, in two
        and three dimensions only: in one dimension taxis-driven concentration is bounded (no
        critical-mass blow-up; Osaki & Yagi 2001, docs/references.md [OY01]), so steep 1D spikes are left to the peak and
        single-block criteria. ``None`` switches the criterion off.
    """

    peak_limit: float | None = None
    concentration: float = 0.5
    spikes: float | None = 0.25
    _peak: float = field(default=np.inf, init=False, repr=False)
    _watch: tuple[int, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        if self.peak_limit is not None:
            self.peak_limit = positive_number(self.peak_limit, "peak_limit")
        for name in ("concentration", "spikes"):
            if name == "spikes" and self.spikes is None:
                continue  # the multi-spike criterion switched off
            c = positive_number(getattr(self, name), name)
            if c > 1:
                raise InputError(f"{name} must be a fraction in (0, 1], got {c!r}")

    def start(self, system, t0, U0):
        self._system = system
        #: the system's own explanation of negative densities, if it offers one (read once)
        self._explains_negative = cast(ExplainsNegative, system) if Capabilities.of(system).explain_negative else None
        self._layout: Layout = system.layout
        self._names = system.layout.field_names
        F = system.fields(U0)
        scale = float(np.max(np.abs(F))) if F.size else 1.0
        self._peak = self.peak_limit if self.peak_limit is not None else 1e6 * max(1.0, scale)
        watch = []
        if int(np.prod(F.shape[1:])) >= 256:
            # fields past the state's components (a flow's velocity) are derived, never watched
            for i in range(min(F.shape[0], len(system.differential))):
                u = F[i]
                total = float(np.sum(u))
                if (
                    system.differential[i]
                    and np.min(u) >= 0
                    and total > 0
                    and self._block(u) / total < self.concentration
                    and (u.ndim < 2 or self.spikes is None or self._spike_mass(u) / total < self.spikes)
                ):
                    watch.append(i)
        self._watch = tuple(watch)

    @staticmethod
    def _block(u: np.ndarray, peak: int | None = None) -> float:
        """Sum of ``u`` over the 3^d block of cells centred on its maximum (flat index ``peak``
        when known)."""
        idx = np.unravel_index(int(np.argmax(u)) if peak is None else peak, u.shape)
        window = tuple(slice(max(k - 1, 0), k + 2) for k in idx)
        return float(np.sum(u[window]))

    @staticmethod
    def _spike_mass(u: np.ndarray) -> float:
        """Sum of ``u`` over the ``3^d`` blocks around its unresolved spikes: local maxima whose
        face neighbours (0 beyond a wall) are all below a quarter of them (0 unless there are at
        least two); one compiled pass (:func:`~crossdiff.time.spike_mass`), a 2D field seen as
        one layer of a 3D one."""
        from ._kernels import spike_mass

        return float(spike_mass(u.reshape((1,) * (3 - u.ndim) + u.shape)))

    def _concentrated(self, t: float, name: str, u: np.ndarray, detail: str) -> FailureReport:
        """The blow-up report of species ``name`` (field ``u``), placed at its peak."""
        flat = int(np.argmax(u))
        return FailureReport(
            Status.BLOWUP, t, name, self._where(flat), float(u.ravel()[flat]), detail, where=self._layout.where(flat)
        )

    def _where(self, flat: int) -> tuple[float, ...]:
        return self._layout.location(flat)

    def explain_collapse(self, t, U, dt):
        """SINGULAR if a density that must stay positive is about to vanish (a singular
        sensitivity makes the transport CFL step tend to zero)."""
        F = self._system.fields(U)
        names = self._names
        for i, reason in self._system.positive:
            flat = int(np.argmin(F[i]))
            low, high = float(F[i].ravel()[flat]), float(np.max(np.abs(F[i])))
            if low < 1e-3 * high:
                return FailureReport(
                    Status.SINGULAR,
                    t,
                    names[i],
                    self._where(flat),
                    low,
                    f"{names[i]} is approaching 0 (min {low:.3g}) but {reason}; the step size collapsed to {dt:.3g}",
                    where=self._layout.where(flat),
                )
        return None

    def explain_negative(self, t, U, rate):
        """A NEGATIVE report if some density is exactly zero somewhere while its rate is negative.

        At a cell where ``u_i = 0`` diffusion and the limited upwind taxis flux cannot decrease
        ``u_i`` (neighbours are >= 0, the reconstructed outflow value is 0), so a negative rate
        there comes from the reaction: the model does not keep ``u_i`` non-negative (e.g. a
        constant sink). Called when a step was rejected for producing negative values, instead of
        shrinking the step forever.

        A system may know better: its optional ``explain_negative(t, U, rate)``
        (:class:`~crossdiff.time.ExplainsNegative`, found by :meth:`start`) is asked first (e.g. a
        kinetic system whose turning kernel is negative at this ε).
        """
        system = self._system
        if self._explains_negative is not None:
            report = self._explains_negative.explain_negative(t, U, rate)
            if report is not None:
                return report
        F, R = system.fields(U), system.fields(rate)
        names = self._names
        for i in range(min(F.shape[0], len(system.differential))):
            zero = F[i] <= 0.0
            if not system.differential[i] or not np.any(zero):
                continue
            r = np.where(zero, R[i], 0.0)
            flat = int(np.argmin(r))
            if r.ravel()[flat] < 0.0:
                return FailureReport(
                    Status.NEGATIVE,
                    t,
                    names[i],
                    self._where(flat),
                    float(F[i].ravel()[flat]),
                    f"{names[i]} = 0 there but d{names[i]}/dt = {r.ravel()[flat]:.3g} < 0: its reaction is negative "
                    f"where {names[i]} vanishes, so the model does not keep {names[i]} non-negative",
                    where=self._layout.where(flat),
                )
        return None

    def step(self, t, U):
        return self.check(t, U)

    def check(self, t: float, U: np.ndarray) -> FailureReport | None:
        """A report if ``U`` at time ``t`` shows a failure, else ``None``.

        The fields are read in one compiled pass (:func:`~crossdiff.time.field_summary`:
        finiteness, extremes and totals of every field); the spike search only runs on fields
        with a peak far above their mean."""
        from ._kernels import field_summary

        F = self._system.fields(U)
        names = self._names
        rows = F.reshape(F.shape[0], -1)
        finite, i_min, i_abs, i_max, totals = field_summary(rows)
        if not finite.all():
            i = int(np.argmin(finite))
            flat = int(np.argmax(~np.isfinite(rows[i])))
            return FailureReport(Status.NONFINITE, t, names[i], self._where(flat), None, where=self._layout.where(flat))
        if F is not U and not np.all(np.isfinite(U)):  # a component not seen in the fields
            return FailureReport(Status.NONFINITE, t)
        for i, reason in self._system.positive:
            flat = int(i_min[i])
            low = float(rows[i, flat])
            if low <= 0:
                return FailureReport(
                    Status.SINGULAR,
                    t,
                    names[i],
                    self._where(flat),
                    low,
                    f"{names[i]} reached {low:.3g} <= 0 but {reason}",
                    where=self._layout.where(flat),
                )
        for i in range(F.shape[0]):
            flat = int(i_abs[i])
            peak = abs(float(rows[i, flat]))
            if peak > self._peak:
                return FailureReport(
                    Status.BLOWUP,
                    t,
                    names[i],
                    self._where(flat),
                    peak,
                    f"peak {peak:.4g} exceeds the limit {self._peak:.4g}",
                    where=self._layout.where(flat),
                )
        for i in self._watch:
            total = float(totals[i])
            block = self._block(F[i], int(i_max[i]))
            if total > 0 and block / total > self.concentration:
                return self._concentrated(
                    t,
                    names[i],
                    F[i],
                    f"{100 * block / total:.0f}% of the mass of {names[i]} is in the {3 ** F[i].ndim} cells "
                    "around the peak (finite-time concentration, unresolved by the grid)",
                )
            if self.spikes is None or F[i].ndim < 2:
                continue
            spikes = self._spike_mass(F[i])
            if total > 0 and spikes / total > self.spikes:
                return self._concentrated(
                    t,
                    names[i],
                    F[i],
                    f"{100 * spikes / total:.0f}% of the mass of {names[i]} is in spikes of one cell that the grid "
                    "no longer resolves (concentration into many points at once)",
                )
        return None
