r"""Pseudo-arclength continuation of steady states, detection and location of special points, and
branch switching.

A branch of ``F(x, p) = 0`` (:class:`SteadyProblem`) is followed by arclength ``s`` in the norm
``‖(x, p)‖² = θ‖x‖² + p²``, ``θ = 1/N`` (an RMS measure of the state). From a point ``(x_0, p_0)``
with unit tangent ``t_0`` the predictor is ``(x_0, p_0) + Δs\, t_0`` and Newton's method corrects
it on the hyperplane

.. math::

    F(x, p) = 0, \qquad θ\, t_{0,x}·(x − x_0) + t_{0,p}(p − p_0) = Δs

(Keller's pseudo-arclength method: Keller 1977, docs/references.md [Kel77]; Allgower & Georg,
*Introduction to Numerical Continuation Methods*, 2003 [AG03], §2). The tangent at the new
point solves ``[F_x F_p; θ t_{0,x}ᵀ t_{0,p}] t = (0, 1)``, normalised. The step grows after
quick corrections and shrinks after slow or failed ones.

Along a branch the eigenvalues of ``J w = λ M w`` nearest 0 are computed at every point
(:func:`nearest_eigenvalues`); between two points

* a sign change of the tangent's ``p`` component is a **fold** (limit point);
* a change of the number of real eigenvalues with positive real part without a fold is a
  **branch point** (a real eigenvalue crosses zero: a steady bifurcation);
* a change of the number of complex ones is a **Hopf point** (a pair crosses the imaginary axis,
  its imaginary part the frequency of the emerging oscillation) ([Kuz04] §10.2).

Each is located by bisection in arclength on its test (the sign of ``t_p``, the counts) to a
width of ``1e-9 max(1, |p|)``. At a branch point the new branch is entered along the critical
eigenvector ``φ`` (``J φ = 0``): its first point solves ``F = 0`` on ``θ φ·(x − x_*) = ε``
(the method of AUTO; [Kuz04] §10.2.2, [AG03] §8).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, NumericalError
from ..grid import Grid, default_grid
from ..model import Model
from ..validation import finite_number, require
from ._problem import SteadyProblem
from ._spectrum import nearest_eigenvalues

__all__ = ["continuation", "ContinuationError", "Settings"]


class ContinuationError(NumericalError):
    """Newton's method failed on a branch; ``diagram`` holds what was computed so far.

    Attributes
    ----------
    diagram : Diagram
        The partial diagram (every point computed before the failure).
    """

    def __init__(self, message: str, diagram: Any = None):
        super().__init__(message)
        self.diagram = diagram


@dataclass(frozen=True)
class Settings:
    """Options of the continuation.

    Attributes
    ----------
    ds, ds_min, ds_max : float or None
        First, smallest and largest arclength step (default: 1/100, 1e-5/100 and 1/25 of the
        parameter range).
    points : int
        Most points per branch.
    n_eig : int
        Eigenvalues computed at each point (those nearest 0).
    newton_tol : float
        Newton stops when the weighted update is below ``newton_tol · (1 + ‖(x, p)‖)``.
    max_newton : int
        Newton iterations per correction.
    """

    ds: float | None = None
    ds_min: float | None = None
    ds_max: float | None = None
    points: int = 200
    n_eig: int = 10
    newton_tol: float = 1e-10
    max_newton: int = 10

    def __post_init__(self) -> None:
        for name in ("ds", "ds_min", "ds_max"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, float | int) and math.isfinite(v) and v > 0):
                raise InputError(f"{name} must be a positive number, got {v!r}")
        for name, low in (("points", 2), ("n_eig", 1), ("max_newton", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
                raise InputError(f"{name} must be an integer >= {low}, got {v!r}")
        if not (isinstance(self.newton_tol, float | int) and 0 < self.newton_tol < 1e-2):
            raise InputError(f"newton_tol must be in (0, 0.01), got {self.newton_tol!r}")


@dataclass
class Point:
    """A converged point of a branch."""

    x: np.ndarray
    p: float
    tangent: np.ndarray  # (t_x, t_p), unit in the weighted norm
    eigenvalues: np.ndarray
    iterations: int = 0
    vectors: np.ndarray | None = None

    @property
    def n_real(self) -> int:
        """Real eigenvalues with positive real part."""
        lam = self.eigenvalues
        return int(np.sum((lam.real > 0) & ~_complex(lam)))

    @property
    def n_complex(self) -> int:
        """Complex eigenvalues (both of each pair) with positive real part."""
        lam = self.eigenvalues
        return int(np.sum((lam.real > 0) & _complex(lam)))

    @property
    def n_unstable(self) -> int:
        return int(np.sum(self.eigenvalues.real > 0))


def _complex(lam: np.ndarray) -> np.ndarray:
    return np.abs(lam.imag) > 1e-8 * np.maximum(1.0, np.abs(lam))


@dataclass
class Special:
    """A located special point."""

    kind: str  # "BP", "fold", "Hopf"
    point: Point
    after: int  # index on its branch of the point before it
    multiplicity: int = 1
    frequency: float = 0.0
    mode: tuple[int, ...] = ()
    wavenumber: float = math.nan
    vector: np.ndarray | None = None


@dataclass
class Branch:
    """The points of one branch and what was found on it."""

    index: int
    origin: str
    points: list[Point] = field(default_factory=list)
    special: list[Special] = field(default_factory=list)
    end: str = ""


class _Tracer:
    """Continuation of the branches of one :class:`SteadyProblem` (the numerical engine)."""

    def __init__(self, problem: SteadyProblem, lo: float, hi: float, settings: Settings):
        self.problem = problem
        self.lo, self.hi = lo, hi
        width = hi - lo
        self.settings = settings
        self.ds0 = settings.ds or width / 100
        self.ds_max = settings.ds_max or width / 25
        self.ds_min = settings.ds_min or 1e-5 * width / 100
        self.theta = 1.0 / problem.n_unknowns
        self.weights = np.append(np.full(problem.n_unknowns, self.theta), 1.0)
        self.nonnegative = np.repeat(np.array([True] * problem.n), problem.size)  # refined below: densities only
        system = problem.system(lo)
        self.nonnegative = np.repeat(np.asarray(system.nonnegative, dtype=bool), problem.size)

    # ------------------------------------------------------------------ linear algebra
    def _norm(self, v: np.ndarray) -> float:
        return float(np.sqrt(np.sum(self.weights * v * v)))

    def _bordered(self, x: np.ndarray, p: float, t: np.ndarray):
        """``[F_x F_p; θ t_xᵀ t_p]`` at ``(x, p)`` as a CSC matrix, with ``F(x, p)``."""
        import scipy.sparse as sps

        F = self.problem.residual(x, p)
        J = self.problem.jacobian(x, p)
        Fp = self.problem.parameter_derivative(x, p, F)
        row = self.weights * t
        A = sps.bmat(
            [[J, sps.csc_matrix(Fp[:, None])], [sps.csr_matrix(row[None, :-1]), sps.csr_matrix([[row[-1]]])]],
            format="csc",
        )
        return A, J, F

    @staticmethod
    def _solve(A, b: np.ndarray) -> np.ndarray | None:
        import scipy.sparse.linalg as spla

        try:
            lu = spla.splu(A)
        except RuntimeError:  # exactly singular
            return None
        out = lu.solve(b)
        return out if np.all(np.isfinite(out)) else None

    def correct(self, x0: np.ndarray, p0: float, t: np.ndarray, ds: float, guess: np.ndarray | None = None):
        """Newton on ``F = 0``, ``θ t_x·(x − x0) + t_p (p − p0) = ds``; ``(x, p, iterations)`` or None."""
        z0 = np.append(x0, p0)
        z = z0 + ds * t if guess is None else guess.copy()
        tol = self.settings.newton_tol * (1.0 + self._norm(z0))
        for it in range(1, self.settings.max_newton + 1):
            x, p = z[:-1], float(z[-1])
            A, _, F = self._bordered(x, p, t)
            if not np.all(np.isfinite(F)):
                return None
            g = float(np.sum(self.weights * t * (z - z0)) - ds)
            dz = self._solve(A, -np.append(F, g))
            if dz is None:
                return None
            z = z + dz
            if self._norm(dz) <= tol:
                return z[:-1], float(z[-1]), it
        return None

    def finish(
        self, x: np.ndarray, p: float, t_prev: np.ndarray, iterations: int, vectors: bool = False
    ) -> Point | None:
        """The point at ``(x, p)``: tangent oriented like ``t_prev`` and eigenvalues."""
        A, J, _ = self._bordered(x, p, t_prev)
        rhs = np.zeros(A.shape[0])
        rhs[-1] = 1.0
        t = self._solve(A, rhs)
        if t is None:
            return None
        t = t / self._norm(t)
        lam, vec = nearest_eigenvalues(J, self.problem.mass_matrix, self.settings.n_eig, vectors=vectors)
        return Point(x, p, t, lam, iterations, vec)

    # ------------------------------------------------------------------ events
    def _events(self, a: Point, b: Point) -> list[tuple[str, int]]:
        """Special points between ``a`` and ``b``: ``(kind, multiplicity)``."""
        out = []
        fold = a.tangent[-1] * b.tangent[-1] < 0
        dr = b.n_real - a.n_real
        if fold:
            out.append(("fold", 1))
        elif dr:
            out.append(("BP", abs(dr)))
        dc = b.n_complex - a.n_complex
        if dc:
            out.append(("Hopf", max(1, abs(dc) // 2)))
        return out

    def locate(self, kind: str, a: Point, b: Point, ds: float) -> Point:
        """Bisection in arclength between ``a`` (``s = 0``) and ``b`` (``s = ds``) on the test of
        ``kind``; returns the point at the middle of the final interval (eigenvectors included)."""

        def side(pt: Point) -> bool:
            if kind == "fold":
                return bool(pt.tangent[-1] * a.tangent[-1] > 0)
            if kind == "BP":
                return pt.n_real == a.n_real
            return pt.n_complex == a.n_complex

        lo, hi = 0.0, ds
        width = 1e-9 * max(1.0, abs(a.p))
        best: Point | None = None
        guess_z = None
        for _ in range(80):
            if hi - lo <= width:
                break
            mid = 0.5 * (lo + hi)
            res = self.correct(a.x, a.p, a.tangent, mid, guess_z)
            if res is None:
                res = self.correct(a.x, a.p, a.tangent, mid)
            if res is None:
                break
            pt = self.finish(res[0], res[1], a.tangent, res[2])
            if pt is None:
                break
            guess_z = np.append(pt.x, pt.p)
            best = pt
            if side(pt):
                lo = mid
            else:
                hi = mid
        mid = 0.5 * (lo + hi)
        res = self.correct(a.x, a.p, a.tangent, mid)
        if res is not None:
            final = self.finish(res[0], res[1], a.tangent, res[2], vectors=True)
            if final is not None:
                return final
        return best if best is not None else b

    # ------------------------------------------------------------------ branches
    def inside(self, p: float) -> bool:
        return self.lo - 1e-12 * abs(self.lo) <= p <= self.hi + 1e-12 * abs(self.hi)

    def trace(self, branch: Branch, first: Point, on_point: Callable[[Branch], None] | None = None) -> None:
        """Follow ``branch`` from ``first`` until it leaves the parameter range, has the settings'
        number of points, or leaves the non-negative states. Raises :class:`ContinuationError`
        (without a diagram) if the step collapses."""
        branch.points.append(first)
        ds = self.ds0
        while len(branch.points) < self.settings.points:
            a = branch.points[-1]
            res = self.correct(a.x, a.p, a.tangent, ds)
            b = None
            if res is not None:
                b = self.finish(res[0], res[1], a.tangent, res[2])
            if b is None:
                ds *= 0.5
                if ds < self.ds_min:
                    branch.end = f"Newton failed at {self.problem.parameter} = {a.p:.6g}"
                    raise ContinuationError(
                        f"Newton's method did not converge on branch {branch.index} after point {len(branch.points) - 1} "
                        f"({self.problem.parameter} = {a.p:.6g}): step below {self.ds_min:.3g}"
                    )
                continue
            jump = abs(b.n_real - a.n_real) > 1 or abs(b.n_complex - a.n_complex) > 2
            if jump and ds > 1e-3 * self.ds_max and ds > self.ds_min:
                ds *= 0.5  # two crossings in one step: separate them
                continue
            for kind, multiplicity in self._events(a, b):
                located = self.locate(kind, a, b, ds)
                branch.special.append(self._special(kind, located, len(branch.points) - 1, multiplicity))
            branch.points.append(b)
            if on_point is not None:
                on_point(branch)
            if not self.inside(b.p):
                branch.end = f"left the range at {self.problem.parameter} = {b.p:.6g}"
                return
            U = b.x[: self.problem.n_state]
            low = float(np.min(U[self.nonnegative])) if np.any(self.nonnegative) else 0.0
            if low < -1e-8 * max(1.0, float(np.max(np.abs(U)))):
                branch.end = f"a density became negative ({low:.3g}) at {self.problem.parameter} = {b.p:.6g}"
                return
            if b.iterations <= 3:
                ds = min(1.5 * ds, self.ds_max)
            elif b.iterations >= 6:
                ds = max(0.6 * ds, self.ds_min)
        branch.end = f"{self.settings.points} points"

    def _special(self, kind: str, pt: Point, after: int, multiplicity: int) -> Special:
        from ..analysis import dominant_mode

        sp = Special(kind, pt, after, multiplicity)
        lam = pt.eigenvalues
        if kind == "Hopf":
            cplx = _complex(lam)
            if np.any(cplx):
                i = int(np.argmin(np.where(cplx, np.abs(lam.real), np.inf)))
                sp.frequency = float(abs(lam[i].imag))
        elif kind in ("BP", "fold") and pt.vectors is not None and lam.size:
            real = ~_complex(lam)
            i = int(np.argmin(np.where(real, np.abs(lam), np.inf)))
            v = np.real(pt.vectors[:, i])
            v = v / self._norm(np.append(v, 0.0))
            sp.vector = v
            U = v[: self.problem.n_state].reshape(self.problem.n, *self.problem.grid.shape)
            field_ = U[int(np.argmax(np.sum(U.reshape(self.problem.n, -1) ** 2, axis=1)))]
            k, m = dominant_mode(field_, self.problem.grid)
            sp.wavenumber, sp.mode = float(k), tuple(int(i) for i in m)
        return sp

    def switch(self, bp: Special) -> Point | None:
        """The first point of the branch through the branch point ``bp`` along its critical
        eigenvector, or None."""
        if bp.vector is None:
            return None
        phi = np.append(bp.vector, 0.0)
        phi = phi / self._norm(phi)
        x0, p0 = bp.point.x, bp.point.p
        for eps in (self.ds0, 0.5 * self.ds0, 2.0 * self.ds0, 0.25 * self.ds0):
            res = self.correct(x0, p0, phi, eps)
            if res is None:
                continue
            pt = self.finish(res[0], res[1], phi, res[2])
            if pt is None:
                continue
            # the new branch's tangent, oriented away from the branch point
            if np.sum(self.weights * pt.tangent * phi) < 0:
                pt.tangent = -pt.tangent
            return pt
        return None


def continuation(
    model: Model,
    parameter: str,
    bounds: tuple[float, float],
    *,
    grid: Grid | None = None,
    branches: int = 1,
    settings: Settings | None = None,
    state: int | None = None,
    limiter: str | None = None,
    progress: Callable[[str], None] | None = None,
):
    """The bifurcation diagram of ``model`` in ``parameter`` over ``bounds``.

    The homogeneous steady state (:func:`crossdiff.analysis.select_state`, or ``state``) is
    followed from ``bounds[0]`` to ``bounds[1]`` on the finite-volume steady problem
    (:class:`SteadyProblem`); the branch points found on it are located, and the first
    ``branches`` of them (in the order met) are switched onto and their patterned branches
    followed through the range, with their folds, further branch points and Hopf points.

    Parameters
    ----------
    model : Model
    parameter : str
    bounds : (float, float)
        Start and end of the parameter range (the continuation starts at the first).
    grid : Grid, optional
        Default: the model's default grid.
    branches : int
        Patterned branches to follow (0: the homogeneous branch only).
    settings : Settings, optional
    state : int, optional
        Index of the homogeneous steady state (:func:`crossdiff.analysis.steady_states`).
    limiter : str, optional
        Slope limiter of the taxis reconstruction.
    progress : callable, optional
        Called with a line of text after each point.

    Returns
    -------
    Diagram

    Raises
    ------
    ParameterError, InputError
        An unknown parameter, a bad range, no homogeneous steady state.
    ContinuationError
        Newton's method failed; its ``diagram`` is the partial diagram.
    """
    from ..analysis import select_state, steady_states
    from ._diagram import Diagram

    require(model, Model, "model")
    settings = settings if settings is not None else Settings()
    require(settings, Settings, "settings")
    if not isinstance(bounds, tuple | list) or len(bounds) != 2:
        raise InputError(f"the range must be two numbers (start, end), got {bounds!r}")
    a, b = finite_number(bounds[0], "range start"), finite_number(bounds[1], "range end")
    if a == b:
        raise InputError(f"the range of {parameter} is empty ({a:g}, {b:g})")
    if isinstance(branches, bool) or not isinstance(branches, int | np.integer) or branches < 0:
        raise InputError(f"branches must be an integer >= 0, got {branches!r}")
    grid = grid if grid is not None else default_grid(model)
    problem = SteadyProblem(model, parameter, grid, limiter=limiter)
    if branches and any(grid.periodic):
        raise InputError(
            "patterned branches on a periodic domain have a translation mode (no phase condition yet): "
            "use noflux walls, or branches=0"
        )
    start_model = model.with_settings({parameter: a})
    states = steady_states(start_model, grid=grid)
    chosen = select_state(states, state)
    u = chosen.array.copy()
    U0 = np.broadcast_to(u.reshape(-1, *([1] * grid.ndim)), (problem.n, *grid.shape))
    tracer = _Tracer(problem, min(a, b), max(a, b), settings)
    direction = 1.0 if b > a else -1.0
    t0 = np.zeros(problem.n_unknowns + 1)
    t0[-1] = direction
    done: list[Branch] = []

    def report(br: Branch) -> None:
        if progress is not None:
            pt = br.points[-1]
            progress(f"branch {br.index} point {len(br.points) - 1}: {parameter} = {pt.p:.6g}")

    def partial(err: ContinuationError, current: Branch) -> ContinuationError:
        diagram = Diagram.from_branches(problem, done + [current], note=str(err), status="failed")
        return ContinuationError(str(err), diagram)

    home = Branch(0, "homogeneous state")
    res = tracer.correct(problem.pack(U0), a, t0, 0.0)
    first = tracer.finish(res[0], res[1], t0, res[2]) if res is not None else None
    if first is None:
        raise NumericalError(f"Newton's method did not converge at the homogeneous state, {parameter} = {a:g}")
    try:
        tracer.trace(home, first, report)
    except ContinuationError as err:
        raise partial(err, home) from None
    done.append(home)
    found = [s for s in home.special if s.kind == "BP"]
    for k, bp in enumerate(found[:branches], start=1):
        start = tracer.switch(bp)
        br = Branch(k, f"branch point {bp.mode} at {parameter} = {bp.point.p:.8g} on branch 0")
        if start is None:
            br.end = "branch switching failed"
            done.append(br)
            continue
        try:
            tracer.trace(br, start, report)
        except ContinuationError as err:
            raise partial(err, br) from None
        done.append(br)
    note = ""
    if not found:
        note = f"no branch point of the homogeneous state for {parameter} between {a:g} and {b:g}"
    return Diagram.from_branches(problem, done, note=note)
