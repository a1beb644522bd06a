"""Time steppers for the semi-discrete system ``dU/dt = E(t, U) + L U`` of :class:`~crossdiff.fv.Discretisation`.

* :class:`IMEX` (default): additive Runge–Kutta ARK4(3)6L[2]SA (or ARK3(2)4L[2]SA), diffusion
  ``L`` implicit (one DCT/FFT solve per implicit stage), taxis and reactions explicit; adaptive step with embedded error
  control, capped by the explicit transport limit (the CFL condition, or where diffusion
  dominates its larger von Neumann bound).
* :class:`SSPRK3`: the explicit three-stage strong-stability-preserving Runge–Kutta method of
  Shu & Osher (J. Comput. Phys. 77, 1988); positivity preserving under its CFL condition.
* :class:`BDF`: SciPy's variable-order BDF on the whole right-hand side with the sparse Jacobian
  pattern of the stencil: a stiff method-of-lines reference.

Every stepper advances with :meth:`Stepper.advance`; the Runge–Kutta ones share one driver loop
(step-size control, rejection of non-finite or negative states, failure monitor).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ModelError
from ..fv._kernels import ark_scatter, scaled_error_max
from ._events import FailureReport, Monitor, Stats, Status
from ._tableau import KENCARP3, KENCARP4, IMEXTableau

__all__ = ["Stepper", "IMEX", "SSPRK3", "BDF", "STEPPERS", "stepper_from_name"]

SAFETY = 0.9  #: step-size safety factor
MIN_FACTOR = 0.2  #: smallest step-size change per step
MAX_FACTOR = 5.0  #: largest step-size change per step


def _check_tol(rtol: float, atol: float) -> None:
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"{name} must be a positive number, got {v!r}")


def _check_dt(dt: float | None) -> None:
    if dt is not None and not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise InputError(f"dt must be a positive number, got {dt!r}")


def _clip_negative(U: np.ndarray, nonneg: np.ndarray, tol: float) -> bool:
    """Remove small negative values of non-negative species in place, conserving mass.

    Spectral solves leave round-off of about ``1e-16 max|u|``, and the IMEX weights are not all
    positive, so where a density nearly vanishes a step may end slightly below zero, within the
    step's absolute tolerance. Reaction dynamics with an unstable zero state would amplify such
    values. Values in ``[-tol, 0)`` are set to zero and the species is rescaled so that its total
    ``Σ u`` is unchanged (mass is still conserved to round-off). Returns True if a value below
    ``-tol`` remains: the step is then rejected and retried with a smaller step.
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


class Stepper(ABC):
    """Contract: advance the state from ``t`` to exactly ``t_stop``."""

    name: str = ""
    #: order of accuracy in time
    order: int = 0

    @abstractmethod
    def advance(self, disc, t: float, U: np.ndarray, t_stop: float, run: "RunState") -> FailureReport | None:
        """Advance ``run.U`` from ``run.t`` to ``t_stop``; a report if the run failed."""

    def describe(self) -> str:
        return self.name


@dataclass
class RunState:
    """Mutable state threaded through a run: time, state, step size, counters, monitor."""

    t: float
    U: np.ndarray
    dt: float | None
    stats: Stats
    monitor: Monitor


class _RungeKutta(Stepper):
    """Shared driver of the one-step methods: step-size control and failure handling."""

    adaptive: bool = True
    dt: float | None = None
    rtol: float = 1e-4
    atol: float = 1e-6

    @abstractmethod
    def attempt(self, disc, t: float, U: np.ndarray, dt: float) -> tuple[np.ndarray, float]:
        """One step of size ``dt``: the new state and the scaled error norm (0 if not adaptive)."""

    @abstractmethod
    def step_cap(self, disc, t: float, U: np.ndarray) -> float:
        """Largest step allowed by stability/positivity at this state (``inf`` if none)."""

    def initial_dt(self, disc, t: float, U: np.ndarray) -> float:
        """Starting step: ``0.01 ‖U‖ / ‖dU/dt‖`` (Hairer, Nørsett & Wanner, Sec. II.4)."""
        scale = self.atol + self.rtol * np.abs(U)
        d0 = float(np.max(np.abs(U) / scale))
        d1 = float(np.max(np.abs(disc.rhs(t, U)) / scale))
        return 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1

    def _error_norm(self, disc, U: np.ndarray, U_new: np.ndarray, err: np.ndarray) -> float:
        """Max over parabolic species and cells of ``|err| / (atol + rtol max(|U|, |U_new|))``."""
        worst = 0.0
        for i in np.flatnonzero(disc.parabolic):
            worst = max(worst, scaled_error_max(err[i].ravel(), U[i].ravel(), U_new[i].ravel(), self.rtol, self.atol))
        return worst

    def advance(self, disc, t, U, t_stop, run):
        monitor = run.monitor
        nonneg = np.array([np.min(U[i]) >= 0 for i in range(disc.n)])
        if self.dt is not None:
            dt = self.dt
        elif run.dt is None:
            dt = self.initial_dt(disc, t, U)
        else:
            dt = run.dt
        while t < t_stop:
            remaining = t_stop - t
            disc.refresh(t, U)
            dt_try = min(dt, self.step_cap(disc, t, U)) if self.dt is None else dt
            if dt_try >= remaining * (1 - 1e-12) or (self.dt is not None and dt_try > remaining):
                dt_try = remaining
            if self.dt is None and dt_try < monitor.dt_min * max(1.0, abs(t)):
                run.t, run.U = t, U
                return monitor.collapse(t, U, dt_try)
            U_new, err = self.attempt(disc, t, U, dt_try)
            run.stats.nfev = disc.nfev
            finite = bool(np.all(np.isfinite(U_new)))
            negative = False
            if finite and nonneg.any():
                negative = _clip_negative(U_new, nonneg, self.atol)
            if self.dt is not None:  # fixed steps: no rejection
                if not finite:
                    run.t, run.U = t, U
                    return monitor.check(t + dt_try, U_new)
                accepted = True
            else:
                accepted = finite and not negative and err <= 1.0
            if accepted:
                t = t_stop if dt_try == remaining else t + dt_try
                U = U_new
                run.stats.n_steps += 1
                report = monitor.check(t, U)
                if report is not None:
                    run.t, run.U = t, U
                    return report
                if self.dt is None:
                    factor = MAX_FACTOR if err == 0 else min(MAX_FACTOR, max(MIN_FACTOR, SAFETY * err ** (-1.0 / (self.error_order + 1))))
                    dt = dt_try * factor if dt_try < remaining or factor < 1 else max(dt, dt_try * factor)
            else:
                run.stats.n_rejected += 1
                if negative:
                    with np.errstate(all="ignore"):
                        report = monitor.negative_drive(t, U, disc.rhs(t, U))
                    if report is not None:
                        run.t, run.U = t, U
                        return report
                if not finite or negative:
                    dt = dt_try * 0.5
                else:
                    dt = dt_try * max(MIN_FACTOR, SAFETY * err ** (-1.0 / (self.error_order + 1)))
            run.t, run.U = t, U
        run.dt = dt
        return None

    error_order: int = 2


class IMEX(_RungeKutta):
    """Implicit–explicit additive Runge–Kutta stepper (default).

    Diffusion (constant, diagonal-tensor, or the reference part of a nonlinear diffusion) is
    implicit and solved by DCT/FFT; taxis, reactions and the remaining diffusion are explicit.

    Parameters
    ----------
    rtol, atol : float
        Tolerances of the embedded error estimate, ``|err| <= atol + rtol |U|`` cell by cell
        (max norm, so that local peaks are controlled).
    dt : float, optional
        Fixed step size (no error control); for convergence studies.
    cfl : float, optional
        Multiplier of the explicit transport limit
        ``Δt <= max(1/Σ_a max|a_a|/h_a, 2D/Σ_a max a_a²)`` of
        :meth:`~crossdiff.fv.Discretisation.transport_limit`: the hyperbolic CFL condition where
        the cell Péclet number is large, the diffusive von Neumann bound where diffusion resolves
        the aggregates (then the step does not shrink like ``h``). Default: 0.8 × the Courant
        number up to which the tableau's explicit part is stable on upwind transport
        (:attr:`IMEXTableau.upwind_courant`: 2.117 for ARK4(3)6L[2]SA, 1.832 for ARK3(2)4L[2]SA).
        On may-nowak-taxis, where the limit holds almost every step, the default 1.69 takes half
        the steps of 0.8 with the same result (difference 1e-7 against a rtol 1e-6 run).
    tableau : IMEXTableau
        The additive Runge–Kutta scheme: :data:`KENCARP4` (default, fourth order, five implicit
        solves per step) or :data:`KENCARP3` (third order, three solves). On Keller–Segel with
        logistic growth (128², rtol 1e-4) the fourth-order pair halves the error (9.9e-3 against
        1.9e-2 at t = 4) in 7 % less time, and on cancer-invasion and oncolytic-virus it is 3×
        faster at the default tolerance; where the step is held by the transport limit rather than
        by accuracy (nonlinear-singular, the late phase of may-nowak-taxis) the third-order pair
        is 1.3–1.5× cheaper.
    """

    def __init__(self, rtol: float = 1e-4, atol: float = 1e-6, dt: float | None = None, cfl: float | None = None,
                 tableau: IMEXTableau = KENCARP4):
        _check_tol(rtol, atol)
        _check_dt(dt)
        if cfl is None:
            cfl = 0.8 * tableau.upwind_courant
        if not (isinstance(cfl, (int, float)) and math.isfinite(cfl) and cfl > 0):
            raise InputError(f"cfl must be a positive number, got {cfl!r}")
        self.rtol, self.atol, self.dt, self.cfl, self.tableau = rtol, atol, dt, cfl, tableau
        self.order = tableau.order
        self.error_order = tableau.embedded_order
        self.name = f"IMEX {tableau.name}"

    def describe(self) -> str:
        return f"{self.name} ({'dt=' + format(self.dt, 'g') if self.dt else f'rtol={self.rtol:g}, atol={self.atol:g}'})"

    def step_cap(self, disc, t, U):
        return disc.transport_limit(t, U, self.cfl)

    def attempt(self, disc, t, U, dt):
        """One ARK step, scattering each stage derivative into every sum that needs it as soon as
        it is known (:func:`~crossdiff.fv._kernels.ark_scatter`): the later stage right-hand
        sides, the increment and the error estimate.

        Memory: 9 states for the six-stage pair. These are the ``s − 1`` right-hand sides, the
        increment, the error, the state and one work array. The right-hand side of stage ``j``
        is consumed by its solve. Its storage then holds the stage's implicit derivative
        ``L U_j = (U_j − rhs)/(γΔt)``, and, once that is scattered, the explicit derivative
        ``E(U_j)``.
        """
        tab = self.tableau
        s, g = tab.stages, tab.gamma
        weights_err = tab.b - tab.b_embedded
        # acc[i - 1] = U + Δt Σ_{j<i} (a^E_ij E_j + a^I_ij L_j): the right-hand side of stage i >= 1
        acc = np.empty((s - 1,) + U.shape)
        acc[:] = U
        flat = acc.reshape(s - 1, -1)
        increment = np.zeros_like(U)
        error = np.zeros_like(U)
        inc_flat, err_flat = increment.reshape(-1), error.reshape(-1)

        def scatter(j: int, coefficients: np.ndarray, k: np.ndarray) -> None:
            ark_scatter(flat, j, dt * coefficients[1:, j], inc_flat, err_flat, dt * tab.b[j], dt * weights_err[j],
                        k.reshape(-1))

        for j in range(s):
            tj = t + tab.c[j] * dt
            if j == 0:
                stage = U
                work = disc.implicit(U)
            else:
                work = acc[j - 1]
                stage = disc.solve_implicit(work, g * dt)
                disc.solve_elliptic(tj, stage)
                # L U_j = (U_j - rhs)/(γΔt), in the storage of the consumed right-hand side
                np.subtract(stage, work, out=work)
                work *= 1.0 / (g * dt)
                work[~disc.parabolic] = 0.0
            scatter(j, tab.implicit, work)
            disc.explicit(tj, stage, out=work)
            scatter(j, tab.explicit, work)
            del work
            stage = None  # free the stage before the next solve allocates its successor
        increment += U
        U_new = increment
        disc.solve_elliptic(t + dt, U_new)
        return U_new, (0.0 if self.dt is not None else self._error_norm(disc, U, U_new, error))


class SSPRK3(_RungeKutta):
    """Explicit SSP Runge–Kutta method of order 3 (Shu & Osher 1988).

    Step ``Δt = cfl / (ρ_diff + 2 ρ_taxis)`` with ``ρ_diff = 2 Σ_a D/h_a²`` and
    ``ρ_taxis = Σ_a max|a_a|/h_a``: the forward-Euler positivity limits, and SSP coefficient 1.
    Quasi-stationary species are re-solved after each stage.

    Parameters
    ----------
    cfl : float
        Fraction of the forward-Euler limit (default 0.9).
    dt : float, optional
        Fixed step size (for convergence studies); no CFL check.
    """

    adaptive = False
    order = 3

    def __init__(self, cfl: float = 0.9, dt: float | None = None):
        _check_dt(dt)
        if not (0 < cfl <= 1):
            raise InputError(f"cfl must be in (0, 1], got {cfl!r}")
        self.cfl, self.dt = cfl, dt
        self.name = "SSPRK3"

    def describe(self) -> str:
        return f"SSPRK3 ({'dt=' + format(self.dt, 'g') if self.dt else f'cfl={self.cfl:g}'})"

    def initial_dt(self, disc, t, U):
        return self.step_cap(disc, t, U)

    def step_cap(self, disc, t, U):
        rate = disc.diffusion_rate(t, U) + 2.0 * disc.taxis_rate(t, U)
        return self.cfl / rate if rate > 0 else (self.dt or math.inf)

    def attempt(self, disc, t, U, dt):
        def f(tt, V):
            return disc.rhs(tt, V)

        U1 = disc.solve_elliptic(t + dt, U + dt * f(t, U))
        U2 = disc.solve_elliptic(t + 0.5 * dt, 0.75 * U + 0.25 * (U1 + dt * f(t + dt, U1)))
        U3 = disc.solve_elliptic(t + dt, U / 3.0 + (2.0 / 3.0) * (U2 + dt * f(t + 0.5 * dt, U2)))
        return U3, 0.0

    def advance(self, disc, t, U, t_stop, run):
        if self.dt is None:
            run.dt = None  # the step comes from the CFL condition every step
        return super().advance(disc, t, U, t_stop, run)


def jacobian_sparsity(grid, n_species: int, radius: int = 2):
    """Sparsity pattern of ``d rhs / d U``: every species couples to every species within
    ``radius`` cells along each axis, plus the diagonal neighbours (tensor cross terms)."""
    import scipy.sparse as sps  # imported here: only the BDF stepper needs SciPy's sparse stack
    size = grid.size
    index = np.arange(size).reshape(grid.shape)
    offsets = {(0,) * grid.ndim}
    for a in range(grid.ndim):
        for r in range(1, radius + 1):
            for sgn in (-1, 1):
                o = [0] * grid.ndim
                o[a] = sgn * r
                offsets.add(tuple(o))
    if grid.ndim > 1:
        for a in range(grid.ndim):
            for b in range(a + 1, grid.ndim):
                for sa in (-1, 1):
                    for sb in (-1, 1):
                        o = [0] * grid.ndim
                        o[a], o[b] = sa, sb
                        offsets.add(tuple(o))
    rows, cols = [], []
    for o in offsets:
        shifted = index
        valid = np.ones(grid.shape, bool)
        for a, k in enumerate(o):
            if k == 0:
                continue
            shifted = np.roll(shifted, -k, axis=a)
            if not grid.periodic[a]:
                pos = np.arange(grid.shape[a]) + k
                mask = (pos >= 0) & (pos < grid.shape[a])
                shape = [1] * grid.ndim
                shape[a] = -1
                valid = valid & mask.reshape(shape)
        rows.append(index[valid])
        cols.append(shifted[valid])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    spatial = sps.csr_matrix((np.ones_like(r, dtype=np.int8), (r, c)), shape=(size, size))
    return sps.kron(np.ones((n_species, n_species), dtype=np.int8), spatial, format="csr")


class BDF(Stepper):
    """SciPy's BDF (orders 1–5) on the full right-hand side, with the sparse Jacobian pattern.

    A stiff method-of-lines reference: robust but slower; quasi-stationary species are not
    supported (use :class:`IMEX` or :class:`SSPRK3`).
    """

    order = 1  # variable order; the guaranteed minimum

    def __init__(self, rtol: float = 1e-6, atol: float = 1e-9):
        _check_tol(rtol, atol)
        self.rtol, self.atol = rtol, atol
        self.name = "BDF"
        self._sparsity = None

    def describe(self) -> str:
        return f"BDF (scipy, rtol={self.rtol:g}, atol={self.atol:g})"

    def advance(self, disc, t, U, t_stop, run):
        from scipy.integrate import solve_ivp  # imported here: ~40 MB only this stepper needs

        if disc.elliptic_indices:
            raise ModelError("the BDF stepper does not support quasi-stationary species (tau = 0); use IMEX or SSPRK3")
        if disc.has_nonlinear_diffusion:
            disc.refresh(t, U)
        if self._sparsity is None or self._sparsity.shape[0] != U.size:
            self._sparsity = jacobian_sparsity(disc.grid, disc.n)
        shape = U.shape

        def f(tt, y):
            return disc.rhs(tt, y.reshape(shape)).ravel()

        sol = solve_ivp(f, (t, t_stop), U.ravel(), method="BDF", rtol=self.rtol, atol=self.atol,
                        jac_sparsity=self._sparsity, first_step=run.dt)
        run.stats.nfev = disc.nfev
        run.stats.n_steps += max(len(sol.t) - 1, 0)
        run.stats.n_implicit_solves += int(sol.nlu)
        if sol.status != 0:
            run.t, run.U = float(sol.t[-1]), sol.y[:, -1].reshape(shape)
            report = run.monitor.check(run.t, run.U)
            return report or FailureReport(Status.STEP_COLLAPSE, run.t, detail=f"BDF failed: {sol.message}")
        run.t, run.U = t_stop, sol.y[:, -1].reshape(shape)
        run.dt = float(np.diff(sol.t)[-1]) if len(sol.t) > 1 else run.dt
        return run.monitor.check(run.t, run.U)


def _imex3(**options) -> IMEX:
    """IMEX with the third-order pair ARK3(2)4L[2]SA (cheaper per step where stability, not
    accuracy, sets the step)."""
    return IMEX(tableau=KENCARP3, **options)


#: Steppers by the name the CLI uses.
STEPPERS = {"imex": IMEX, "imex3": _imex3, "ssprk3": SSPRK3, "bdf": BDF}


def stepper_from_name(name: str, **options) -> Stepper:
    """Build a stepper from its CLI name; the error lists the valid names."""
    try:
        cls = STEPPERS[name.lower()]
    except KeyError:
        raise InputError(f"unknown stepper {name!r}; choose one of {', '.join(STEPPERS)}") from None
    return cls(**options)

