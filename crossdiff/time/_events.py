"""Run status, failure reports and the blow-up / failure monitor."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

__all__ = ["Status", "FailureReport", "Monitor", "Stats"]


class Status(Enum):
    """Outcome of a run; each member carries its message (``Status.X.message``)."""

    SUCCESS = ("success", "reached the end time")
    BLOWUP = ("blow-up", "the solution blows up: mass concentrates in a single cell or the peak exceeds the limit")
    NONFINITE = ("non-finite", "non-finite values (NaN or inf) appeared")
    STEP_COLLAPSE = ("step-collapse", "the step size collapsed below the minimum (stiffness or blow-up)")
    SINGULAR = ("singular", "a density required to stay positive (singular sensitivity) reached zero")
    NEGATIVE = ("negative", "the equations drive a density below zero (a reaction is negative where the density vanishes)")
    INTERRUPTED = ("interrupted", "the run was interrupted")

    def __init__(self, label: str, message: str):
        self.label = label
        self.message = message

    @property
    def success(self) -> bool:
        return self is Status.SUCCESS


@dataclass(frozen=True)
class FailureReport:
    """Where and why a run stopped: time, location, peak value and reason."""

    status: Status
    time: float
    species: str | None = None
    location: tuple[float, ...] | None = None
    peak: float | None = None
    detail: str = ""

    def __str__(self) -> str:
        parts = [f"{self.status.label} at t = {self.time:.6g}"]
        if self.species is not None:
            parts.append(f"species {self.species!r}")
        if self.location is not None:
            parts.append("x = (" + ", ".join(f"{c:.4g}" for c in self.location) + ")")
        if self.peak is not None:
            parts.append(f"peak {self.peak:.4g}")
        text = ", ".join(parts)
        return f"{text}: {self.detail or self.status.message}"

    def as_dict(self) -> dict:
        return {
            "status": self.status.label,
            "time": self.time,
            "species": self.species,
            "location": list(self.location) if self.location is not None else None,
            "peak": self.peak,
            "reason": self.detail or self.status.message,
        }


@dataclass
class Stats:
    """Counters of a run (SciPy/diffrax style)."""

    n_steps: int = 0
    n_rejected: int = 0
    nfev: int = 0
    n_implicit_solves: int = 0
    wall_setup: float = 0.0
    wall_stepping: float = 0.0
    wall_output: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Monitor:
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
    dt_min : float
        Report a step-size collapse below ``dt_min × max(1, |t|)``.
    """

    peak_limit: float | None = None
    concentration: float = 0.5
    dt_min: float = 1e-12
    _peak: float = field(default=np.inf, init=False, repr=False)
    _watch: tuple = field(default=(), init=False, repr=False)

    def start(self, disc, U0: np.ndarray) -> None:
        self._disc = disc
        scale = float(np.max(np.abs(U0))) if U0.size else 1.0
        self._peak = self.peak_limit if self.peak_limit is not None else 1e6 * max(1.0, scale)
        watch = []
        if disc.grid.size >= 256:
            for i in range(disc.n):
                u = U0[i]
                total = float(np.sum(u))
                if disc.parabolic[i] and np.min(u) >= 0 and total > 0 and self._block(u) / total < self.concentration:
                    watch.append(i)
        self._watch = tuple(watch)

    @staticmethod
    def _block(u: np.ndarray) -> float:
        """Sum of ``u`` over the 3^d block of cells centred on its maximum."""
        idx = np.unravel_index(int(np.argmax(u)), u.shape)
        window = tuple(slice(max(k - 1, 0), k + 2) for k in idx)
        return float(np.sum(u[window]))

    def _where(self, i: int, flat: int) -> tuple[float, ...]:
        grid = self._disc.grid
        idx = np.unravel_index(flat, grid.shape)
        return tuple(float(c[k]) for c, k in zip(grid.coordinates, idx))

    def collapse(self, t: float, U: np.ndarray, dt: float) -> FailureReport:
        """The report for a collapsed step: SINGULAR if a density that must stay positive is
        about to vanish (a singular sensitivity makes the transport CFL step tend to zero)."""
        disc = self._disc
        names = disc.model.species_names
        for i, reason in disc.compiled.positive:
            flat = int(np.argmin(U[i]))
            low, high = float(U[i].ravel()[flat]), float(np.max(np.abs(U[i])))
            if low < 1e-3 * high:
                return FailureReport(
                    Status.SINGULAR, t, names[i], self._where(i, flat), low,
                    f"{names[i]} is approaching 0 (min {low:.3g}) but {reason}; the step size collapsed to {dt:.3g}",
                )
        return FailureReport(Status.STEP_COLLAPSE, t, detail=f"step size {dt:.3g} at t = {t:.6g} collapsed")

    def negative_drive(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        """A NEGATIVE report if some density is exactly zero somewhere while its rate is negative.

        At a cell where ``u_i = 0`` diffusion and the limited upwind taxis flux cannot decrease
        ``u_i`` (neighbours are >= 0, the reconstructed outflow value is 0), so a negative rate
        there comes from the reaction: the model does not keep ``u_i`` non-negative (e.g. a
        constant sink). Called when a step was rejected for producing negative values, instead of
        shrinking the step forever.
        """
        disc = self._disc
        names = disc.model.species_names
        for i in range(disc.n):
            zero = U[i] <= 0.0
            if not disc.parabolic[i] or not np.any(zero):
                continue
            r = np.where(zero, rate[i], 0.0)
            flat = int(np.argmin(r))
            if r.ravel()[flat] < 0.0:
                return FailureReport(
                    Status.NEGATIVE, t, names[i], self._where(i, flat), float(U[i].ravel()[flat]),
                    f"{names[i]} = 0 there but d{names[i]}/dt = {r.ravel()[flat]:.3g} < 0: its reaction is negative "
                    f"where {names[i]} vanishes, so the model does not keep {names[i]} non-negative",
                )
        return None

    def check(self, t: float, U: np.ndarray) -> FailureReport | None:
        """A report if ``U`` at time ``t`` shows a failure, else ``None``."""
        disc = self._disc
        names = disc.model.species_names
        if not np.all(np.isfinite(U)):
            i = int(np.argmax([not np.all(np.isfinite(u)) for u in U]))
            flat = int(np.argmax(~np.isfinite(U[i]).ravel()))
            return FailureReport(Status.NONFINITE, t, names[i], self._where(i, flat), None)
        for i, reason in disc.compiled.positive:
            flat = int(np.argmin(U[i]))
            low = float(U[i].ravel()[flat])
            if low <= 0:
                return FailureReport(
                    Status.SINGULAR, t, names[i], self._where(i, flat), low,
                    f"{names[i]} reached {low:.3g} <= 0 but {reason}",
                )
        for i in range(disc.n):
            flat = int(np.argmax(np.abs(U[i])))
            peak = float(np.abs(U[i]).ravel()[flat])
            if peak > self._peak:
                return FailureReport(
                    Status.BLOWUP, t, names[i], self._where(i, flat), peak,
                    f"peak {peak:.4g} exceeds the limit {self._peak:.4g}",
                )
        for i in self._watch:
            total = float(np.sum(U[i]))
            block = self._block(U[i])
            if total > 0 and block / total > self.concentration:
                flat = int(np.argmax(U[i]))
                peak = float(U[i].ravel()[flat])
                return FailureReport(
                    Status.BLOWUP, t, names[i], self._where(i, flat), peak,
                    f"{100 * block / total:.0f}% of the mass of {names[i]} is in the {3 ** U[i].ndim} cells "
                    "around the peak (finite-time concentration, unresolved by the grid)",
                )
        return None
