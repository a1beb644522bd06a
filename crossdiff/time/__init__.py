"""Time stepping: IMEX (default), SSPRK3, SciPy BDF; step-size control and failure detection."""

from ._events import FailureReport, Monitor, Stats, Status
from ._steppers import BDF, IMEX, SSPRK3, STEPPERS, RunState, Stepper, jacobian_sparsity, stepper_from_name
from ._tableau import KENCARP3, KENCARP4, IMEXTableau

__all__ = [
    "Stepper",
    "IMEX",
    "SSPRK3",
    "BDF",
    "STEPPERS",
    "stepper_from_name",
    "IMEXTableau",
    "KENCARP3",
    "KENCARP4",
    "Status",
    "FailureReport",
    "Monitor",
    "Stats",
    "RunState",
    "jacobian_sparsity",
]
