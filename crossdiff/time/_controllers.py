r"""Step-size controllers: how the integration loop chooses, accepts and rejects steps.

A controller is an immutable option object (as diffrax's ``AbstractStepSizeController``); its
per-run state (the current step, the previous error) lives in a :class:`ControllerState` that the
loop threads through :meth:`Controller.init`, :meth:`Controller.accept` and
:meth:`Controller.reject`.

* :class:`IController`: the classical error-per-step control
  ``Δt_new = Δt · clip(0.9 · err^{−1/(q+1)}, 0.2, 5)`` with ``q`` the order of the embedded
  solution (Hairer, Nørsett & Wanner, *Solving ODEs I*, Sec. II.4), the error of each species
  measured against its total and its pattern (:func:`pattern_error`), with the default tolerances
  ``rtol = 0.5/N²`` on a grid of ``N`` cells along its longest axis (:func:`default_rtol`) and
  ``atol = rtol/100`` (:func:`default_atol`). The default of the adaptive steppers.
* :class:`PIController`: proportional–integral control ``Δt_new = Δt · 0.9 · err_n^{−β₁}
  err_{n−1}^{β₂}``, ``β₁ = 0.7/k``, ``β₂ = 0.4/k``, ``k = q + 1`` (Gustafsson 1991; Hairer &
  Wanner, *Solving ODEs II*, Sec. IV.2): smoother step sequences where the step is limited by
  stability rather than accuracy.
* :class:`FixedStep`: a constant step, no error control (convergence studies).
* :class:`SolverControlled`: the stepper chooses its own steps (SciPy's BDF).
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, cast

import numpy as np

from ..validation import positive_number
from ._kernels import pattern_error
from ._system import Capabilities, HasErrorComponents, SemiDiscrete

if TYPE_CHECKING:
    from ._steppers import Stepper

__all__ = [
    "Controller",
    "ControllerState",
    "IController",
    "PIController",
    "FixedStep",
    "SolverControlled",
    "ATOL_PER_RTOL",
    "default_atol",
    "default_rtol",
]

SAFETY = 0.9  #: step-size safety factor
MIN_FACTOR = 0.2  #: smallest step-size change per step
MAX_FACTOR = 5.0  #: largest step-size change per step
#: a step within this relative distance of the next save time is stretched to land on it
_LAND = 1e-12
#: ``atol = ATOL_PER_RTOL · rtol`` unless the absolute tolerance is given (see :func:`default_atol`)
ATOL_PER_RTOL = 1e-2
#: default relative tolerance ``DEFAULT_RTOL_N2 / N²`` on a grid of ``N`` cells along its longest axis
DEFAULT_RTOL_N2 = 0.5
#: bounds of the default relative tolerance
DEFAULT_RTOL_RANGE = (1e-8, 1e-3)


def default_rtol(shape: tuple[int, ...]) -> float:
    """The default relative tolerance on a grid of ``shape`` cells: ``0.5 / N²``, ``N = max(shape)``,
    within [1e-8, 1e-3].

    The time error of a run is proportional to ``rtol`` (:func:`pattern_error`) and the space
    error of the second-order finite volumes to ``h² ∝ 1/N²``, so a tolerance that scales like
    ``1/N²`` keeps the time error below the space error under refinement. The constant is the
    largest for which this holds on every catalogue model's default grid and on the
    Keller–Segel benchmark on 256² and 512² (``bench/tolerance.py``; docs/numerics.md, "The
    default tolerance"): ``N`` = 64, 96, 128, 256, 512 give 1.2e-4, 5.4e-5, 3.1e-5, 7.6e-6,
    1.9e-6.
    """
    n = max(shape, default=1)
    low, high = DEFAULT_RTOL_RANGE
    return min(high, max(low, DEFAULT_RTOL_N2 / n**2))


def resolve_tolerances(rtol: float | None, atol: float | None, system: SemiDiscrete | None) -> tuple[float, float]:
    """``(rtol, atol)``: the given values, ``rtol`` by default :func:`default_rtol` of the
    system's grid, ``atol`` by default ``rtol/100``. Without a system, a default ``rtol`` is
    that of 128 cells along an axis."""
    if rtol is None:
        rtol = default_rtol(system.layout.space_shape if system is not None else (128,))
    return rtol, default_atol(rtol, atol)


def default_atol(rtol: float, atol: float | None = None) -> float:
    """The absolute tolerance that goes with ``rtol``: ``atol`` when given, else ``rtol / 100``.

    The scale of a cell's error is ``atol + rtol · s`` (see :func:`pattern_error`): values of a
    species above ``atol/rtol`` are controlled relatively, smaller ones absolutely. The densities
    of the catalogue are O(1), so ``atol/rtol = 0.01`` makes errors relative down to 1 % of the
    typical density and absolute (``rtol`` of 1 % of it) below. A fixed ``atol`` would cap the
    accuracy that any ``rtol`` can buy (with ``atol = 1e-6``, ``rtol = 1e-8`` gave no more than
    ``rtol = 1e-6``); tying it to ``rtol`` keeps their ratio, and so the meaning of the norm, at
    every tolerance. ``rtol = 1e-4`` gives the former default ``atol = 1e-6``.
    """
    rtol = positive_number(rtol, "rtol")
    return rtol * ATOL_PER_RTOL if atol is None else positive_number(atol, "atol")


@dataclass
class ControllerState:
    """Per-run state of a controller: the next step to try, the error order, the last error."""

    dt: float
    order: int = 1
    previous_error: float = 1.0
    rejected: bool = False


class Controller(ABC):
    """Contract of a step-size controller.

    Attributes
    ----------
    adaptive : bool
        Whether steps are accepted or rejected by an error estimate.
    clip_tolerance : float
        Negative values of non-negative components down to ``−clip_tolerance`` are round-off,
        set to zero (conserving the total); below it, an adaptive step is rejected.
    dt_min : float
        A trial step below ``dt_min · max(1, |t|)`` is a step-size collapse (adaptive only).
    """

    adaptive: ClassVar[bool] = True
    clip_tolerance: float = 1e-6
    dt_min: float = 1e-12

    def bind(self, system: SemiDiscrete) -> Controller:
        """This controller with the options that depend on the system resolved (the default
        tolerance of :class:`IController` depends on the grid), for the loop to call once per
        run before :meth:`init`. Without it a controller resolves them at every use."""
        return self

    @abstractmethod
    def init(self, system: SemiDiscrete, stepper: Stepper, t0: float, U0: np.ndarray) -> ControllerState:
        """The state before the first step (its ``dt`` is the first step to try)."""

    def propose(self, state: ControllerState, limit: float, remaining: float) -> float:
        """The trial step: the controller's step, capped by the stepper's stability ``limit``,
        stretched or cut to land on the next save time ``remaining`` away."""
        dt = min(state.dt, limit) if self.adaptive else state.dt
        return remaining if dt >= remaining * (1 - _LAND) else dt

    def error_norm(self, system: SemiDiscrete, U: np.ndarray, U_new: np.ndarray, error: np.ndarray | None) -> float:
        """Scaled error of a step (``<= 1`` acceptable); 0 without an estimate."""
        return 0.0

    def accept(self, state: ControllerState, dt: float, remaining: float, err: float) -> ControllerState:
        """Next state after an accepted step of size ``dt`` with scaled error ``err``."""
        return state

    def reject(self, state: ControllerState, dt: float, err: float, invalid: bool) -> ControllerState:
        """Next state after a rejected step; ``invalid`` when the step gave non-finite or
        negative values (then the step is halved)."""
        state.dt = 0.5 * dt
        state.rejected = True
        return state


def _initial_step(system: SemiDiscrete, t: float, U: np.ndarray, rtol: float, atol: float) -> float:
    """Starting step ``0.01 ‖U‖ / ‖dU/dt‖`` in the scaled max norm (Hairer, Nørsett & Wanner,
    *Solving ODEs I*, Sec. II.4)."""
    scale = atol + rtol * np.abs(U)
    d0 = float(np.max(np.abs(U) / scale))
    d1 = float(np.max(np.abs(system.rhs(t, U)) / scale))
    return 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1


@dataclass(frozen=True)
class IController(Controller):
    """Error-per-step control with the embedded error estimate of the stepper.

    The scaled error of a step is the largest :func:`pattern_error` of the differential
    components: the error of each species' total relative to its total, and the error of every
    cell relative to ``atol + rtol min(|U|, R)``, ``R`` the species' spatial range, after removing
    the part of the error that rescales the whole species (max norm, so that local peaks are
    controlled). An accepted step is followed by ``Δt · clip(0.9 err^{−1/(q+1)}, 0.2, 5)``; a
    step cut short to land on a save time does not shrink the next one. A rejected step is
    retried with the same factor (at most 0.9), or halved if it produced non-finite or negative
    values.

    Why the pattern and not ``|U|``: with local extrapolation (the step is advanced with the
    order-``p`` solution, the error estimated with the order-``q = p − 1`` one), error-per-step
    control makes the global error proportional to ``rtol`` (Hairer, Nørsett & Wanner 1993,
    docs/references.md [HNW93], Sec. II.4) only while every step's error is measured against
    the quantity whose errors propagate. Patterns that grow from a small perturbation ``δ`` of a
    homogeneous state (Turing and chemotactic instabilities) amplify every step's error with the
    perturbation. Measured against ``|U| ≈ 1``, the allowed error was ``rtol`` while ``δ`` was
    1 % and the same ``rtol`` once the pattern was O(1): the early steps were long and
    inaccurate relative to ``δ``, late ones short. How much of the final error came from the
    early phase then depended on how long the steps were, i.e. on ``rtol``. On
    keller-segel-logistic 64² (t = 4) the global error went like ``rtol^0.75`` and was 24–240 ×
    ``rtol`` over ``rtol`` = 1e-3…1e-7; measured against the pattern it goes like ``rtol^1.04``
    and is 7–10 × ``rtol`` (docs/numerics.md, "Tolerance proportionality").

    Parameters
    ----------
    rtol : float, optional
        Relative tolerance; default :func:`default_rtol` of the system's grid (``0.5/N²``,
        resolved by :meth:`bind` or, before that, at every use).
    atol : float, optional
        Absolute tolerance; default ``rtol / 100`` (:func:`default_atol`). Also the tolerance of
        round-off negative values (:attr:`Controller.clip_tolerance`).
    dt_min : float
        Relative step size below which the run stops with a step-size collapse.

    Attributes ``rtol`` and ``atol`` are the values given (None: the default);
    :meth:`tolerances` gives the values used on a system. :meth:`bind` also records whether the
    system restricts the controlled components (:class:`~crossdiff.time.HasErrorComponents`).
    """

    rtol: float | None = None
    atol: float | None = None
    dt_min: float = 1e-12
    #: the system bound to lists the components to control (set by :meth:`bind`)
    _restricted: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.rtol is not None:
            positive_number(self.rtol, "rtol")
        if self.atol is not None:
            positive_number(self.atol, "atol")
        positive_number(self.dt_min, "dt_min")

    def tolerances(self, system: SemiDiscrete | None = None) -> tuple[float, float]:
        """``(rtol, atol)`` used on ``system`` (:func:`resolve_tolerances`)."""
        return resolve_tolerances(self.rtol, self.atol, system)

    def bind(self, system: SemiDiscrete) -> IController:
        restricted = Capabilities.of(system).error_components
        if self.rtol is not None and restricted == self._restricted:
            return self
        bound = replace(self, rtol=self.tolerances(system)[0]) if self.rtol is None else copy.copy(self)
        object.__setattr__(bound, "_restricted", restricted)
        return bound

    @property
    def clip_tolerance(self) -> float:  # type: ignore[override]
        """``atol`` (with the default ``rtol`` not yet bound to a system: that of 128 cells)."""
        return self.tolerances()[1]

    def init(self, system, stepper, t0, U0):
        dt = stepper.initial_step(system, t0, U0)
        if dt is None:
            dt = _initial_step(system, t0, U0, *self.tolerances(system))
        return ControllerState(dt=dt, order=stepper.error_order)

    def error_norm(self, system, U, U_new, error):
        if error is None:
            return 0.0
        rtol, atol = self.tolerances(system)
        worst = 0.0
        components = np.asarray(system.differential, dtype=bool)
        if self._restricted:  # optional (an AP kinetic system), recorded by bind
            components = components & np.asarray(cast(HasErrorComponents, system).error_components, dtype=bool)
        for i in np.flatnonzero(components):
            e = pattern_error(error[i].ravel(), U[i].ravel(), U_new[i].ravel(), rtol, atol)
            if e != e:  # NaN: the worst error
                return e
            worst = max(worst, e)
        return worst

    def _factor(self, state: ControllerState, err: float) -> float:
        if err == 0:
            return MAX_FACTOR
        return min(MAX_FACTOR, max(MIN_FACTOR, SAFETY * err ** (-1.0 / (state.order + 1))))

    def accept(self, state, dt, remaining, err):
        factor = self._factor(state, err)
        state.dt = dt * factor if dt < remaining or factor < 1 else max(state.dt, dt * factor)
        state.previous_error = max(err, 1e-4)
        state.rejected = False
        return state

    def reject(self, state, dt, err, invalid):
        if invalid:
            return super().reject(state, dt, err, invalid)
        state.dt = dt * max(MIN_FACTOR, SAFETY * err ** (-1.0 / (state.order + 1)))
        state.rejected = True
        return state


@dataclass(frozen=True)
class PIController(IController):
    """Proportional–integral step-size control (Gustafsson 1991; Hairer & Wanner II, IV.2).

    ``Δt_new = Δt · clip(0.9 err_n^{−β₁} err_{n−1}^{β₂}, 0.2, 5)`` after an accepted step,
    with ``k = q + 1`` and by default ``β₁ = 0.7/k``, ``β₂ = 0.4/k``; no growth right after a
    rejection. Rejections are handled as by :class:`IController`.
    """

    beta1: float = 0.7
    beta2: float = 0.4

    def __post_init__(self) -> None:
        super().__post_init__()
        positive_number(self.beta1, "beta1")
        positive_number(self.beta2, "beta2")

    def _factor(self, state, err):
        if err == 0:
            return MAX_FACTOR
        k = state.order + 1
        factor = SAFETY * err ** (-self.beta1 / k) * state.previous_error ** (self.beta2 / k)
        if state.rejected:
            factor = min(factor, 1.0)
        return min(MAX_FACTOR, max(MIN_FACTOR, factor))


@dataclass(frozen=True)
class FixedStep(Controller):
    """A constant step ``dt`` (the last step of a save interval is cut to land on it).

    ``clip_tolerance`` is the tolerance of round-off negative values (see :class:`Controller`).
    """

    adaptive: ClassVar[bool] = False
    dt: float = 1.0
    clip_tolerance: float = 1e-6

    def __post_init__(self) -> None:
        positive_number(self.dt, "dt")

    def init(self, system, stepper, t0, U0):
        return ControllerState(dt=self.dt)

    def reject(self, state, dt, err, invalid):  # pragma: no cover - fixed steps are never rejected
        return state


@dataclass(frozen=True)
class SolverControlled(Controller):
    """The stepper chooses its own steps with its own error control (e.g. SciPy's BDF); the
    loop offers it the whole interval to the next save time."""

    adaptive: ClassVar[bool] = False

    def init(self, system, stepper, t0, U0):
        return ControllerState(dt=math.inf)

    def propose(self, state, limit, remaining):
        return remaining
