"""``solve(model, grid, t_end, ...)``: wires a discretisation, a stepper and the observers
(recorder, file writer, progress bar, monitor) to the one integration loop, and returns a
:class:`Solution`."""

from __future__ import annotations

import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from .errors import InputError, ModelError, NumericalError
from .fv import Discretisation
from .grid import Grid
from .io import FrameWriter, last_frame, open_run, to_dataset
from .model import NOISE, SPACE, Model, to_expr
from .time import (
    IMEX,
    FailureReport,
    Layout,
    Monitor,
    Observer,
    ProgressBar,
    Recorder,
    SaveAt,
    Stats,
    Status,
    Stepper,
    integrate,
)
from .validation import positive_number

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["solve", "Solution", "initial_fields", "default_grid"]


def default_grid(model: Model, cells: tuple[int, ...] | None = None, boundary: str | None = None) -> Grid:
    """The model's default domain, optionally with other cell counts or boundary.

    ``cells`` of another dimension than the default extent uses the first extent interval for
    every axis (e.g. ``--grid 400`` runs a 2D catalogue model in 1D on its x-interval).
    """
    d = model.defaults
    cells = tuple(cells) if cells is not None else d.cells
    extent = d.extent
    if len(extent) != len(cells):
        extent = tuple(extent[min(a, len(extent) - 1)] for a in range(len(cells)))
    return Grid(cells, extent, boundary or d.boundary)


def initial_fields(
    model: Model, grid: Grid, seed: int | None = None, overrides: Mapping[str, object] | None = None
) -> np.ndarray:
    """Evaluate the species' initial data on the cell centres.

    ``noise`` in an expression is an array of independent uniform numbers in [-1, 1], drawn from
    ``numpy.random.default_rng([seed, i])`` for species ``i`` (reproducible, species independent).
    ``overrides`` maps species names to arrays, numbers or expression strings.

    Raises
    ------
    InputError
        If a value is NaN or negative, or a species that must stay positive is not.
    """
    seed = model.defaults.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    overrides = dict(overrides or {})
    for key in overrides:
        model.index(key)
    mesh = grid.mesh()
    coords = {SPACE[a]: (mesh[a] if a < grid.ndim else 0.0) for a in range(3)}
    values = model.parameter_symbols()
    U = np.empty((model.n_species, *grid.shape))
    for i, s in enumerate(model.species):
        value = overrides.get(s.name, s.initial)
        if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple))):
            arr = np.asarray(value, dtype=float)
            if arr.shape != grid.shape:
                raise InputError(f"initial data of species {s.name!r} has shape {arr.shape}, grid is {grid.shape}")
            U[i] = arr
            continue
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = to_expr(value, f"initial data of species {s.name!r}")
        expr = model.expand(value).xreplace(values)
        unknown = expr.free_symbols - set(SPACE) - {NOISE}
        if unknown:
            raise ModelError(
                f"initial data of species {s.name!r}: unknown symbol {str(sorted(map(str, unknown))[0])!r}"
            )
        args = list(SPACE) + [NOISE]
        noise = np.random.default_rng([seed, i]).uniform(-1.0, 1.0, grid.shape) if NOISE in expr.free_symbols else 0.0
        func = sp.lambdify(args, expr, modules="numpy")
        with np.errstate(all="ignore"):
            U[i] = np.broadcast_to(np.asarray(func(*[coords[a] for a in SPACE], noise), dtype=float), grid.shape)
    for i, name in enumerate(model.species_names):
        if not np.all(np.isfinite(U[i])):
            raise InputError(f"initial data of species {name!r} is not finite (NaN or inf)")
        if np.min(U[i]) < 0:
            raise InputError(
                f"initial data of species {name!r} is negative (min {np.min(U[i]):.3g}); densities must be >= 0"
            )
    return U


@dataclass
class Solution:
    """Result of :func:`solve` (in the spirit of SciPy's ``OdeResult``).

    Attributes
    ----------
    model : Model
        The model that was run.
    grid : Grid
    layout : Layout
        Names, coordinates and attributes of the fields (from the system).
    t : ndarray
        Times of the saved frames.
    frames : ndarray or None
        Saved fields, shape ``(len(t), n_species, *grid.shape)`` (``None`` when only written to
        a file with ``keep_frames=False``; use :meth:`to_xarray`).
    final : ndarray
        The fields at ``t_final``.
    state : ndarray
        The whole final state of the system (for finite volumes the same as ``final``).
    status : Status
    report : FailureReport or None
        Why and where the run failed.
    stats : Stats
        Step counters and wall times.
    stepper : str
        Description of the stepper.
    output : Path or None
        The NetCDF file written.
    """

    model: Model
    grid: Grid
    layout: Layout
    t: np.ndarray
    frames: np.ndarray | None
    final: np.ndarray
    state: np.ndarray
    t_final: float
    status: Status
    report: FailureReport | None
    stats: Stats
    stepper: str
    output: Path | None = None

    @property
    def success(self) -> bool:
        return self.status.success

    @property
    def message(self) -> str:
        return str(self.report) if self.report else self.status.message

    def _index(self, name: str) -> int:
        names = self.layout.field_names
        if name not in names:
            raise ModelError(f"unknown species {name!r}; known species: {', '.join(names)}")
        return names.index(name)

    def __getitem__(self, name: str) -> np.ndarray:
        """Frames of species ``name``, shape ``(len(t), *grid.shape)``."""
        i = self._index(name)
        if self.frames is None:
            return self.to_xarray()[name].values
        return self.frames[:, i]

    def _frames(self) -> np.ndarray:
        if self.frames is not None:
            return self.frames
        ds = self.to_xarray()
        return np.stack([ds[n].values for n in self.layout.field_names], axis=1)

    def _integrate(self, fields: np.ndarray) -> np.ndarray:
        space = tuple(range(-len(self.layout.space), 0))
        return np.sum(fields, axis=space) * self.layout.cell_volume

    def mass(self) -> np.ndarray:
        """``∫ u_i dx`` per saved frame and species, shape ``(len(t), n_species)``."""
        return np.asarray(self._integrate(self._frames()))

    def to_xarray(self) -> xr.Dataset:
        """The run as an :class:`xarray.Dataset` with dims ``time, x[, y, z]`` (the layout of the
        output file, :func:`crossdiff.io.to_dataset`)."""
        if self.frames is None and self.output is not None:
            return open_run(self.output).load()
        if self.frames is None:
            raise InputError("this solution kept no frames (keep_frames=False) and wrote no file")
        return to_dataset(self.layout, self.t, self.frames, stepper=self.stepper, status=self.status.label)

    def summary(self) -> dict:
        """Machine-readable summary (the CLI's ``--json``)."""
        mass = self._integrate(self.final)
        per = {
            name: {"mass": float(mass[i]), "min": float(np.min(self.final[i])), "max": float(np.max(self.final[i]))}
            for i, name in enumerate(self.layout.field_names)
        }
        return {
            "model": self.model.name,
            "status": self.status.label,
            "message": self.message,
            "t_final": self.t_final,
            "frames": int(len(self.t)),
            "steps": self.stats.n_steps,
            "rejected": self.stats.n_rejected,
            "steps_limited_by_stability": self.stats.n_limited,
            "rhs_evaluations": self.stats.nfev,
            "implicit_solves": self.stats.n_implicit_solves,
            "wall_time": self.stats.wall_setup + self.stats.wall_stepping + self.stats.wall_output,
            "wall_stepping": self.stats.wall_stepping,
            "grid": self.grid.describe(),
            "stepper": self.stepper,
            "species": per,
            "failure": self.report.as_dict() if self.report else None,
            "output": str(self.output) if self.output else None,
        }


def _initial_state(
    system: Discretisation,
    initial: Mapping[str, object] | np.ndarray | None,
    seed: int | None,
    output: str | Path | None,
    resume: bool,
    t_end: float,
) -> tuple[float, np.ndarray]:
    """Start time and consistent initial state: the last frame of ``output`` when resuming,
    otherwise the model's initial data with ``initial`` replacing parts of it."""
    model, grid = system.model, system.grid
    if resume:
        if output is None:
            raise InputError("resume needs the output file of the run to continue")
        t0, U0, _ = last_frame(output)
        if U0.shape != (model.n_species, *grid.shape):
            raise InputError(
                f"cannot resume: the file's state has shape {U0.shape}, expected {(model.n_species, *grid.shape)}"
            )
        if t0 >= t_end:
            raise InputError(f"cannot resume: the run file already reaches t = {t0:g} >= end time {t_end:g}")
        return t0, system.initial_state(U0, t0)
    if isinstance(initial, np.ndarray):
        if initial.shape != (model.n_species, *grid.shape):
            raise InputError(f"initial state has shape {initial.shape}, expected {(model.n_species, *grid.shape)}")
        initial = {n: initial[i] for i, n in enumerate(model.species_names)}
    return 0.0, system.initial_state(initial_fields(model, grid, seed, initial))


def solve(
    model: Model,
    grid: Grid | None = None,
    t_end: float | None = None,
    *,
    stepper: Stepper | None = None,
    save_every: float | None = None,
    initial: Mapping[str, object] | np.ndarray | None = None,
    seed: int | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    keep_frames: bool | None = None,
    monitor: Monitor | None = None,
    progress: bool = False,
    limiter: str = "mc",
    observers: Sequence[Observer] = (),
    throw: bool = True,
) -> Solution:
    """Simulate ``model`` on ``grid`` from ``t = 0`` to ``t_end``.

    Parameters
    ----------
    model : Model
    grid : Grid, optional
        Defaults to the model's default domain (:func:`default_grid`).
    t_end : float, optional
        End time; default the model's.
    stepper : Stepper, optional
        Default :class:`~crossdiff.time.IMEX` with ``rtol=1e-4, atol=1e-6``.
    save_every : float, optional
        Interval between saved frames (default the model's, else ``t_end / 20``).
    initial : mapping or ndarray, optional
        Initial data per species (arrays, numbers or expressions) replacing the model's, or the
        whole state as an array ``(n_species, *grid.shape)``.
    seed : int, optional
        Seed of ``noise`` in initial data (default the model's).
    output : path-like, optional
        NetCDF file written frame by frame.
    resume : bool
        Continue the run stored in ``output`` from its last frame.
    keep_frames : bool, optional
        Keep frames in memory (default: only when there is no output file).
    monitor : Monitor, optional
        Blow-up and failure criteria.
    progress : bool
        Show a progress bar (tqdm) on standard error.
    limiter : str
        Slope limiter of the taxis reconstruction.
    observers : sequence of Observer
        Further observers of the integration loop (called after the built-in ones).
    throw : bool
        Raise :class:`NumericalError` on failure (default); otherwise return a failed Solution.

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        Bad model, grid, times, initial data or output path.
    NumericalError
        Blow-up, non-finite values, step-size collapse or a singular sensitivity meeting zero
        (frames written before the failure stay in ``output``).
    """
    wall0 = _time.perf_counter()
    if not isinstance(model, Model):
        raise InputError(f"model must be a crossdiff Model, got {type(model).__name__}")
    grid = grid if grid is not None else default_grid(model)
    t_end = positive_number(model.defaults.t_end if t_end is None else t_end, "end time")
    every = positive_number(
        save_every if save_every is not None else (model.defaults.save_every or t_end / 20), "save interval"
    )
    stepper = stepper if stepper is not None else IMEX()
    if not isinstance(stepper, Stepper):
        raise InputError(f"stepper must be a crossdiff Stepper, got {type(stepper).__name__}")
    system = Discretisation(model, grid, limiter=limiter)
    t0, U0 = _initial_state(system, initial, seed, output, resume, t_end)
    recorder = Recorder(keep_frames=(output is None) if keep_frames is None else keep_frames)
    extra = list(observers)
    observers = [recorder, monitor if monitor is not None else Monitor()]
    if output is not None:
        observers.insert(1, FrameWriter(output, system.layout, stepper.describe(), append=resume))
    if progress:
        observers.insert(1, ProgressBar(t_end))
    observers.extend(extra)
    setup = _time.perf_counter() - wall0
    run = integrate(system, stepper, U0, (t0, t_end), save=SaveAt(every, initial=not resume), observers=observers)
    run.stats.wall_setup = setup
    solution = Solution(
        model,
        grid,
        system.layout,
        np.array(recorder.times),
        recorder.stacked(),
        system.fields(run.U),
        run.U,
        run.t,
        run.status,
        run.report,
        run.stats,
        stepper.describe(),
        Path(output) if output is not None else None,
    )
    if run.report is not None and throw:
        err = NumericalError(str(run.report), run.report)
        err.solution = solution  # type: ignore[attr-defined]
        raise err
    return solution
