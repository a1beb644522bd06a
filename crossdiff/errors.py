"""Exception types of crossdiff.

Every error a user can cause is a subclass of :class:`CrossdiffError`; the command line maps
:class:`InputError` (bad model file, parameter, grid, path ...) to exit code 2 and
:class:`NumericalError` (blow-up, non-finite values, step-size collapse) to exit code 3.
Messages are one line and name the offending thing.
"""

from __future__ import annotations

__all__ = [
    "CrossdiffError",
    "InputError",
    "ModelError",
    "ExpressionError",
    "GridError",
    "ParameterError",
    "OutputError",
    "KineticModelError",
    "AssumptionError",
    "NumericalError",
]


class CrossdiffError(Exception):
    """Base class of all crossdiff errors."""


class InputError(CrossdiffError, ValueError):
    """Bad input from the user: the CLI exits with code 2."""


class ModelError(InputError):
    """A model (file or Python) is malformed or inconsistent."""


class ExpressionError(ModelError):
    """An expression string cannot be parsed or uses something not allowed."""


class GridError(InputError):
    """A grid or domain is invalid (non-positive size, bad extent, unknown boundary)."""


class ParameterError(ModelError):
    """A parameter is missing, unknown or has an invalid value."""


class OutputError(InputError):
    """An output path cannot be written or an output file cannot be read."""


class KineticModelError(ModelError):
    """A kinetic model (file or Python) is malformed."""


class AssumptionError(KineticModelError):
    """A kinetic model violates an assumption of the Hilbert expansion (paper Assumptions 3.1-3.3)."""


class NumericalError(CrossdiffError, ArithmeticError):
    """The numerical solution failed (blow-up, non-finite values, step size collapse): exit code 3.

    Attributes
    ----------
    report : object or None
        A :class:`crossdiff.time.FailureReport` with time, location, peak value and reason.
    """

    def __init__(self, message: str, report: object | None = None):
        super().__init__(message)
        self.report = report
