"""The bifurcation diagram: tidy tables of the branches' points and special points, the states,
NetCDF output and the picture."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, OutputError
from ..grid import Grid

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

    from ..model import Model
    from ._points import Branch
    from ._problem import SteadyProblem

__all__ = ["Diagram", "is_diagram", "plot_diagram", "read_state"]

#: Markers of the special points in the picture.
_MARKERS = {"BP": ("o", "branch point"), "fold": ("s", "fold"), "Hopf": ("^", "Hopf point")}


def is_diagram(path: str | Path) -> bool:
    """Whether ``path`` is a bifurcation diagram written by crossdiff (attribute ``crossdiff_diagram``)."""
    import h5netcdf

    try:
        with h5netcdf.File(Path(path), "r") as f:
            return "crossdiff_diagram" in f.attrs
    except (OSError, ValueError, KeyError):
        return False


def read_state(path: str | Path, branch: int, point: int) -> tuple[Model, np.ndarray]:
    """The model at the point's parameter value and the fields ``(n_species, *grid)`` of point
    ``point`` of branch ``branch`` of a diagram file: an initial state for
    :func:`crossdiff.solve` (``initial=fields``).

    Raises
    ------
    OutputError
        ``path`` is not a bifurcation diagram written by crossdiff.
    InputError
        The diagram has no such point.
    """
    import tomllib

    import xarray as xr

    from ..model import model_from_dict

    if not is_diagram(path):
        raise OutputError(f"{str(path)!r} is not a bifurcation diagram written by crossdiff")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        rows = np.flatnonzero((ds["branch"].values == branch) & (ds["index"].values == point))
        if rows.size == 0:
            raise InputError(f"{str(path)!r} has no point {point} on branch {branch}")
        i = int(rows[0])
        try:
            model = model_from_dict(tomllib.loads(str(ds.attrs["model_toml"])), str(ds.attrs.get("model", "")))
        except (tomllib.TOMLDecodeError, InputError, KeyError) as err:
            raise OutputError(f"{str(path)!r}: cannot rebuild its model ({err})") from None
        value = float(ds["parameter"].values[i])
        fields = np.stack([np.asarray(ds[name].values[i], dtype=float) for name in model.species_names])
        parameter = str(ds.attrs["continued_parameter"])
    return model.with_settings({parameter: value}), fields


@dataclass(frozen=True, repr=False)
class Diagram:
    """A bifurcation diagram.

    Attributes
    ----------
    model : Model
    parameter : str
    grid : Grid
    points : pandas.DataFrame
        One row per point: ``branch``, ``point`` (index on its branch), ``parameter``, ``norm``
        (RMS deviation of the fields from their means: 0 on the homogeneous branch),
        ``stability`` (``"stable"``/``"unstable"``: no computed eigenvalue with positive real
        part), ``n_unstable``, ``leading_real``/``leading_imag`` (the eigenvalue of largest real
        part among those computed), and ``mean_<species>``, ``max_<species>``.
    special : pandas.DataFrame
        One row per special point: ``branch``, ``point`` (the point before it), ``type``
        (``"BP"``, ``"fold"``, ``"Hopf"``), ``parameter``, ``norm``, ``multiplicity``,
        ``frequency`` (Hopf), ``wavenumber`` and ``mode`` (of the critical eigenvector), ``corner``
        (True at a corner of a piecewise-smooth branch, where a slope limiter or a ``min``/``max``
        switches: the point where the branch turned, not the root of a test function).
    branches : pandas.DataFrame
        ``branch``, ``origin``, ``end`` (why it stopped).
    states : ndarray, shape (len(points), n_species, *grid.shape)
    special_states : ndarray, shape (len(special), n_species, *grid.shape)
    note : str
        What the user should know (e.g. that no branch point lies in the range).
    status : str
        ``"complete"`` or ``"failed"`` (a partial diagram).
    """

    model: Model
    parameter: str
    grid: Grid
    points: pd.DataFrame
    special: pd.DataFrame
    branches: pd.DataFrame
    states: np.ndarray
    special_states: np.ndarray
    note: str = ""
    status: str = "complete"

    @classmethod
    def from_branches(cls, problem: SteadyProblem, branches: list[Branch], note: str = "", status: str = "complete"):
        import pandas as pd

        names = problem.model.species_names
        rows, states, special, sstates, info = [], [], [], [], []
        for br in branches:
            info.append({"branch": br.index, "origin": br.origin, "end": br.end})
            for k, pt in enumerate(br.points):
                U = problem.state(pt.x)
                lead = pt.eigenvalues[0] if pt.eigenvalues.size else complex(math.nan)
                row = {
                    "branch": br.index,
                    "point": k,
                    "parameter": pt.p,
                    "norm": problem.amplitude(pt.x),
                    "stability": "unstable" if pt.n_unstable else "stable",
                    "n_unstable": pt.n_unstable,
                    "leading_real": float(lead.real),
                    "leading_imag": float(abs(lead.imag)),
                }
                flat = U.reshape(problem.n, -1)
                for i, name in enumerate(names):
                    row[f"mean_{name}"] = float(flat[i].mean())
                    row[f"max_{name}"] = float(flat[i].max())
                rows.append(row)
                states.append(np.array(U))
            for s in br.special:
                special.append(
                    {
                        "branch": br.index,
                        "point": s.after,
                        "type": s.kind,
                        "parameter": s.point.p,
                        "norm": problem.amplitude(s.point.x),
                        "multiplicity": s.multiplicity,
                        "frequency": s.frequency,
                        "wavenumber": s.wavenumber,
                        "mode": ",".join(str(m) for m in s.mode),
                        "corner": bool(s.corner),
                    }
                )
                sstates.append(np.array(problem.state(s.point.x)))
        shape = (0, problem.n, *problem.grid.shape)
        columns = [
            "branch",
            "point",
            "type",
            "parameter",
            "norm",
            "multiplicity",
            "frequency",
            "wavenumber",
            "mode",
            "corner",
        ]
        return cls(
            model=problem.model,
            parameter=problem.parameter,
            grid=problem.grid,
            points=pd.DataFrame(rows),
            special=pd.DataFrame(special, columns=columns),
            branches=pd.DataFrame(info, columns=["branch", "origin", "end"]),
            states=np.array(states) if states else np.zeros(shape),
            special_states=np.array(sstates) if sstates else np.zeros(shape),
            note=note,
            status=status,
        )

    def __repr__(self) -> str:
        return (
            f"Diagram({self.model.name!r} in {self.parameter}: {len(self.branches)} branches, "
            f"{len(self.points)} points, {len(self.special)} special points)"
        )

    # ------------------------------------------------------------------ access
    def state(self, branch: int, point: int) -> np.ndarray:
        """The fields ``(n_species, *grid.shape)`` of point ``point`` of branch ``branch``."""
        rows = np.flatnonzero((self.points["branch"] == branch) & (self.points["point"] == point))
        if rows.size == 0:
            raise InputError(f"the diagram has no point {point} on branch {branch}")
        return self.states[int(rows[0])]

    def branch_points(self, branch: int = 0) -> pd.DataFrame:
        """The branch points located on ``branch``."""
        sp = self.special
        return sp[(sp["branch"] == branch) & (sp["type"] == "BP")].reset_index(drop=True)

    def describe(self) -> list[str]:
        """Lines for the command line: the branches and the special points."""
        lines = [repr(self)]
        for _, b in self.branches.iterrows():
            pts = self.points[self.points["branch"] == b["branch"]]
            span = f"{pts['parameter'].min():.6g} .. {pts['parameter'].max():.6g}" if len(pts) else "-"
            lines.append(
                f"  branch {b['branch']}: from {b['origin']}; {len(pts)} points, {self.parameter} in {span}; {b['end']}"
            )
        for _, s in self.special.iterrows():
            text = f"  {s['type']:<4} on branch {s['branch']} at {self.parameter} = {s['parameter']:.8g}, norm {s['norm']:.4g}"
            if s["type"] == "Hopf":
                text += f", frequency {s['frequency']:.6g}"
            if s["mode"]:
                text += f", mode m = ({s['mode']}), k = {s['wavenumber']:.6g}"
            if s["multiplicity"] > 1:
                text += f" (multiplicity {s['multiplicity']})"
            if s["corner"]:
                text += " (a corner: the limiter or a min/max switches there)"
            lines.append(text)
        if self.note:
            lines.append(self.note)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no states)."""
        return {
            "model": self.model.name,
            "parameter": self.parameter,
            "grid": self.grid.describe(),
            "status": self.status,
            "note": self.note,
            "branches": self.branches.to_dict(orient="records"),
            "special": self.special.to_dict(orient="records"),
            "points": len(self.points),
        }

    # ------------------------------------------------------------------ output
    def to_dataset(self) -> xr.Dataset:
        """An :class:`xarray.Dataset`: dimension ``point`` (every point of every branch) with the
        columns of :attr:`points` and the species' fields ``(point, x[, y])``; dimension
        ``special`` with the columns of :attr:`special` (prefixed ``special_``) and their states
        (``special_<species>``); dimension ``branches`` (the branch numbers) with
        ``branch_origin`` and ``branch_end``. Attributes: the model
        (``model_toml``), the parameter, the grid, status and note."""
        import xarray as xr

        from ..model import model_to_dict
        from ..output import MARK
        from ..version import __version__

        axes = self.grid.axes
        coords = {a: (a, np.asarray(c, dtype=float)) for a, c in zip(axes, self.grid.coordinates)}
        data: dict[str, Any] = {}
        for col in self.points.columns:
            data[col if col != "point" else "index"] = ("point", self.points[col].to_numpy())
        for col in self.special.columns:
            values = self.special[col].to_numpy()
            data[f"special_{col}"] = ("special", values.astype(str) if values.dtype == object else values)
        data["branch_origin"] = ("branches", self.branches["origin"].to_numpy().astype(str))
        data["branch_end"] = ("branches", self.branches["end"].to_numpy().astype(str))
        for i, name in enumerate(self.model.species_names):
            data[name] = (("point", *axes), self.states[:, i])
            data[f"special_{name}"] = (("special", *axes), self.special_states[:, i])
        import tomli_w

        attrs = {
            "crossdiff_diagram": 1,
            "crossdiff_version": __version__,
            "software": MARK,
            "model": self.model.name,
            "model_toml": tomli_w.dumps(model_to_dict(self.model)),
            "parameters": json.dumps(dict(self.model.parameters)),
            "continued_parameter": self.parameter,
            "status": self.status,
            "note": self.note,
            **self.grid.attributes(),
        }
        ds = xr.Dataset(
            data, coords={**coords, "branches": ("branches", self.branches["branch"].to_numpy())}, attrs=attrs
        )
        for name in self.model.species_names:
            ds[name].attrs["long_name"] = self.model[name].long_name
        return ds

    def write(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write :meth:`to_dataset` to the NetCDF file ``path`` (the output policy:
        :func:`crossdiff.output.claim_output`; only a diagram crossdiff wrote is replaced, with
        ``overwrite``)."""
        from ..output import claim_output

        path = claim_output(path, overwrite=overwrite, what="bifurcation diagram", recognise=is_diagram)
        ds = self.to_dataset()
        try:
            if path.exists():
                path.unlink()
            ds.to_netcdf(path, engine="h5netcdf")
        except OSError as err:
            raise OutputError(f"cannot write bifurcation diagram {str(path)!r}: {err.strerror or err}") from None
        return path

    def plot(self) -> Figure:
        """The picture (:func:`plot_diagram`)."""
        return plot_diagram(self)


def plot_diagram(diagram: Diagram) -> Figure:
    """Norm against the parameter per branch (stable solid, unstable dashed), the special points
    marked, and below a thumbnail of the last state of each patterned branch."""
    from matplotlib.figure import Figure

    pts = diagram.points
    patterned = [int(b) for b in diagram.branches["branch"] if b != 0][:4]
    fig = Figure(figsize=(8.0, 6.0 if patterned else 4.5), layout="constrained")
    if patterned:
        grid = fig.add_gridspec(2, max(1, len(patterned)), height_ratios=(3, 1))
        ax = fig.add_subplot(grid[0, :])
    else:
        ax = fig.add_subplot(1, 1, 1)
    colours = [f"C{i % 10}" for i in range(len(diagram.branches))]
    for (_, b), colour in zip(diagram.branches.iterrows(), colours):
        sel = pts[pts["branch"] == b["branch"]]
        if sel.empty:
            continue
        p, n, stable = sel["parameter"].to_numpy(), sel["norm"].to_numpy(), (sel["stability"] == "stable").to_numpy()
        start = 0
        for k in range(1, len(p) + 1):
            if k == len(p) or stable[k] != stable[start]:
                stop = min(k + 1, len(p))
                ax.plot(
                    p[start:stop],
                    n[start:stop],
                    color=colour,
                    linestyle="-" if stable[start] else "--",
                    label=f"branch {b['branch']}" if start == 0 else None,
                )
                start = k
    seen = set()
    for _, s in diagram.special.iterrows():
        marker, label = _MARKERS.get(s["type"], ("x", s["type"]))
        ax.plot(
            [s["parameter"]],
            [s["norm"]],
            marker=marker,
            color="k",
            linestyle="none",
            markerfacecolor="none",
            label=label if s["type"] not in seen else None,
        )
        seen.add(s["type"])
    ax.set_xlabel(diagram.parameter)
    ax.set_ylabel("norm (RMS deviation from the mean)")
    ax.set_title(f"{diagram.model.name}: solid stable, dashed unstable")
    ax.legend(fontsize="small")
    for j, b in enumerate(patterned):
        sel = np.flatnonzero(pts["branch"].to_numpy() == b)
        if sel.size == 0:
            continue
        sub = fig.add_subplot(grid[1, j])
        U = diagram.states[sel[-1], 0]
        if diagram.grid.ndim == 1:
            sub.plot(diagram.grid.coordinates[0], U, color=colours[b % len(colours)])
        else:
            sub.imshow(U.T if U.ndim == 2 else U[..., U.shape[-1] // 2].T, origin="lower", aspect="auto")
            sub.set_xticks([])
            sub.set_yticks([])
        sub.set_title(f"branch {b}, {diagram.parameter} = {pts['parameter'].iloc[sel[-1]]:.4g}", fontsize="small")
    return fig
