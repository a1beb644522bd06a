"""The registry of steppers (:data:`STEPPERS`): names, summaries and options, without the steppers.

Each stepper is registered by its import path (:class:`~crossdiff.registry.Deferred`), so the
command line lists the steppers and their options (``--stepper``, ``--rtol`` …) without importing
the steppers' compiled kernels; a stepper's module is imported when it is first built
(:func:`stepper_from_name`). The classes themselves are in :mod:`._steppers` and :mod:`._gsa`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..registry import Deferred, Registry

if TYPE_CHECKING:
    from ._steppers import Stepper

__all__ = ["STEPPERS", "stepper_from_name", "stepper_options"]

_RTOL = "relative tolerance of the error control (default 0.5/N^2, N cells along the longest axis)"
_ATOL = "absolute tolerance (default rtol/100)"
_DT = "fixed step size, no error control (convergence studies)"

#: Steppers by the name the CLI uses (each a factory taking the stepper's options), with the
#: options each name takes and their help (:func:`stepper_options`).
STEPPERS: Registry[Any] = Registry("stepper")
STEPPERS.register(
    "imex",
    Deferred("crossdiff.time._steppers:IMEX"),
    "default; 4th-order IMEX ARK4(3)6L[2]SA, adaptive",
    {"rtol": _RTOL, "atol": _ATOL, "dt": _DT, "cfl": "multiple of the explicit transport limit (default 1.69)"},
)
STEPPERS.register(
    "imex3",
    Deferred("crossdiff.time._steppers:_imex3"),
    "3rd-order IMEX ARK3(2)4L[2]SA, adaptive",
    {"rtol": _RTOL, "atol": _ATOL, "dt": _DT, "cfl": "multiple of the explicit transport limit (default 1.47)"},
)
STEPPERS.register(
    "ssprk3",
    Deferred("crossdiff.time._steppers:SSPRK3"),
    "explicit 3rd-order SSP Runge-Kutta at the CFL limit",
    {"dt": "fixed step size, no CFL check", "cfl": "fraction of the forward-Euler limit, in (0, 1] (default 0.9)"},
)
STEPPERS.register(
    "bdf",
    Deferred("crossdiff.time._steppers:BDF"),
    "SciPy's implicit BDF on the whole right-hand side",
    {"rtol": "SciPy's relative tolerance (default 1e-6)", "atol": _ATOL},
)
STEPPERS.register(
    "ars443",
    Deferred("crossdiff.time._gsa:GSAIMEX"),
    "3rd-order globally stiffly accurate IMEX ARS(4,4,3) (kinetic, AP)",
    {
        "rtol": _RTOL,
        "atol": _ATOL,
        "dt": _DT,
        "dt_max": "largest step",
        "cfl": "multiple of the explicit stability limit (default 0.5)",
    },
)


def stepper_options(name: str) -> dict[str, str]:
    """The options the stepper called ``name`` takes, option name -> one-line help, in a
    stable order (what :func:`stepper_from_name` accepts; the command line's help)."""
    return STEPPERS.options(name)


def stepper_from_name(name: str, **options: Any) -> Stepper:
    """Build a stepper from its registered name and options: :class:`InputError` listing the
    valid names for an unknown one, and naming the option and what the stepper takes for an
    option it does not take."""
    STEPPERS.check_options(name, options)
    return STEPPERS[name](**options)
