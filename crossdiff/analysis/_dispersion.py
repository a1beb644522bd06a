"""The dispersion relation of a homogeneous steady state and critical parameter values.

For a homogeneous steady state ``u*`` the perturbation ``w e^{λt} φ_k(x)`` grows at the rate
``Re λ(k)``, the largest real part of the eigenvalues of ``λ B w = (J − K(k)) w``
(docs/theory.md (4.3), the quasi-stationary species eliminated by (4.4); Murray, *Mathematical
Biology II*, 3rd ed., 2003, §2.3 [Mur03] for the Turing-type analysis). The admissible modes of a
box ``Π_a [0, L_a]`` are ``k_a = π m_a/L_a`` with no-flux walls and ``k_a = 2π m_a/L_a`` with
periodic ones (``m_a = 0, 1, …``), (4.2). A taxis-driven instability is a state that is not
unstable at ``k = 0`` and has a positive growth rate at an admissible ``k ≠ 0``.

A critical value of a parameter is where the largest growth rate over the admissible modes
crosses zero. It is bracketed by stepping geometrically away from the current value and refined
by bisection; the onset is *steady* when the leading eigenvalue crossing zero is real and
*oscillatory* when it is a complex pair (a wave instability).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, ParameterError
from ..grid import Domain, Grid, Network, Shape, default_domain
from ..model import Model
from ..validation import finite_number, positive_number, require
from ._linear import Linearisation
from ._modes import admissible_modes
from ._steady import Branch, SteadyState, branches, initial_means, select_state, steady_states

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = ["Mode", "Dispersion", "dispersion", "Critical", "critical"]

_AXES = ("x", "y", "z")


@dataclass(frozen=True)
class Mode:
    """One admissible mode ``Π_a φ(π m_a x_a/L_a)`` (or its periodic counterpart).

    Attributes
    ----------
    m : tuple of int
        Mode numbers per axis.
    k : float
        Wave number ``|k|``.
    growth : float
        ``Re λ`` of the leading eigenvalue.
    frequency : float
        ``|Im λ|`` of the leading eigenvalue (0 for a real one).
    """

    m: tuple[int, ...]
    k: float
    growth: float
    frequency: float

    @property
    def wavelength(self) -> float:
        """``2π/k`` (infinite for ``k = 0``)."""
        return 2 * math.pi / self.k if self.k > 0 else math.inf

    @property
    def oscillatory(self) -> bool:
        """Whether the leading eigenvalue is a complex pair."""
        return self.frequency > 1e-9 * max(1.0, abs(self.growth))

    def to_dict(self) -> dict[str, Any]:
        return {
            "m": list(self.m),
            "k": self.k,
            "wavelength": self.wavelength,
            "growth": self.growth,
            "frequency": self.frequency,
            "oscillatory": self.oscillatory,
        }


def _leading(lam: np.ndarray, zero_mode: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Growth rate and frequency of the leading eigenvalue per row; at the rows of ``zero_mode``
    (``k = 0``) eigenvalues that vanish to round-off (conserved quantities) are ignored."""
    lam = lam.copy()
    if zero_mode is not None and np.any(zero_mode):
        sub = lam[zero_mode]
        scale = np.nanmax(np.abs(sub), axis=1, initial=1.0)[:, None]
        sub[np.abs(sub) <= 1e-9 * np.maximum(scale, 1.0)] = np.nan
        lam[zero_mode] = sub
    re = np.where(np.isfinite(lam), lam.real, -np.inf)
    idx = np.argmax(re, axis=1)
    lead = lam[np.arange(lam.shape[0]), idx]
    growth = np.where(np.isfinite(lead), lead.real, np.nan)
    freq = np.where(np.isfinite(lead), np.abs(lead.imag), np.nan)
    return growth, freq


class _Evaluator:
    """Leading eigenvalues over a set of wave vectors, reusing isotropic symmetry (only ``|k|``
    matters when no diffusion is a tensor)."""

    def __init__(self, lin: Linearisation, kvec: np.ndarray):
        self.lin = lin
        self.kvec = kvec
        k2 = np.sum(kvec**2, axis=1)
        if any(lin.tensor) and kvec.shape[1] == 1:
            raise InputError(
                "the modes of a shape are those of the isotropic Laplacian: a diffusion tensor is not analysed on a shape"
            )
        if any(lin.tensor):
            self.unique, self.inverse = kvec, np.arange(len(kvec))
        else:
            values, self.inverse = np.unique(np.round(k2, 12), return_inverse=True)
            self.unique = np.sqrt(values)[:, None]
        self.zero = np.sum(self.unique**2, axis=1) == 0

    def __call__(self, u: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lam = self.lin.eigenvalues(u, p, self.unique)
        growth, freq = _leading(lam, self.zero)
        return growth[self.inverse], freq[self.inverse]


@dataclass(frozen=True, repr=False)
class Dispersion:
    """Growth rates of the perturbations of a homogeneous steady state.

    Attributes
    ----------
    model : Model
    state : SteadyState
    grid : Grid
        Whose domain and boundaries give the admissible modes.
    modes : pandas.DataFrame
        One row per admissible mode: ``m_x[, m_y, m_z]`` (on a shape ``n``, the number of the
        eigenfunction of its Laplacian), ``k``, ``wavelength``, ``growth``
        (``Re λ``), ``frequency`` (``|Im λ|``), sorted by ``k``.
    continuum : xarray.Dataset
        ``growth`` and ``frequency`` against a continuous wave number ``k`` (dimension ``k``),
        from 0 to beyond the largest admissible one (for a tensor diffusion, the largest over
        directions).
    """

    model: Model
    state: SteadyState
    grid: Domain
    modes: pd.DataFrame
    curve: tuple[np.ndarray, np.ndarray, np.ndarray]  # k, growth, frequency of the continuum
    bands: tuple[tuple[float, float], ...] = ()

    @property
    def continuum(self) -> xr.Dataset:
        """``growth`` and ``frequency`` against the continuous wave number ``k``."""
        import xarray as xr  # built on demand: importing xarray costs about a second

        k, growth, frequency = self.curve
        return xr.Dataset(
            {
                "growth": ("k", growth, {"long_name": "growth rate Re λ"}),
                "frequency": ("k", frequency, {"long_name": "frequency |Im λ|"}),
            },
            coords={"k": ("k", k, {"long_name": "wave number"})},
            attrs={"model": self.model.name, "state": str(self.state.values)},
        )

    def _mode(self, row: Any) -> Mode:
        names = ["n"] if "n" in self.modes.columns else [f"m_{a}" for a in _AXES[: self.grid.ndim]]
        m = tuple(int(row[name]) for name in names)
        return Mode(m, float(row["k"]), float(row["growth"]), float(row["frequency"]))

    @property
    def homogeneous(self) -> Mode:
        """The mode ``k = 0`` (its growth rate is the ODE stability of the state)."""
        return self._mode(self.modes.iloc[0])

    @property
    def most_unstable(self) -> Mode:
        """The admissible mode ``k ≠ 0`` with the largest growth rate."""
        rest = self.modes[self.modes["k"] > 0]
        if rest.empty:
            raise InputError("the grid has no admissible mode with k > 0")
        return self._mode(rest.loc[rest["growth"].idxmax()])

    @property
    def unstable_modes(self) -> list[Mode]:
        """Admissible modes ``k ≠ 0`` with a positive growth rate."""
        rest = self.modes[(self.modes["k"] > 0) & (self.modes["growth"] > _tol(self.modes["growth"]))]
        return [self._mode(r) for _, r in rest.iterrows()]

    @property
    def unstable_band(self) -> list[tuple[float, float]]:
        """Intervals of ``k > 0`` on the continuum where the growth rate is positive (ends found
        by Brent's method on the growth rate to 1e-10)."""
        return list(self.bands)

    @property
    def stable(self) -> bool:
        """No admissible mode (``k = 0`` included) grows."""
        g = self.modes["growth"].values
        return bool(np.nanmax(g) <= _tol(g))

    def __repr__(self) -> str:
        state = ", ".join(f"{n} = {v:.4g}" for n, v in self.state.values.items())
        if not self.unstable_modes:
            verdict = "every admissible mode decays"
        else:
            top = self.most_unstable
            band = ", ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in self.unstable_band)
            verdict = f"{self.onset} instability, band k in {band}, most unstable k = {top.k:.4g} (m = {top.m})"
        return f"Dispersion({self.model.name!r} at ({state}): {verdict})"

    @property
    def taxis_driven(self) -> bool:
        """Stable at ``k = 0`` but unstable at some admissible ``k ≠ 0``."""
        h = self.homogeneous.growth
        return (not np.isfinite(h) or h <= _tol(self.modes["growth"].values)) and bool(self.unstable_modes)

    @property
    def onset(self) -> str | None:
        """``"steady"`` or ``"oscillatory"`` for the most unstable mode when it grows, else None."""
        if not self.unstable_modes:
            return None
        return "oscillatory" if self.most_unstable.oscillatory else "steady"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the CLI's ``--json``): state, verdict, most unstable mode, bands,
        the growing admissible modes (at most 50) and the continuum."""
        unstable = self.unstable_modes
        return {
            "state": self.state.to_dict(),
            "grid": self.grid.describe(),
            "stable": self.stable,
            "taxis_driven": self.taxis_driven,
            "onset": self.onset,
            "homogeneous_growth": self.homogeneous.growth,
            "most_unstable": self.most_unstable.to_dict(),
            "unstable_band": [list(b) for b in self.unstable_band],
            "n_unstable_modes": len(unstable),
            "unstable_modes": [m.to_dict() for m in sorted(unstable, key=lambda m: -m.growth)[:50]],
            "continuum": {"k": self.curve[0].tolist(), "growth": self.curve[1].tolist()},
        }


def _tol(g: Any) -> float:
    g = np.asarray(g, dtype=float)
    g = g[np.isfinite(g)]
    return 1e-10 * max(1.0, float(np.max(np.abs(g))) if g.size else 1.0)


def _resolve_state(
    model: Model, state: SteadyState | int | Mapping[str, float] | Sequence[float] | None, grid: Domain
) -> SteadyState:
    if isinstance(state, SteadyState):
        return state
    if state is None or isinstance(state, (int, np.integer)):
        return select_state(steady_states(model, grid=grid), None if state is None else int(state))
    if isinstance(state, Mapping):
        values = {n: float(state[n]) for n in model.species_names if n in state}
        if len(values) != model.n_species:
            raise InputError(f"a state needs a value for every species: {', '.join(model.species_names)}")
    else:
        arr = np.asarray(state, dtype=float)
        if arr.shape != (model.n_species,):
            raise InputError(f"a state needs {model.n_species} values, got shape {arr.shape}")
        values = dict(zip(model.species_names, map(float, arr)))
    lin = Linearisation(model)
    p = lin.values()
    u = np.array(list(values.values()))
    residual = np.max(np.abs(lin.reaction(u, p)))
    if not residual <= 1e-8 * max(1.0, float(np.max(np.abs(u)))):
        raise InputError(f"the given state is not a steady state of the reactions (|ψ| = {residual:.3g})")
    from ._steady import ode_eigenvalues, stability_label

    eig = ode_eigenvalues(lin, u, p)
    return SteadyState(values, bool(np.min(u) >= 0), eigenvalues=eig, stability=stability_label(eig), method="given")


def _continuum_k(kmax: float, points: int) -> np.ndarray:
    return np.linspace(0.0, kmax, points)


def _directions(d: int, tensor: bool) -> np.ndarray:
    if not tensor or d == 1:
        return np.eye(d)[:1]
    if d == 2:
        a = np.linspace(0, np.pi, 33)[:-1]
        return np.stack([np.cos(a), np.sin(a)], axis=1)
    rng = np.random.default_rng(0)
    v = rng.normal(size=(64, 3))
    return np.vstack([np.eye(3), v / np.linalg.norm(v, axis=1)[:, None]])


def dispersion(
    model: Model,
    state: SteadyState | int | Mapping[str, float] | Sequence[float] | None = None,
    grid: Domain | None = None,
    *,
    k_max: float | None = None,
    points: int = 400,
) -> Dispersion:
    """The dispersion relation ``Re λ(k)`` of a homogeneous steady state of ``model``.

    Parameters
    ----------
    model : Model
    state : SteadyState, int, mapping or sequence, optional
        The state (a :class:`SteadyState`, an index into :func:`steady_states`, or values per
        species); default :func:`select_state` (the positive state stable as an ODE equilibrium).
    grid : Grid, optional
        Domain and boundaries that give the admissible modes (default: the model's default grid;
        its cell counts bound the mode numbers).
    k_max : float, optional
        End of the continuum (default: 1.5 times the largest admissible ``k``, at most where
        the growth rate has long turned negative).
    points : int
        Points of the continuum.

    Returns
    -------
    Dispersion

    Examples
    --------
    >>> from crossdiff import catalogue
    >>> d = dispersion(catalogue.load("may-nowak-taxis"))
    >>> d.taxis_driven, d.onset
    (True, 'steady')
    """
    import pandas as pd

    require(model, Model, "model")
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 2:
        raise InputError(f"points must be an integer >= 2 (points of the continuum), got {points!r}")
    if k_max is not None:
        k_max = positive_number(k_max, "k_max")
    grid = grid if grid is not None else default_domain(model)
    if not isinstance(grid, Grid | Shape | Network):
        raise InputError(f"grid must be a crossdiff Grid, Shape or Network, got {type(grid).__name__}")
    st = _resolve_state(model, state, grid)
    if not st.exists:
        raise InputError(f"the steady state is negative at these parameters: {st.describe()}")
    lin = st.branch.lin if st.branch is not None and st.branch.lin.model is model else Linearisation(model)
    p = lin.values()
    u = st.array
    # the continuum first (it bounds the modes a shape needs), over the box's resolved wave numbers
    if isinstance(grid, Network):  # the finest wave number its cells resolve
        k_box = float(np.pi / np.min(grid.edge_spacing))
    else:
        _, box_k = admissible_modes(grid.box if isinstance(grid, Shape) else grid)
        k_box = float(np.max(np.sqrt(np.sum(box_k**2, axis=1))))
    kmax = float(k_max) if k_max is not None else 1.5 * k_box if k_box > 0 else 1.0
    kc = _continuum_k(kmax, int(points))
    dirs = _directions(grid.ndim, any(lin.tensor))
    cg = np.full(kc.shape, -np.inf)
    cf = np.zeros(kc.shape)
    for direction in dirs:
        lam = lin.eigenvalues(u, p, kc[:, None] * direction[None, :])
        g, f = _leading(lam, kc == 0)
        better = g > cg
        cg = np.where(better, g, cg)
        cf = np.where(better, f, cf)
    bands = _bands(kc, cg, lambda k: _continuum_growth(lin, u, p, k, dirs))
    # a shape: its modes up to beyond the unstable band (or those of the size of the shape)
    reach = 1.2 * max((hi for _, hi in bands), default=0.0)
    modes_of = isinstance(grid, Shape | Network)  # eigenfunctions: as many as reach the unstable band
    ms, kvec = admissible_modes(grid, k_max=reach) if modes_of else admissible_modes(grid)
    growth, freq = _Evaluator(lin, kvec)(u, p)
    k = np.sqrt(np.sum(kvec**2, axis=1))
    names = [f"m_{a}" for a in _AXES[: grid.ndim]] if ms.shape[1] == grid.ndim else ["n"]
    table = {name: ms[:, i] for i, name in enumerate(names)}
    with np.errstate(divide="ignore"):
        table.update(k=k, wavelength=np.where(k > 0, 2 * np.pi / np.where(k > 0, k, 1.0), np.inf))
    table.update(growth=growth, frequency=freq)
    modes = pd.DataFrame(table).sort_values("k", kind="stable").reset_index(drop=True)
    return Dispersion(model, st, grid, modes, (kc, cg, cf), bands)


def _continuum_growth(lin: Linearisation, u: np.ndarray, p: np.ndarray, k: float, dirs: np.ndarray) -> float:
    lam = lin.eigenvalues(u, p, k * dirs)
    g, _ = _leading(lam, None)
    return float(np.nanmax(g))


def _bands(k: np.ndarray, g: np.ndarray, f: Any) -> tuple[tuple[float, float], ...]:
    """Intervals of ``k > 0`` where ``g > 0``, their inner ends refined by Brent's method on ``f``."""
    from scipy.optimize import brentq

    pos = (g > _tol(g)) & (k > 0)
    bands = []
    i = 0
    while i < len(k):
        if not pos[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(k) and pos[j + 1]:
            j += 1
        lo, hi = float(k[i]), float(k[j])
        if i > 0 and np.isfinite(g[i - 1]):
            lo = brentq(f, k[i - 1], k[i], xtol=1e-12, rtol=1e-10) if k[i - 1] > 0 else float(k[i - 1])
        if j + 1 < len(k) and np.isfinite(g[j + 1]):
            hi = brentq(f, k[j], k[j + 1], xtol=1e-12, rtol=1e-10)
        bands.append((float(lo), float(hi)))
        i = j + 1
    return tuple(bands)


# ---------------------------------------------------------------------- critical values


@dataclass(frozen=True, repr=False)
class Critical:
    """Where the state loses (or gains) stability as one parameter varies.

    Attributes
    ----------
    parameter : str
    value : float
        The critical value, to the relative tolerance asked (default 1e-6).
    kind : str
        ``"steady"`` (a real eigenvalue crosses zero: a stationary pattern) or ``"oscillatory"``
        (a complex pair: travelling or standing waves).
    wavenumber : float
        ``|k|`` of the admissible mode that crosses first (0: the homogeneous mode, an ODE
        bifurcation).
    mode : tuple of int
        Its mode numbers per axis.
    frequency : float
        ``|Im λ|`` at onset.
    unstable : str
        ``"above"`` or ``"below"``: on which side of the value the state is unstable.
    bracket : tuple of float
        The final bisection interval.
    state : SteadyState
        The state at the critical value.
    evaluations : int
        Growth-rate evaluations used.
    """

    parameter: str
    value: float
    kind: str
    wavenumber: float
    mode: tuple[int, ...]
    frequency: float
    unstable: str
    bracket: tuple[float, float]
    state: SteadyState
    evaluations: int

    @property
    def wavelength(self) -> float:
        """``2π/k`` of the critical mode."""
        return 2 * math.pi / self.wavenumber if self.wavenumber > 0 else math.inf

    def __repr__(self) -> str:
        return f"Critical({self.describe()})"

    def describe(self) -> str:
        text = f"{self.parameter}_c = {self.value:.7g} ({self.kind} onset"
        if self.wavenumber > 0:
            text += f", mode m = {self.mode}, k = {self.wavenumber:.6g}, wavelength {self.wavelength:.6g}"
        if self.kind == "oscillatory":
            text += f", frequency {self.frequency:.6g}"
        return text + f"); unstable {self.unstable} it"

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "value": self.value,
            "kind": self.kind,
            "wavenumber": self.wavenumber,
            "wavelength": self.wavelength,
            "mode": list(self.mode),
            "frequency": self.frequency,
            "unstable": self.unstable,
            "bracket": list(self.bracket),
            "state": self.state.values,
            "evaluations": self.evaluations,
        }


class _Growth:
    """Largest growth rate over the admissible modes as a function of one parameter, following
    one steady-state branch."""

    def __init__(self, model: Model, parameter: str, grid: Domain, state: SteadyState):
        self.model = model
        self.parameter = parameter
        self.grid = grid
        reuse = state.branch is not None and state.branch.lin.model is model
        self.lin = state.branch.lin if reuse else Linearisation(model)
        self.index = self.lin.parameter_names.index(parameter)
        self.ms, kvec = admissible_modes(grid)
        self.evaluate = _Evaluator(self.lin, kvec)
        self.k = np.sqrt(np.sum(kvec**2, axis=1))
        self.needs_means = bool(state.conserved)
        self.means_depend = self.needs_means and any(
            parameter in {str(s) for s in model.expand(sp_init).free_symbols}
            for sp_init in (s.initial for s in model.species)
        )
        self._means = initial_means(model, grid) if self.needs_means else np.zeros(model.n_species)
        self.branch = self._branch(state)
        self.calls = 0

    def _branch(self, state: SteadyState) -> Branch:
        """The branch (with ``parameter`` kept symbolic) that passes through ``state``."""
        p0 = self.lin.values()
        means = self._means
        given = state.branch
        if (
            given is not None
            and given.lin is self.lin
            and (
                given.method == "numerical"
                or (given.method == "symbolic" and self.model.parameters[self.parameter] != 0)
            )
        ):
            return given  # solved with the parameter as a symbol already (or followed by continuation)
        for branch in branches(self.model, keep=(self.parameter,)):
            u = branch.at(p0, means)
            if u is not None and np.allclose(u, state.array, rtol=1e-7, atol=1e-10):
                return branch
        branch = Branch(self.lin, [None] * self.lin.n, [self.model.index(n) for n in state.conserved], "numerical")
        branch.last = state.array
        return branch

    def means(self, value: float) -> np.ndarray:
        if not self.means_depend:
            return self._means
        return initial_means(self.model.with_settings({self.parameter: value}), self.grid)

    def state(self, value: float) -> np.ndarray | None:
        p = self.lin.values(changes={self.parameter: value})
        u = self.branch.at(p, self.means(value))
        if u is None or np.min(u) < -1e-10 * max(1.0, float(np.max(np.abs(u)))):
            return None
        return u

    def __call__(self, value: float) -> tuple[float, int, float] | None:
        """(largest growth rate, index of its mode, its frequency) at ``parameter = value``."""
        self.calls += 1
        u = self.state(value)
        if u is None:
            return None
        p = self.lin.values(changes={self.parameter: value})
        growth, freq = self.evaluate(u, p)
        if not np.any(np.isfinite(growth)):
            return None
        i = int(np.nanargmax(growth))
        return float(growth[i]), i, float(freq[i])


def critical(
    model: Model,
    parameter: str,
    *,
    grid: Domain | None = None,
    bracket: tuple[float, float] | None = None,
    state: SteadyState | int | None = None,
    rtol: float = 1e-6,
    max_steps: int = 60,
) -> Critical:
    """The critical value of ``parameter`` at which the steady state changes stability.

    Parameters
    ----------
    model : Model
    parameter : str
        A parameter of the model (its value is set with :meth:`~crossdiff.base.ModelBase.with_settings`).
    grid : Grid, optional
        Domain and boundaries whose admissible modes count (default: the model's default grid).
    bracket : (float, float), optional
        An interval on whose ends the state's stability differs. Default: found by stepping
        away from the current value by factors of 2 (both ways; from 1 when the value is 0).
    state : SteadyState or int, optional
        The state followed (default :func:`select_state` at the current parameters); it is
        followed along its branch as the parameter varies.
    rtol : float
        Relative width of the final bisection interval.

    Returns
    -------
    Critical

    Raises
    ------
    ParameterError
        ``parameter`` is not a parameter of the model.
    InputError
        No change of stability found in the bracket (or in ``2^±max_steps`` times the value).

    Examples
    --------
    >>> from crossdiff import catalogue
    >>> c = critical(catalogue.load("may-nowak-taxis"), "chi")
    >>> round(c.value, 5), c.kind
    (5.0, 'steady')
    """
    require(model, Model, "model")
    if bracket is not None:
        if not isinstance(bracket, tuple | list) or len(bracket) != 2:
            raise InputError(f"bracket must be two numbers (low, high), got {bracket!r}")
        bracket = (finite_number(bracket[0], "bracket low"), finite_number(bracket[1], "bracket high"))
    if parameter not in model.parameters:
        model.with_settings({parameter: 0.0})  # raises the library's ParameterError listing the names
        raise ParameterError(f"unknown parameter {parameter!r}")  # pragma: no cover
    if not (isinstance(rtol, float | int) and 0 < rtol < 0.1):
        raise InputError(f"rtol must be in (0, 0.1), got {rtol!r}")
    grid = grid if grid is not None else default_domain(model)
    st = (
        state
        if isinstance(state, SteadyState)
        else select_state(steady_states(model, grid=grid), None if state is None else int(state))
    )
    g = _Growth(model, parameter, grid, st)
    p0 = float(model.parameters[parameter])

    def unstable(value: float) -> bool | None:
        # strictly positive: a growth rate that tends to 0 without changing sign (e.g. 1/tau as
        # tau grows) is no threshold; structural zeros at k = 0 are left out already
        r = g(value)
        return None if r is None else r[0] > 0.0

    if bracket is not None:
        a, b = (float(x) for x in bracket)
        if not (math.isfinite(a) and math.isfinite(b) and a != b):
            raise InputError(f"bracket must be two different finite numbers, got {bracket!r}")
        ua, ub = unstable(a), unstable(b)
        if ua is None or ub is None:
            which = a if ua is None else b
            raise InputError(f"the steady state does not exist (negative) at {parameter} = {which:g}")
        if ua == ub:
            raise InputError(
                f"the state is {'unstable' if ua else 'stable'} at both ends of the bracket "
                f"{parameter} = {a:g} and {b:g}: no critical value between them"
            )
    else:
        a, b, ua, ub = _find_bracket(unstable, p0, parameter, max_steps)
    lo, hi = (a, b) if a < b else (b, a)
    ulo = ua if a < b else ub
    while abs(hi - lo) > rtol * max(abs(lo), abs(hi)) / 4:
        mid = 0.5 * (lo + hi)
        um = unstable(mid)
        if um is None:
            raise InputError(f"the steady state stops existing at {parameter} = {mid:g} inside the bracket")
        if um == ulo:
            lo = mid
        else:
            hi = mid
    value = 0.5 * (lo + hi)
    on_unstable = hi if not ulo else lo
    r = g(on_unstable)
    assert r is not None
    _, i, freq = r
    kind = "oscillatory" if freq > 1e-7 * max(1.0, abs(r[0])) else "steady"
    changed = model.with_settings({parameter: value})
    u = g.state(value)
    assert u is not None
    lin = g.lin
    p = lin.values(changes={parameter: value})
    from ._steady import ode_eigenvalues, stability_label

    eig = ode_eigenvalues(lin, u, p)
    st_c = SteadyState(
        values={n: float(x) for n, x in zip(changed.species_names, u)},
        exists=True,
        conserved=st.conserved,
        eigenvalues=eig,
        stability=stability_label(eig),
        method=st.method,
    )
    return Critical(
        parameter=parameter,
        value=value,
        kind=kind,
        wavenumber=float(g.k[i]),
        mode=tuple(int(x) for x in g.ms[i]),
        frequency=freq,
        unstable="below" if ulo else "above",
        bracket=(lo, hi),
        state=st_c,
        evaluations=g.calls,
    )


def _find_bracket(unstable: Any, p0: float, parameter: str, max_steps: int) -> tuple[float, float, bool, bool]:
    """Step geometrically away from ``p0`` (up and down alternately) until stability changes."""
    start = p0 if p0 != 0 else 1.0
    u0 = unstable(p0)
    if u0 is None:
        raise InputError(f"the steady state does not exist at {parameter} = {p0:g}")
    prev = {+1: (p0, u0), -1: (p0, u0)}
    alive = {+1: True, -1: True}
    for step in range(1, max_steps + 1):
        for direction in (+1, -1):
            if not alive[direction]:
                continue
            value = start * 2.0 ** (direction * step)
            if p0 == 0 and direction == -1:
                value = -value if step > 1 else 0.0
                if step == 1:
                    continue
            u = unstable(value)
            if u is None:
                alive[direction] = False
                continue
            last, ulast = prev[direction]
            if u != ulast:
                return last, value, ulast, u
            prev[direction] = (value, u)
        if not any(alive.values()):
            break
    raise InputError(
        f"no change of stability found for {parameter} between {start * 2.0**-max_steps:g} and {start * 2.0**max_steps:g}"
        f" (the state is {'unstable' if u0 else 'stable'} throughout); give a bracket"
    )
