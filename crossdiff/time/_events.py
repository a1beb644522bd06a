"""Run status, failure reports and work counters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Status", "FailureReport", "Stats"]


class Status(Enum):
    """Outcome of a run; each member carries its message (``Status.X.message``)."""

    SUCCESS = ("success", "reached the end time")
    BLOWUP = ("blow-up", "the solution blows up: mass concentrates in a single cell or the peak exceeds the limit")
    NONFINITE = ("non-finite", "non-finite values (NaN or inf) appeared")
    STEP_COLLAPSE = ("step-collapse", "the step size collapsed below the minimum (stiffness or blow-up)")
    SINGULAR = ("singular", "a density required to stay positive (singular sensitivity) reached zero")
    NEGATIVE = (
        "negative",
        "the equations drive a density below zero (a reaction is negative where the density vanishes)",
    )
    INTERRUPTED = ("interrupted", "the run was interrupted")
    #: ended on purpose before the end time by an observer whose condition was met (a terminal
    #: event, as ``scipy.integrate.solve_ivp``'s): a success
    STOPPED = ("stopped", "stopped by an observer: its condition was met")

    def __init__(self, label: str, message: str):
        self.label = label
        self.message = message

    @property
    def success(self) -> bool:
        """The end time was reached, or an observer stopped the run on purpose."""
        return self is Status.SUCCESS or self is Status.STOPPED


@dataclass(frozen=True)
class FailureReport:
    """Where and why a run stopped: time, location, peak value and reason."""

    status: Status
    time: float
    species: str | None = None
    location: tuple[float, ...] | None = None
    peak: float | None = None
    detail: str = ""
    #: the location in words where coordinates do not say it (a network: the edge and the arc length)
    where: str | None = None

    def __str__(self) -> str:
        parts = [f"{self.status.label} at t = {self.time:.6g}"]
        if self.species is not None:
            parts.append(f"species {self.species!r}")
        if self.where is not None:
            parts.append(self.where)
        elif self.location is not None:
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
            "where": self.where,
        }


@dataclass
class Stats:
    """Counters and wall times of a run (as SciPy's ``OdeResult`` and diffrax's ``stats``).

    ``n_steps`` accepted and ``n_rejected`` rejected steps; ``nfev`` evaluations of the explicit
    part (or of the whole right-hand side for BDF); ``n_implicit_solves`` solves of
    ``(I − γΔt L) X = B`` (LU factorisations for BDF); ``n_krylov_solves`` the preconditioned
    Krylov solves among them (non-constant diffusion); ``n_limited`` accepted steps whose size was
    set by the stepper's stability limit rather than by the error control; wall times of set-up,
    stepping and output.
    """

    n_steps: int = 0
    n_rejected: int = 0
    n_limited: int = 0
    nfev: int = 0
    n_implicit_solves: int = 0
    n_krylov_solves: int = 0
    wall_setup: float = 0.0
    wall_stepping: float = 0.0
    wall_output: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)
