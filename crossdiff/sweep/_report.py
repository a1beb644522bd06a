"""The report of a sweep: a table, and the pattern amplitude against the swept parameters with
the predicted threshold drawn in."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CrossdiffError, InputError
from ..validation import require

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..grid import Grid
    from ..model import Model
    from ._sweep import SweepResult

__all__ = ["plot_sweep", "predicted_threshold", "report_table"]

#: Marker and colour of each behaviour in the plot.
_STYLE: dict[str, tuple[str, str]] = {
    "decaying": ("o", "tab:blue"),
    "growing": ("^", "tab:olive"),
    "stationary": ("s", "tab:green"),
    "oscillating": ("D", "tab:purple"),
    "blow-up": ("*", "tab:red"),
    "failed": ("x", "tab:red"),
    "error": ("x", "black"),
}


def predicted_threshold(model: Model, parameter: str, grid: Grid | None = None) -> float | None:
    """The value of ``parameter`` at which linear stability analysis predicts patterns, or None.

    What ``crossdiff sweep-report`` draws when no ``--threshold`` is given: the critical value of
    ``parameter`` (:func:`crossdiff.analysis.critical`: the homogeneous steady state of ``model``
    loses stability on an admissible mode of ``grid``; docs/analysis.md, docs/references.md
    [Mur03]). None where the analysis finds no change of stability (or cannot be done for this
    model): nothing is drawn.
    """
    from ..analysis import critical

    if parameter not in model.parameters:
        model.with_settings({parameter: 0.0})  # the library's ParameterError, listing the parameters
    try:
        return float(critical(model, parameter, grid=grid).value)
    except CrossdiffError:
        return None


def report_table(result: SweepResult) -> pd.DataFrame:
    """The columns of the report: swept parameters, behaviour, amplitude, wavelength, status, message."""
    cols = [*result.parameters, "behaviour", "amplitude", "relative_amplitude", "wavelength", "status", "message"]
    return result.table[[c for c in cols if c in result.table.columns]]


def plot_sweep(result: SweepResult, x: str | None = None, threshold: float | None = None) -> Figure:
    """Pattern amplitude (and dominant wavelength) against the swept parameter ``x``.

    One curve per combination of the other swept parameters; markers by behaviour
    (:data:`~crossdiff.analysis.BEHAVIOURS`); runs without an amplitude (errors) sit on the lower edge.
    ``threshold`` draws a vertical line at the predicted critical value of ``x``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from ._sweep import SweepResult

    require(result, SweepResult, "result (of crossdiff.sweep.sweep or load_sweep)")
    table = result.table
    if len(table) == 0:
        raise InputError(f"the sweep in {str(result.directory)!r} has no finished runs to plot")
    x = x or result.parameters[0]
    if x not in result.parameters:
        raise InputError(f"{x!r} is not a swept parameter; swept: {', '.join(result.parameters)}")
    others = [p for p in result.parameters if p != x]
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax_a, ax_w = fig.subplots(1, 2, sharex=True)
    amp = table["amplitude"].to_numpy(dtype=float)
    positive = amp[np.isfinite(amp) & (amp > 0)]
    floor = float(np.min(positive)) / 10 if len(positive) else 1e-12
    groups = table.groupby(others, sort=True) if others else [((), table)]
    for n, (values, rows) in enumerate(groups):
        rows = rows.sort_values(x)
        values = values if isinstance(values, tuple) else (values,)
        label = ", ".join(f"{p} = {v:g}" for p, v in zip(others, values)) or None
        a = rows["amplitude"].to_numpy(dtype=float)
        a = np.where(np.isfinite(a) & (a > 0), a, floor)
        xs = rows[x].to_numpy(dtype=float)
        (line,) = ax_a.plot(xs, a, "-", color=f"C{n % 10}", alpha=0.6, label=label, zorder=1)
        ax_w.plot(xs, rows["wavelength"].to_numpy(dtype=float), "-", color=line.get_color(), alpha=0.6, zorder=1)
        for behaviour, part in rows.groupby("behaviour"):
            marker, colour = _STYLE.get(str(behaviour), ("o", "grey"))
            pa = part["amplitude"].to_numpy(dtype=float)
            ax_a.scatter(
                part[x], np.where(np.isfinite(pa) & (pa > 0), pa, floor), marker=marker, color=colour, zorder=2, s=28
            )
            ax_w.scatter(part[x], part["wavelength"], marker=marker, color=colour, zorder=2, s=28)
    ax_a.set_yscale("log")
    ax_a.set_xlabel(x)
    ax_a.set_ylabel("pattern amplitude (RMS deviation from the mean)")
    ax_w.set_xlabel(x)
    ax_w.tick_params(labelbottom=True)
    ax_w.set_ylabel("dominant wavelength")
    species = table["species"].dropna().unique()
    what = f" of {species[0]}" if len(species) == 1 else ""
    ax_a.set_title(f"{result.model}: pattern amplitude{what} at the end time", fontsize=10)
    ax_w.set_title("wavelength of the strongest mode", fontsize=10)
    if threshold is not None and math.isfinite(threshold):
        for ax in (ax_a, ax_w):
            ax.axvline(threshold, color="k", ls="--", lw=1)
        ax_a.text(
            threshold,
            0.02,
            f" predicted {x} = {threshold:.4g}",
            transform=ax_a.get_xaxis_transform(),
            va="bottom",
            fontsize=8,
        )
    present = [b for b in _STYLE if b in set(table["behaviour"])]
    handles: list[Any] = [Line2D([], [], marker=_STYLE[b][0], color=_STYLE[b][1], ls="", label=b) for b in present]
    if others:
        handles += ax_a.get_legend_handles_labels()[0]
    ax_w.legend(handles=handles, fontsize=8, loc="best")
    return fig
