"""``Solution``: what :func:`crossdiff.solve` returns (in the spirit of SciPy's ``OdeResult``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, ModelError
from ..grid import Domain
from ..io import open_run, to_dataset
from ..model import Model
from ..time import FailureReport, Layout, Stats, Status

if TYPE_CHECKING:
    import xarray as xr

    from ..kinetic import KineticModel
    from ._run import Run

__all__ = ["Solution"]


@dataclass(repr=False)
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
    grid: Domain
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
    #: the run that computed it (:class:`~crossdiff.solve.Run`)
    run: Run | None = None

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

    def _integrate(self, fields: np.ndarray, t: float | np.ndarray) -> np.ndarray:
        """``Σ u · weights · cell_volume`` at the times ``t`` (one per frame of ``fields``, or the
        time of one frame; weights: the volume fractions of a shape, missing values outside a
        shape counting as nothing; the cell volume: a growing domain's at ``t``)."""
        space = tuple(range(-len(self.layout.space), 0))
        weights = self.layout.weights
        total = np.sum(fields, axis=space) if weights is None else np.nansum(fields * weights, axis=space)
        if self.layout.motion is None:
            return total * self.layout.cell_volume
        volumes = np.array([self.layout.cell_volume_at(float(s)) for s in np.atleast_1d(t)])
        return total * (volumes[:, None] if np.ndim(t) else volumes[0])

    def _extremes(self, fields: np.ndarray) -> tuple[list[float], list[float]]:
        """Per field, the smallest and largest value in the domain (a shape's cells only)."""
        weights = self.layout.weights
        inside = (lambda f: f) if weights is None else (lambda f: f[weights > 0])
        return [float(np.nanmin(inside(f))) for f in fields], [float(np.nanmax(inside(f))) for f in fields]

    def mass(self) -> xr.DataArray:
        """``∫ u_i dx`` per saved frame and species: an :class:`xarray.DataArray` with dims
        ``(time, species)`` (positional indexing ``mass()[:, 0]`` works as on an array)."""
        import xarray as xr

        return xr.DataArray(
            np.asarray(self._integrate(self._frames(), np.asarray(self.t, dtype=float))),
            dims=("time", "species"),
            coords={"time": np.asarray(self.t, dtype=float), "species": list(self.layout.field_names)},
            name="mass",
            attrs={"long_name": "integral of the field over the domain"},
        )

    def __repr__(self) -> str:
        where = f", written to {str(self.output)!r}" if self.output else ""
        return (
            f"Solution({self.model.name!r}: {self.status.label} at t = {self.t_final:.6g} on {self.grid.describe()}, "
            f"{len(self.t)} frames, {self.stats.n_steps} steps{where})"
        )

    def _repr_html_(self) -> str:
        """Notebook display: status, times and counters, and per field its mass, min and max at
        the end."""
        from html import escape

        mass = self._integrate(self.final, self.t_final)
        low, high = self._extremes(self.final)
        rows = "".join(
            f"<tr><td><code>{escape(n)}</code></td><td>{float(mass[i]):.6g}</td>"
            f"<td>{low[i]:.4g}</td><td>{high[i]:.4g}</td></tr>"
            for i, n in enumerate(self.layout.field_names)
        )
        message = f"<div>{escape(self.message)}</div>" if not self.success else ""
        return (
            f"<div><b>Solution of {escape(self.model.name)}</b>: {escape(self.status.label)} at t = {self.t_final:.6g} "
            f"on {escape(self.grid.describe())}; {len(self.t)} frames, {self.stats.n_steps} steps "
            f"({self.stats.n_rejected} rejected), {escape(self.stepper)}{message}"
            f"<table><tr><th>field</th><th>mass</th><th>min</th><th>max</th></tr>{rows}</table></div>"
        )

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
        mass = self._integrate(self.final, self.t_final)
        low, high = self._extremes(self.final)
        fields = {
            name: {"mass": float(mass[i]), "min": low[i], "max": high[i]}
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
