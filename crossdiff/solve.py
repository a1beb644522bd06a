"""``solve(model, grid, t_end, ...)``: wires discretisation, stepper, monitor and output."""

from __future__ import annotations

import math
import sys
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from .errors import InputError, ModelError, NumericalError
from .fv import Discretisation
from .grid import Grid
from .io import FrameWriter, last_frame
from .model import NOISE, SPACE, Model, to_expr
from .time import IMEX, FailureReport, Monitor, RunState, Stats, Status, Stepper

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


def initial_fields(model: Model, grid: Grid, seed: int | None = None, overrides: Mapping[str, object] | None = None) -> np.ndarray:
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
            raise ModelError(f"initial data of species {s.name!r}: unknown symbol {str(sorted(map(str, unknown))[0])!r}")
        args = list(SPACE) + [NOISE]
        noise = np.random.default_rng([seed, i]).uniform(-1.0, 1.0, grid.shape) if NOISE in expr.free_symbols else 0.0
        func = sp.lambdify(args, expr, modules="numpy")
        with np.errstate(all="ignore"):
            U[i] = np.broadcast_to(np.asarray(func(*[coords[a] for a in SPACE], noise), dtype=float), grid.shape)
    for i, name in enumerate(model.species_names):
        if not np.all(np.isfinite(U[i])):
            raise InputError(f"initial data of species {name!r} is not finite (NaN or inf)")
        if np.min(U[i]) < 0:
            raise InputError(f"initial data of species {name!r} is negative (min {np.min(U[i]):.3g}); densities must be >= 0")
    return U


@dataclass
class Solution:
    """Result of :func:`solve` (in the spirit of SciPy's ``OdeResult``).

    Attributes
    ----------
    t : ndarray
        Times of the saved frames.
    frames : ndarray or None
        Saved states, shape ``(len(t), n_species, *grid.shape)`` (``None`` when only written to
        a file with ``keep_frames=False``; use :meth:`to_xarray`).
    status : Status
    report : FailureReport or None
        Why and where the run failed.
    stats : Stats
        Step counters and wall times.
    """

    model: Model
    grid: Grid
    t: np.ndarray
    frames: np.ndarray | None
    final: np.ndarray
    t_final: float
    status: Status
    report: FailureReport | None
    stats: Stats
    stepper: str
    output: Path | None = None
    attrs: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status.success

    @property
    def message(self) -> str:
        return str(self.report) if self.report else self.status.message

    def __getitem__(self, name: str) -> np.ndarray:
        """Frames of species ``name``, shape ``(len(t), *grid.shape)``."""
        i = self.model.index(name)
        if self.frames is None:
            return self.to_xarray()[name].values
        return self.frames[:, i]

    def mass(self) -> np.ndarray:
        """``∫ u_i dx`` per saved frame and species, shape ``(len(t), n_species)``."""
        frames = self.frames if self.frames is not None else np.stack(
            [self.to_xarray()[n].values for n in self.model.species_names], axis=1
        )
        return np.asarray(self.grid.integrate(frames))

    def to_xarray(self):
        """The run as an :class:`xarray.Dataset` with dims ``time, x[, y, z]``."""
        import xarray as xr

        if self.frames is None and self.output is not None:
            from .io import open_run

            return open_run(self.output).load()
        coords = {"time": self.t, **{a: c for a, c in zip(self.grid.axes, self.grid.coordinates)}}
        dims = ("time", *self.grid.axes)
        data = {
            s.name: xr.Variable(dims, self.frames[:, i], attrs={"long_name": s.long_name})
            for i, s in enumerate(self.model.species)
        }
        from .io import _attrs

        attrs = _attrs(self.model, self.grid, self.stepper)
        attrs["status"] = self.status.label
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def summary(self) -> dict:
        """Machine-readable summary (the CLI's ``--json``)."""
        U = self.final
        per = {}
        for i, name in enumerate(self.model.species_names):
            per[name] = {
                "mass": float(self.grid.integrate(U[i])),
                "min": float(np.min(U[i])),
                "max": float(np.max(U[i])),
            }
        return {
            "model": self.model.name,
            "status": self.status.label,
            "message": self.message,
            "t_final": self.t_final,
            "frames": int(len(self.t)),
            "steps": self.stats.n_steps,
            "rejected": self.stats.n_rejected,
            "rhs_evaluations": self.stats.nfev,
            "wall_time": self.stats.wall_setup + self.stats.wall_stepping + self.stats.wall_output,
            "wall_stepping": self.stats.wall_stepping,
            "grid": self.grid.describe(),
            "stepper": self.stepper,
            "species": per,
            "failure": self.report.as_dict() if self.report else None,
            "output": str(self.output) if self.output else None,
        }


def _save_times(t0: float, t_end: float, every: float) -> list[float]:
    n = int(math.floor((t_end - t0) / every + 1e-9))
    times = [t0 + k * every for k in range(1, n + 1)]
    if not times or t_end - times[-1] > 1e-9 * max(1.0, abs(t_end)):
        times.append(t_end)
    else:
        times[-1] = t_end if abs(times[-1] - t_end) < 1e-9 * max(1.0, abs(t_end)) else times[-1]
    return times


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
    throw : bool
        Raise :class:`NumericalError` on failure (default); otherwise return a failed Solution.

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        Bad grid, times, initial data or output path.
    NumericalError
        Blow-up, non-finite values, step-size collapse or a singular sensitivity meeting zero
        (frames written before the failure stay in ``output``).
    """
    wall0 = _time.perf_counter()
    stats = Stats()
    grid = grid if grid is not None else default_grid(model)
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a Grid, got {type(grid).__name__}")
    t_end = model.defaults.t_end if t_end is None else t_end
    if isinstance(t_end, bool) or not isinstance(t_end, (int, float)) or not math.isfinite(t_end) or t_end <= 0:
        raise InputError(f"end time must be a positive number, got {t_end!r}")
    t_end = float(t_end)
    every = save_every if save_every is not None else (model.defaults.save_every or t_end / 20)
    if isinstance(every, bool) or not isinstance(every, (int, float)) or not math.isfinite(every) or every <= 0:
        raise InputError(f"save interval must be a positive number, got {every!r}")
    stepper = stepper if stepper is not None else IMEX()
    monitor = monitor if monitor is not None else Monitor()
    if limiter not in ("mc", "minmod", "gminmod"):
        raise InputError(f"unknown limiter {limiter!r}; choose mc, gminmod or minmod")
    disc = Discretisation(model, grid, limiter=limiter)

    t0 = 0.0
    if resume:
        if output is None:
            raise InputError("resume needs the output file of the run to continue")
        t0, U0, _ = last_frame(output)
        if U0.shape != (model.n_species, *grid.shape):
            raise InputError(f"cannot resume: the file's state has shape {U0.shape}, expected {(model.n_species, *grid.shape)}")
        if t0 >= t_end:
            raise InputError(f"cannot resume: the run file already reaches t = {t0:g} >= end time {t_end:g}")
    elif isinstance(initial, np.ndarray) and initial.shape == (model.n_species, *grid.shape):
        U0 = initial_fields(model, grid, seed, {n: initial[i] for i, n in enumerate(model.species_names)})
    else:
        U0 = initial_fields(model, grid, seed, initial)  # type: ignore[arg-type]
    for i, reason in disc.compiled.positive:
        if np.min(U0[i]) <= 0:
            raise InputError(f"initial data of species {model.species_names[i]!r} must be > 0: {reason}")
    for s in disc.compiled.species:
        if s.diffusion is not None and not s.diffusion.constant:
            with np.errstate(all="ignore"):
                d0 = s.diffusion.evaluate_array(t0, disc.coords, U0)
            if not np.all(np.isfinite(d0)) or np.min(d0) < 0:
                raise InputError(
                    f"diffusion of species {s.name!r} ({s.diffusion.expr}) is negative or not finite on the "
                    f"initial data (min {np.nanmin(d0):.3g})"
                )
    U0 = disc.initial_state(U0)

    writer = FrameWriter(output, model, grid, stepper.describe(), append=resume) if output is not None else None
    keep = (output is None) if keep_frames is None else keep_frames
    times: list[float] = []
    frames: list[np.ndarray] = []

    def save(t: float, U: np.ndarray) -> None:
        w0 = _time.perf_counter()
        times.append(t)
        if keep:
            frames.append(U.copy())
        if writer is not None:
            writer.append(t, U)
        stats.wall_output += _time.perf_counter() - w0

    if not resume:
        save(t0, U0)
    monitor.start(disc, U0)
    run = RunState(t0, U0, None, stats, monitor)
    del U0  # the run owns the state from here (no second copy alive during stepping)
    stats.wall_setup = _time.perf_counter() - wall0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=t_end - t0, unit="t", file=sys.stderr, leave=False, bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} [{elapsed}<{remaining}]")
    report: FailureReport | None = None
    status = Status.SUCCESS
    try:
        for t_save in _save_times(t0, t_end, float(every)):
            s0 = _time.perf_counter()
            with np.errstate(all="ignore"):
                report = stepper.advance(disc, run.t, run.U, t_save, run)
            stats.wall_stepping += _time.perf_counter() - s0
            if bar is not None:
                bar.update(run.t - bar.n)
            if report is not None:
                status = report.status
                if run.t > (times[-1] if times else -math.inf) and np.all(np.isfinite(run.U)):
                    save(run.t, run.U)
                break
            save(t_save, run.U)
    except KeyboardInterrupt:
        status = Status.INTERRUPTED
        report = FailureReport(Status.INTERRUPTED, run.t)
        if writer is not None:
            writer.finish(status.label)
        raise
    finally:
        if bar is not None:
            bar.close()
    stats.nfev = disc.nfev
    if writer is not None:
        writer.finish(status.label, {"failure": str(report)} if report else None)
    solution = Solution(
        model=model,
        grid=grid,
        t=np.array(times),
        frames=np.stack(frames) if keep and frames else None,
        final=run.U,
        t_final=run.t,
        status=status,
        report=report,
        stats=stats,
        stepper=stepper.describe(),
        output=Path(output) if output is not None else None,
    )
    if report is not None and throw:
        err = NumericalError(str(report), report)
        err.solution = solution  # type: ignore[attr-defined]
        raise err
    return solution
