"""Time error against space error at the default tolerance, for the catalogue models (issue 9, §3).

    PYTHONPATH=. .venv/bin/python bench/tolerance.py [--cases a,b,...] [--rtols default,old,1e-4]
        [--json out.json]
    PYTHONPATH=. .venv/bin/python bench/tolerance.py --table out.json   # the summary table again
    PYTHONPATH=. .venv/bin/python bench/tolerance.py --work-precision 64,128,256 \\
        --rtols 1e-3,1e-4,1e-5,default                                # docs/numerics.md's table

For each case (a catalogue model on its default grid, or the Keller–Segel benchmark problem on
256² / 512²) and at every saved frame ``t`` (the model's ``save_every``):

* **time error** of a run at a tolerance: its difference at ``t`` to the same grid at ``rtol/100``;
* **space error**: the difference at ``t`` between the grid and the 2× finer grid (cell averages
  of the fine solution), both at ``rtol/100`` of the default (``--space-rtol`` to change), whose
  own time error is 1 % of the default's;

each as ``max_i ‖a_i − b_i‖₁ / max(‖b_i‖₁, 0.01 · cells)`` over the species ``i``: relative L1,
except that a species whose mean density is below 0.01 is judged absolutely, as the error control
judges it (``atol = rtol/100``: relative control down to 1 % of an O(1) density). Without the
floor, the extracellular matrix of oncolytic-virus, degraded to a mean of 1e-6 by t = 14, would
show relative errors of 1e-3 that are absolute errors of 1e-9.

Tolerances (``--rtols``): ``default`` is ``IMEX()`` with no tolerance given (the rule of
:func:`crossdiff.time.default_rtol` on that grid); ``old`` the default before issue 9 (``rtol =
1e-4, atol = 1e-6``, the error measured against ``|U|``), for the cost comparison; numbers are
fixed ``rtol`` (``atol = rtol/100``).

Which frames count: once the two grids differ by more than 10 % (space error > 0.1), they have
decorrelated — chaotic aggregation (keller-segel-logistic after t ≈ 6, Painter & Hillen) or a
different pattern selected from the noise (nonlinear-singular) — and a grid-to-grid difference is
no longer a discretisation error; those frames are listed but not used for the verdict. The
verdict is the largest ratio time/space over the frames before that, at t ≥ the model's first
frame. Initial data: catalogue models with ``noise`` (white noise per cell of the default grid)
start the finer grid from the default grid's data repeated 2× along every axis (the same
piecewise-constant function); the others evaluate their expressions on each grid; the 256² /
512² cases are the benchmark problem of ``bench/_problems.py`` (smooth noise, exact cell
averages). forager-scrounger is run to t = 30 (its moving patterns take 83 000 steps to its end
time 300). Wall times are of one process on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _problems import ks_initial

import crossdiff as cd
from crossdiff.model import initial_fields
from crossdiff.time import IMEX, IController

#: densities below this are judged absolutely, as the error control does (``atol/rtol``)
FLOOR = 1e-2
#: grid-to-grid difference beyond which the grids have decorrelated
DECORRELATED = 0.1


@dataclass(frozen=True)
class Case:
    model: str
    cells: tuple[int, ...] | None = None  # None: the model's default grid
    t_end: float | None = None  # None: the model's end time
    every: float | None = None  # None: the model's save interval
    smooth_ks: bool = False  # the benchmark problem's smooth initial data


CASES = {
    "cancer-invasion": Case("cancer-invasion"),
    "forager-scrounger": Case("forager-scrounger", t_end=30.0),
    "keller-segel": Case("keller-segel"),
    "keller-segel-elliptic": Case("keller-segel-elliptic"),
    "keller-segel-logistic": Case("keller-segel-logistic"),
    "may-nowak-taxis": Case("may-nowak-taxis"),
    "nonlinear-singular": Case("nonlinear-singular"),
    "oncolytic-virus": Case("oncolytic-virus"),
    "ks-256": Case("keller-segel-logistic", (256, 256), 4.0, 1.0, smooth_ks=True),
    "ks-512": Case("keller-segel-logistic", (512, 512), 4.0, 1.0, smooth_ks=True),
}


class _OldNorm(IController):
    """The error test before issue 9: ``max |err| / (atol + rtol max(|U|, |U_new|))``."""

    def error_norm(self, system, U, U_new, error):
        if error is None:
            return 0.0
        rtol, atol = self.tolerances(system)
        worst = 0.0
        for i in np.flatnonzero(system.differential):
            a = np.maximum(np.abs(U[i]), np.abs(U_new[i]))
            worst = max(worst, float(np.max(np.abs(error[i]) / (atol + rtol * a))))
        return worst


def stepper(rtol: str | float) -> IMEX:
    if rtol == "default":
        return IMEX()
    if rtol == "old":
        return IMEX(rtol=1e-4, atol=1e-6, controller=_OldNorm(1e-4, 1e-6))
    return IMEX(rtol=float(rtol))


def grid_of(case: Case, refine: int = 1) -> cd.Grid:
    model = cd.catalogue.load(case.model)
    base = cd.default_grid(model, case.cells)
    return cd.default_grid(model, tuple(n * refine for n in base.shape))


def initial(case: Case, refine: int) -> np.ndarray | None:
    """Initial state on the grid refined ``refine`` times (None: the model's own expressions)."""
    model = cd.catalogue.load(case.model)
    base = grid_of(case)
    if case.smooth_ks:
        return ks_initial(base.shape[0] * refine)
    if not any("noise" in str(s.initial) for s in model.species):
        return None
    U = initial_fields(model, base)
    for axis in range(1, U.ndim):
        U = np.repeat(U, refine, axis=axis)
    return U


_RUNS: dict = {}


def run(case: Case, rtol: str | float, refine: int = 1) -> dict:
    """One run (cached: the space error's runs are the default's rtol/100 run)."""
    key = (case, rtol if isinstance(rtol, str) else float(rtol), refine)
    if key not in _RUNS:
        _RUNS[key] = _run(case, rtol, refine)
    return _RUNS[key]


def _run(case: Case, rtol: str | float, refine: int) -> dict:
    model = cd.catalogue.load(case.model)
    t_end = case.t_end or model.defaults.t_end
    every = case.every or model.defaults.save_every or t_end / 20
    w = time.perf_counter()
    sol = cd.solve(
        model, grid_of(case, refine), t_end, stepper=stepper(rtol), save_every=every, initial=initial(case, refine)
    )
    return {
        "t": np.asarray(sol.t),
        "frames": np.asarray(sol.frames),
        "steps": sol.stats.n_steps,
        "rejected": sol.stats.n_rejected,
        "limited": sol.stats.n_limited,
        "stepping": sol.stats.wall_stepping,
        "wall": time.perf_counter() - w,
        "status": sol.status.label,
    }


def restrict(fine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Cell averages of ``fine`` on the coarser grid ``shape`` (any dimension)."""
    r = [f // c for f, c in zip(fine.shape, shape)]
    view = fine.reshape(*[x for c, k in zip(shape, r) for x in (c, k)])
    return view.mean(axis=tuple(range(1, 2 * len(shape), 2)))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """``max_i ‖a_i − b_i‖₁ / max(‖b_i‖₁, 0.01 · cells)`` (``b`` restricted to ``a``'s grid when
    finer)."""
    worst = 0.0
    for ai, bi in zip(a, b):
        if bi.shape != ai.shape:
            bi = restrict(bi, ai.shape)
        norm = max(float(np.sum(np.abs(bi))), FLOOR * bi.size)
        worst = max(worst, float(np.sum(np.abs(ai - bi))) / norm)
    return worst


def study(name: str, rtols: list[str], space_rtol: float | None) -> dict:
    case = CASES[name]
    grid = grid_of(case)
    resolved = {r: (1e-4 if r == "old" else stepper(r).tolerances(_system(case))[0]) for r in rtols}
    print(f"# {name}: {grid.describe()}, rtol {resolved}", flush=True)
    out: dict = {"case": name, "model": case.model, "grid": list(grid.shape), "rtol": resolved, "runs": {}}
    for r in rtols:
        x = run(case, r)
        out["runs"][r] = {k: x[k] for k in ("steps", "rejected", "limited", "stepping", "wall", "status")}
        print(
            f"  {r} ({resolved[r]:.3g}): {x['steps']} steps, {x['rejected']} rejected, {x['limited']} limited"
            f" by stability, stepping {x['stepping']:.2f} s, {x['status']}",
            flush=True,
        )
    base = resolved["default"] if "default" in resolved else min(v for k, v in resolved.items() if k != "old")
    tight = space_rtol or base / 100
    coarse, fine = run(case, tight), run(case, tight, refine=2)
    print(f"  rtol {tight:.3g}: {coarse['steps']} / {fine['steps']} steps on the grid / 2x grid", flush=True)
    times = coarse["t"]
    space = np.array([distance(coarse["frames"][k], fine["frames"][k]) for k in range(len(times))])
    out["t"], out["space"], out["time"] = times.tolist(), space.tolist(), {}
    out["total"] = {}
    for r in rtols:
        ref = run(case, resolved[r] / 100) if r != "old" else coarse
        x = run(case, r)
        out["time"][r] = [distance(x["frames"][k], ref["frames"][k]) for k in range(len(times))]
        # the whole error of the run: against the 2x grid at the tight tolerance
        out["total"][r] = [distance(x["frames"][k], fine["frames"][k]) for k in range(len(times))]
    decorrelated = np.flatnonzero(space > DECORRELATED)
    last = decorrelated[0] if len(decorrelated) else len(times)
    out["decorrelated_at"] = float(times[last]) if last < len(times) else None
    for r in rtols:
        ratios = np.array(out["time"][r][1:last]) / np.maximum(space[1:last], 1e-300)
        k = int(np.argmax(ratios)) + 1 if len(ratios) else None
        out.setdefault("worst", {})[r] = None if k is None else {"t": float(times[k]), "ratio": float(ratios[k - 1])}
    for k in range(1, len(times)):
        cells = "  ".join(
            f"{r} {out['time'][r][k]:.2e} ({out['time'][r][k] / space[k]:.2f}, total {out['total'][r][k]:.2e})"
            for r in rtols
        )
        mark = "  (decorrelated)" if k >= last else ""
        print(f"  t = {times[k]:<6g} space {space[k]:.2e}  time: {cells}{mark}", flush=True)
    for r in rtols:
        w = out["worst"][r]
        if w:
            print(f"  worst time/space for {r}: {w['ratio']:.2f} at t = {w['t']:g}", flush=True)
    return out


def _system(case: Case):
    from crossdiff.fv import Discretisation

    return Discretisation(cd.catalogue.load(case.model), grid_of(case))


def work_precision(grids: list[int], rtols: list[str], ref_grid: int, ref_rtol: float) -> list[dict]:
    """The benchmark Keller–Segel problem (smooth noise) to t = 20 on each grid at each tolerance:
    L1-relative error of u at t = 4 against ``ref_grid`` at ``ref_rtol`` (cell averages), steps
    and stepping time of the whole run (the table of docs/numerics.md, "Choosing the tolerance")."""
    model = cd.catalogue.load("keller-segel-logistic")
    ref = cd.solve(
        model,
        cd.default_grid(model, (ref_grid, ref_grid)),
        4.0,
        stepper=IMEX(rtol=ref_rtol),
        save_every=4.0,
        initial=ks_initial(ref_grid),
    ).final[0]
    print(f"# reference {ref_grid}^2, rtol {ref_rtol:g}", flush=True)
    rows = []
    for n in grids:
        for r in rtols:
            sol = cd.solve(
                model, cd.default_grid(model, (n, n)), 20.0, stepper=stepper(r), save_every=4.0, initial=ks_initial(n)
            )
            coarse = restrict(ref, (n, n))
            err = float(np.sum(np.abs(sol.frames[1][0] - coarse)) / np.sum(np.abs(coarse)))
            row = {"n": n, "rtol": r, "error": err, "steps": sol.stats.n_steps, "stepping": sol.stats.wall_stepping}
            rows.append(row)
            print(f"  {n}^2 rtol {r}: error(t=4) {err:.2e}, {row['steps']} steps, {row['stepping']:.2f} s", flush=True)
    return rows


def table(results: list[dict]) -> str:
    """The summary as a Markdown table (needs the ``default`` and ``old`` tolerances)."""
    lines = [
        "| case | grid | default rtol | worst time/space, default (old) | at the end: t, space error, time error"
        " default (old) | steps default / old | stepping s default / old |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in results:
        grid = "×".join(map(str, x["grid"]))
        worst = x["worst"]
        if worst["default"] is None:
            w = "— (decorrelated from the first frame)"
        else:
            w = f"{worst['default']['ratio']:.2f} at t = {worst['default']['t']:g} ({worst['old']['ratio']:.2f})"
        if x["decorrelated_at"] is not None:
            w += f"; grids decorrelated from t = {x['decorrelated_at']:g}"
        end = f"{x['t'][-1]:g}, {x['space'][-1]:.1e}, {x['time']['default'][-1]:.1e} ({x['time']['old'][-1]:.1e})"
        d, o = x["runs"]["default"], x["runs"]["old"]
        lines.append(
            f"| {x['case']} | {grid} | {x['rtol']['default']:.2g} | {w} | {end} | {d['steps']} / {o['steps']}"
            f" | {d['stepping']:.2f} / {o['stepping']:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(k for k in CASES if not k.startswith("ks-")))
    ap.add_argument("--rtols", default="default,old", help="comma-separated: 'default', 'old', numbers")
    ap.add_argument("--space-rtol", type=float, help="tolerance of the space-error runs (default: default/100)")
    ap.add_argument("--json", help="write every figure to this JSON file")
    ap.add_argument("--table", help="print the summary table of this JSON file (no runs)")
    ap.add_argument(
        "--work-precision",
        metavar="GRIDS",
        help="instead: the benchmark problem on these grids (e.g. 64,128,256) at --rtols, error at t = 4",
    )
    ap.add_argument("--ref-grid", type=int, default=768, help="reference grid of --work-precision")
    ap.add_argument("--ref-rtol", type=float, default=1e-8, help="reference tolerance of --work-precision")
    a = ap.parse_args(argv)
    if a.work_precision:
        rows = work_precision([int(n) for n in a.work_precision.split(",")], a.rtols.split(","), a.ref_grid, a.ref_rtol)
        if a.json:
            Path(a.json).write_text(json.dumps(rows, indent=1))
        return 0
    if a.table:
        print(table(json.loads(Path(a.table).read_text())))
        return 0
    results = [study(name, a.rtols.split(","), a.space_rtol) for name in a.cases.split(",")]
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    if {"default", "old"} <= set(a.rtols.split(",")):
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
