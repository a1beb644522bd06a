"""Parameter sweeps on Dask: every run a task, results in a restartable directory.

:func:`sweep` runs a model at every point of a :class:`~crossdiff.sweep.ParameterGrid` with
:func:`crossdiff.solve`, each run a :mod:`dask.distributed` task (docs/references.md [Roc15]):
on a ``LocalCluster`` of worker processes by default, or on any running cluster
(``scheduler=ADDRESS`` or ``client=``).
The worker writes the run's NetCDF file and its record (:class:`~crossdiff.sweep.SweepStore`);
the client collects records, draws the progress bar and rewrites the Parquet summary. Runs whose
record exists are skipped, so running the same sweep again continues a killed one.

Compiled kernels are reused across the runs of a worker: parameters are arguments of the fused
reaction kernel (:func:`crossdiff.model.fused_reactions`), which a worker process compiles or
loads from the on-disk cache once, and the finite-volume kernels are Numba functions cached on disk.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import classify
from ..catalogue import resolve_model
from ..errors import CrossdiffError, InputError
from ..grid import Domain, FrontGrid, Grid, GrowingGrid, Network, Shape
from ..model import Model, model_to_dict
from ..progress import StudyProgress, progress_mode
from ..resources import available_memory
from ..solve import Run, solve
from ..threads import available_cores, parse_threads, using
from ..time import Stepper
from ..validation import a_path, positive_number
from ._grid import ParameterGrid
from ._store import FORMAT, SweepStore, stable_hash

__all__ = ["RunSpec", "SweepPlan", "SweepResult", "plan_sweep", "sweep", "execute_run", "load_sweep"]

#: Memory of one worker process with crossdiff imported (about 200 MB measured; the bound errs
#: on the safe side), for refusing more workers than the machine holds.
WORKER_BYTES = 250e6


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: everything a worker needs (picklable, sent to the worker).

    ``run`` is the sweep's base :class:`~crossdiff.solve.Run` (fixed settings applied); the
    worker sets ``parameters`` on its model and writes ``directory``'s file for ``key``.
    ``threads`` fixes the run's thread count (:func:`crossdiff.threads.set_threads`), else
    ``cores`` bounds its automatic choice (:func:`crossdiff.threads.set_cores`: the workers of a
    local cluster share the machine's cores)."""

    key: str
    parameters: dict[str, float]
    run: Run
    species: str | None
    directory: str
    threads: int | None = None
    cores: int | None = None


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep runs: the base run (its model with the fixed settings applied, grid, end time,
    save interval, stepper, seed, limiter), the parameter grid and the species classified.
    :meth:`runs` lists the runs, :attr:`identity` names the sweep."""

    run: Run
    parameters: ParameterGrid
    species: str | None = None
    _keys: list[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        base = model_to_dict(self.model)
        keys = [stable_hash(self._run_identity(base, point)) for point in self.parameters]
        object.__setattr__(self, "_keys", keys)

    @property
    def model(self) -> Model:
        """The base model (fixed settings applied, before the swept values)."""
        assert isinstance(self.run.model, Model)
        return self.run.model

    def _settings(self) -> dict[str, Any]:
        settings = self.run.stepper.settings()
        assert settings is not None  # plan_sweep refuses steppers without them
        return {
            "t_end": self.run.t_end,
            "save_every": self.run.save_every,
            "stepper": [settings[0], dict(settings[1])],
            "seed": self.run.seed,
            "limiter": self.run.limiter,
            "species": self.species,
        }

    def _grid(self) -> dict[str, Any]:
        grid = self.run.domain
        out: dict[str, Any] = {
            "cells": list(grid.cells),
            "extent": [list(e) for e in grid.extent],
            "boundary": list(grid.boundary),
        }
        if isinstance(grid, Network):  # the network is part of the sweep's identity
            out["network"] = grid.to_table()
        if isinstance(grid, Shape):  # the shape is part of the sweep's identity
            if grid.inside is not None:
                out.update(inside=grid.inside, inside_parameters=dict(grid.parameters))
            else:
                assert grid.mask is not None
                out["mask"] = np.flatnonzero(grid.mask.ravel()).tolist()
        if isinstance(grid, GrowingGrid):  # so is the growth law (or the tissue's velocity)
            out["growth"] = grid.growth.attributes()
        if isinstance(grid, FrontGrid):  # and a free boundary's speed or the tissue's velocity
            out["moving_end"] = {
                k: v for k, v in grid.attributes().items() if k.startswith(("front_", "growth_velocity"))
            }
        return out

    def _run_identity(self, base: dict[str, Any], point: Mapping[str, float]) -> dict[str, Any]:
        # the point is not applied to the model here: a value the model refuses (a negative
        # diffusion) is recorded as that run's error on the worker, not raised for the sweep
        return {
            "model": base,
            "point": dict(point),
            "grid": self._grid(),
            "settings": self._settings(),
        }

    @property
    def identity(self) -> str:
        """Hash of the sweep: model, parameter grid, grid and settings."""
        return stable_hash(
            {
                "model": model_to_dict(self.model),
                "parameters": self.parameters.as_dict(),
                "grid": self._grid(),
                "settings": self._settings(),
            }
        )

    def manifest(self) -> dict[str, Any]:
        """The ``sweep.json`` of the result directory."""
        import tomli_w

        return {
            "format": FORMAT,
            "identity": self.identity,
            "model": self.model.name,
            "parameters": self.parameters.as_dict(),
            "model_toml": tomli_w.dumps(model_to_dict(self.model)),
            "grid": self._grid(),
            "settings": self._settings(),
            "runs": [{"key": k, "parameters": p} for k, p in zip(self._keys, self.parameters)],
        }

    def runs(self, directory: str | Path) -> list[RunSpec]:
        """The runs, in the order of the parameter grid."""
        return [
            RunSpec(key, point, self.run, self.species, str(directory))
            for key, point in zip(self._keys, self.parameters)
        ]


@dataclass
class SweepResult:
    """What :func:`sweep` did and found.

    Attributes
    ----------
    directory : Path
    table : pandas.DataFrame
        One row per finished run (the Parquet summary): the swept parameters, ``behaviour``,
        ``amplitude``, ``relative_amplitude``, ``wavelength``, ``wavenumber``, ``species``,
        ``status``, ``message``, ``t_final``, ``steps``, ``wall_time``, ``worker``, ``file``, ``run``.
    parameters : tuple of str
        The swept parameters.
    model : str
    ran, skipped : int
        Runs computed now, and runs found finished in the directory.
    total : int
        Runs in the sweep.
    wall_time : float
        Seconds spent by :func:`sweep` (0 for :func:`load_sweep`).
    lost : list of str
        Runs whose task failed on the cluster rather than in the run (a worker that died or could
        not import crossdiff), with the error: they have no record and are retried when the same
        sweep runs again.
    """

    directory: Path
    table: pd.DataFrame
    parameters: tuple[str, ...]
    model: str
    ran: int = 0
    skipped: int = 0
    total: int = 0
    wall_time: float = 0.0
    lost: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every run of the sweep has finished."""
        return len(self.table) == self.total

    def grid(self) -> Domain:
        """The sweep's domain: its grid, shape, growing box, moving interval or network (from the manifest)."""
        g = SweepStore(self.directory).read_manifest()["grid"]
        box = Grid(tuple(g["cells"]), tuple(tuple(e) for e in g["extent"]), tuple(g["boundary"]))
        if "inside" in g:
            return Shape(box, g["inside"], parameters=g.get("inside_parameters", {}))
        if "mask" in g:
            mask = np.zeros(box.size, dtype=bool)
            mask[np.asarray(g["mask"], dtype=int)] = True
            return Shape(box, mask=mask.reshape(box.shape))
        if "growth" in g:
            return GrowingGrid.from_attributes({**box.attributes(), **g["growth"]})
        if "moving_end" in g:
            return FrontGrid.from_attributes({**box.attributes(), **g["moving_end"]})
        if "network" in g:
            return Network.from_table(g["network"])
        return box

    def base_model(self) -> Model:
        """The sweep's model with its fixed settings (from the manifest), before the swept values."""
        import tomllib

        from ..model import model_from_dict

        manifest = SweepStore(self.directory).read_manifest()
        try:
            return model_from_dict(tomllib.loads(manifest["model_toml"]), source=str(manifest.get("model", "model")))
        except (KeyError, tomllib.TOMLDecodeError) as err:
            raise InputError(f"cannot rebuild the model of the sweep in {str(self.directory)!r}: {err}") from None

    def summary(self) -> dict[str, Any]:
        """Machine-readable summary (the CLI's ``--json``)."""
        counts = self.table["behaviour"].value_counts().to_dict() if len(self.table) else {}
        return {
            "directory": str(self.directory),
            "model": self.model,
            "parameters": list(self.parameters),
            "runs": self.total,
            "finished": int(len(self.table)),
            "ran": self.ran,
            "skipped": self.skipped,
            "behaviour": {str(k): int(v) for k, v in counts.items()},
            "wall_time": self.wall_time,
            "lost": list(self.lost),
            "summary": str(self.directory / "summary.parquet"),
        }


def plan_sweep(
    model: Model | str,
    parameters: ParameterGrid | Mapping[str, Iterable[float]] | Iterable[str],
    *,
    grid: Domain | None = None,
    t_end: float | None = None,
    save_every: float | None = None,
    stepper: Stepper | str | None = None,
    seed: int | None = None,
    limiter: str | None = None,
    species: str | None = None,
    settings: Mapping[str, object] | Iterable[str] | None = None,
) -> SweepPlan:
    """Check a sweep's inputs and list its runs (see :func:`sweep` for the arguments).

    Raises
    ------
    InputError
        An unknown parameter or species, bad values, times, grid or stepper (one line each).
    """
    if isinstance(model, str):
        model = resolve_model(model)
    if not isinstance(model, Model):
        raise InputError(f"a sweep runs a crossdiff Model (macroscopic), got {type(model).__name__}")
    if settings:
        model = model.with_settings(settings)
    if not isinstance(parameters, ParameterGrid):
        if isinstance(parameters, Mapping):
            parameters = ParameterGrid(dict(parameters))
        else:
            parameters = ParameterGrid.parse(parameters)
    parameters.check(model)
    if species is not None:
        model.index(species)
    t_end = positive_number(model.defaults.t_end if t_end is None else t_end, "end time")
    every = save_every if save_every is not None else model.defaults.save_every
    if save_every is None and (every is None or t_end / every < 2):
        every = t_end / 20  # the model's interval saves too few frames for this end time
    every = positive_number(every, "save interval")
    if t_end / every < 2:
        raise InputError(
            f"a sweep saves frames to classify the runs: the save interval {every:g} must be at most half the "
            f"end time {t_end:g} (at least 3 frames)"
        )
    if t_end / every > 100_000:
        raise InputError(f"save interval {every:g} would write {t_end / every:.3g} frames per run")

    run = Run(model, grid, t_end, save_every=every, stepper=stepper, seed=seed, limiter=limiter, keep_frames=True)
    if run.stepper.settings() is None:
        raise InputError(
            f"a sweep needs a stepper rebuilt from its name and options on the workers; {run.stepper.describe()} is not"
        )
    return SweepPlan(run, parameters, species)


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Run one point of a sweep and write its NetCDF file and record (the task of a worker), on
    ``spec.threads`` threads or within ``spec.cores`` cores (:class:`RunSpec`).

    Never raises for a failing run: bad parameters, a numerical failure or an unexpected error
    become a record with ``status`` and ``message``. Returns the record.
    """
    with using(spec.threads, spec.cores):
        return _execute_run(spec)


def _execute_run(spec: RunSpec) -> dict[str, Any]:
    store = SweepStore(spec.directory)
    wall0 = time.perf_counter()
    record: dict[str, Any] = {
        "run": spec.key,
        "parameters": dict(spec.parameters),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "started": time.time(),
        "species": spec.species,
    }
    partial, final = store.partial(spec.key), store.output(spec.key)
    try:
        # a partial file is this sweep's own, left by a run that was killed; cut off mid-write it
        # may not even read as a run file, which solve() would refuse to overwrite
        partial.unlink(missing_ok=True)
        model = spec.run.model.with_parameters(**spec.parameters)
        domain = spec.run.domain.with_parameters(**spec.parameters)  # a growth law or condition using them
        sol = solve(spec.run.replace(model=model, domain=domain, output=partial, mode="overwrite"), throw=False)
        t_solved = time.perf_counter()
        found = classify(sol, spec.species)
        os.replace(partial, final)
        record.update(found.as_dict())
        record.update(
            {
                "status": sol.status.label,
                "message": sol.message,
                "t_final": sol.t_final,
                "steps": sol.stats.n_steps,
                "file": str(final.relative_to(store.root)),
                "wall_setup": sol.stats.wall_setup,
                "wall_stepping": sol.stats.wall_stepping,
                "wall_output": sol.stats.wall_output,
                "wall_classify": time.perf_counter() - t_solved,
            }
        )
    except Exception as err:  # recorded, never fatal to the sweep
        kind = "" if isinstance(err, CrossdiffError) else f"{type(err).__name__}: "
        record.update(
            {
                "behaviour": "error",
                "status": "error",
                "message": kind + " ".join(str(err).split()),
                "file": None,
                "steps": None,
                "t_final": None,
            }
        )
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
    record["wall_time"] = time.perf_counter() - wall0
    store.write_record(spec.key, record)
    return record


#: Seconds to wait for a connection to ``scheduler=`` before giving up.
CONNECT_TIMEOUT = 10.0


def _local_workers(workers: int | None, n_runs: int) -> int:
    """Worker processes of a local cluster: ``workers``, else one per available core, at most one per run."""
    return max(1, workers if workers is not None else min(available_cores(), n_runs))


def _client(scheduler: str | None, workers: int | None, processes: bool, n_runs: int):
    """A Dask client: on ``scheduler``, or on a new LocalCluster (returned to be closed)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s"), None
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError(
                f"cannot connect to the Dask scheduler at {scheduler!r}: {' '.join(str(err).split())}"
            ) from None
    n = _local_workers(workers, n_runs)
    cluster = LocalCluster(
        n_workers=max(1, n),
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def sweep(
    model: Model | str,
    parameters: ParameterGrid | Mapping[str, Iterable[float]] | Iterable[str],
    out: str | Path,
    *,
    grid: Domain | None = None,
    t_end: float | None = None,
    save_every: float | None = None,
    stepper: Stepper | str | None = None,
    seed: int | None = None,
    limiter: str | None = None,
    species: str | None = None,
    settings: Mapping[str, object] | Iterable[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    processes: bool = True,
    progress: bool | str = False,
    threads: int | None = None,
) -> SweepResult:
    """Run ``model`` at every point of a parameter grid, each run a Dask task; results under ``out``.

    Parameters
    ----------
    model : Model or str
        The model, a catalogue name or a model file.
    parameters : ParameterGrid, mapping or iterable of str
        ``{"chi": [4, 6], "D1": [0.1, 1]}`` or ``["chi=0:10:21", "D1=0.1,1"]`` (Cartesian product).
    out : path
        The result directory (:class:`~crossdiff.sweep.SweepStore`). Running the same sweep again
        skips its finished runs; a directory of another sweep, or any other non-empty directory,
        is refused.
    grid, t_end, save_every, stepper, seed, limiter
        As for :func:`crossdiff.solve`, the same for every run (defaults: the model's).
    species : str, optional
        The species classified (default the first).
    settings : mapping or iterable of str, optional
        Fixed parameter or definition settings applied to every run (``--set``).
    workers : int, optional
        Worker processes of the LocalCluster (default: one per core, at most one per run).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) to use instead.
    client : distributed.Client, optional
        A client to use instead (not closed).
    processes : bool
        LocalCluster of processes (default) or of threads in this process.
    progress : bool or {"bar", "log"}
        Progress over the runs on standard error (:class:`crossdiff.progress.StudyProgress`): a
        bar (``"bar"``), or lines (``"log"``: one per finished run and at least one every 10 s);
        ``True``: a bar on a terminal and lines elsewhere.
    threads : int, optional
        Threads of each run's kernels (:func:`crossdiff.threads.set_threads`); default: the
        automatic choice, on a local cluster within the available cores shared by its workers.

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        Bad inputs (:func:`plan_sweep`), an ``out`` holding something else, an unreachable scheduler.
    """
    wall0 = time.perf_counter()
    mode = progress_mode(progress)
    out = a_path(out, "out (the result directory)")
    plan = plan_sweep(
        model,
        parameters,
        grid=grid,
        t_end=t_end,
        save_every=save_every,
        stepper=stepper,
        seed=seed,
        limiter=limiter,
        species=species,
        settings=settings,
    )
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    if workers is not None and workers * WORKER_BYTES > available_memory():
        raise InputError(
            f"{workers} workers need about {workers * WORKER_BYTES / 1e9:.3g} GB of memory, more than the "
            f"{available_memory() / 1e9:.3g} GB available: use fewer workers (one per core is the default)"
        )
    _check_disk(plan, Path(out))
    if threads is not None:
        threads = parse_threads(threads)
    store = SweepStore(out)
    store.open(plan.manifest())
    specs = plan.runs(store.root)
    pending = [s for s in specs if not store.finished(s.key)]
    skipped = len(specs) - len(pending)
    keys = [s.key for s in specs]
    lost: list[str] = []
    if pending:
        lost = _run_pending(
            store, pending, keys, len(specs), skipped, workers, scheduler, client, processes, mode, threads
        )
    table = store.table(keys)
    store.write_summary(table)
    return SweepResult(
        store.root,
        table,
        plan.parameters.names,
        plan.model.name,
        len(pending) - len(lost),
        skipped,
        len(specs),
        time.perf_counter() - wall0,
        lost,
    )


def _check_disk(plan: SweepPlan, out: Path) -> None:
    """Refuse a sweep whose files would not fit on the disk of ``out`` (the estimate in the message)."""
    run = plan.run
    _, fields = run.sizes()
    frames = int(run.t_end / run.save_every) + 2
    need = len(plan.parameters) * (8.0 * fields * frames + _FILE_OVERHEAD)
    where = out if out.is_dir() else (out.parent if out.parent.is_dir() else Path.cwd())
    free = float(shutil.disk_usage(where).free)
    if need > free:
        raise InputError(
            f"the sweep would write about {need / 1e9:.3g} GB ({len(plan.parameters)} runs of {frames} frames) to "
            f"{str(out)!r}, more than the {free / 1e9:.3g} GB free there: sweep fewer values or save fewer frames"
        )


#: Bytes of a run file besides its frames (attributes, the model file, HDF5 structure).
_FILE_OVERHEAD = 64e3


def _run_pending(
    store, pending, keys, total, skipped, workers, scheduler, client, processes, mode, threads
) -> list[str]:
    """Run ``pending`` on the cluster; returns a message per run lost to the cluster (a task that
    raised: its worker died, or could not import crossdiff). Those runs get no record, so running
    the sweep again retries them."""
    from distributed import as_completed

    own_cluster = None
    # a local cluster's workers share this machine: each gets its part of the cores
    local = client is None and scheduler is None and processes
    cores = available_cores() // _local_workers(workers, len(pending)) if local else None
    if client is None:
        client, own_cluster = _client(scheduler, workers, processes, len(pending))
        own_client = True
    else:
        own_client = False
    shown = StudyProgress("sweep", total, mode, done=skipped)
    last_summary = time.perf_counter()
    lost: list[str] = []
    try:
        share = max(1, cores) if cores is not None else None
        tasks = [dataclasses.replace(s, threads=threads, cores=share) for s in pending]
        futures = client.map(execute_run, tasks, key=[f"crossdiff-run-{s.key}" for s in pending], pure=False)
        by_key = {f.key: s for f, s in zip(futures, pending)}
        shown.heartbeat()
        for future in as_completed(futures):
            spec = by_key[future.key]
            point = ", ".join(f"{k}={v:g}" for k, v in spec.parameters.items())
            try:
                record = future.result()
                point += f": {record.get('behaviour', record.get('status'))}"
            except Exception as err:  # not the run's failure (execute_run records those): the cluster's
                lost.append(f"{point}: {type(err).__name__}: {' '.join(str(err).split())}")
                point += ": lost on the cluster"
            shown.finished(point)
            if time.perf_counter() - last_summary > 2.0:  # keep the summary current, cheaply
                store.write_summary(store.table(keys))
                last_summary = time.perf_counter()
    finally:
        shown.close()
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()
    return lost


def load_sweep(directory: str | Path) -> SweepResult:
    """The finished runs of the sweep in ``directory`` (also of one still running or killed)."""
    store = SweepStore(directory)
    manifest = store.read_manifest()
    keys = [run["key"] for run in manifest["runs"]]
    table = store.table(keys)
    return SweepResult(
        store.root, table, tuple(manifest["parameters"]), str(manifest["model"]), 0, len(table), len(keys)
    )
