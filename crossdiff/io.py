"""NetCDF output: one layout built from a system's :class:`~crossdiff.time.Layout`, written
frame by frame (:class:`FrameWriter`, an observer of the integration loop) or at once
(:func:`to_dataset`), read back (:func:`open_run`) and resumed (:func:`last_frame`).

The layout (CF-like, readable by xarray) is built in one place, :func:`_schema`: dimensions
``time`` (unlimited) and the layout's coordinates (``x[, y, z]``, and e.g. ``v`` for kinetic
distributions); one variable per field with ``long_name``; global attributes from the layout
(for a macroscopic run ``model``, ``parameters`` (JSON), ``grid``, ``model_toml`` — the full model
file, so a run can be resumed or reproduced — and ``equations``) plus ``species``,
``stepper``, ``crossdiff_version`` and ``status``.

The file is opened, extended by one frame and closed again for every saved frame, so a run that
is killed or fails keeps every frame written before. The attribute ``frames`` counts the frames
written whole: it is raised after a frame's values are in the file, so a run killed in the middle
of writing one leaves a frame that readers skip (:func:`committed_frames`) and a resumed run
replaces.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import h5netcdf
import h5py
import numpy as np

from .errors import OutputError
from .time import ControllerState, FailureReport, Layout, Observer, SemiDiscrete, Status, field_map
from .version import __version__

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "FrameWriter",
    "to_dataset",
    "open_run",
    "last_frame",
    "last_frame_variables",
    "is_run",
    "run_attributes",
    "committed_frames",
    "last_checkpoint",
    "frame_count",
]

#: Attributes that identify a run: resuming a file with other values would mix two runs.
_IDENTITY = ("model", "parameters", "equations", "grid_cells", "grid_extent", "boundary")


@dataclass(frozen=True)
class _Schema:
    """The file layout: dimensions, coordinate and data variables, global attributes."""

    dims: dict[str, int | None]
    coordinates: tuple[tuple[str, np.ndarray, dict[str, object]], ...]
    variables: tuple[tuple[str, tuple[str, ...], dict[str, object]], ...]
    attrs: dict[str, object]


def _schema(
    layout: Layout, stepper: str, status: str, extras: bool = False, attrs: Mapping[str, object] | None = None
) -> _Schema:
    """The one description of a run's file and dataset, from the system's layout (and further
    attributes of the run, e.g. the stepper's settings)."""
    coords = tuple(
        (c.name, np.asarray(c.values, dtype=float), {"long_name": c.long_name, **dict(c.attrs)})
        for c in layout.coordinates
    )
    variables = tuple(
        (v.name, ("time", *v.dims), {"long_name": v.long_name, **dict(v.attrs)})
        for v in layout.fields + (layout.extras if extras else ())
    )
    attrs = {**dict(layout.attrs), **dict(attrs or {})}
    attrs.update(
        {
            "species": ",".join(layout.field_names),
            "stepper": stepper,
            "crossdiff_version": __version__,
            "status": status,
        }
    )
    return _Schema({"time": None, **{name: len(values) for name, values, _ in coords}}, coords, variables, attrs)


#: Seconds a writer waits for a file that a reader holds (HDF5 file locks: e.g. a plot of a
#: running run) before it gives up with an OutputError.
LOCK_WAIT = 30.0


def _open_for_writing(path: Path, mode: str) -> h5netcdf.File:
    """``h5netcdf.File(path, mode)``, retried while another process holds the file's lock (a
    reader of a running run must not end the run)."""
    deadline = time.monotonic() + LOCK_WAIT
    delay = 0.005
    while True:
        try:
            return h5netcdf.File(path, mode)
        except OSError as err:
            if "lock" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.2)


def committed_frames(f: h5netcdf.File) -> int:
    """The number of frames written whole in the open run file ``f`` (its ``frames`` attribute;
    a file without it, of an earlier version, counts every frame)."""
    n = f.dimensions["time"].size
    return min(n, int(np.asarray(f.attrs["frames"]))) if "frames" in f.attrs else n


def _same(key: str, a: object, b: object) -> bool:
    if key == "parameters":  # JSON of a mapping: the order of the keys does not matter
        try:
            return bool(json.loads(str(a)) == json.loads(str(b)))
        except ValueError:
            return False
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.atleast_1d(np.asarray(a)), np.atleast_1d(np.asarray(b))
        return x.shape == y.shape and bool(np.all(x == y))
    return a == b


def _difference(path: Path, key: str, have: object, want: object) -> str:
    """A one-line description of how a file's identity attribute differs from this run's."""
    where = f"cannot resume {str(path)!r}:"
    if key == "model":
        return f"{where} it holds a run of model {have!r}, not {want!r}"
    if key == "parameters":
        try:
            old, new = json.loads(str(have)), json.loads(str(want))
        except ValueError:
            return f"{where} its parameters differ"
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                return f"{where} parameter {name} is {old.get(name)!r} in the file but {new.get(name)!r} here"
    if key == "equations":
        return f"{where} its equations differ from this model's"
    if key == "grid_cells":
        return f"{where} its grid {tuple(np.atleast_1d(np.asarray(have)))} differs from {tuple(np.atleast_1d(np.asarray(want)))}"
    if key == "grid_extent":
        return f"{where} its domain {list(np.atleast_1d(np.asarray(have)))} differs from {list(np.atleast_1d(np.asarray(want)))}"
    return f"{where} its {key} {have!r} differs from {want!r}"


def to_dataset(layout: Layout, t: np.ndarray, frames: np.ndarray, *, stepper: str, status: str) -> xr.Dataset:
    """The run as an :class:`xarray.Dataset` with the same layout as the file :class:`FrameWriter`
    writes (``frames`` has shape ``(len(t), n_fields, *space)``)."""
    import xarray as xr

    schema = _schema(layout, stepper, status)
    coords: dict[str, object] = {"time": ("time", np.asarray(t, dtype=float), {"long_name": "time"})}
    for name, values, attrs in schema.coordinates:
        coords[name] = (name, values, attrs)
    frames = _outside_missing(layout, np.asarray(frames))
    data = {
        name: xr.Variable(dims, frames[:, i], attrs=attrs) for i, (name, dims, attrs) in enumerate(schema.variables)
    }
    if layout.weights is not None:
        data[layout.weights_name] = xr.Variable(
            layout.space, layout.weights, attrs={"long_name": layout.weights_long_name}
        )
    for name, dims, values, attrs in _network_tables(layout):
        data[name] = xr.Variable(dims, values, attrs=attrs)
    if layout.motion is not None:
        times = np.asarray(t, dtype=float)
        for name, dims, attrs, values in _motion_variables(layout, times):
            (coords if name.endswith("_t") else data)[name] = xr.Variable(dims, values, attrs=attrs)
    return xr.Dataset(data, coords=coords, attrs=schema.attrs)


def _motion_variables(
    layout: Layout, times: np.ndarray
) -> list[tuple[str, tuple[str, ...], dict[str, object], np.ndarray]]:
    """The positions of a moving domain's cells at ``times``: per axis ``a``, the coordinate
    ``a_t (time, a)`` (physical cell centres) and the variable ``length_a (time)`` (the domain's
    physical length)."""
    motion = layout.motion
    assert motion is not None
    centres = [motion.centres(float(t)) for t in times]
    lengths = np.array([motion.lengths(float(t)) for t in times]).reshape(len(times), len(layout.space))
    sizes = layout.space_shape
    out: list[tuple[str, tuple[str, ...], dict[str, object], np.ndarray]] = []
    for a, axis in enumerate(layout.space):
        values = np.array([c[a] for c in centres]).reshape(len(times), sizes[a])
        out.append((f"{axis}_t", ("time", axis), {"long_name": f"{axis} at time t (physical cell centre)"}, values))
        out.append(
            (f"length_{axis}", ("time",), {"long_name": f"length of the domain along {axis} at time t"}, lengths[:, a])
        )
    return out


def _network_tables(layout: Layout) -> list[tuple[str, tuple[str, ...], np.ndarray, dict[str, object]]]:
    """The node and edge tables of a run on a network (:meth:`crossdiff.grid.Network.tables`:
    ``node(node)``, ``edge_from(edge)``, ``cell_edge(cell)`` …), none on other domains."""
    if "network" not in layout.attrs or "edge_of_cell" not in layout.attrs:
        return []
    from .grid import Network

    network = Network.from_attributes(layout.attrs)
    return network.tables() if network.shape == layout.space_shape else []


#: The variable of a shape's volume fractions (cells with 0 lie outside; their values are missing).
VOLUME_FRACTION = "volume_fraction"
_VOLUME_FRACTION_ATTRS = {"long_name": "fraction of the cell inside the domain (0: outside, values missing)"}


def _outside_missing(layout: Layout, fields: np.ndarray) -> np.ndarray:
    """The fields with NaN (missing) in the cells outside a shape (``layout.weights == 0``)."""
    if layout.weights is None:
        return fields
    return np.where(layout.weights > 0, fields, np.nan)


class FrameWriter(Observer):
    """Writes the saved frames of a run to a NetCDF file, one at a time (an observer of
    :func:`~crossdiff.time.integrate`).

    The file is created (or, with ``append``, checked and reopened) when the run starts; each
    saved frame is appended and the file closed again; the final status (and a failure report)
    is recorded when the run ends, also when it fails or is interrupted.

    Parameters
    ----------
    path : path-like
        Output file (``.nc``).
    layout : Layout
        The variables of the system (:attr:`~crossdiff.time.SemiDiscrete.layout`).
    stepper : str
        Description of the stepper, stored as an attribute.
    append : bool
        Continue an existing file (resume): its variables and coordinates must match.
    attrs : mapping, optional
        Further global attributes (the run's settings).
    extras : bool
        Also write the layout's extra variables (e.g. kinetic distributions ``(v, x, y)``).
    """

    def __init__(
        self,
        path: str | Path,
        layout: Layout,
        stepper: str = "",
        append: bool = False,
        attrs: Mapping[str, object] | None = None,
        extras: bool = False,
    ):
        self.path = Path(path)
        self.extras = extras
        self.layout = layout
        self.stepper = stepper
        self.attrs = dict(attrs or {})
        self.append_mode = append
        self.frames = 0
        self._system: SemiDiscrete | None = None
        self._fields: Callable[[float, np.ndarray], np.ndarray] | None = None
        self._checkpoint: dict[str, object] | None = None
        if not append and not self.path.parent.is_dir():
            raise OutputError(
                f"cannot write output file {str(self.path)!r}: directory {str(self.path.parent)!r} does not exist"
            )
        if self.path.is_dir():
            raise OutputError(f"cannot write output file {str(self.path)!r}: it is a directory")
        if append:  # refuse to mix two runs before anything is computed
            if not self.path.is_file():
                raise OutputError(f"cannot resume: run file {str(self.path)!r} not found")
            try:
                with h5netcdf.File(self.path, "r") as f:
                    self._check_compatible(f, self._schema("running"))
            except OutputError:
                raise
            except (OSError, ValueError, KeyError) as err:
                raise OutputError(f"cannot read run file {str(self.path)!r}: {err}") from None

    def _schema(self, status: str) -> _Schema:
        return _schema(self.layout, self.stepper, status, extras=self.extras, attrs=self.attrs)

    def _error(self, err: Exception) -> OutputError:
        return OutputError(f"cannot write output file {str(self.path)!r}: {getattr(err, 'strerror', None) or err}")

    def start(self, system: SemiDiscrete, t0: float, U0: np.ndarray) -> None:
        self._system = system
        self._fields = field_map(system)
        schema = self._schema("running")
        try:
            if self.append_mode:
                with _open_for_writing(self.path, "a") as f:
                    self._check_compatible(f, schema)
                    self.frames = committed_frames(f)
                    if f.dimensions["time"].size > self.frames:  # a frame cut off by a kill
                        f.resize_dimension("time", self.frames)
                    f.attrs["frames"] = self.frames
                    f.attrs["status"] = "running"
                    f.attrs["stepper"] = self.stepper
                    for key, value in self.attrs.items():
                        f.attrs[key] = value
                return
            with _open_for_writing(self.path, "w") as f:
                f.dimensions = dict(schema.dims)
                tv = f.create_variable("time", ("time",), float)
                tv.attrs["long_name"] = "time"
                for name, values, attrs in schema.coordinates:
                    v = f.create_variable(name, (name,), float)
                    v[:] = values
                    for key, value in attrs.items():
                        v.attrs[key] = value
                for name, dims, attrs in schema.variables:
                    v = f.create_variable(name, dims, float, chunks=(1, *(schema.dims[d] for d in dims[1:])))
                    for key, value in attrs.items():
                        v.attrs[key] = value
                if self.layout.motion is not None:
                    for name, dims, attrs, _ in _motion_variables(self.layout, np.zeros(0)):
                        v = f.create_variable(name, dims, float)
                        for key, value in attrs.items():
                            v.attrs[key] = value
                    for name, _, _ in schema.variables:  # CF: the fields' auxiliary coordinates
                        f[name].attrs["coordinates"] = " ".join(f"{a}_t" for a in self.layout.space)
                if self.layout.weights is not None:
                    v = f.create_variable(self.layout.weights_name, tuple(self.layout.space), float)
                    v[...] = self.layout.weights
                    v.attrs["long_name"] = self.layout.weights_long_name
                for name, dims, values, attrs in _network_tables(self.layout):
                    for d in dims:
                        if d not in f.dimensions:
                            f.dimensions[d] = len(values)
                    v = f.create_variable(name, dims, h5py.string_dtype() if values.dtype == object else values.dtype)
                    v[...] = values
                    for key, value in attrs.items():
                        v.attrs[key] = value
                for key, value in schema.attrs.items():
                    f.attrs[key] = value
                f.attrs["frames"] = 0
        except OutputError:
            raise
        except (OSError, ValueError) as err:
            raise self._error(err) from None

    def _check_compatible(self, f: h5netcdf.File, schema: _Schema) -> None:
        names = str(f.attrs.get("species", "")).split(",")
        if names != list(self.layout.field_names):
            raise OutputError(f"cannot resume {str(self.path)!r}: its species {names} differ from the model's")
        for name, size in schema.dims.items():
            if size is not None and (name not in f.dimensions or f.dimensions[name].size != size):
                have = f.dimensions[name].size if name in f.dimensions else None
                raise OutputError(f"cannot resume {str(self.path)!r}: its {name} axis has {have} cells, the run {size}")
        for key in _IDENTITY:
            if key in self.layout.attrs and not _same(key, f.attrs.get(key), self.layout.attrs[key]):
                raise OutputError(_difference(self.path, key, f.attrs.get(key), self.layout.attrs[key]))

    def checkpoint(self, t: float, state: ControllerState) -> None:
        """Keep the loop's state for the next frame (written with it: :func:`last_checkpoint`)."""
        self._checkpoint = {"time": t, "controller": asdict(state)}

    def save(self, t: float, U: np.ndarray) -> None:
        assert self._system is not None and self._fields is not None, "FrameWriter.start() must run first"
        self.append(t, self._fields(t, U), self._system.extras(U) if self.extras else None)

    def append(self, t: float, fields: np.ndarray, extras: Mapping[str, np.ndarray] | None = None) -> None:
        """Add one frame at time ``t``: the fields (first axis in layout order) and extras."""
        try:
            with _open_for_writing(self.path, "a") as f:
                n = committed_frames(f)
                f.resize_dimension("time", n + 1)
                f["time"][n] = t
                fields = _outside_missing(self.layout, fields)
                for i, name in enumerate(self.layout.field_names):
                    f[name][n, ...] = fields[i]
                for name, value in (extras or {}).items():
                    f[name][n, ...] = value
                if self.layout.motion is not None:
                    for name, _, _, values in _motion_variables(self.layout, np.array([t])):
                        f[name][n, ...] = values[0]
                if self._checkpoint is not None and self._checkpoint["time"] == t:
                    f.attrs["checkpoint"] = json.dumps({"frame": n, **self._checkpoint})
                f.attrs["frames"] = n + 1  # the frame is whole: readers may use it
        except OSError as err:
            raise OutputError(f"cannot append to output file {str(self.path)!r}: {err}") from None
        self.frames += 1

    def finish(self, t: float, U: np.ndarray, status: Status, report: FailureReport | None) -> None:
        """Record the final status (and the failure report) as attributes."""
        extra = None
        if report is not None and status is Status.STOPPED:
            extra = {"stopped": str(report)}
        elif report is not None and status is not Status.INTERRUPTED:
            extra = {"failure": str(report)}
        self.record(status.label, extra)

    def record(self, status: str, extra: Mapping[str, object] | None = None) -> None:
        """Write the status and further attributes into the file."""
        try:
            with _open_for_writing(self.path, "a") as f:
                f.attrs["status"] = status
                for key, value in (extra or {}).items():
                    f.attrs[key] = value
        except OSError:  # pragma: no cover - the frames are what matters
            pass


def is_run(path: str | Path) -> bool:
    """Whether ``path`` is a NetCDF file written by crossdiff (it has a ``crossdiff_version``)."""
    try:
        with h5netcdf.File(Path(path), "r") as f:
            return "crossdiff_version" in f.attrs and "time" in f.dimensions
    except (OSError, ValueError, KeyError):
        return False


def run_attributes(path: str | Path) -> dict[str, object]:
    """The global attributes of the run file ``path`` (model, parameters, grid, stepper settings …)."""
    path = Path(path)
    if not path.is_file():
        raise OutputError(f"run file {str(path)!r} not found")
    try:
        with h5netcdf.File(path, "r") as f:
            return dict(f.attrs)
    except (OSError, ValueError) as err:
        raise OutputError(f"cannot read run file {str(path)!r}: {err}") from None


def last_frame_variables(path: str | Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The last frame of those of the variables ``names`` that the run file has (e.g. the
    distributions ``f_<species>`` of a kinetic run saved with ``save_f``), by name."""
    path = Path(path)
    try:
        with h5netcdf.File(path, "r") as f:
            n = committed_frames(f)
            return {name: np.asarray(f[name][n - 1, ...]) for name in names if name in f.variables and n > 0}
    except (OSError, KeyError, ValueError) as err:
        raise OutputError(f"cannot read run file {str(path)!r}: {err}") from None


def frame_count(path: str | Path) -> int:
    """The number of frames written whole in the run file ``path`` (:func:`committed_frames`)."""
    try:
        with h5netcdf.File(Path(path), "r") as f:
            return committed_frames(f)
    except (OSError, KeyError, ValueError) as err:
        raise OutputError(f"cannot read run file {str(path)!r}: {err}") from None


def last_checkpoint(path: str | Path) -> ControllerState | None:
    """The step-size controller's state at the last frame of the run file ``path``, where the
    file holds it for that frame (:meth:`FrameWriter.checkpoint`); None otherwise (a file of an
    earlier version, a frame saved after a failure, or the initial frame)."""
    try:
        with h5netcdf.File(Path(path), "r") as f:
            n = committed_frames(f)
            text = f.attrs.get("checkpoint")
    except (OSError, KeyError, ValueError) as err:
        raise OutputError(f"cannot read run file {str(path)!r}: {err}") from None
    try:
        saved = json.loads(str(text)) if text is not None else None
        if not saved or saved.get("frame") != n - 1:
            return None
        return ControllerState(**saved["controller"])
    except (ValueError, TypeError, AttributeError):
        return None


def open_run(path: str | Path) -> xr.Dataset:
    """Open a crossdiff NetCDF file as an :class:`xarray.Dataset` (lazily)."""
    import xarray as xr

    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{str(path)!r} is a directory, not a run file (a sweep's runs are in its runs/)")
    if not path.is_file():
        raise OutputError(f"run file {str(path)!r} not found")
    try:
        ds = xr.open_dataset(path, engine="h5netcdf")
    except (OSError, ValueError) as err:
        raise OutputError(f"cannot read run file {str(path)!r}: {err}") from None
    if "frames" in ds.attrs and "time" in ds.dims and int(ds.attrs["frames"]) < ds.sizes["time"]:
        ds = ds.isel(time=slice(0, int(ds.attrs["frames"])))  # not a frame cut off by a kill
    return ds


def last_frame(path: str | Path) -> tuple[float, np.ndarray, dict]:
    """Time, fields (first axis in the file's ``species`` order) and attributes of the last frame."""
    path = Path(path)
    if not path.is_file():
        raise OutputError(f"cannot resume: run file {str(path)!r} not found")
    try:
        with h5netcdf.File(path, "r") as f:
            n = committed_frames(f)
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
