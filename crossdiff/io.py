"""NetCDF output written frame by frame, reading back, and resuming.

The file is opened, extended by one frame and closed again for every saved frame, so a run that
is killed or fails keeps every frame written before. Layout (CF-like, readable by xarray):
dimensions ``time`` (unlimited), ``x[, y, z]``; one variable per species with ``long_name``;
global attributes ``model``, ``parameters`` (JSON), ``grid``, ``stepper``, ``crossdiff_version``,
``status`` and ``model_toml`` (the full model file, so a run can be resumed or reproduced).
"""

from __future__ import annotations

import json
from pathlib import Path

import h5netcdf
import numpy as np
import tomli_w

from .version import __version__
from .errors import OutputError
from .grid import Grid
from .model import Model, model_to_dict


__all__ = ["FrameWriter", "open_run", "last_frame"]


def _attrs(model: Model, grid: Grid, stepper: str) -> dict[str, object]:
    return {
        "model": model.name,
        "description": model.description,
        "reference": model.reference,
        "parameters": json.dumps(dict(model.parameters)),
        "species": ",".join(model.species_names),
        "grid": grid.describe(),
        "grid_cells": np.array(grid.cells, dtype=np.int64),
        "grid_extent": np.array(grid.extent, dtype=float).ravel(),
        "boundary": ",".join(grid.boundary),
        "stepper": stepper,
        "crossdiff_version": __version__,
        "status": "running",
        "model_toml": tomli_w.dumps(model_to_dict(model)),
        "equations": "\n".join(model.equations()),
    }


class FrameWriter:
    """Writes frames of a run to a NetCDF file, one at a time.

    Parameters
    ----------
    path : path-like
        Output file (``.nc``); created (or truncated) unless ``append`` is set.
    model, grid : Model, Grid
    stepper : str
        Description of the stepper, stored as an attribute.
    append : bool
        Continue an existing file (``--resume``): its grid and species must match.
    """

    def __init__(self, path: str | Path, model: Model, grid: Grid, stepper: str = "", append: bool = False):
        self.path = Path(path)
        self.model = model
        self.grid = grid
        self.frames = 0
        if not append and not self.path.parent.is_dir():
            raise OutputError(f"cannot write output file {str(self.path)!r}: directory {str(self.path.parent)!r} does not exist")
        if self.path.is_dir():
            raise OutputError(f"cannot write output file {str(self.path)!r}: it is a directory")
        try:
            if append:
                with h5netcdf.File(self.path, "a") as f:
                    self._check_compatible(f)
                    self.frames = f.dimensions["time"].size
                    f.attrs["status"] = "running"
                    f.attrs["stepper"] = stepper
                return
            with h5netcdf.File(self.path, "w") as f:
                f.dimensions = {"time": None, **dict(zip(grid.axes, grid.cells))}
                tv = f.create_variable("time", ("time",), float)
                tv.attrs["long_name"] = "time"
                for axis, coords in zip(grid.axes, grid.coordinates):
                    v = f.create_variable(axis, (axis,), float)
                    v[:] = coords
                    v.attrs["long_name"] = f"{axis} (cell centre)"
                dims = ("time", *grid.axes)
                for s in model.species:
                    v = f.create_variable(s.name, dims, float, chunks=(1, *grid.cells))
                    v.attrs["long_name"] = s.long_name
                for key, value in _attrs(model, grid, stepper).items():
                    f.attrs[key] = value
        except OutputError:
            raise
        except (OSError, ValueError) as err:
            raise OutputError(f"cannot write output file {str(self.path)!r}: {getattr(err, 'strerror', None) or err}") from None

    def _check_compatible(self, f) -> None:
        names = str(f.attrs.get("species", "")).split(",")
        if names != list(self.model.species_names):
            raise OutputError(f"cannot resume {str(self.path)!r}: its species {names} differ from the model's")
        cells = tuple(int(c) for c in np.atleast_1d(f.attrs.get("grid_cells", ())))
        if cells != self.grid.cells:
            raise OutputError(f"cannot resume {str(self.path)!r}: its grid {cells} differs from {self.grid.cells}")

    def append(self, t: float, U: np.ndarray) -> None:
        """Add the frame ``U`` (species first) at time ``t``."""
        try:
            with h5netcdf.File(self.path, "a") as f:
                n = f.dimensions["time"].size
                f.resize_dimension("time", n + 1)
                f["time"][n] = t
                for i, name in enumerate(self.model.species_names):
                    f[name][n, ...] = U[i]
        except OSError as err:
            raise OutputError(f"cannot append to output file {str(self.path)!r}: {err}") from None
        self.frames += 1

    def finish(self, status: str, extra: dict | None = None) -> None:
        """Record the final status (and e.g. a failure report) as attributes."""
        try:
            with h5netcdf.File(self.path, "a") as f:
                f.attrs["status"] = status
                for key, value in (extra or {}).items():
                    f.attrs[key] = value
        except OSError:  # pragma: no cover - the frames are what matters
            pass


def open_run(path: str | Path):
    """Open a crossdiff NetCDF file as an :class:`xarray.Dataset` (lazily)."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise OutputError(f"run file {str(path)!r} not found")
    try:
        return xr.open_dataset(path, engine="h5netcdf")
    except (OSError, ValueError) as err:
        raise OutputError(f"cannot read run file {str(path)!r}: {err}") from None


def last_frame(path: str | Path) -> tuple[float, np.ndarray, dict]:
    """Time, state (species first) and attributes of the last frame of a run file."""
    path = Path(path)
    if not path.is_file():
        raise OutputError(f"cannot resume: run file {str(path)!r} not found")
    try:
        with h5netcdf.File(path, "r") as f:
            n = f.dimensions["time"].size
            if n == 0:
                raise OutputError(f"cannot resume: run file {str(path)!r} has no frames")
            names = str(f.attrs["species"]).split(",")
            t = float(f["time"][n - 1])
            U = np.stack([np.asarray(f[name][n - 1, ...]) for name in names])
            attrs = dict(f.attrs)
    except OutputError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise OutputError(f"cannot read run file {str(path)!r}: {err}") from None
    return t, U, attrs
