"""Every catalogue picture is laid out cleanly: nothing clipped at the figure's edges, no offset
label of a colour bar running into the bar or an image, panel titles from the species' long names.

Each catalogue model is run for a moment on a small grid (the layout depends on the panels, the
labels and the range of the values, not on the resolution); the picture is drawn as
``crossdiff plot`` draws it and measured in display coordinates.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text

import crossdiff as cd
from crossdiff.plot import plot_frame, plot_spacetime, save_figure

#: Small grids for the short catalogue runs, by dimension.
_CELLS = {1: (48,), 2: (20, 20)}


def _catalogue_run(name: str) -> xr.Dataset:
    model = cd.catalogue.load(name)
    grid = cd.default_grid(model, _CELLS[len(model.defaults.cells)])
    return cd.solve(model, grid, 0.02, save_every=0.01).to_xarray()


def _overlap(a, b, tol: float = 0.5) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tol and min(a.y1, b.y1) - max(a.y0, b.y0) > tol


def layout_problems(fig) -> list[str]:
    """What is wrong with the layout of a drawn ``fig``, in words (empty when nothing is)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    problems = []
    tight = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)  # pixels, like fig.bbox
    if tight.x0 < -0.5 or tight.y0 < -0.5 or tight.x1 > box.x1 + 0.5 or tight.y1 > box.y1 + 0.5:
        problems.append(f"drawing {tight.bounds} extends beyond the figure {box.bounds}")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    # each panel with what it draws around it (ticks, labels, title, offset label)
    for ax in panels:
        ext = ax.get_tightbbox(renderer)
        if ext.x0 < -0.5 or ext.y0 < -0.5 or ext.x1 > box.x1 + 0.5 or ext.y1 > box.y1 + 0.5:
            problems.append(f"panel {ax.get_title() or ax.get_label()!r} is cut off at the figure's edge")
    bars = [ax for ax in panels if ax.get_label() == "<colorbar>"]
    for bar in bars:
        offset = bar.yaxis.get_offset_text()
        if not offset.get_visible() or not offset.get_text():
            continue
        ext = offset.get_window_extent(renderer)
        for ax in panels:
            if _overlap(ext, ax.get_window_extent(renderer)):
                what = "its colour bar" if ax is bar else "another panel"
                problems.append(f"offset label {offset.get_text()!r} overlaps {what}")
    for ax in panels:
        labels = [ax.xaxis.label, ax.yaxis.label, ax.title]
        for label in labels:
            if not label.get_visible() or not label.get_text():
                continue
            ext = label.get_window_extent(renderer)
            for other in panels:
                if other is not ax and _overlap(ext, other.get_window_extent(renderer)):
                    problems.append(f"label {label.get_text()!r} overlaps another panel")
    suptitle = fig.get_suptitle()
    if suptitle:
        (title,) = fig.findobj(lambda a: isinstance(a, Text) and a.axes is None and a.get_text() == suptitle)
        ext = title.get_window_extent(renderer)
        for ax in panels:
            if _overlap(ext, ax.get_tightbbox(renderer)):
                problems.append(f"the figure title {suptitle!r} overlaps a panel")
    return problems


@pytest.mark.parametrize("name", cd.catalogue.names())
def test_catalogue_pictures_are_not_clipped(name, tmp_path):
    ds = _catalogue_run(name)
    figures = {"frame": plot_frame(ds)}
    if ds[next(iter(ds.data_vars))].ndim == 2:  # (time, x): a 1D run
        figures["spacetime"] = plot_spacetime(ds)
    for kind, fig in figures.items():
        assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
        assert layout_problems(fig) == [], (name, kind)
        titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
        assert titles == [f"{s}: {ds[s].attrs['long_name']}" for s in ds.data_vars]
        path = save_figure(fig, tmp_path / f"{name}-{kind}.png")
        assert path.stat().st_size > 1000


def _tiny_variation(ndim: int) -> xr.Dataset:
    """A run whose fields vary by 1e-7 about 1 and about 0: colour bars with offset labels."""
    n = 24
    x = (np.arange(n) + 0.5) / n * 20
    coords: dict[str, object] = {"time": [0.0, 1.0], "x": x}
    if ndim == 1:
        base, dims = np.cos(x), ("time", "x")
    else:
        coords["y"] = x
        base, dims = np.cos(x)[:, None] * np.sin(x)[None, :], ("time", "x", "y")
    near_one = 1 + 1e-7 * np.stack([base, base])
    near_zero = 1e-8 * np.stack([base, base])
    return xr.Dataset(
        {
            "u1": (dims, near_one, {"long_name": "uninfected cancer cells"}),
            "u2": (dims, near_zero, {"long_name": "virus"}),
            "u3": (dims, 3e5 * (1 + near_zero), {"long_name": "extracellular matrix"}),
        },
        coords=coords,
        attrs={"model": "offsets"},
    )


def test_offset_labels_of_colour_bars_stay_clear():
    fig = plot_frame(_tiny_variation(2))
    assert layout_problems(fig) == []
    fig.canvas.draw()
    offsets = [ax.yaxis.get_offset_text().get_text() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert offsets[0] and offsets[1]  # the case the check is about: the bars have offset labels
    fig = plot_spacetime(_tiny_variation(1))
    assert layout_problems(fig) == []


def test_the_check_sees_a_clipped_label_and_a_colliding_offset():
    """The layout check fails on the two faults of the pictures it guards against."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(np.ones((4, 4)) + 1e-7 * np.eye(4))
    ax.set_xlabel("x")
    fig.subplots_adjust(bottom=0.0)  # the x label below the bottom edge
    bar = fig.colorbar(ax.images[0], ax=ax)
    bar.ax.yaxis.get_offset_text().set_fontsize(40)  # an offset label larger than its place
    problems = layout_problems(fig)
    assert any("extends beyond the figure" in p for p in problems)
    assert any("cut off at the figure's edge" in p for p in problems)
    assert any("offset label" in p for p in problems)
