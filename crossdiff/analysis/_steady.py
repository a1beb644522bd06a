"""Homogeneous steady states of the reaction part and their stability as ODE equilibria.

A homogeneous steady state of (docs/theory.md (1.1)) is a constant ``u*`` with ``ψ(u*) = 0``.
They are found symbolically with :func:`sympy.solve` where the equations are rational functions
of the densities and SymPy answers within a time limit (first
with every parameter a positive symbol, which gives the conditions under which a state is
non-negative, e.g. ``R0 > 1`` for May–Nowak, docs/theory.md §1.5; then with the parameter values
as exact rationals), and otherwise by Newton-type root finding (:func:`scipy.optimize.root`)
from many starting points. Species whose reaction vanishes identically (``ψ_i ≡ 0``: their mass
is conserved, as for the minimal Keller–Segel cells or the forager–scrounger populations) do not
have an isolated steady value: they take the spatial mean of the model's initial data, which the
dynamics conserve. Stability as an ODE equilibrium: the eigenvalues of ``λ B w = J w`` with the
quasi-stationary species eliminated (docs/theory.md (4.4) at ``k = 0``).
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..errors import InputError
from ..grid import Domain, default_grid
from ..model import NOISE, Model, initial_fields
from ._linear import Linearisation, growth_eigenvalues

__all__ = ["SteadyState", "steady_states", "select_state"]

#: Seconds SymPy may spend on one attempt before the next method is tried.
SYMBOLIC_TIME_LIMIT = 4.0


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` after ``seconds`` (only in the main thread, where signals work)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass(frozen=True)
class SteadyState:
    """A homogeneous steady state ``u*`` of the reaction part, ``ψ(u*) = 0``.

    Attributes
    ----------
    values : dict of str to float
        ``u_i*`` by species name.
    exists : bool
        Whether the state is real and non-negative at the model's parameter values.
    conditions : tuple of str
        Conditions on the parameters under which every component is positive (symbolic
        solutions only), e.g. ``beta*k*r/(d1*d2*d3) > 1``; empty when there are none.
    expressions : dict of str to sympy.Expr
        ``u_i*`` as expressions of the parameters (symbolic solutions only).
    conserved : tuple of str
        Species with ``ψ_i ≡ 0``, or left free by the solution: their value is the mean of the
        initial data (the dynamics conserve it).
    eigenvalues : ndarray of complex
        Eigenvalues of the linearised reaction dynamics (``λ B w = J w``, quasi-stationary
        species eliminated).
    stability : str
        ``"stable"`` (every real part below zero), ``"unstable"``, or ``"neutral"`` (largest
        real part zero to round-off, e.g. a conserved quantity).
    method : str
        ``"symbolic"`` (parameters as symbols), ``"exact"`` (parameter values as rationals) or
        ``"numerical"``.
    index : int
        Position in the list :func:`steady_states` returns.
    """

    values: dict[str, float]
    exists: bool
    conditions: tuple[str, ...] = ()
    expressions: dict[str, sp.Expr] = field(default_factory=dict)
    conserved: tuple[str, ...] = ()
    eigenvalues: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=complex))
    stability: str = "neutral"
    method: str = "numerical"
    index: int = 0
    #: the branch the state lies on (reused by :func:`~crossdiff.analysis.critical`)
    branch: Any = field(default=None, repr=False, compare=False)

    @property
    def array(self) -> np.ndarray:
        """``u*`` as an array in the model's species order."""
        return np.array(list(self.values.values()), dtype=float)

    @property
    def positive(self) -> bool:
        """Whether every component is strictly positive (a coexistence state)."""
        return all(v > 0 for v in self.values.values())

    def describe(self) -> str:
        """One line: values, existence conditions, stability."""
        vals = ", ".join(f"{k} = {v:.6g}" for k, v in self.values.items())
        text = f"({vals})"
        if self.conditions:
            text += f" if {' and '.join(self.conditions)}"
        if self.conserved:
            text += f" [{', '.join(self.conserved)}: mean of the initial data]"
        if not self.exists:
            return text + ": does not exist at these parameters (negative)"
        lead = self.eigenvalues[np.argmax(self.eigenvalues.real)] if self.eigenvalues.size else 0j
        return text + f": {self.stability} as an ODE equilibrium (leading eigenvalue {_complex_text(lead)})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {
            "values": dict(self.values),
            "exists": self.exists,
            "conditions": list(self.conditions),
            "expressions": {k: str(v) for k, v in self.expressions.items()},
            "conserved": list(self.conserved),
            "eigenvalues": [[float(z.real), float(z.imag)] for z in self.eigenvalues],
            "stability": self.stability,
            "method": self.method,
        }


def _complex_text(z: complex) -> str:
    if abs(z.imag) <= 1e-12 * max(1.0, abs(z)):
        return f"{z.real:.6g}"
    return f"{z.real:.6g} ± {abs(z.imag):.6g}i"


# ---------------------------------------------------------------------- helpers


def initial_means(model: Model, grid: Domain | None = None) -> np.ndarray:
    """Spatial means of the model's initial data (``noise`` set to 0) on ``grid`` (default: the
    model's default grid): the conserved masses per unit volume."""
    grid = grid if grid is not None else default_grid(model)
    overrides = {s.name: model.expand(s.initial).xreplace({NOISE: sp.Integer(0)}) for s in model.species}
    U = initial_fields(model, grid, overrides=overrides)
    weights = getattr(grid, "volume_fraction", None)  # a shape: the mean over its cut cells
    if weights is not None:
        return np.sum(U * weights, axis=tuple(range(1, U.ndim))) / np.sum(weights)
    return U.reshape(model.n_species, -1).mean(axis=1)


def ode_eigenvalues(lin: Linearisation, u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Eigenvalues of the reaction dynamics at ``u`` (``k = 0``; a mean-free quasi-stationary
    species, whose homogeneous value is fixed at 0, is left out)."""
    J = lin.jacobian(u, p)
    tau = lin.tau(p)
    keep = [i for i in range(lin.n) if i not in lin.mean_free]
    lam = growth_eigenvalues(J[np.ix_(keep, keep)][None], tau[keep])[0]
    return lam[np.isfinite(lam)]


def stability_label(eigenvalues: np.ndarray) -> str:
    """``stable`` / ``unstable`` / ``neutral`` from the largest real part (round-off: 1e-9 of the
    largest modulus)."""
    if eigenvalues.size == 0:
        return "neutral"
    tol = 1e-9 * max(1.0, float(np.max(np.abs(eigenvalues))))
    top = float(np.max(eigenvalues.real))
    return "stable" if top < -tol else "unstable" if top > tol else "neutral"


def _condition(expr: sp.Expr) -> str | None:
    """A readable condition for ``expr > 0`` with positive parameter symbols (None: always true).

    ``(A − B)/C > 0`` with ``A, B, C`` positive monomials is written ``A/B > 1`` (the form of a
    basic reproduction number, ``R0 > 1``).
    """
    expr = sp.factor(sp.together(expr))
    if expr.is_positive:
        return None
    num, den = sp.fraction(expr)
    if den.is_negative:
        num, den = -num, -den
    if not den.is_positive:
        return f"{sp.sstr(expr)} > 0"
    # strip positive factors of the numerator
    factors = sp.Mul.make_args(num)
    sign_free = [f for f in factors if not f.is_positive]
    num = sp.Mul(*sign_free)
    if num.is_positive:
        return None
    terms = sp.Add.make_args(sp.expand(num))
    pos = [t for t in terms if t.is_positive]
    neg = [-t for t in terms if t.is_negative]
    if len(pos) + len(neg) == len(terms) and pos and neg:
        return f"{sp.sstr(sp.simplify(sp.Add(*pos) / sp.Add(*neg)))} > 1"
    return f"{sp.sstr(num)} > 0"


def _positive_symbols(model: Model, keep: Sequence[str]) -> tuple[dict[sp.Symbol, sp.Expr], dict[sp.Symbol, sp.Symbol]]:
    """Substitution making each parameter a symbol with the sign of its value (zero-valued ones
    become 0 unless kept), and the way back to plain symbols."""
    forward: dict[sp.Symbol, sp.Expr] = {}
    back: dict[sp.Symbol, sp.Symbol] = {}
    for name, value in model.parameters.items():
        plain = sp.Symbol(name)
        if value == 0 and name not in keep:
            forward[plain] = sp.Integer(0)
            continue
        signed = sp.Symbol(name, positive=True) if value > 0 else sp.Symbol(name, negative=True)
        if value == 0:
            signed = sp.Symbol(name, real=True)
        forward[plain] = signed
        back[signed] = plain
    return forward, back


def _exact_values(model: Model, keep: Sequence[str]) -> dict[sp.Symbol, sp.Expr]:
    """Parameter values as exact rationals (those in ``keep`` stay plain symbols)."""
    return {sp.Symbol(k): sp.nsimplify(v, rational=True) for k, v in model.parameters.items() if k not in keep}


def _unknowns(lin: Linearisation) -> tuple[list[int], list[int]]:
    """Species solved for (their reaction is not identically zero) and conserved species."""
    solved: list[int] = []
    conserved: list[int] = []
    for i, psi in enumerate(lin.parts.reactions):
        if i in lin.mean_free:
            continue
        (conserved if sp.expand(psi) == 0 else solved).append(i)
    return solved, conserved


def _symbolic(
    lin: Linearisation, subs: dict[sp.Symbol, sp.Expr], limit: float
) -> list[dict[sp.Symbol, sp.Expr]] | None:
    """``sympy.solve`` of ``ψ = 0`` for the non-conserved species, or None (failure or timeout)."""
    solved, _ = _unknowns(lin)
    eqs = [sp.together(lin.parts.reactions[i].xreplace(subs)) for i in solved]
    unknowns = [lin.species[i] for i in solved]
    if not unknowns:
        return [{}]
    if not all(eq.is_rational_function(*unknowns) for eq in eqs):
        # transcendental in the densities (or a symbolic exponent): SymPy rarely finds every
        # root, and may search for a long time; the exact values or the root finder take over
        return None
    try:
        with _time_limit(limit):
            sols = sp.solve(eqs, unknowns, dict=True)
    except (_Timeout, NotImplementedError, ValueError, TypeError, RecursionError, AttributeError):
        return None
    if not isinstance(sols, list):
        return None
    return sols


# ---------------------------------------------------------------------- branches


@dataclass
class Branch:
    """A steady state as a function of the parameter vector: symbolic expressions compiled once,
    or Newton continuation from the last state found."""

    lin: Linearisation
    exprs: list[sp.Expr | None]  # per species: expression in the parameters, None = conserved/numeric
    conserved: list[int]
    method: str
    last: np.ndarray | None = None
    _funcs: list[Callable[..., float] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        args = [*self.lin.species, *self.lin.parameters]
        self._funcs = [sp.lambdify(args, e, modules="numpy") if e is not None else None for e in self.exprs]

    def at(self, p: np.ndarray, means: np.ndarray) -> np.ndarray | None:
        """The state at parameters ``p`` (conserved species from ``means``), None if it is not
        real and finite."""
        u = np.array(means, dtype=float)
        for i in self.lin.mean_free:
            u[i] = 0.0
        if self.method == "numerical":
            start = self.last if self.last is not None else u
            root = _newton(self.lin, p, start, self.conserved)
            if root is None:
                return None
            self.last = root
            return root
        # the expressions hold the parameters and the conserved (free) species only
        out = u.copy()
        for i, f in enumerate(self._funcs):
            if f is None:
                continue
            with np.errstate(all="ignore"):
                try:
                    value = complex(f(*u, *p))
                except (ZeroDivisionError, TypeError, ValueError, OverflowError, NameError):
                    return None
            if not np.isfinite(value) or abs(value.imag) > 1e-9 * max(1.0, abs(value)):
                return None
            out[i] = value.real
        return out


def _newton(lin: Linearisation, p: np.ndarray, start: np.ndarray, conserved: Sequence[int]) -> np.ndarray | None:
    """A root of ``ψ`` near ``start`` with the conserved species held fixed."""
    from scipy.optimize import root

    free = [i for i in range(lin.n) if i not in conserved and i not in lin.mean_free]
    if not free:
        return start.copy()
    base = start.copy()

    def F(x: np.ndarray) -> np.ndarray:
        u = base.copy()
        u[free] = x
        return lin.reaction(u, p)[free]

    def jac(x: np.ndarray) -> np.ndarray:
        u = base.copy()
        u[free] = x
        return lin.jacobian(u, p)[np.ix_(free, free)]

    try:
        with np.errstate(all="ignore"):
            sol = root(F, start[free], jac=jac, method="hybr", tol=1e-13)
    except (ValueError, np.linalg.LinAlgError):
        return None
    scale = max(1.0, float(np.max(np.abs(lin.reaction(np.maximum(start, 0), p))) if lin.n else 1.0))
    if not np.all(np.isfinite(sol.x)) or np.max(np.abs(sol.fun), initial=0.0) > 1e-9 * scale:
        return None
    u = base.copy()
    u[free] = sol.x
    return u


def _numerical_roots(lin: Linearisation, p: np.ndarray, means: np.ndarray, starts: int, seed: int) -> list[np.ndarray]:
    """Distinct non-negative roots of ``ψ`` from ``starts`` random points (log-uniform in
    ``[1e-3, 10 s]``, ``s`` the largest mean of the initial data or 1), plus 0 and the means."""
    _, conserved = _unknowns(lin)
    rng = np.random.default_rng(seed)
    scale = 10.0 * max(1.0, float(np.max(np.abs(means))) if means.size else 1.0)
    candidates = [np.where(np.isin(np.arange(lin.n), conserved), means, 0.0), means.copy()]
    for _ in range(starts):
        x = np.exp(rng.uniform(np.log(1e-3), np.log(scale), lin.n))
        x[conserved] = means[conserved]
        candidates.append(x)
    roots: list[np.ndarray] = []
    for x0 in candidates:
        u = _newton(lin, p, x0, conserved)
        if u is None or np.min(u) < -1e-9 * max(1.0, float(np.max(np.abs(u)))):
            continue
        u = np.where(np.abs(u) < 1e-12 * max(1.0, float(np.max(np.abs(u)))), 0.0, u)
        if not any(np.allclose(u, r, rtol=1e-6, atol=1e-9) for r in roots):
            roots.append(u)
    roots.sort(key=lambda r: tuple(r))
    return roots


def branches(model: Model, keep: Sequence[str] = (), *, starts: int = 64, seed: int = 0) -> list[Branch]:
    """The steady-state branches of ``model`` as functions of the parameters.

    Symbolic (every parameter a symbol of its value's sign; zero-valued ones set to 0 unless in
    ``keep``), then exact (values as rationals, ``keep`` symbolic), then numerical.
    """
    lin = Linearisation(model)
    solved, conserved = _unknowns(lin)
    forward, back = _positive_symbols(model, keep)
    attempts: tuple[tuple[str, dict[sp.Symbol, sp.Expr], dict[sp.Symbol, sp.Symbol]], ...] = (
        ("symbolic", forward, back),
        ("exact", _exact_values(model, keep), {}),
    )
    for method, subs, undo in attempts:
        sols = _symbolic(lin, subs, SYMBOLIC_TIME_LIMIT)
        if sols is None:
            continue
        out = []
        for sol in sols:
            exprs: list[sp.Expr | None] = [None] * lin.n
            free_here = list(conserved)
            for i in solved:
                s = lin.species[i]
                if s in sol:
                    exprs[i] = sp.cancel(sol[s]).xreplace(undo)
                else:
                    free_here.append(i)
            # an expression may refer to a species the solution left free
            out.append(Branch(lin, exprs, sorted(free_here), method))
        if out:
            return out
    p = lin.values()
    means = initial_means(model) if conserved else np.ones(lin.n)
    return [
        Branch(lin, [None] * lin.n, conserved, "numerical", last=root)
        for root in _numerical_roots(lin, p, means, starts, seed)
    ]


def _state(model: Model, branch: Branch, index: int, means: np.ndarray) -> SteadyState | None:
    lin = branch.lin
    p = lin.values(model)
    u = branch.at(p, means)
    if u is None:
        return None
    names = model.species_names
    scale = max(1.0, float(np.max(np.abs(u))))
    exists = bool(np.min(u) >= -1e-10 * scale)
    u = np.where(np.abs(u) < 1e-12 * scale, 0.0, u)
    conditions: list[str] = []
    expressions: dict[str, sp.Expr] = {}
    if branch.method in ("symbolic", "exact"):
        forward, _ = _positive_symbols(model, ())
        for i, e in enumerate(branch.exprs):
            if e is None:
                continue
            expressions[names[i]] = e
            if branch.method == "symbolic" and not branch.conserved:
                try:
                    with _time_limit(SYMBOLIC_TIME_LIMIT):
                        cond = _condition(e.xreplace(forward))
                except (_Timeout, TypeError, ValueError, RecursionError):
                    cond = None
                if cond is not None and e != 0 and cond not in conditions:
                    conditions.append(cond)
    eig = ode_eigenvalues(lin, u, p)
    return SteadyState(
        values={n: float(v) for n, v in zip(names, u)},
        exists=exists,
        conditions=tuple(conditions),
        expressions=expressions,
        conserved=tuple(names[i] for i in branch.conserved),
        eigenvalues=eig,
        stability=stability_label(eig) if exists else "none",
        method=branch.method,
        index=index,
        branch=branch,
    )


def steady_states(
    model: Model, *, grid: Domain | None = None, starts: int = 64, seed: int = 0, existing: bool = False
) -> list[SteadyState]:
    """All homogeneous steady states of the reaction part of ``model``, with their stability as
    ODE equilibria.

    Parameters
    ----------
    model : Model
        A macroscopic model whose reactions do not depend on ``t`` or ``x``.
    grid : Grid, optional
        The grid on which the means of the initial data fix the conserved species (default: the
        model's default grid).
    starts : int
        Random starting points of the numerical root finding (used only when SymPy does not solve).
    seed : int
        Seed of those starting points.
    existing : bool
        Keep only the states that exist (real, non-negative) at the model's parameters.

    Returns
    -------
    list of SteadyState
        Sorted with the existing states first, in SymPy's (or the root finder's) order.

    Raises
    ------
    InputError
        If the reactions depend on ``t`` or on the position.

    Examples
    --------
    >>> from crossdiff import catalogue
    >>> states = steady_states(catalogue.load("may-nowak-taxis"))
    >>> [s.values for s in states if s.positive]
    [{'u1': 1.0, 'u2': 1.0, 'u3': 1.0}]
    """
    found = branches(model, starts=starts, seed=seed)
    # the conserved species take the means of the initial data (only evaluated when needed)
    means = initial_means(model, grid) if any(b.conserved for b in found) else np.zeros(model.n_species)
    out = []
    for branch in found:
        state = _state(model, branch, 0, means)
        if state is not None and (state.exists or not existing):
            out.append(state)
    out.sort(key=lambda s: not s.exists)
    unique: list[SteadyState] = []
    for s in out:  # two branches may meet at these parameter values
        if not any(s.exists and np.allclose(s.array, t.array, rtol=1e-9, atol=1e-12) for t in unique):
            unique.append(s)
    out = unique
    return [SteadyState(**{**s.__dict__, "index": i}) for i, s in enumerate(out)]


def select_state(states: Sequence[SteadyState], which: int | None = None) -> SteadyState:
    """The state an analysis is about: ``states[which]``, or by default the existing state that is
    stable as an ODE equilibrium (then neutral, then any), positive ones first: the state whose
    taxis-driven instability is the question.

    Raises
    ------
    InputError
        If there is no existing state, or ``which`` is out of range.
    """
    if which is not None:
        if not 0 <= which < len(states):
            raise InputError(f"steady state {which} does not exist; the model has {len(states)} (0..{len(states) - 1})")
        if not states[which].exists:
            raise InputError(f"steady state {which} is negative at these parameters: {states[which].describe()}")
        return states[which]
    existing = [s for s in states if s.exists]
    if not existing:
        raise InputError("the model has no non-negative homogeneous steady state at these parameters")
    rank = {"stable": 0, "neutral": 1}
    return min(existing, key=lambda s: (rank.get(s.stability, 2), not s.positive, s.index))


def _finite(x: float) -> bool:
    return math.isfinite(x)
