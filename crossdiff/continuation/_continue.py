r"""Pseudo-arclength continuation of steady states, detection and location of special points, and
branch switching.

A branch of ``F(x, p) = 0`` (:class:`SteadyProblem`) is followed by arclength ``s`` in the norm
``‖(x, p)‖² = θ‖x‖² + p²``, ``θ = (W/X)²/N`` (``N`` unknowns, ``X`` the RMS of the starting
state, ``W`` the parameter range: a relative change of the state by one weighs as much as the
whole range). From a point ``(x_0, p_0)``
with unit tangent ``t_0`` the predictor is ``(x_0, p_0) + Δs\, t_0`` and Newton's method corrects
it on the hyperplane

.. math::

    F(x, p) = 0, \qquad θ\, t_{0,x}·(x − x_0) + t_{0,p}(p − p_0) = Δs

(Keller's pseudo-arclength method: Keller 1977, docs/references.md [Kel77]; Allgower & Georg,
*Introduction to Numerical Continuation Methods*, 2003 [AG03]). The tangent at the new
point solves ``[F_x F_p; θ t_{0,x}ᵀ t_{0,p}] t = (0, 1)``, normalised. The step grows after
quick corrections and shrinks after slow or failed ones.

Along a branch the eigenvalues of ``J w = λ M w`` near 0 (and near ``iω`` where a Hopf point is
expected) are computed at every point
(:func:`leading_eigenvalues`); between two points

* a sign change of the tangent's ``p`` component is a **fold** (limit point);
* a sign change of the bordered determinant ``det [F_x F_p; θ t]`` without a fold is a
  **branch point** (an odd number of real eigenvalues crosses zero: a steady bifurcation), and so
  is a change of the count of unstable real eigenvalues by an even number where that many equal
  eigenvalues with the same eigenvectors changed sign together (a square's double modes);
* a change of the number of complex ones is a **Hopf point** (a pair crosses the imaginary axis,
  its imaginary part the frequency of the emerging oscillation) ([Kuz04] ch. 10).

Each is located by regula falsi in arclength on a continuous test function, its side decided by
the discrete test, to a width of ``1e-9 max(1, |p|)``. Where a slope limiter makes ``F``
piecewise smooth the branch may turn at a corner; it is crossed along the tangent of the piece
beyond (:meth:`_Tracer.cross_corner`). The linear systems are solved on the LU factors of
``F_x`` (:class:`~crossdiff.continuation._linear.BorderedLU`). At a branch point the new branch is entered along the critical
eigenvector ``φ`` (``J φ = 0``): its first point solves ``F = 0`` on ``θ φ·(x − x_*) = ε``
(the method of AUTO; [Kuz04] ch. 10, [AG03]).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, NumericalError
from ..grid import Grid, default_grid
from ..model import Model
from ..validation import finite_number, require
from ._linear import BorderedLU
from ._points import Branch, Point, Special, _basis, _cluster, _complex, _double, _multiple, _unit
from ._problem import SteadyProblem
from ._spectrum import leading_eigenvalues

__all__ = ["continuation", "ContinuationError", "Settings"]


#: Steps below this fraction of the first step try to cross a corner (:meth:`_Tracer.cross_corner`).
_CORNER = 1e-3

#: Most points of the homogeneous branch (bounded by the range; ``Settings.points`` if larger).
_HOME_POINTS = 2000


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
        Most points per patterned branch (the homogeneous branch ends with the range).
    n_eig : int
        Eigenvalues computed at each point near each shift (:func:`leading_eigenvalues`).
    shifts : tuple of complex or None
        Where the eigenvalue solver looks: ``0`` for branch points and folds, ``iω`` for Hopf
        points of frequency about ``ω``. Default: ``0``, and ``iω`` of the most unstable
        oscillatory admissible mode of the starting state's dispersion relation if there is one.
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
    shifts: tuple[complex, ...] | None = None
    newton_tol: float = 1e-10
    max_newton: int = 10

    def __post_init__(self) -> None:
        if self.shifts is not None:
            try:
                shifts = tuple(complex(z) for z in self.shifts)
            except (TypeError, ValueError):
                raise InputError(f"shifts must be numbers, got {self.shifts!r}") from None
            if not shifts or not all(math.isfinite(abs(z)) for z in shifts):
                raise InputError(f"shifts must be finite numbers, got {self.shifts!r}")
            object.__setattr__(self, "shifts", shifts)
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


class _Tracer:
    """Continuation of the branches of one :class:`SteadyProblem` (the numerical engine)."""

    def __init__(self, problem: SteadyProblem, lo: float, hi: float, settings: Settings, shifts: tuple[complex, ...]):
        self.problem = problem
        self.shifts = shifts
        self.lo, self.hi = lo, hi
        width = hi - lo
        self.settings = settings
        self.ds0 = settings.ds or width / 100
        self.ds_max = settings.ds_max or width / 25
        self.ds_min = settings.ds_min or 1e-5 * width / 100
        self.theta = 1.0 / problem.n_unknowns
        self.weights = np.append(np.full(problem.n_unknowns, self.theta), 1.0)
        self.nonnegative = problem.nonnegative

    def scale(self, x0: np.ndarray) -> None:
        """Measure states relative to ``x0``: ``θ = (W/X)²/N`` with ``X`` the RMS of ``x0`` and
        ``W`` the parameter range, so that a relative change of the state by one counts as much
        as crossing the whole range (a state of size 177 and a range of 0.07 are both followed)."""
        X = float(np.sqrt(np.mean(x0[: self.problem.n_state] ** 2)))
        X = X if X > 1e-12 else 1.0
        self.theta = ((self.hi - self.lo) / X) ** 2 / self.problem.n_unknowns
        self.weights = np.append(np.full(self.problem.n_unknowns, self.theta), 1.0)

    # ------------------------------------------------------------------ linear algebra
    def _norm(self, v: np.ndarray) -> float:
        return float(np.sqrt(np.sum(self.weights * v * v)))

    def _bordered(self, entries: np.ndarray, Fp: np.ndarray, row: np.ndarray) -> BorderedLU | None:
        """The solver of ``[F_x F_p; row]`` (block elimination on the factors of ``F_x``)."""
        return BorderedLU.factor(self.problem.assemble(entries), Fp, row)

    def correct(self, x0: np.ndarray, p0: float, t: np.ndarray, ds: float, chord: Any = None):
        """Newton on ``F = 0``, ``θ t_x·(x − x0) + t_p (p − p0) = ds``; ``(x, p, iterations)`` or None.

        With ``chord = (lu, r)`` (the factorised bordered matrix ``[F_x F_p; r]`` at ``(x0, p0)``,
        ``r = θ t_prev`` the row the point's tangent was solved with) the iteration keeps that
        matrix (the chord method, linear convergence at a rate ``O(ds)``) on the hyperplane
        ``r·(z − z0) = ds r·t`` through the predictor; if it does not converge, Newton's method
        with the matrix of each iterate takes over, on ``θ t·(z − z0) = ds``."""
        with np.errstate(all="ignore"):  # a diverging iteration is refused below, not warned about
            return self._correct(x0, p0, t, ds, chord)

    def _correct(self, x0: np.ndarray, p0: float, t: np.ndarray, ds: float, chord: Any):
        z0 = np.append(x0, p0)
        tol = self.settings.newton_tol * (1.0 + self._norm(z0))
        own = self.weights * t
        passes = []
        if chord is not None and abs(float(np.sum(chord[1] * t))) > 0.1 * float(np.sum(own * t)):
            passes.append((chord[0], chord[1]))
        passes.append((None, own))
        for lu, row in passes:
            z = z0 + ds * t
            target = ds * float(np.sum(row * t))
            limit = 3 * self.settings.max_newton if lu is not None else self.settings.max_newton
            for it in range(1, limit + 1):
                x, p = z[:-1], float(z[-1])
                if lu is None:
                    F, entries, Fp = self.problem.linearise(x, p)
                    step_lu = self._bordered(entries, Fp, row)
                else:
                    F = self.problem.residual(x, p)
                    step_lu = lu
                if step_lu is None or not np.all(np.isfinite(F)):
                    break
                g = float(np.sum(row * (z - z0)) - target)
                dz = step_lu.solve(-np.append(F, g))
                if not np.all(np.isfinite(dz)):
                    break
                z = z + dz
                if self._norm(dz) <= tol:
                    return z[:-1], float(z[-1]), it
        return None

    def finish(
        self,
        x: np.ndarray,
        p: float,
        t_prev: np.ndarray,
        iterations: int,
        vectors: bool = False,
        spectrum: str = "leading",
    ) -> Point | None:
        """The point at ``(x, p)``: tangent oriented like ``t_prev``, eigenvalues, and the
        factorised bordered matrix the tangent was solved with (the next correction's chord).

        ``spectrum``: ``"leading"`` (:func:`leading_eigenvalues`) or ``"none"`` (the trial points
        of a fold's or a branch point's location: their tests need the factors only)."""
        _, entries, Fp = self.problem.linearise(x, p)
        row = self.weights * t_prev
        lu = self._bordered(entries, Fp, row)
        if lu is None:
            return None
        rhs = np.zeros(self.problem.n_unknowns + 1)
        rhs[-1] = 1.0
        t = lu.solve(rhs)
        if not np.all(np.isfinite(t)):
            return None
        t = t / self._norm(t)
        if spectrum == "none":
            return Point(x, p, t, np.zeros(0), iterations, None, (lu, row))
        # the eigenvectors (free from Arnoldi) tell crossings of multiple eigenvalues (:func:`_double`);
        # a branch keeps them on its last point only
        lam, vec = leading_eigenvalues(
            lu.J, self.problem.mass_matrix, self.settings.n_eig, self.shifts, vectors=True, zero_lu=lu.lu
        )
        # the same factors serve the chord and the eigenvalues near 0
        return Point(x, p, t, lam, iterations, vec, (lu, row))

    # ------------------------------------------------------------------ events
    def _events(self, a: Point, b: Point) -> list[tuple[str, int]]:
        """Special points between ``a`` and ``b``: ``(kind, multiplicity)``."""
        out = []
        fold = a.tangent[-1] * b.tangent[-1] < 0
        dr = b.n_real - a.n_real
        dc = b.n_complex - a.n_complex
        # Only the eigenvalues near the shifts are computed: where more are unstable, eigenvalues
        # enter and leave that set between two points and the counts change without a crossing
        # (on May–Nowak's homogeneous branch, 100 cells, χ > 6, six such changes were reported
        # as branch points of modes already unstable). An odd number of real crossings changes
        # the sign of det [F_x F_p; r] ([Kuz04] ch. 10; [AG03]); an even one is accepted where
        # a multiple eigenvalue crosses as one (equal eigenvalues on both sides, e.g. a square's
        # modes (m, n) and (n, m)).
        # (the sign costs a look at the factors, 30–50 ms on 64²; asked only where the counts or
        # the eigenvalue nearest zero changed, a crossing hidden by an eigenvalue that left the
        # computed set was missed: May–Nowak's mode 11 on 100 cells)
        odd = a.sign * b.sign < 0
        if fold:
            out.append(("fold", 1))
        elif odd:
            out.append(("BP", 1))
        elif dr and dr % 2 == 0 and (a.sign == 0 or b.sign == 0 or _double(a, b, abs(dr))):
            out.append(("BP", abs(dr)))
        elif not dr and self._test("BP", a) * self._test("BP", b) < 0:
            # a double eigenvalue crossed while another pair left the computed set
            up = self._test("BP", b) > 0
            if _double(a, b, 2, up):
                out.append(("BP", 2))
        if dr and dr + dc == 0 and not odd:  # two real eigenvalues met and became a complex pair
            return out
        if dc:
            out.append(("Hopf", max(1, abs(dc) // 2)))
        return out

    @staticmethod
    def _test(kind: str, pt: Point) -> float:
        """The continuous test function of ``kind`` at ``pt``: ``t_p`` (fold), the real eigenvalue
        nearest zero (branch point), the real part of the complex eigenvalue nearest the
        imaginary axis (Hopf); NaN where there is none."""
        if kind == "fold":
            return float(pt.tangent[-1])
        lam = pt.eigenvalues
        pick = ~_complex(lam) if kind == "BP" else _complex(lam)
        if not np.any(pick):
            return math.nan
        return float(lam.real[pick][np.argmin(np.abs(lam.real[pick]))])

    def _crossing_test(self, kind: str, a: Point, b: Point, multiplicity: int) -> Callable[[Point], float]:
        """The continuous test function of a special point between ``a`` and ``b``.

        For a branch point the eigenvalue that crosses: the Ritz value of ``J`` on the span ``Q``
        of the ``multiplicity`` eigenvectors of ``b`` that crossed (nearest zero on the side they
        reached), ``λ = 1/μ`` with ``μ`` the mean eigenvalue of ``Qᵀ J⁻¹ M Q`` — ``multiplicity``
        solves with the point's factors ([Saa11] ch. 4). Other eigenvalues may lie nearer zero
        where several modes cross close together (a square's pairs on 64²); the eigenvalue nearest
        zero then belongs to the wrong mode. Otherwise :meth:`_test`."""
        if kind != "BP" or b.vectors is None:
            return lambda pt: self._test(kind, pt)
        up = b.n_real > a.n_real if b.n_real != a.n_real else self._test(kind, b) > 0  # see _events
        idx = _cluster(b, multiplicity, positive=bool(up))
        if idx.size < multiplicity:
            return lambda pt: self._test(kind, pt)
        Q = _basis(b.vectors[:, idx], multiplicity)
        if multiplicity == 1 and a.vectors is not None:
            # a simple eigenvalue: the one nearest zero on the side it leaves at a, and of the three
            # nearest on the other side at b the one whose eigenvector agrees best with it (the
            # one that crossed, not a neighbour that moved past)
            ia, ib = _cluster(a, 1, positive=not up), _cluster(b, 3, positive=bool(up))
            if ia.size and ib.size:
                Va, Vb = _unit(a.vectors[:, ia]), _unit(b.vectors[:, ib])
                overlap = np.abs(Va.conj().T @ Vb)
                j = int(np.unravel_index(np.argmax(overlap), overlap.shape)[1])
                Q = _basis(b.vectors[:, ib[j : j + 1]], 1)
        MQ = np.asarray(self.problem.mass_matrix @ Q)

        def ritz(pt: Point) -> float:
            if pt.chord is None:
                return self._test(kind, pt)
            mu = np.linalg.eigvals(Q.T @ pt.chord[0].lu.solve(MQ))
            mean = float(np.mean(mu.real))
            return 1.0 / mean if mean != 0 else math.inf

        return ritz

    def locate(self, kind: str, a: Point, b: Point, ds: float, multiplicity: int = 1) -> Point:
        """The special point of ``kind`` between ``a`` (``s = 0``) and ``b`` (``s = ds``).

        The side of a trial point is decided by the discrete test (the sign of ``t_p``, the count
        of unstable eigenvalues); the trial points come from the Illinois variant of regula falsi
        on the continuous test function ([AG03]), a bisection step where that has no sign
        change or stalls. Ends when the bracket in ``s`` is below ``1e-9 max(1, |p|)`` or the
        secant step is; returns the point with the smallest test value, eigenvectors included."""

        odd = kind == "BP" and a.sign * b.sign < 0
        test = self._crossing_test(kind, a, b, multiplicity)
        f_lo, f_hi = test(a), test(b)

        def side(pt: Point) -> bool:
            if kind == "fold":
                return bool(pt.tangent[-1] * a.tangent[-1] > 0)
            if kind == "BP":  # the sign of the bordered determinant, or of a multiple eigenvalue
                return pt.sign == a.sign if odd else bool(test(pt) * f_lo > 0)
            return pt.n_complex == a.n_complex

        # trial points: the tangent and the factors (fold, BP: the test needs no spectrum) or the spectrum
        spectrum = "leading" if kind == "Hopf" else "none"
        lo, hi = 0.0, ds
        width = 1e-9 * max(1.0, abs(a.p))
        best, best_f = b, abs(f_hi) if math.isfinite(f_hi) else math.inf
        ends = [a, b]  # the points at lo and hi
        last_side = 0
        previous = math.nan
        closed = False
        for _ in range(60):
            if hi - lo <= width:
                closed = True
                break
            secant = math.isfinite(f_lo) and math.isfinite(f_hi) and f_lo * f_hi < 0
            mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo) if secant else 0.5 * (lo + hi)
            if not lo < mid < hi:
                mid = 0.5 * (lo + hi)
            if abs(mid - previous) <= width:  # converged: the secant's root is best, a bisection closed
                closed = not secant
                break
            previous = mid
            res = self.correct(a.x, a.p, a.tangent, mid, a.chord)
            pt = self.finish(res[0], res[1], a.tangent, res[2], spectrum=spectrum) if res else None
            if pt is None:
                break
            f = test(pt)
            if math.isfinite(f) and abs(f) < best_f:
                best, best_f = pt, abs(f)
            if side(pt):
                lo, f_lo = mid, f
                ends[0] = pt
                if last_side == -1:
                    f_hi *= 0.5
                last_side = -1
            else:
                hi, f_hi = mid, f
                ends[1] = pt
                if last_side == 1:
                    f_lo *= 0.5
                last_side = 1
        if closed and kind == "BP":
            # the bracket closed: its end past the change (the test function may have followed a
            # neighbouring eigenvalue; the discrete side test did not)
            best = ends[1]
        final = self.finish(best.x, best.p, a.tangent, best.iterations, vectors=True)
        return final if final is not None else best

    # ------------------------------------------------------------------ branches
    def inside(self, p: float) -> bool:
        return self.lo - 1e-12 * abs(self.lo) <= p <= self.hi + 1e-12 * abs(self.hi)

    def trace(
        self, branch: Branch, first: Point, on_point: Callable[[Branch], None] | None = None, limit: int | None = None
    ) -> None:
        """Follow ``branch`` from ``first`` until it leaves the parameter range, has the settings'
        number of points, or leaves the non-negative states. Raises :class:`ContinuationError`
        (without a diagram) if the step collapses."""
        branch.points.append(first)
        ds = self.ds0
        limit = limit or self.settings.points
        while len(branch.points) < limit:
            a = branch.points[-1]
            res = self.correct(a.x, a.p, a.tangent, ds, a.chord)
            b = None
            if res is not None:
                b = self.finish(res[0], res[1], a.tangent, res[2])
            corner = False
            if b is None and ds < _CORNER * self.ds0:
                b = self.cross_corner(a, ds)
                corner = b is not None
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
            if jump and ds > 1e-3 * self.ds_max and ds > self.ds_min and not _multiple(a, b):
                ds *= 0.5  # two crossings in one step: separate them
                continue
            for kind, multiplicity in self._events(a, b):
                # at a corner the test functions jump: the special point is the corner itself
                located = (
                    self.locate(kind, a, b, ds, multiplicity)
                    if not corner
                    else self.finish(a.x, a.p, a.tangent, 0, True)
                )
                special = self._special(kind, located or a, len(branch.points) - 1, multiplicity)
                special.corner = corner
                branch.special.append(special)
            if corner:
                ds = self.ds0  # past the corner the branch is smooth again
            a.vectors = None  # (memory: N × n_eig per point)
            branch.points.append(b)
            if on_point is not None:
                on_point(branch)
            if not self.inside(b.p):
                branch.end = f"left the range at {self.problem.parameter} = {b.p:.6g}"
                return
            origin = branch.points[0]
            if len(branch.points) > 4 and self._norm(np.append(b.x - origin.x, b.p - origin.p)) < 0.5 * ds:
                branch.end = f"returned to its start at {self.problem.parameter} = {b.p:.6g} (a closed loop)"
                return
            U = b.x[: self.problem.n_state]
            low = float(np.min(U[self.nonnegative])) if np.any(self.nonnegative) else 0.0
            if low < -1e-8 * max(1.0, float(np.max(np.abs(U)))):
                branch.end = f"a density became negative ({low:.3g}) at {self.problem.parameter} = {b.p:.6g}"
                return
            if corner:
                pass
            elif b.iterations <= 5:
                ds = min(1.5 * ds, self.ds_max)
            elif b.iterations >= 12:
                ds = max(0.6 * ds, self.ds_min)
        branch.end = f"{limit} points"

    def cross_corner(self, a: Point, ds: float) -> Point | None:
        """The next point past a corner of the branch at ``a``, or None.

        A slope limiter (``crossdiff.fv.LIMITERS``) or a ``min``/``max`` in the model makes ``F``
        only piecewise smooth: where one of its switches is met, the branch may turn by an angle
        larger than 90° (a non-smooth fold turns by nearly 180°) and no hyperplane orthogonal to the
        incoming tangent ``t_A`` meets its continuation, so the steps shrink towards zero while the
        points approach the switch. The tangent ``t_B`` of the piece beyond it (the kernel of
        ``[F_x F_p]`` at ``a + ds t_A``, past the switch since that step failed) gives the new
        direction: ``+t_B`` if it converges, else ``−t_B``, a correction on the hyperplane
        orthogonal to it that does not fall back onto the incoming branch (the sine of the angle
        between ``t_A`` and the step at least 1e-3) ([AG03] §8 on piecewise-smooth curves)."""
        z0 = np.append(a.x, a.p)
        beyond = z0 + ds * a.tangent
        with np.errstate(all="ignore"):
            _, entries, Fp = self.problem.linearise(beyond[:-1], float(beyond[-1]))
        lu = self._bordered(entries, Fp, self.weights * a.tangent)
        if lu is None:
            return None
        rhs = np.zeros(self.problem.n_unknowns + 1)
        rhs[-1] = 1.0
        t = lu.solve(rhs)
        if not np.all(np.isfinite(t)):
            return None
        t = t / self._norm(t)
        for sign in (1.0, -1.0):
            for eps in (ds, 4.0 * ds, 16.0 * ds):
                res = self.correct(a.x, a.p, sign * t, eps)
                if res is None:
                    continue
                step = np.append(res[0], res[1]) - z0
                length = self._norm(step)
                cos = float(np.sum(self.weights * step * a.tangent)) / length if length > 0 else -1.0
                if cos < 0 and math.sqrt(max(0.0, 1.0 - cos * cos)) < 1e-3:
                    continue  # back onto the incoming branch
                return self.finish(res[0], res[1], sign * t, res[2])
        return None

    def _special(self, kind: str, pt: Point, after: int, multiplicity: int) -> Special:
        from ..analysis import dominant_mode

        sp = Special(kind, pt, after, multiplicity)
        lam = pt.eigenvalues
        if not lam.size:
            return sp
        if kind == "Hopf":
            pick = _complex(lam)
            key = np.abs(lam.real)
        else:
            pick = ~_complex(lam)
            key = np.abs(lam)
        if not np.any(pick):
            return sp
        i = int(np.argmin(np.where(pick, key, np.inf)))
        if kind == "Hopf":
            sp.frequency = float(abs(lam[i].imag))
        if pt.vectors is None:
            return sp
        v = np.real(pt.vectors[:, i])  # a Hopf mode's shape at phase 0
        v = v / self._norm(np.append(v, 0.0))
        if kind != "Hopf":
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
    from ._spectrum import one_blas_thread

    with one_blas_thread()():  # small dense factors and ARPACK: threads cost, never pay
        return _continuation(model, parameter, bounds, grid, branches, settings, state, limiter, progress)


def _continuation(
    model: Model,
    parameter: str,
    bounds: tuple[float, float],
    grid: Grid | None,
    branches: int,
    settings: Settings | None,
    state: int | None,
    limiter: str | None,
    progress: Callable[[str], None] | None,
) -> Any:
    from ..analysis import critical, dispersion, select_state, steady_states
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
    shifts = settings.shifts
    if shifts is None:  # where a Hopf point of the homogeneous state is expected
        shifts = (0.0,)
        try:
            onset = critical(start_model, parameter, grid=grid, bracket=(a, b), state=chosen)
            if onset.kind == "oscillatory":
                shifts = (0.0, 1j * onset.frequency)
        except InputError:  # no change of stability in the range: the most unstable mode
            top = dispersion(start_model, chosen, grid).most_unstable
            if top.oscillatory:
                shifts = (0.0, 1j * top.frequency)
    tracer = _Tracer(problem, min(a, b), max(a, b), settings, shifts)
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
    tracer.scale(problem.pack(U0))
    res = tracer.correct(problem.pack(U0), a, t0, 0.0)
    first = tracer.finish(res[0], res[1], t0, res[2]) if res is not None else None
    if first is None:
        raise NumericalError(f"Newton's method did not converge at the homogeneous state, {parameter} = {a:g}")
    try:
        tracer.trace(home, first, report, limit=max(settings.points, _HOME_POINTS))
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
        # the branch begins at the branch point, leaving it along the critical eigenvector
        br.points.append(Point(bp.point.x, bp.point.p, start.tangent, bp.point.eigenvalues, known_sign=bp.point.sign))
        try:
            tracer.trace(br, start, report)
        except ContinuationError as err:
            raise partial(err, br) from None
        done.append(br)
    note = ""
    if not found:
        note = f"no branch point of the homogeneous state for {parameter} between {a:g} and {b:g}"
    return Diagram.from_branches(problem, done, note=note)
