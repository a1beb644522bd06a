r"""Step-size controllers: how the integration loop chooses, accepts and rejects steps.

A controller is an immutable option object (as diffrax's ``AbstractStepSizeController``); its
per-run state (the current step, the previous error) lives in a :class:`ControllerState` that the
loop threads through :meth:`Controller.init`, :meth:`Controller.accept` and
:meth:`Controller.reject`.

* :class:`IController`: the classical error-per-step control
  ``Δt_new = Δt · clip(0.9 · err^{−1/(q+1)}, 0.2, 5)`` with ``q`` the order of the embedded
  solution (Hairer, Nørsett & Wanner, *Solving ODEs I*, Sec. II.4). The default of the adaptive
  steppers.
* :class:`PIController`: proportional–integral control ``Δt_new = Δt · 0.9 · err_n^{−β₁}
  err_{n−1}^{β₂}``, ``β₁ = 0.7/k``, ``β₂ = 0.4/k``, ``k = q + 1`` (Gustafsson 1991; Hairer &
  Wanner, *Solving ODEs II*, Sec. IV.2): smoother step sequences where the step is limited by
  stability rather than accuracy.
* :class:`FixedStep`: a constant step, no error control (convergence studies).
* :class:`SolverControlled`: the stepper chooses its own steps (SciPy's BDF).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..validation import positive_number
from ._kernels import scaled_error_max
from ._system import SemiDiscrete

if TYPE_CHECKING:
    from ._steppers import Stepper

__all__ = ["Controller", "ControllerState", "IController", "PIController", "FixedStep", "SolverControlled"]

SAFETY = 0.9  #: step-size safety factor
MIN_FACTOR = 0.2  #: smallest step-size change per step
MAX_FACTOR = 5.0  #: largest step-size change per step
#: a step within this relative distance of the next save time is stretched to land on it
_LAND = 1e-12


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

    The scaled error is ``max |err| / (atol + rtol max(|U|, |U_new|))`` over the cells of the
    differential components (max norm, so that local peaks are controlled). An accepted step is
    followed by ``Δt · clip(0.9 err^{−1/(q+1)}, 0.2, 5)``; a step cut short to land on a save time
    does not shrink the next one. A rejected step is retried with the same factor (at most 0.9),
    or halved if it produced non-finite or negative values.

    Parameters
    ----------
    rtol, atol : float
        Relative and absolute tolerances.
    dt_min : float
        Relative step size below which the run stops with a step-size collapse.
    """

    rtol: float = 1e-4
    atol: float = 1e-6
    dt_min: float = 1e-12

    def __post_init__(self) -> None:
        positive_number(self.rtol, "rtol")
        positive_number(self.atol, "atol")
        positive_number(self.dt_min, "dt_min")

    @property
    def clip_tolerance(self) -> float:  # type: ignore[override]
        return self.atol

    def init(self, system, stepper, t0, U0):
        dt = stepper.initial_step(system, t0, U0)
        if dt is None:
            dt = _initial_step(system, t0, U0, self.rtol, self.atol)
        return ControllerState(dt=dt, order=stepper.error_order)

    def error_norm(self, system, U, U_new, error):
        if error is None:
            return 0.0
        worst = 0.0
        for i in np.flatnonzero(system.differential):
            worst = max(worst, scaled_error_max(error[i].ravel(), U[i].ravel(), U_new[i].ravel(), self.rtol, self.atol))
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
