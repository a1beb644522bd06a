"""``solve(model, grid, t_end, ...)``: wires a discretisation, a stepper and the observers
(recorder, file writer, progress bar, monitor) to the one integration loop, and returns a
:class:`Solution`."""

from __future__ import annotations

import json
import math
import os
import shutil
import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from .catalogue import load_kinetic, resolve_model
from .catalogue import names as catalogue_names
from .errors import InputError, KineticModelError, ModelError, NumericalError, OutputError
from .flow import FlowSystem, discretise
from .fv import Discretisation
from .grid import Grid
from .io import FrameWriter, is_run, last_frame, last_frame_variables, open_run, run_attributes, to_dataset
from .kinetic import KineticDiscretisation, KineticModel, check_eps
from .model import NOISE, SPACE, Model, model_from_dict, to_expr
from .time import (
    GSAIMEX,
    IMEX,
    FailureReport,
    Layout,
    Monitor,
    Observer,
    ProgressBar,
    Recorder,
    SaveAt,
    SemiDiscrete,
    Stats,
    Status,
    Stepper,
    integrate,
    stepper_from_name,
)
from .validation import positive_number

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "solve",
    "resolve_any",
    "Solution",
    "initial_fields",
    "default_grid",
    "run_record",
    "RunRecord",
    "check_resources",
]


@dataclass(frozen=True)
class RunRecord:
    """What a run file says about its run: enough to continue it exactly.

    Attributes
    ----------
    model : Model
        The model as run (from the file's ``model_toml``: parameters and definitions included).
    grid : Grid
    stepper : Stepper or None
        The stepper with its settings (None if the file's stepper cannot be rebuilt by name).
    limiter : str
    save_every : float or None
    t : float
        Time of the last frame.
    """

    model: Model
    grid: Grid
    stepper: Stepper | None
    limiter: str
    save_every: float | None
    t: float


def run_record(path: str | Path) -> RunRecord:
    """Read the model, grid, stepper settings and last time of the run file ``path``.

    Raises
    ------
    OutputError
        If the file cannot be read or is not a crossdiff run of a macroscopic model.
    """
    import tomllib

    attrs = run_attributes(path)
    where = f"run file {str(path)!r}"
    if "crossdiff_version" not in attrs or "model_toml" not in attrs:
        raise OutputError(f"{where} is not a crossdiff run")
    try:
        model = model_from_dict(tomllib.loads(str(attrs["model_toml"])), source=str(attrs.get("model", "model")))
        cells = tuple(int(c) for c in np.atleast_1d(np.asarray(attrs["grid_cells"])))
        flat = np.atleast_1d(np.asarray(attrs["grid_extent"], dtype=float))
        extent = tuple((float(flat[2 * a]), float(flat[2 * a + 1])) for a in range(len(cells)))
        grid = Grid(cells, extent, tuple(str(attrs["boundary"]).split(",")))
    except (KeyError, ValueError, tomllib.TOMLDecodeError, InputError) as err:
        raise OutputError(f"{where}: cannot rebuild its model and grid ({err})") from None
    stepper = None
    if attrs.get("stepper_name"):
        try:
            stepper = stepper_from_name(
                str(attrs["stepper_name"]), **json.loads(str(attrs.get("stepper_options", "{}")))
            )
        except (ValueError, TypeError, InputError):
            stepper = None
    every = attrs.get("save_every")
    t, _, _ = last_frame(path)
    return RunRecord(
        model,
        grid,
        stepper,
        str(attrs.get("limiter", "mc")),
        float(np.asarray(every)) if every is not None else None,
        t,
    )


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
    walls = d.boundary
    if not isinstance(walls, str) and len(walls) != len(cells):  # one per axis, like the extent
        walls = tuple(walls[min(a, len(walls) - 1)] for a in range(len(cells)))
    return Grid(cells, extent, boundary or walls)


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

    model: Model | KineticModel
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
    #: kinetic runs: the distributions ``f_i(v_k)`` at the saved times by name ``f_<species>``,
    #: shape ``(len(t), m, *grid.shape)`` (with ``save_f``; else None)
    f: dict[str, np.ndarray] | None = None
    #: kinetic runs: ``{"eps", "velocities", "nodes", "weights"}``
    kinetic: dict | None = None

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
        fields = {
            name: {"mass": float(mass[i]), "min": float(np.min(self.final[i])), "max": float(np.max(self.final[i]))}
            for i, name in enumerate(self.layout.field_names)
        }
        per = {name: fields[name] for name in self.model.species_names}
        flow = {name: value for name, value in fields.items() if name not in per}  # a computed flow's fields
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
            **({"flow": flow} if flow else {}),
            "failure": self.report.as_dict() if self.report else None,
            "output": str(self.output) if self.output else None,
            **({"kinetic": self.kinetic} if self.kinetic else {}),
        }


def _available_memory() -> float:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``; else all memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return math.inf


#: Bytes the loop keeps per saved frame besides the frame itself (the time in a Python list).
_PER_FRAME = 40


def check_resources(
    system: SemiDiscrete,
    stepper: Stepper,
    U0: np.ndarray,
    n_frames: int,
    keep_frames: bool,
    output: Path | None,
) -> tuple[float, float]:
    """Estimate the memory and disk a run needs and refuse it if the machine does not have them.

    Memory: the stepper's working states (:attr:`~crossdiff.time.Stepper.work_states` copies of
    the state), plus the kept frames; disk: the frames written to ``output``. ``n_frames`` is the
    number of saved frames, computed from ``t_end/save_every`` without materialising them.

    Returns
    -------
    (memory, disk) : tuple of float
        The estimates in bytes.

    Raises
    ------
    InputError
        With the estimate, when it exceeds the available memory or the free disk space.
    """
    field_bytes = float(system.fields(U0).nbytes)
    frames = float(n_frames) * (field_bytes if keep_frames else 0.0) + float(n_frames) * _PER_FRAME
    memory = stepper.work_states * float(U0.nbytes) + frames
    available = _available_memory()
    if memory > available:
        raise InputError(
            f"the run needs about {memory / 1e9:.3g} GB of memory ({n_frames:.3g} frames of "
            f"{field_bytes / 1e6:.3g} MB{' kept in memory' if keep_frames else ''}, {stepper.work_states} working states), "
            f"more than the {available / 1e9:.3g} GB available: save fewer frames or use a coarser grid"
        )
    disk = 0.0
    if output is not None:
        disk = float(n_frames) * (field_bytes + 64.0)
        free = float(shutil.disk_usage(output.parent if output.parent.is_dir() else Path.cwd()).free)
        if disk > free:
            raise InputError(
                f"the run would write about {disk / 1e9:.3g} GB ({n_frames:.3g} frames of {field_bytes / 1e6:.3g} MB) "
                f"to {str(output)!r}, more than the {free / 1e9:.3g} GB free there: save fewer frames"
            )
    return memory, disk


def _check_output(output: object, resume: bool, overwrite: bool) -> Path | None:
    """The output path, refusing to overwrite what it must not (see :func:`solve`)."""
    if output is None:
        if resume:
            raise InputError("resume needs the output file of the run to continue")
        return None
    if not isinstance(output, (str, os.PathLike)) or not str(output):
        raise InputError(f"output must be a file path, got {output!r}")
    path = Path(output)
    if resume or not path.exists():
        return path
    if path.is_dir():
        raise OutputError(f"cannot write output file {str(path)!r}: it is a directory")
    if not is_run(path):
        raise OutputError(f"output file {str(path)!r} exists and is not a crossdiff run; refusing to overwrite it")
    if not overwrite:
        raise OutputError(
            f"output file {str(path)!r} already holds a crossdiff run; overwrite it with --overwrite "
            "(overwrite=True) or continue it with --resume (resume=True)"
        )
    return path


def _initial_state(
    system: Discretisation | FlowSystem,
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
        n_fields = len(system.layout.fields)  # the species, and a computed flow's fields
        if U0.shape != (n_fields, *grid.shape):
            raise InputError(
                f"cannot resume: the file's state has shape {U0.shape}, expected {(n_fields, *grid.shape)}"
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
    model: Model | KineticModel | str,
    grid: Grid | None = None,
    t_end: float | None = None,
    *,
    stepper: Stepper | str | None = None,
    save_every: float | None = None,
    initial: Mapping[str, object] | np.ndarray | None = None,
    seed: int | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_frames: bool | None = None,
    monitor: Monitor | None = None,
    progress: bool = False,
    limiter: str = "mc",
    observers: Sequence[Observer] = (),
    throw: bool = True,
    eps: float | None = None,
    velocities: int | None = None,
    save_f: bool = False,
) -> Solution:
    """Simulate ``model`` on ``grid`` from ``t = 0`` to ``t_end``.

    Parameters
    ----------
    model : Model or str
        The model, or a catalogue name or model file path.
    grid : Grid, optional
        Defaults to the model's default domain (:func:`default_grid`), or when resuming to the
        file's grid.
    t_end : float, optional
        End time; default the model's.
    stepper : Stepper or str, optional
        Default :class:`~crossdiff.time.IMEX` (``rtol = 0.5/N²`` on a grid of ``N`` cells along its longest axis, ``atol = rtol/100``); a registered name
        (:data:`~crossdiff.time.STEPPERS`) builds that stepper with its defaults.
    save_every : float, optional
        Interval between saved frames (default the model's, else ``t_end / 20``).
    initial : mapping or ndarray, optional
        Initial data per species (arrays, numbers or expressions) replacing the model's, or the
        whole state as an array ``(n_species, *grid.shape)``.
    seed : int, optional
        Seed of ``noise`` in initial data (default the model's).
    output : path-like, optional
        NetCDF file written frame by frame. An existing file is never overwritten unless it is a
        crossdiff run and ``overwrite`` is set (or ``resume`` continues it).
    resume : bool
        Continue the run stored in ``output`` from its last frame. The model, parameters and grid
        must be those of the file (:func:`run_record` reads them); anything else is refused.
    overwrite : bool
        Replace an existing crossdiff run in ``output``.
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
    eps, velocities, save_f
        Kinetic models only (:class:`~crossdiff.kinetic.KineticModel`, a kinetic catalogue name
        or kinetic file): ``ε ∈ (0, 1]`` (required), the number of velocity directions (d = 2,
        default 16; see :class:`~crossdiff.kinetic.KineticDiscretisation`) and whether to keep
        and write the distributions (``Solution.f``, the ``f_<species>`` variables with a
        velocity dimension ``v``). The kinetic model is solved with the asymptotic-preserving
        micro–macro scheme (``docs/kinetic.md``) and the stepper
        :class:`~crossdiff.time.GSAIMEX` (default ``cfl = 0.5``); the densities
        ``ρ_i = ∫ f_i dv`` are the Solution's fields. Resuming continues from the densities of
        the last frame with well-prepared distributions ``f = M ρ``.

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        Bad model, grid, times, initial data or output path; a run needing more memory or disk
        than available (:func:`check_resources`); resuming a file of another model or grid.
    NumericalError
        Blow-up, non-finite values, step-size collapse or a singular sensitivity meeting zero
        (frames written before the failure stay in ``output``).
    """
    wall0 = _time.perf_counter()
    if isinstance(model, str):
        model = resolve_any(model)
    if isinstance(model, KineticModel):
        return _solve_kinetic(
            model,
            grid,
            t_end,
            wall0,
            eps=eps,
            velocities=velocities,
            save_f=save_f,
            stepper=stepper,
            save_every=save_every,
            initial=initial,
            seed=seed,
            output=output,
            resume=resume,
            overwrite=overwrite,
            keep_frames=keep_frames,
            monitor=monitor,
            progress=progress,
            limiter=limiter,
            observers=observers,
            throw=throw,
        )
    for key, value in (("eps", eps), ("velocities", velocities), ("save_f", save_f or None)):
        if value is not None:
            raise InputError(
                f"{key} applies to kinetic models only; {getattr(model, 'name', 'this model')!r} is macroscopic"
            )
    if not isinstance(model, Model):
        raise InputError(f"model must be a crossdiff Model or a catalogue name, got {type(model).__name__}")
    path = _check_output(output, resume, overwrite)
    if grid is None:
        grid = run_record(path).grid if resume and path is not None else default_grid(model)
    t_end = positive_number(model.defaults.t_end if t_end is None else t_end, "end time")
    every = positive_number(
        save_every if save_every is not None else (model.defaults.save_every or t_end / 20), "save interval"
    )
    stepper = _stepper_arg(stepper, IMEX)
    system = discretise(model, grid, limiter=limiter)  # a FlowSystem for a computed flow
    t0, U0 = _initial_state(system, initial, seed, path, resume, t_end)
    return _run(
        system,
        stepper,
        t0,
        U0,
        t_end,
        every,
        wall0,
        path=path,
        resume=resume,
        keep_frames=keep_frames,
        monitor=monitor,
        progress=progress,
        observers=observers,
        throw=throw,
        attrs={"limiter": limiter},
    )


def _stepper_arg(stepper: Stepper | str | None, default: Callable[[], Stepper]) -> Stepper:
    """The stepper of ``solve``: a registered name, an object, or ``default()``."""
    stepper = (
        stepper_from_name(stepper) if isinstance(stepper, str) else (stepper if stepper is not None else default())
    )
    if not isinstance(stepper, Stepper):
        raise InputError(f"stepper must be a crossdiff Stepper, got {type(stepper).__name__}")
    return stepper


def _run(
    system: SemiDiscrete,
    stepper: Stepper,
    t0: float,
    U0: np.ndarray,
    t_end: float,
    every: float,
    wall0: float,
    *,
    path: Path | None,
    resume: bool,
    keep_frames: bool | None,
    monitor: Monitor | None,
    progress: bool,
    observers: Sequence[Observer],
    throw: bool,
    attrs: Mapping[str, object],
    save_extras: bool = False,
    kinetic: dict | None = None,
) -> Solution:
    """What every run does once its system and initial state are built, whatever the scale:
    resolve the stepper on the system, check resources, write frames (:class:`FrameWriter`),
    record, monitor, integrate (:func:`~crossdiff.time.integrate`) and wrap the
    :class:`Solution`. ``save_extras`` writes and keeps the system's extras (distributions)."""
    if monitor is not None and not isinstance(monitor, Monitor):
        raise InputError(f"monitor must be a crossdiff Monitor, got {type(monitor).__name__}")
    stepper = stepper.bind(system)
    settings = stepper.settings()
    run_attrs = {
        **attrs,
        "save_every": every,
        "stepper_name": settings[0] if settings else "",
        "stepper_options": json.dumps(settings[1] if settings else {}),
    }
    keep = (path is None) if keep_frames is None else bool(keep_frames)
    check_resources(system, stepper, U0, int(math.floor((t_end - t0) / every)) + 2, keep, path)
    writer = (
        FrameWriter(path, system.layout, stepper.describe(), append=resume, attrs=run_attrs, extras=save_extras)
        if path
        else None
    )
    recorder = Recorder(keep_frames=keep)
    kept_f = _KeepDistributions() if save_extras and keep else None
    obs: list[Observer] = [recorder, monitor if monitor is not None else Monitor()]
    if writer is not None:
        obs.insert(1, writer)
    if progress:
        obs.insert(1, ProgressBar(t_end))
    if kept_f is not None:
        obs.append(kept_f)
    obs.extend(observers)
    setup = _time.perf_counter() - wall0
    run = integrate(system, stepper, U0, (t0, t_end), save=SaveAt(every, initial=not resume), observers=obs)
    run.stats.wall_setup = setup
    solution = Solution(
        system.model,  # type: ignore[attr-defined]
        system.grid,  # type: ignore[attr-defined]
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
        path,
        f=kept_f.stacked() if kept_f is not None else None,
        kinetic=kinetic,
    )
    if run.report is not None and throw and not run.status.success:
        err = NumericalError(str(run.report), run.report)
        err.solution = solution  # type: ignore[attr-defined]
        raise err
    return solution


def resolve_any(name_or_path: str) -> Model | KineticModel:
    """A catalogue name (macroscopic or kinetic) or a model file of either scale."""
    if name_or_path in catalogue_names("kinetic"):
        return load_kinetic(name_or_path)
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.is_file():
        import tomllib

        try:
            data = tomllib.loads(candidate.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        if isinstance(data, dict) and "kinetic" in data:
            try:
                return load_kinetic(candidate)
            except KineticModelError as err:
                raise KineticModelError(f"kinetic model file {err}") from None
    try:
        return resolve_model(name_or_path)
    except ModelError as err:
        if candidate.suffix == ".toml" or candidate.exists() or not str(err).startswith("unknown catalogue model"):
            raise
        raise ModelError(f"{err}; kinetic: {', '.join(catalogue_names('kinetic'))}") from None


def _kinetic_record(path: Path) -> tuple[Grid, float, int]:
    """Grid, ε and velocity count of a kinetic run file (for resume)."""
    attrs = run_attributes(path)
    if str(attrs.get("scale", "")) != "kinetic":
        raise InputError(f"cannot resume: {str(path)!r} is not a kinetic run")
    try:
        cells = tuple(int(c) for c in np.atleast_1d(np.asarray(attrs["grid_cells"])))
        flat = np.atleast_1d(np.asarray(attrs["grid_extent"], dtype=float))
        extent = tuple((float(flat[2 * a]), float(flat[2 * a + 1])) for a in range(len(cells)))
        grid = Grid(cells, extent, tuple(str(attrs["boundary"]).split(",")))
        return grid, float(np.asarray(attrs["eps"])), int(np.asarray(attrs.get("velocity_resolution", 0)))
    except (KeyError, ValueError, InputError) as err:
        raise OutputError(f"run file {str(path)!r}: cannot rebuild its grid and eps ({err})") from None


def _solve_kinetic(
    model: KineticModel,
    grid: Grid | None,
    t_end: float | None,
    wall0: float,
    *,
    eps: float | None,
    velocities: int | None,
    save_f: bool,
    stepper: Stepper | str | None,
    save_every: float | None,
    initial: Mapping[str, object] | np.ndarray | None,
    seed: int | None,
    output: str | Path | None,
    resume: bool,
    overwrite: bool,
    keep_frames: bool | None,
    monitor: Monitor | None,
    progress: bool,
    limiter: str,
    observers: Sequence[Observer],
    throw: bool,
) -> Solution:
    """:func:`solve` for a kinetic model (see its ``eps``, ``velocities``, ``save_f``)."""
    path = _check_output(output, resume, overwrite)
    saved_f: dict[str, np.ndarray] = {}
    if resume and path is not None:
        file_grid, file_eps, file_n = _kinetic_record(path)
        grid = grid if grid is not None else file_grid
        if eps is not None and check_eps(eps) != file_eps:
            raise InputError(f"cannot resume: the run file has eps = {file_eps:g}, not {eps!r}")
        eps = file_eps
        velocities = velocities if velocities is not None else (file_n or None)
        saved_f = last_frame_variables(path, [f"f_{s}" for s in model.species_names])
        save_f = save_f or bool(saved_f)  # a file with distributions keeps getting them
    if eps is None:
        raise InputError(f"kinetic model {model.name!r} needs eps (ε in (0, 1]), e.g. eps=0.01")
    eps = check_eps(eps)
    if grid is None:
        grid = default_grid(model)  # type: ignore[arg-type]
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a crossdiff Grid, got {type(grid).__name__}")
    model = model.in_dimension(grid.ndim)  # a velocity sphere follows the grid (KineticModel.in_dimension)
    defaults = model.defaults
    assert defaults is not None  # a KineticModel always has them
    t_end = positive_number(defaults.t_end if t_end is None else t_end, "end time")
    every = positive_number(
        save_every if save_every is not None else (defaults.save_every or t_end / 20), "save interval"
    )
    stepper = _stepper_arg(stepper, GSAIMEX)
    system = KineticDiscretisation(model, grid, eps, velocities=velocities, limiter=limiter)
    names = model.species_names
    if resume and path is not None:
        t0, rho, _ = last_frame(path)
        if rho.shape != (len(names), *grid.shape):
            raise InputError(
                f"cannot resume: the file's state has shape {rho.shape}, expected {(len(names), *grid.shape)}"
            )
        if t0 >= t_end:
            raise InputError(f"cannot resume: the run file already reaches t = {t0:g} >= end time {t_end:g}")
        # from the saved distributions where the file has them (--save-f), else f = M ρ
        U0 = system.initial_state({**{n: rho[i] for i, n in enumerate(names)}, **saved_f}, t0)
    else:
        t0 = 0.0
        frame: dict[str, object] = {}
        if isinstance(initial, np.ndarray):
            if initial.shape != (len(names), *grid.shape):
                raise InputError(f"initial state has shape {initial.shape}, expected {(len(names), *grid.shape)}")
            initial = {n: initial[i] for i, n in enumerate(names)}
        given = dict(initial or {})
        distributions = {k: given.pop(k) for k in list(given) if k.startswith("f_")}
        rho0 = initial_fields(model, grid, seed, given)  # type: ignore[arg-type]
        frame = {n: rho0[i] for i, n in enumerate(names)}
        frame.update(distributions)
        U0 = system.initial_state(frame)  # type: ignore[arg-type]
    return _run(
        system,
        stepper,
        t0,
        U0,
        t_end,
        every,
        wall0,
        path=path,
        resume=resume,
        keep_frames=keep_frames,
        monitor=monitor,
        progress=progress,
        observers=observers,
        throw=throw,
        attrs={"limiter": limiter, "velocity_resolution": system.velocities},
        save_extras=bool(save_f),
        kinetic={
            "eps": eps,
            "velocities": system.m,
            "nodes": system.nodal.nodes.tolist(),
            "weights": system.nodal.weights.tolist(),
        },
    )


class _KeepDistributions(Observer):
    """Keeps the distributions of every saved frame (``Solution.f``)."""

    def __init__(self) -> None:
        self.frames: list[Mapping[str, np.ndarray]] = []

    def start(self, system, t0, U0):
        self._system = system

    def save(self, t, U):
        self.frames.append({k: np.array(v, copy=True) for k, v in self._system.extras(U).items()})

    def stacked(self) -> dict[str, np.ndarray]:
        if not self.frames:
            return {}
        return {k: np.stack([f[k] for f in self.frames]) for k in self.frames[0]}
