"""Blow-up studies: a model run on a sequence of grids, and the blow-up time extrapolated.

On a grid of spacing ``h`` the failure monitor (:class:`crossdiff.Monitor`) reports the time
``t_h`` at which the grid stops resolving a concentrating solution (a discrete Dirac mass, or a
peak above its limit). ``t_h`` approaches the blow-up time ``T*`` from below as ``h → 0``: near
``T*`` the concentrating core has a width ``ρ(t) → 0`` and the grid loses it when ``ρ(t_h) ≈ c h``.
We model the approach as

.. math::  t_h = T^* - C h^p

and extrapolate as Richardson does for a discretisation error (Richardson 1911; the
three-grid form with an observed order and the Grid Convergence Index of Roache 1994,
docs/references.md [Ric11], [Roa94]): from the three finest grids ``h_1 > h_2 > h_3``
(times ``t_1 < t_2 < t_3``) the observed order ``p`` solves
``(t_2 − t_1)/(t_3 − t_2) = (h_1^p − h_2^p)/(h_2^p − h_3^p)``, then
``T* = t_3 + (t_3 − t_2) h_3^p/(h_2^p − h_3^p)`` and the error estimate is the GCI
``1.25 |t_3 − t_2| h_3^p/(h_2^p − h_3^p)``; with four or more grids the estimate is at least the
change of ``T*`` from the previous three grids. With two grids ``p = 2`` is assumed (a core of
width ``√(T* − t)``, the self-similar scaling of chemotactic collapse, Herrero & Velázquez 1996
[HV96], is lost when ``T* − t_h ∝ h²``) and the safety factor is 3. If the differences do not
shrink (no observed order in ``(0.25, 8)``) the sequence is not in its asymptotic range: the
study says so and gives no ``T*``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..grid import default_domain, parse_cells
from ..model import Model
from ..progress import StudyProgress, progress_mode
from ..solve import Run, solve
from ..time import Monitor, Status
from ..validation import finite_number

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BlowupStudy", "blowup_study", "extrapolate"]


@dataclass(frozen=True)
class BlowupStudy:
    """Result of :func:`blowup_study`.

    Attributes
    ----------
    model : str
    runs : pandas.DataFrame
        One row per grid: ``cells``, ``h``, ``status``, ``time`` (resolution-loss time, or the
        end time when nothing was reported), ``peak`` (at that time), ``location``, ``message``,
        ``wall`` (seconds).
    blew_up : bool
        Whether the finest grid reported blow-up.
    t_star : float or None
        Extrapolated blow-up time.
    error : float or None
        Its error estimate.
    order : float or None
        Observed order ``p`` of ``t_h = T* − C h^p`` (assumed 2 with two grids).
    note : str
        How the estimate was made, or why there is none.
    """

    model: str
    runs: pd.DataFrame
    blew_up: bool
    t_star: float | None
    error: float | None
    order: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result (the CLI's ``--json``)."""
        rows = []
        for _, r in self.runs.iterrows():
            rows.append(
                {
                    "cells": r["cells"],
                    "h": float(r["h"]),
                    "status": r["status"],
                    "time": float(r["time"]),
                    "peak": float(r["peak"]),
                    "location": r["location"],
                    "message": r["message"],
                    "wall": float(r["wall"]),
                }
            )
        return {
            "model": self.model,
            "blew_up": self.blew_up,
            "t_star": self.t_star,
            "error": self.error,
            "order": self.order,
            "note": self.note,
            "runs": rows,
        }


def extrapolate(h: Sequence[float], t: Sequence[float]) -> tuple[float | None, float | None, float | None, str]:
    """``(T*, error, order, note)`` from resolution-loss times ``t`` on spacings ``h``
    (coarse to fine), by the method of this module's docstring."""
    from scipy.optimize import brentq

    h = [finite_number(x, "grid spacing") for x in h]
    t = [finite_number(x, "blow-up time") for x in t]
    if len(h) != len(t):
        raise InputError(f"extrapolate needs one time per grid spacing, got {len(h)} spacings and {len(t)} times")
    if len(h) < 2:
        return None, None, None, "one grid: no extrapolation (give at least two grids)"

    def triple(h3: Sequence[float], t3: Sequence[float]) -> tuple[float, float, float] | None:
        (h1, h2, hh), (t1, t2, tt) = h3, t3
        d1, d2 = t2 - t1, tt - t2
        if d1 <= 0 or d2 <= 0 or d2 >= d1 * (h2 / h1) ** 0.25 * 0.999999:
            return None

        def f(p: float) -> float:
            return (h1**p - h2**p) / (h2**p - hh**p) - d1 / d2

        lo, hi = 0.25, 8.0
        if f(lo) * f(hi) > 0:
            return None
        p = brentq(f, lo, hi, xtol=1e-12)
        factor = hh**p / (h2**p - hh**p)
        return tt + d2 * factor, 1.25 * abs(d2) * factor, p

    if len(h) == 2:
        (h1, h2), (t1, t2) = h, t
        if t2 <= t1:
            return None, None, None, "the finer grid lost resolution earlier: not in the asymptotic range"
        factor = h2**2 / (h1**2 - h2**2)
        return t2 + (t2 - t1) * factor, 3.0 * (t2 - t1) * factor, 2.0, "two grids: order 2 assumed, safety factor 3"
    last = triple(h[-3:], t[-3:])
    if last is None:
        return (
            None,
            None,
            None,
            "the resolution-loss times do not converge at a consistent rate on these grids "
            "(not in the asymptotic range): refine further",
        )
    T, err, p = last
    note = f"Richardson extrapolation of the three finest grids, observed order {p:.3g}, GCI error estimate"
    if len(h) >= 4:
        prev = triple(h[-4:-1], t[-4:-1])
        if prev is not None:
            err = max(err, abs(T - prev[0]))
            note += f"; change from the previous three grids {abs(T - prev[0]):.3g}"
    return T, err, p, note


def blowup_study(
    model: Model | str,
    grids: Sequence[int | Sequence[int]] = (64, 128, 256),
    *,
    t_end: float | None = None,
    initial: Mapping[str, object] | None = None,
    monitor: Monitor | None = None,
    stepper: Any = None,
    progress: bool | str = False,
    boundary: str | None = None,
    seed: int | None = None,
) -> BlowupStudy:
    """Run ``model`` on a sequence of grids and extrapolate its blow-up time.

    Parameters
    ----------
    model : Model or str
        A model or catalogue name; its default domain is used with each grid's cells.
    grids : sequence
        Cells per axis (an int means that number along every axis of the default domain), coarse
        to fine.
    t_end : float, optional
        End time of each run (default: the model's).
    initial : mapping, optional
        Initial data replacing the model's (as for :func:`crossdiff.solve`).
    monitor : Monitor, optional
        Failure criteria (default :class:`crossdiff.Monitor`).
    stepper : optional
        As for :func:`crossdiff.solve`.
    progress : bool or {"bar", "log"}
        Progress of the study (:class:`crossdiff.progress.StudyProgress`, the time left estimated
        with a run's work taken as its cells times the cells along its longest axis) and of each
        run: ``True`` bars on a terminal and lines elsewhere, as ``solve(progress=True)``.
    boundary : str, optional
        One boundary condition for every axis instead of the model's.
    seed : int, optional
        Seed of ``noise`` in the initial data (default the model's).

    Returns
    -------
    BlowupStudy

    Raises
    ------
    InputError
        Fewer than two grids, or grids not ordered from coarse to fine.
    """
    import pandas as pd

    from ..catalogue import resolve_model

    if isinstance(model, str):
        model = resolve_model(model)
    if not isinstance(model, Model):
        raise InputError(f"model must be a crossdiff Model or a catalogue name, got {type(model).__name__}")
    dim = len(model.defaults.cells)
    cells_list = [parse_cells((g,) * dim if isinstance(g, (int, np.integer)) else g) for g in grids]
    if len(cells_list) < 2:
        raise InputError("a blow-up study needs at least two grids, e.g. 64,128,256")
    grid_objs = [default_domain(model, c, boundary) for c in cells_list]
    hs = [max(g.spacing) for g in grid_objs]
    if any(b >= a for a, b in zip(hs, hs[1:])):
        raise InputError("grids must go from coarse to fine (each finer than the one before)")
    t_end = float(t_end) if t_end is not None else model.defaults.t_end
    base = Run(
        model, grid_objs[0], t_end, save_every=t_end, initial=initial, stepper=stepper, seed=seed, keep_frames=False
    )
    rows = []
    work = [float(np.prod(g.cells)) * max(g.cells) for g in grid_objs]
    with StudyProgress("blowup", len(grid_objs), progress_mode(progress), work=work) as shown:
        for grid, h in zip(grid_objs, hs):
            rows.append(_blowup_run(base.replace(domain=grid), h, monitor, shown))
    runs = pd.DataFrame(rows)
    blown = runs["status"] == Status.BLOWUP.label
    if not bool(blown.iloc[-1]):
        peaks = ", ".join(f"{p:.4g}" for p in runs["peak"])
        return BlowupStudy(
            model.name,
            runs,
            False,
            None,
            None,
            None,
            f"no blow-up seen up to t = {t_end:g} on the finest grid (final peaks {peaks})",
        )
    fine = runs[blown]
    if len(fine) < 2:
        return BlowupStudy(
            model.name, runs, True, None, None, None, "only the finest grid reported blow-up: refine further"
        )
    T, err, p, note = extrapolate(list(fine["h"]), list(fine["time"]))
    if T is not None and not all(math.isfinite(x) for x in (T, err or 0.0)):
        T, err, p = None, None, None
    return BlowupStudy(model.name, runs, True, T, err, p, note)


def _blowup_run(run: Run, h: float, monitor: Monitor | None, shown: StudyProgress) -> dict[str, Any]:
    """One run of :func:`blowup_study`: its row of the table."""
    grid = run.domain
    shown.started(grid.describe())
    wall = time.perf_counter()
    sol = solve(run, monitor=monitor if monitor is not None else Monitor(), progress=shown.run_progress, throw=False)
    report = sol.report
    blew = report is not None and report.status is Status.BLOWUP
    if report is not None and not blew:
        raise InputError(f"the run on {grid.describe()} failed, not by blow-up: {report}")
    row: dict[str, Any] = {
        "cells": "x".join(map(str, grid.cells)),
        "h": h,
        "status": sol.status.label,
        "time": float(sol.t_final),
        "peak": float(np.max(sol.final)),
        "location": None,
        "message": "",
    }
    if report is not None:
        if report.peak is not None:
            row["peak"] = float(report.peak)
        row["time"] = float(report.time)
        row["location"] = [float(x) for x in report.location] if report.location else None
        row["message"] = str(report)
    row["wall"] = time.perf_counter() - wall
    shown.finished(f"{row['cells']}: {row['status']} at t = {row['time']:.6g}")
    return row
