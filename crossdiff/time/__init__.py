"""Time integration of semi-discrete systems, the same for every scale.

* :class:`SemiDiscrete`: the contract ``dU/dt = E(t, U) + L U`` (+ algebraic constraints) that
  discretisations implement, with :class:`Layout` describing their variables for the output; the
  optional capabilities a system may offer (:class:`FiltersError`, :class:`HasJacobianSparsity`,
  :class:`HasErrorComponents`, :class:`ExplainsNegative`), read once per run
  (:class:`Capabilities`).
* :func:`integrate`: the one loop; :class:`SaveAt` says when to save.
* Steppers (:class:`IMEX` default, :class:`SSPRK3`, :class:`BDF`, :class:`GSAIMEX`; registry
  :data:`STEPPERS`, :func:`stepper_from_name`, :func:`stepper_options`; tableaux
  :class:`ButcherPair`),
  step-size controllers (:class:`IController`, :class:`PIController`, :class:`FixedStep`),
  observers (:class:`Monitor` for blow-up and failures, :class:`Recorder`, :class:`ProgressBar`;
  the NetCDF writer is :class:`crossdiff.io.FrameWriter`).
* :class:`Status`, :class:`FailureReport`, :class:`Stats`: what a run reports.
"""

from typing import TYPE_CHECKING

from ..lazy import attach

if TYPE_CHECKING:
    from ._controllers import (
        ATOL_PER_RTOL,
        Controller,
        ControllerState,
        FixedStep,
        IController,
        PIController,
        SolverControlled,
        default_atol,
        default_rtol,
    )
    from ._events import FailureReport, Stats, Status
    from ._gsa import GSAIMEX
    from ._kernels import ark_scatter, field_summary, gsa_scatter, gsa_start, pattern_error, spike_mass
    from ._loop import Integration, SaveAt, clip_negative, integrate
    from ._observers import Monitor, Observer, ProgressBar, ProgressLog, Recorder, StopWhen
    from ._registry import STEPPERS, stepper_from_name, stepper_options
    from ._steppers import BDF, IMEX, SSPRK3, Stepper, StepResult
    from ._system import (
        Capabilities,
        Coordinate,
        Counters,
        ExplainsNegative,
        FiltersError,
        HasErrorComponents,
        HasJacobianSparsity,
        Layout,
        Motion,
        SemiDiscrete,
        TimeDependentFields,
        TimeDependentImplicit,
        Variable,
        field_map,
    )
    from ._tableau import ARS443, KENCARP3, KENCARP4, ButcherPair, GSATableau, IMEXTableau, upwind_courant_limit

__all__ = [
    "SemiDiscrete",
    "Layout",
    "Variable",
    "Coordinate",
    "Counters",
    "Capabilities",
    "FiltersError",
    "HasJacobianSparsity",
    "HasErrorComponents",
    "ExplainsNegative",
    "TimeDependentImplicit",
    "TimeDependentFields",
    "Motion",
    "field_map",
    "integrate",
    "Integration",
    "SaveAt",
    "clip_negative",
    "Stepper",
    "StepResult",
    "IMEX",
    "SSPRK3",
    "BDF",
    "GSAIMEX",
    "GSATableau",
    "ARS443",
    "STEPPERS",
    "stepper_from_name",
    "stepper_options",
    "Controller",
    "ControllerState",
    "IController",
    "PIController",
    "FixedStep",
    "SolverControlled",
    "ATOL_PER_RTOL",
    "default_atol",
    "default_rtol",
    "pattern_error",
    "spike_mass",
    "field_summary",
    "Observer",
    "Recorder",
    "ProgressBar",
    "ProgressLog",
    "Monitor",
    "StopWhen",
    "ButcherPair",
    "IMEXTableau",
    "KENCARP3",
    "KENCARP4",
    "upwind_courant_limit",
    "Status",
    "FailureReport",
    "Stats",
    "ark_scatter",
    "gsa_scatter",
    "gsa_start",
]

# Imported when first used (docs/architecture.md, "Start-up"): the registry of steppers
# (STEPPERS) without the compiled kernels.
__getattr__, __dir__ = attach(
    __name__,
    {
        "._controllers": [
            "ATOL_PER_RTOL",
            "Controller",
            "ControllerState",
            "FixedStep",
            "IController",
            "PIController",
            "SolverControlled",
            "default_atol",
            "default_rtol",
        ],
        "._events": ["FailureReport", "Stats", "Status"],
        "._gsa": ["GSAIMEX"],
        "._kernels": ["ark_scatter", "field_summary", "gsa_scatter", "gsa_start", "pattern_error", "spike_mass"],
        "._loop": ["Integration", "SaveAt", "clip_negative", "integrate"],
        "._observers": ["Monitor", "Observer", "ProgressBar", "ProgressLog", "Recorder", "StopWhen"],
        "._registry": ["STEPPERS", "stepper_from_name", "stepper_options"],
        "._steppers": ["BDF", "IMEX", "SSPRK3", "Stepper", "StepResult"],
        "._system": [
            "Capabilities",
            "Coordinate",
            "Counters",
            "ExplainsNegative",
            "FiltersError",
            "HasErrorComponents",
            "HasJacobianSparsity",
            "Layout",
            "Motion",
            "SemiDiscrete",
            "TimeDependentFields",
            "TimeDependentImplicit",
            "Variable",
            "field_map",
        ],
        "._tableau": [
            "ARS443",
            "KENCARP3",
            "KENCARP4",
            "ButcherPair",
            "GSATableau",
            "IMEXTableau",
            "upwind_courant_limit",
        ],
    },
)
