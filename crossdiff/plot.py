"""Pictures of runs: last (or any) frame of every species, space–time images, movies.

Figures are built as :class:`matplotlib.figure.Figure` objects on their own Agg canvas, without
pyplot: importing this module leaves matplotlib's backend and pyplot's list of open figures as
they were, so crossdiff can be used inside notebooks and GUI applications, and the figures it
returns are freed like any other object once they are no longer referenced.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from .errors import InputError, OutputError
from .model import FLOW_FIELDS
from .output import MARK, claim_output
from .validation import positive_number

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "plot_frame",
    "plot_spacetime",
    "plot_dispersion",
    "plot_compare",
    "plot_convergence",
    "save_figure",
    "save_movie",
]


#: The stream function of a computed flow in a run file (:class:`crossdiff.flow.FlowSystem`).
STREAM = "stream"


def _species(ds, species: list[str] | None, streamlines: bool = False) -> list[str]:
    # densities only: a kinetic run's distributions f_<species> carry a velocity dimension v; a
    # growing domain's lengths (length_x) have no space dimension
    names = [n for n in ds.data_vars if "time" in ds[n].dims and "v" not in ds[n].dims and ds[n].ndim > 1]
    if streamlines:
        if STREAM not in names:
            raise InputError("--streamlines needs a run with a computed flow (a 'stream' variable); this run has none")
        if ds[STREAM].ndim != 3:
            raise InputError("--streamlines draws 2D flows")
    if not species:
        return [n for n in names if n not in FLOW_FIELDS] if streamlines else names
    for s in species:
        if s not in names:
            raise InputError(f"unknown species {s!r} in the run; species: {', '.join(names)}")
    return list(species)


def _title(var, name: str) -> str:
    """``"u1: uninfected cancer cells"`` from the variable's ``long_name`` (the name alone without one)."""
    label = str(var.attrs.get("long_name", "") or name)
    return f"{name}: {label}" if label != name else name


def _colorbar(fig, mappable, ax, label: str = ""):
    """A labelled colour bar beside ``ax`` whose offset label ("×10⁻⁷ + 1", needed where a field
    varies by 1e-7 about 1) stays clear of the bar and the image.

    Matplotlib writes the offset of a vertical colour bar above it, aligned on its right edge,
    so that a long offset runs over the bar's top and into the image. Aligned on the bar's left
    edge instead, it extends over the tick labels, where constrained layout leaves room.
    """
    bar = fig.colorbar(mappable, ax=ax, shrink=0.85)
    bar.formatter = ScalarFormatter(useMathText=True)
    bar.ax.yaxis.set_offset_position("left")
    if label:
        bar.set_label(label, fontsize=8)
    return bar


#: A field whose range is below this fraction of its largest magnitude is "nearly uniform": its
#: own colour scale would show round-off-sized differences as structure, so the panel says so.
UNIFORM = 0.05


def _range_note(data: np.ndarray) -> str:
    """``" (nearly uniform)"`` for a field whose per-panel colour scale would exaggerate it
    (:data:`UNIFORM`: the bar's ticks then show its narrow range), else ``""``."""
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return ""
    lo, hi = float(finite.min()), float(finite.max())
    big = max(abs(lo), abs(hi))
    if big > 0 and hi - lo < UNIFORM * big:
        return " (nearly uniform)"
    return ""


def _parameters(ds) -> str:
    """A line naming the parameters the run was drawn at (from its ``parameters`` attribute)."""
    import json

    try:
        values = json.loads(str(ds.attrs.get("parameters", "{}")))
    except ValueError:
        return ""
    items = [f"{k} = {v:g}" if isinstance(v, int | float) else f"{k} = {v}" for k, v in values.items()]
    if len(items) > 8:
        items = items[:8] + ["…"]
    eps = ds.attrs.get("eps")
    if eps is not None:
        items.insert(0, f"ε = {float(eps):g}")
    return ", ".join(items)


def _axes_of(ds, name: str) -> list[str]:
    return [d for d in ds[name].dims if d != "time"]


def _panels(n: int, images: bool = False):
    """A figure with ``n`` visible panels (at most 4 per row, the rows filled evenly) and the
    flat array of its axes.

    Rows of four images (2D fields) get 0.4 in more height: four square images with colour bars
    in 3.6 in left no room for the x labels (measured: they ran 3 px off the figure). Six panels
    are two rows of three, not four and two (the six fields of a computed flow on a 2:1 box ran
    off the figure's edge)."""
    rows = (n + 3) // 4
    cols = (n + rows - 1) // rows
    height = 4.0 if images and cols == 4 else 3.6
    # constrained layout keeps titles, axis labels, colour bars and their offset labels inside the
    # figure and apart from each other, at every size (tight_layout clipped the x label of 2D panels)
    fig = Figure(figsize=(4.2 * cols, height * rows), layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas: drawing and PNG output without pyplot
    axes = fig.subplots(rows, cols, squeeze=False)
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat


def _cell_edges(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """The image extent of cell-centred values: the outer cell edges (half a cell beyond the
    first and last centres), so that pixels sit on their cells and a shape's boundary lines up."""
    hx = float(x[1] - x[0]) if len(x) > 1 else 1.0
    hy = float(y[1] - y[0]) if len(y) > 1 else 1.0
    return (x[0] - hx / 2, x[-1] + hx / 2, y[0] - hy / 2, y[-1] + hy / 2)


def _positions(ds, dims: list[str], index: int) -> list[np.ndarray]:
    """The cell centres of frame ``index`` along ``dims``: a growing domain's physical ones
    (its coordinates ``<axis>_t``), else the run's coordinates."""
    return [
        np.asarray(ds[f"{d}_t"].isel(time=index).values) if f"{d}_t" in ds else np.asarray(ds[d].values) for d in dims
    ]


def _moving_edges(centres: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges ``(T + 1, N + 1)`` of a space–time image of a moving 1D domain, from the cell
    centres ``(T, N)`` of each frame: each frame's faces (half a cell beyond the outer centres),
    averaged between frames; the first and last rows are the first and last frames' own faces, so
    that the picture spans exactly the domain of those frames."""
    half = np.diff(centres, axis=1) / 2
    faces = np.concatenate(
        [centres[:, :1] - half[:, :1], centres[:, :-1] + half, centres[:, -1:] + half[:, -1:]], axis=1
    )
    xe = np.concatenate([faces[:1], (faces[:-1] + faces[1:]) / 2, faces[-1:]], axis=0)
    dt = np.diff(t) if len(t) > 1 else np.ones(1)
    te = np.concatenate([[t[0] - dt[0] / 2], (t[:-1] + t[1:]) / 2, [t[-1] + dt[-1] / 2]])
    return xe, np.broadcast_to(te[:, None], xe.shape)


def _moving_limits(ds, axes, names) -> None:
    """A movie of a growing domain: each panel's axes span the largest domain of the run, so that
    the domain visibly grows in a fixed frame."""
    for ax, name in zip(axes, names):
        dims = _axes_of(ds, name)[:2]
        if not all(f"{d}_t" in ds for d in dims):
            continue
        spans = []
        for d in dims:
            centres = np.asarray(ds[f"{d}_t"].values)
            edges = [_cell_edges(c, c)[:2] for c in centres]
            spans.append((min(e[0] for e in edges), max(e[1] for e in edges)))
        ax.set_xlim(*spans[0])
        if len(spans) > 1:
            ax.set_ylim(*spans[1])


def _streamlines(ax, ds, index: int):
    """Streamlines over a 2D panel: contours of the stream function (the flow runs along them,
    faster where they are closer), white lines, negative levels dashed."""
    psi = np.asarray(ds[STREAM].isel(time=index).values)
    x, y = ds[ds[STREAM].dims[1]].values, ds[ds[STREAM].dims[2]].values
    span = float(np.max(psi) - np.min(psi))
    if not span > 0:
        return None
    levels = np.linspace(np.min(psi), np.max(psi), 14)[1:-1]
    return ax.contour(x, y, psi.T, levels=levels, colors="white", linewidths=0.7, alpha=0.8)


def _network(ds):
    """The network of a run on a network (its ``network`` attribute), else None."""
    if "network" not in ds.attrs:
        return None
    from .grid import Network

    return Network.from_attributes(ds.attrs)


def network_layout(network) -> dict[str, tuple[float, float]]:
    """Node positions of a network: those it gives, else the spectral layout (the graph
    Laplacian's second and third eigenvectors, edges weighted by 1/length)."""
    if network.positions:
        return dict(network.positions)
    nodes = list(network.nodes)
    index = {n: k for k, n in enumerate(nodes)}
    L = np.zeros((len(nodes), len(nodes)))
    for e in network.edges:
        a, b, w = index[e.a], index[e.b], 1.0 / e.length
        if a != b:
            L[a, b] -= w
            L[b, a] -= w
            L[a, a] += w
            L[b, b] += w
    if len(nodes) < 3:
        return {n: (float(k), 0.0) for k, n in enumerate(nodes)}
    _, vectors = np.linalg.eigh(L)
    return {n: (float(vectors[k, 1]), float(vectors[k, 2])) for n, k in index.items()}


def _end_to_end(network, x: np.ndarray, *fields: np.ndarray) -> tuple[np.ndarray, ...]:
    """A network's arc lengths with the edges laid end to end, and the fields, with a NaN between
    edges (so that lines break there)."""
    starts = np.concatenate([[0.0], np.cumsum([e.length for e in network.edges])])
    pos = np.asarray(x, dtype=float) + starts[network.edge_of_cell]
    cuts = network.offsets[1:-1]
    return tuple(np.insert(np.asarray(f, dtype=float), cuts, np.nan) for f in (pos, *fields))


def _draw_network(fig, ax, network, data: np.ndarray, name: str):
    """The graph with each edge's cells coloured by ``data`` (a LineCollection) and its nodes."""
    pos = network_layout(network)
    segments: list[np.ndarray] = []
    for e, n in zip(network.edges, network.cells_per_edge):
        a, b = np.array(pos[e.a]), np.array(pos[e.b])
        if e.a == e.b:  # a loop: a small circle through its node
            angle = np.linspace(0, 2 * np.pi, n + 1)
            r = 0.1 * max(1e-9, np.ptp(np.array(list(pos.values())), axis=0).max())
            pts = a + r * np.stack([np.cos(angle) - 1, np.sin(angle)], axis=1)
        else:
            pts = a + np.linspace(0, 1, n + 1)[:, None] * (b - a)
        segments.extend(np.stack([pts[:-1], pts[1:]], axis=1))
    widths = 1.5 + 3.0 * network.cell_weight / max(network.cell_weight)
    lines = LineCollection(segments, array=data, cmap="viridis", linewidths=widths, capstyle="round")
    ax.add_collection(lines)
    xy = np.array([pos[n] for n in network.nodes])
    ax.scatter(xy[:, 0], xy[:, 1], s=12, c="black", zorder=3)
    for n, (x, y) in zip(network.nodes, xy):
        ax.annotate(n, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    _colorbar(fig, lines, ax, name + _range_note(data))
    return lines


def _draw(fig, axes, ds, names, index: int, streamlines: bool = False):
    t = float(ds["time"].values[index])
    artists = []
    network = _network(ds)
    for ax, name in zip(axes, names):
        var = ds[name]
        dims = _axes_of(ds, name)
        data = np.asarray(var.isel(time=index).values)
        if network is not None and dims == ["cell"]:
            artists.append(_draw_network(fig, ax, network, data, name))
        elif len(dims) == 1:
            (line,) = ax.plot(_positions(ds, dims, index)[0], data, lw=1.5)
            ax.ticklabel_format(axis="y", useOffset=False)  # no "+1" above the axis
            ax.set_xlabel(dims[0])
            ax.set_ylabel(name)
            artists.append(line)
        else:
            if len(dims) == 3:  # 3D: the middle slice in z
                data = data[:, :, data.shape[2] // 2]
            x, y = _positions(ds, dims[:2], index)
            im = ax.imshow(data.T, origin="lower", extent=_cell_edges(x, y), cmap="viridis", aspect="equal")
            _colorbar(fig, im, ax, name + _range_note(data))
            if streamlines and len(dims) == 2:
                im.streamlines = _streamlines(ax, ds, index)
            if "volume_fraction" in ds and len(dims) == 2:  # a shape: its boundary, κ = 1/2
                kappa = np.asarray(ds["volume_fraction"].values)
                ax.contour(x, y, kappa.T, levels=[0.5], colors="black", linewidths=0.8)
            ax.set_xlabel(dims[0])
            ax.set_ylabel(dims[1])
            artists.append(im)
        ax.set_title(_title(var, name), fontsize=9)
    _suptitle(fig, ds, f"t = {t:.4g}", images=any(len(_axes_of(ds, n)) > 1 for n in names))
    return artists


def _suptitle(fig, ds, when: str, images: bool = False) -> None:
    """The figure's title: the model, the time, the parameters it was drawn at, and, for images,
    that each panel has its own colour scale."""
    second = [_parameters(ds)] + (["colour scale per panel"] if images else [])
    lines = [f"{ds.attrs.get('model', '')}   {when}".strip(), "; ".join(p for p in second if p)]
    fig.suptitle("\n".join(line for line in lines if line), fontsize=9)


def plot_frame(ds: xr.Dataset, index: int = -1, species: list[str] | None = None, streamlines: bool = False) -> Figure:
    """A figure with one panel per species at frame ``index``.

    Parameters
    ----------
    ds : xarray.Dataset
        A run as :func:`crossdiff.io.open_run` returns it (or :meth:`Solution.to_xarray`):
        species as variables with dims ``(time, x[, y[, z]])``.
    index : int
        The frame (position along ``time``; negative counts from the end).
    species : list of str, optional
        The species to show, in this order; all of them by default.
    streamlines : bool
        Draw the streamlines of the run's computed flow (contours of its stream function) over
        every 2D panel; the default panels are then the species without the flow's fields.

    Returns
    -------
    matplotlib.figure.Figure
        A line per species in 1D, an image with colour bar in 2D (the middle ``z`` slice in 3D).
        Write it with :func:`save_figure`.

    Raises
    ------
    InputError
        If a requested species is not in the run, or streamlines of a run without a flow.
    """
    names = _species(ds, species, streamlines)
    fig, flat = _panels(len(names), images=ds[names[0]].ndim >= 3)
    _draw(fig, flat, ds, names, index, streamlines)
    return fig


def plot_spacetime(ds: xr.Dataset, species: list[str] | None = None) -> Figure:
    """1D runs: one space–time image (x horizontal, t vertical) per species; on a growing
    domain each row at its physical positions (the domain widens upwards).

    Parameters
    ----------
    ds : xarray.Dataset
        A 1D run as :func:`crossdiff.io.open_run` returns it.
    species : list of str, optional
        The species to show; all of them by default.

    Raises
    ------
    InputError
        If a requested species is not in the run, or the run is not one-dimensional.
    """
    names = _species(ds, species)
    fig, flat = _panels(len(names))
    network = _network(ds)
    for ax, name in zip(flat, names):
        dims = _axes_of(ds, name)
        if len(dims) != 1:
            raise InputError("space-time images are for 1D runs")
        x, t = ds[dims[0]].values, ds["time"].values
        if network is not None:  # the edges laid end to end, each from its node a to b
            starts = np.concatenate([[0.0], np.cumsum([e.length for e in network.edges])])
            x = x + starts[network.edge_of_cell]
            for x0 in starts[1:-1]:
                ax.axvline(x0, color="white", lw=0.8)
            ax.set_xticks(0.5 * (starts[:-1] + starts[1:]), [e.label() for e in network.edges], fontsize=7)
        values = np.asarray(ds[name].values)
        if f"{dims[0]}_t" in ds:  # a moving domain: each row at its physical positions
            xe, te = _moving_edges(np.asarray(ds[f"{dims[0]}_t"].values), np.asarray(t, dtype=float))
            im = ax.pcolormesh(xe, te, values, shading="flat", cmap="viridis")
        else:
            im = ax.pcolormesh(x, t, values, shading="nearest", cmap="viridis")
        _colorbar(fig, im, ax, name + _range_note(values))
        ax.set_xlabel(dims[0])
        ax.set_ylabel("t")
        ax.set_title(_title(ds[name], name), fontsize=9)
    _suptitle(fig, ds, f"t = {float(ds['time'].values[0]):.4g} to {float(ds['time'].values[-1]):.4g}", images=True)
    return fig


def plot_dispersion(dispersion, critical=None) -> Figure:
    """Growth rate ``Re λ`` against the wave number ``k``: the continuum as a line, the admissible
    modes of the domain as dots, the unstable band shaded, the most unstable mode marked
    (docs/theory.md §4.4; :func:`crossdiff.analysis.dispersion`).

    Parameters
    ----------
    dispersion : crossdiff.analysis.Dispersion
    critical : crossdiff.analysis.Critical, optional
        Named in the title when given.
    """
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    k, g, _ = dispersion.curve
    ax.plot(k, g, color="C0", lw=1.5, label="continuum")
    modes = dispersion.modes
    ax.plot(modes["k"], modes["growth"], "o", ms=3, color="C1", alpha=0.7, label="admissible modes")
    for lo, hi in dispersion.unstable_band:
        ax.axvspan(lo, hi, color="C3", alpha=0.12, lw=0)
    ax.axhline(0.0, color="0.3", lw=0.8)
    if dispersion.unstable_modes:
        top = dispersion.most_unstable
        ax.plot([top.k], [top.growth], "*", ms=12, color="C3", label=f"most unstable, k = {top.k:.3g}")
    finite = g[np.isfinite(g)]
    if finite.size:
        high = max(float(np.max(finite)), float(np.nanmax(modes["growth"].values)), 0.0)
        low = min(float(np.min(finite)), 0.0)
        span = high - max(low, -3 * max(high, 1e-3) - 1.0)
        bottom = max(low, -3 * max(high, 1e-3) - 1.0) - 0.05 * span
        ax.set_ylim(bottom, high + 0.1 * span)
        shown = k[np.isfinite(g) & (g >= bottom)]
        right = 1.15 * float(shown.max()) if shown.size and shown.max() > 0 else float(k[-1])
        ax.set_xlim(0, min(float(k[-1]), right))
    else:
        ax.set_xlim(0, float(k[-1]))
    ax.set_xlabel("wave number k")
    ax.set_ylabel("growth rate Re λ")
    state = ", ".join(f"{n} = {v:.4g}" for n, v in dispersion.state.values.items())
    title = f"{dispersion.model.name} at ({state})"
    if critical is not None:
        title += f"\n{critical.parameter}_c = {critical.value:.6g} ({critical.kind} onset)"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def plot_compare(ds: xr.Dataset, other: xr.Dataset, index: int = -1, species: list[str] | None = None) -> Figure:
    """A run beside another of the same species and grid (a kinetic run and its macroscopic limit).

    1D: both curves on one panel per species; 2D: one row per species with the two images on a
    common colour scale and their difference. The frame of ``other`` is the one nearest in time.

    Raises
    ------
    InputError
        If the runs have no species in common, or different grids.
    """
    names = [n for n in _species(ds, species) if n in _species(other, None)]
    if not names:
        raise InputError("the two runs have no species in common")
    dims = _axes_of(ds, names[0])
    for d in dims:
        if d not in other.dims or other.sizes[d] != ds.sizes[d]:
            raise InputError(f"the two runs have different grids (axis {d!r})")
    t = float(ds["time"].values[index])
    j = int(np.abs(other["time"].values - t).argmin())
    label_a = _run_label(ds)
    label_b = _run_label(other)
    if len(dims) == 1:
        fig, flat = _panels(len(names))
        for ax, name in zip(flat, names):
            x = ds[dims[0]].values
            a, b = ds[name].isel(time=index).values, other[name].isel(time=j).values
            network = _network(ds)
            if network is not None:  # the edges end to end, a gap between them
                x, a, b = _end_to_end(network, x, a, b)
            ax.plot(x, a, lw=1.5, label=label_a)
            ax.plot(x, b, "--", lw=1.5, label=label_b)
            ax.ticklabel_format(axis="y", useOffset=False)
            ax.set_xlabel(dims[0])
            ax.set_ylabel(name)
            ax.set_title(_title(ds[name], name), fontsize=9)
            ax.legend(fontsize=7)
    else:
        fig = Figure(figsize=(12.6, 3.6 * len(names)), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(names), 3, squeeze=False)
        x, y = ds[dims[0]].values, ds[dims[1]].values
        extent = _cell_edges(x, y)
        for row, name in zip(axes, names):
            a = np.asarray(ds[name].isel(time=index).values)
            b = np.asarray(other[name].isel(time=j).values)
            if a.ndim == 3:
                a, b = a[:, :, a.shape[2] // 2], b[:, :, b.shape[2] // 2]
            # a shape's cells outside are missing values (NaN): the scales from the cells inside
            lo, hi = float(min(np.nanmin(a), np.nanmin(b))), float(max(np.nanmax(a), np.nanmax(b)))
            hi = hi if hi > lo else lo + 1.0
            for ax, data, label in ((row[0], a, label_a), (row[1], b, label_b)):
                im = ax.imshow(data.T, origin="lower", extent=extent, cmap="viridis", vmin=lo, vmax=hi)
                ax.set_title(f"{name}: {label}", fontsize=9)
            _colorbar(fig, im, row[1], f"{name} (both panels)")
            limit = float(np.nanmax(np.abs(a - b))) or 1.0
            im = row[2].imshow((a - b).T, origin="lower", extent=extent, cmap="RdBu_r", vmin=-limit, vmax=limit)
            _colorbar(fig, im, row[2], "difference")
            row[2].set_title(f"{name}: difference", fontsize=9)
            for ax in row:
                ax.set_xlabel(dims[0])
                ax.set_ylabel(dims[1])
                if "volume_fraction" in ds and len(dims) == 2:  # a shape: its boundary, κ = 1/2
                    ax.contour(
                        x, y, np.asarray(ds["volume_fraction"].values).T, levels=[0.5], colors="black", linewidths=0.8
                    )
    fig.suptitle(f"{ds.attrs.get('model', '')} and {other.attrs.get('model', '')}   t = {t:.4g}")
    return fig


def _run_label(ds) -> str:
    eps = ds.attrs.get("eps")
    return f"kinetic, ε = {float(eps):g}" if eps is not None else str(ds.attrs.get("model", "run"))


def plot_convergence(table) -> Figure:
    """Differences between a kinetic model and its limit against ε, log–log, one line per
    species with its fitted order (a :class:`crossdiff.analysis.LimitConvergence`)."""
    fig = Figure(figsize=(5.6, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    eps = np.asarray(table.eps)
    for name in table.species:
        err = np.asarray(table.l1[name])
        keep = err > 0
        if not keep.any():
            continue
        order = table.order_l1[name]
        text = f"{name} (order {order:.2f})" if order is not None else name
        ax.loglog(eps[keep], err[keep], "o-", label=text)
    ax.set_xlabel("ε")
    ax.set_ylabel("L1 difference at t_end")
    ax.set_title(f"{table.model} → limit, {table.grid}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _release(fig) -> None:
    """Close ``fig`` in pyplot if pyplot manages it (a figure the caller made with pyplot).

    The figures of this module are not known to pyplot and need no closing. pyplot is only
    consulted when the caller has imported it already, so this never imports it (importing
    pyplot can select a backend).
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and getattr(fig.canvas, "manager", None) is not None:
        pyplot.close(fig)


def _write(fig, path: Path, what: str, save: Callable[[], object]) -> Path:
    """Run ``save()``, turning I/O failures into a one-line :class:`OutputError`; always release ``fig``."""
    try:
        save()
    except (OSError, ValueError) as err:
        raise OutputError(f"cannot write {what} {str(path)!r}: {getattr(err, 'strerror', None) or err}") from None
    finally:
        _release(fig)
    return path


#: The metadata key that carries crossdiff's mark (:data:`crossdiff.output.MARK`) per format.
_MARK_KEY = {".png": "Software", ".pdf": "Creator", ".svg": "Creator"}


def save_figure(fig, path: str | Path, dpi: int = 110, overwrite: bool = False) -> Path:
    """Write ``fig`` (from :func:`plot_frame`, :func:`plot_spacetime` or pyplot) to ``path``.

    The format follows the suffix (PNG, PDF, SVG, …), its metadata carrying crossdiff's mark. An
    existing file is replaced only with ``overwrite`` and only if crossdiff wrote it
    (:func:`crossdiff.output.claim_output`). Returns the path written.

    Raises
    ------
    OutputError
        If the path is refused or the file cannot be written (no permission, unknown format); a
        figure that pyplot manages is closed either way.
    """
    try:
        path = claim_output(path, overwrite=overwrite, what="picture")
    except OutputError:
        _release(fig)
        raise
    key = _MARK_KEY.get(path.suffix.lower())
    metadata = {key: MARK} if key else None
    return _write(fig, path, "picture", lambda: fig.savefig(path, dpi=dpi, metadata=metadata))


def save_movie(
    ds: xr.Dataset,
    path: str | Path,
    species: list[str] | None = None,
    fps: float | None = None,
    streamlines: bool = False,
    overwrite: bool = False,
    duration: float | None = None,
) -> Path:
    """All frames as a GIF (Pillow) or MP4 (``ffmpeg`` on the PATH, else the one the dependency
    ``imageio-ffmpeg`` ships), with fixed colour limits.

    Parameters
    ----------
    ds : xarray.Dataset
        A run as :func:`crossdiff.io.open_run` returns it.
    path : str or Path
        Ends in ``.gif`` or ``.mp4``.
    species : list of str, optional
        The species to show; all of them by default.
    fps : float, optional
        Frames per second. Default: from ``duration``, else :func:`movie_fps` (a movie of a few
        frames plays for several seconds, not for one).
    streamlines : bool
        The flow's streamlines over every 2D panel (:func:`plot_frame`).
    overwrite : bool
        Replace an existing movie that crossdiff wrote (:func:`crossdiff.output.claim_output`;
        the GIF comment or MP4 ``comment`` carries crossdiff's mark).
    duration : float, optional
        Seconds the movie plays (instead of ``fps``).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    InputError
        For another suffix, or an unknown species.
    OutputError
        If no ``ffmpeg`` is found for MP4, or the file cannot be written.
    """
    from matplotlib import animation

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise InputError(f"movie format {suffix or '(none)'} not supported; use .gif or .mp4")
    claim_output(path, overwrite=overwrite, what="movie")
    ffmpeg = _ffmpeg() if suffix == ".mp4" else None
    names = _species(ds, species, streamlines)
    fps = movie_fps(ds.sizes["time"], fps, duration)
    fig, flat = _panels(len(names), images=ds[names[0]].ndim >= 3)
    artists = _draw(fig, flat, ds, names, 0, streamlines)
    for art, ax, name in zip(artists, flat, names):
        lo, hi = float(ds[name].min()), float(ds[name].max())
        hi = hi if hi > lo else lo + 1.0
        if hasattr(art, "set_clim"):
            art.set_clim(lo, hi)
        else:
            pad = 0.05 * (hi - lo)
            ax.set_ylim(lo - pad, hi + pad)
    # lay the panels out once, with the fixed colour limits, and keep them still: frames that
    # re-ran the layout would jitter and cost a layout each
    _moving_limits(ds, flat, names)
    fig.canvas.draw()
    fig.set_layout_engine("none")
    times = ds["time"].values
    images = ds[names[0]].ndim >= 3

    def frame(k: int):
        for art, name in zip(artists, names):
            data = np.asarray(ds[name].isel(time=k).values)
            if isinstance(art, LineCollection):  # a network's edges
                art.set_array(data)
            elif hasattr(art, "set_clim"):
                if data.ndim == 3:
                    data = data[:, :, data.shape[2] // 2]
                art.set_data(data.T)
                if any(f"{d}_t" in ds for d in _axes_of(ds, name)):  # a growing domain's cells
                    art.set_extent(_cell_edges(*_positions(ds, _axes_of(ds, name)[:2], k)))
                old = getattr(art, "streamlines", None)
                if old is not None:
                    old.remove()
                if streamlines and data.ndim == 2:
                    art.streamlines = _streamlines(art.axes, ds, k)
            else:
                art.set_data(_positions(ds, _axes_of(ds, name), k)[0], data)
        _suptitle(fig, ds, f"t = {float(times[k]):.4g}", images=images)
        return artists

    anim = animation.FuncAnimation(fig, frame, frames=len(times), blit=False)
    if ffmpeg is None:
        writer: animation.AbstractMovieWriter = _MarkedGif(fps=fps)
        return _write(fig, path, "movie", lambda: anim.save(path, writer=writer))
    import matplotlib

    with matplotlib.rc_context({"animation.ffmpeg_path": ffmpeg}):
        writer = animation.FFMpegWriter(fps=fps, metadata={"comment": MARK})
        return _write(fig, path, "movie", lambda: anim.save(path, writer=writer))


#: A movie plays for at least this many seconds by default (:func:`movie_fps`).
MOVIE_SECONDS = 6.0


def movie_fps(frames: int, fps: float | None = None, duration: float | None = None) -> int:
    """Frames per second of a movie of ``frames`` frames (a whole number, as the movie writers
    take it): ``fps`` if given, else ``frames / duration`` (at least 1), else what makes it last :data:`MOVIE_SECONDS` within 2 to 12 frames per second
    (7 frames: 2 per second, 3.5 s; 200 frames: 12 per second, 17 s).

    Raises
    ------
    InputError
        Both ``fps`` and ``duration``, or a value that is not a positive number.
    """
    if fps is not None and duration is not None:
        raise InputError("give the movie's fps or its duration, not both")
    if fps is not None:
        return max(1, round(positive_number(fps, "fps")))
    if duration is not None:
        return max(1, round(max(frames, 1) / positive_number(duration, "duration")))
    return int(min(12, max(2, round(frames / MOVIE_SECONDS))))


def _MarkedGif(fps: int):
    """Matplotlib's Pillow GIF writer with crossdiff's mark as the GIF comment."""
    from matplotlib import animation

    class MarkedGif(animation.PillowWriter):
        def finish(self) -> None:
            frames = self._frames  # type: ignore[attr-defined]  # PillowWriter's own list of frames
            frames[0].save(
                self.outfile,
                save_all=True,
                append_images=frames[1:],
                duration=round(1000 / self.fps),
                loop=0,
                comment=MARK.encode(),
            )

    return MarkedGif(fps=fps)


def _ffmpeg() -> str:
    """The ``ffmpeg`` executable: the one on the PATH, else the binary of ``imageio-ffmpeg``."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        raise OutputError(
            "writing MP4 needs ffmpeg (on the PATH or from imageio-ffmpeg); use a .gif movie instead"
        ) from None
