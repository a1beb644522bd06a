"""Macro benchmark of issue 3: crossdiff vs py-pde on two problems and several grids.

    .venv/bin/python bench/bench_macro.py [--grids 64,128,256] [--problems ks,cancer] [--quick]
        [--skip-pypde-string] [--t-end T] [--ref-grid M] [--json out.json]

Every (problem, grid, solver) case runs in a FRESH Python process (bench/_worker.py), so the
whole-process wall time includes interpreter start, imports and any compilation, and the peak
RSS is that run's own. The worker writes the final state (and the state at an early time) to
.npy files in a temporary directory; this process computes the errors.

Error: L1-relative error of the first species ``‖u_h − R u_ref‖₁ / ‖R u_ref‖₁`` where ``u_ref``
is the SAME solver's own run on a finer grid and ``R`` is cell averaging onto the coarse grid:
* at the early time t_snap (ks: 4, cancer: 10) against the solver's run on the reference grid
  (default 2 × the finest grid, run to t_snap only: a 512^2 run to t_end costs crossdiff
  ~25 CPU-minutes on KS);
* at t_end against the solver's own run on the finest benchmark grid (so not for that grid),
  or against the reference grid with ``--ref-full`` (references then run to t_end). py-pde's string PDE and its hand-written Numba PDE are the
same discretisation (same operators, boundary conditions, Euler step); both are measured against
the Numba run's reference, and the script prints how far apart the two are on every grid.
Errors are given at t_end and at an early time (t_snap), because Keller–Segel with logistic
growth is chaotic over t = 20 (Painter & Hillen 2011): at t_end every solver can be O(1) away from
its own finer grid, and the script flags this.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _problems import PROBLEMS, l1_rel

SOLVERS = ("crossdiff", "pypde-numba", "pypde-string")
SHORT = {"crossdiff": "crossdiff", "pypde-numba": "py-pde numba", "pypde-string": "py-pde string"}
CHAOS_THRESHOLD = 0.2  # an error this large at t_end means the trajectories have decorrelated


def run_case(solver: str, problem: str, n: int, outdir: Path, extra: list[str], timeout: float | None = None) -> dict:
    """Run one case in a fresh interpreter; returns its result dict (with ``wall_process``)."""
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / "_worker.py"), solver, problem, str(n), str(outdir), *extra]
    env = dict(os.environ)
    # the checkout this script belongs to, not whatever crossdiff the interpreter would import
    # (an editable install of another checkout): the worker's own path is bench/, not the root
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent), env.get("PYTHONPATH", "")) if p)
    t0 = time.time()
    env["BENCH_T0"] = repr(t0)
    w0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - w0
    if proc.returncode != 0:
        return {
            "solver": solver,
            "problem": problem,
            "n": n,
            "failed": True,
            "wall_process": wall,
            "stderr": proc.stderr[-2000:],
        }
    res = json.loads((outdir / "result.json").read_text())
    res["wall_process"] = wall
    res["dir"] = str(outdir)
    return res


def load_state(res: dict, which: str) -> np.ndarray | None:
    path = Path(res["dir"]) / f"{which}.npy"
    return np.load(path) if path.exists() else None


def fmt(x, spec=".3g", none="-"):
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return none
    return format(x, spec)


def git_state() -> str:
    """Commit of the crossdiff checkout, and whether crossdiff/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "crossdiff"], cwd=HERE.parent, capture_output=True, text=True
        ).stdout
        return f"{head}{' + uncommitted changes in crossdiff/' if dirty.strip() else ''}"
    except OSError:
        return "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grids", default="64,128,256", help="comma-separated cells per axis (default 64,128,256)")
    ap.add_argument("--problems", default="ks,cancer", help="comma-separated: ks, cancer")
    ap.add_argument("--t-end", type=float, help="end time for every problem (default: ks 20, cancer 60)")
    ap.add_argument("--quick", action="store_true", help="64^2 only, short times (ks t=2, cancer t=6), reference 128^2")
    ap.add_argument(
        "--skip-pypde-string", action="store_true", help="skip py-pde's string PDE (it compiles for minutes)"
    )
    ap.add_argument("--skip-pypde", action="store_true", help="crossdiff only")
    ap.add_argument("--ref-grid", type=int, help="reference grid (default 2 x the finest grid); 0 = no references")
    ap.add_argument("--ref-full", action="store_true", help="run the references to t_end (default: to t_snap only)")
    ap.add_argument("--rtol", type=float, default=1e-4, help="crossdiff IMEX rtol (default 1e-4; atol = rtol/100)")
    ap.add_argument(
        "--ref-rtol",
        type=float,
        help="crossdiff rtol of the reference runs (default rtol/100, so that their "
        "time error is negligible, as py-pde's small Euler steps make its own)",
    )
    ap.add_argument(
        "--ref-solvers",
        default="crossdiff,pypde-numba",
        help="solvers whose reference runs are made (default both; py-pde's 512^2 takes ~10 CPU-minutes)",
    )
    ap.add_argument("--dt-factor", type=float, default=0.2, help="py-pde Euler step dt = F h^2 (default 0.2)")
    ap.add_argument("--no-startup", action="store_true", help="skip the crossdiff start-up measurement")
    ap.add_argument("--json", help="write all results to this JSON file")
    ap.add_argument("--keep", help="keep the run directories here (default: a temporary directory)")
    a = ap.parse_args(argv)

    grids = [64] if a.quick else [int(g) for g in a.grids.split(",") if g]
    problems = [p for p in a.problems.split(",") if p]
    for p in problems:
        if p not in PROBLEMS:
            ap.error(f"unknown problem {p!r}; choose from {', '.join(PROBLEMS)}")
    solvers = ["crossdiff"] + (
        [] if a.skip_pypde else ["pypde-numba"] + ([] if a.skip_pypde_string else ["pypde-string"])
    )
    ref_grid = a.ref_grid if a.ref_grid is not None else 2 * max(grids)
    t_ends = {p: a.t_end or ((2.0 if p == "ks" else 6.0) if a.quick else PROBLEMS[p]["t_end"]) for p in problems}
    t_snaps = {
        p: min(PROBLEMS[p]["t_snap"], t_ends[p] / 2) if a.quick else min(PROBLEMS[p]["t_snap"], t_ends[p])
        for p in problems
    }

    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="crossdiff-bench-"))
    header = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_start": load_average(),
        "crossdiff_commit": git_state(),
        "grids": grids,
        "problems": problems,
        "solvers": solvers,
        "ref_grid": ref_grid,
        "t_end": t_ends,
        "t_snap": t_snaps,
        "crossdiff_rtol": a.rtol,
        "pypde_dt_factor": a.dt_factor,
    }
    print(f"# crossdiff macro benchmark  {header['date']}  {header['machine']}")
    print(f"# crossdiff at {header['crossdiff_commit']}")
    print(
        f"# load average at start: {header['load_average_start']}  (runs in fresh processes, one at a time; dir {root})"
    )
    for p in problems:
        note = " (catalogue defaults: domain [0,30]^2, t_end 60, chi 1, xi 5)" if p == "cancer" else ""
        print(f"# {PROBLEMS[p]['title']}{note}: t_end = {t_ends[p]:g}, errors also at t = {t_snaps[p]:g}")
    end_ref = f"{ref_grid}^2" if a.ref_full else f"its own {max(grids)}^2 run"
    print(
        f"# error: L1-relative of {', '.join(PROBLEMS[p]['species'][0] for p in problems)}, cell-averaged, vs the same solver "
        f"on a finer grid: at t_snap vs {f'{ref_grid}^2' if ref_grid else 'none (--ref-grid 0)'}, at t_end vs {end_ref} (py-pde string uses py-pde numba's "
        "references: same discretisation)"
    )
    print(
        f"# crossdiff: IMEX rtol={a.rtol:g}, atol={a.rtol / 100:g} (references: rtol={a.ref_rtol or a.rtol / 100:g}); py-pde: explicit Euler, fixed dt = {a.dt_factor:g} h^2",
        flush=True,
    )

    results: list[dict] = []
    refs: dict[tuple[str, str], dict] = {}

    def extra_for(solver: str, p: str, ref: bool = False) -> list[str]:
        t_end = t_snaps[p] if ref and not a.ref_full else t_ends[p]
        e = ["--t-end", repr(t_end), "--t-snap", repr(t_snaps[p])]
        if solver == "crossdiff":
            rtol = (a.ref_rtol or a.rtol / 100) if ref else a.rtol
            e += ["--rtol", repr(rtol), "--atol", repr(rtol / 100)]
        else:
            e += ["--dt-factor", repr(a.dt_factor)]
        return e

    def progress(r: dict, tag: str = "") -> None:
        if r.get("failed"):
            print(f"  FAILED {tag}{r['solver']} {r['problem']} {r['n']}^2: {r['stderr'][-600:]}", flush=True)
        else:
            print(
                f"  done {tag}{r['solver']:>13} {r['problem']:>6} {r['n']:>4}^2: process {r['wall_process']:.1f} s, "
                f"stepping {r['stepping']:.2f} s, {r['steps']} steps, {r['peak_rss_mb']:.0f} MB  [load {load_average()}]",
                flush=True,
            )

    for p in problems:
        for n in grids:
            for s in solvers:
                r = run_case(s, p, n, root / f"{p}-{n}-{s}", extra_for(s, p))
                progress(r)
                results.append(r)
        if ref_grid:
            for s in solvers:
                if s == "pypde-string" or s not in a.ref_solvers.split(","):
                    continue
                r = run_case(s, p, ref_grid, root / f"{p}-{ref_grid}-{s}-ref", extra_for(s, p, ref=True))
                r["reference"] = True
                progress(r, "reference ")
                refs[(p, s)] = r

    # ------------------------------------------------------------------ errors
    for r in results:
        if r.get("failed"):
            continue
        fam = "pypde-numba" if r["solver"] == "pypde-string" else r["solver"]
        ref = refs.get((r["problem"], fam))
        r["error_end"] = r["error_snap"] = None
        finest = next(
            (
                q
                for q in results
                if q["problem"] == r["problem"] and q["solver"] == fam and q["n"] == max(grids) and not q.get("failed")
            ),
            None,
        )
        end_ref = ref if a.ref_full else (finest if r["n"] < max(grids) else None)
        for which, key, R in (("final", "error_end", end_ref), ("snap", "error_snap", ref)):
            if R is None or R.get("failed"):
                continue
            A, B = load_state(r, which), load_state(R, which)
            if A is not None and B is not None:
                r[key] = l1_rel(A[0], B[0])
        if r["solver"] == "pypde-string":
            twin = next(
                (
                    q
                    for q in results
                    if q["problem"] == r["problem"]
                    and q["n"] == r["n"]
                    and q["solver"] == "pypde-numba"
                    and not q.get("failed")
                ),
                None,
            )
            if twin:
                A, B = load_state(r, "final"), load_state(twin, "final")
                r["diff_vs_numba"] = float(np.max(np.abs(A - B)) / np.max(np.abs(B)))

    # ------------------------------------------------------------------ table
    cols = [
        "problem",
        "grid",
        "solver",
        "process s",
        "(cpu)",
        "stepping s",
        "(cpu)",
        "steps",
        "peak MB",
        "err t_snap",
        "err t_end",
    ]
    rows = []
    for r in results:
        if r.get("failed"):
            rows.append([r["problem"], f"{r['n']}^2", SHORT[r["solver"]], "FAILED"] + [""] * 7)
            continue
        rows.append(
            [
                r["problem"],
                f"{r['n']}^2",
                SHORT[r["solver"]],
                fmt(r["wall_process"], ".1f"),
                fmt(r["cpu_process"], ".1f"),
                fmt(r["stepping"], ".2f"),
                fmt(r["stepping_cpu"], ".2f"),
                str(r["steps"]),
                fmt(r["peak_rss_mb"], ".0f"),
                fmt(r.get("error_snap"), ".2e"),
                fmt(r.get("error_end"), ".2e"),
            ]
        )
    for (p, s), r in refs.items():
        if not r.get("failed"):
            rows.append(
                [
                    p,
                    f"{r['n']}^2",
                    SHORT[s] + f" (ref, t={r['t_end']:g})",
                    fmt(r["wall_process"], ".1f"),
                    fmt(r["cpu_process"], ".1f"),
                    fmt(r["stepping"], ".2f"),
                    fmt(r["stepping_cpu"], ".2f"),
                    str(r["steps"]),
                    fmt(r["peak_rss_mb"], ".0f"),
                    "",
                    "",
                ]
            )
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    print()
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))

    # ------------------------------------------------------------------ ratios
    print(
        "\n# ratios py-pde / crossdiff (>1: crossdiff faster, fewer steps, less memory, smaller error); "
        "wall time and, in brackets, CPU time (less disturbed by other jobs)"
    )
    ratio_rows = []
    for p in problems:
        for n in grids:
            cdr = next(
                (
                    q
                    for q in results
                    if q["problem"] == p and q["n"] == n and q["solver"] == "crossdiff" and not q.get("failed")
                ),
                None,
            )
            if cdr is None:
                continue
            for s in solvers[1:]:
                q = next(
                    (
                        q
                        for q in results
                        if q["problem"] == p and q["n"] == n and q["solver"] == s and not q.get("failed")
                    ),
                    None,
                )
                if q is None:
                    continue
                rr = {
                    "problem": p,
                    "n": n,
                    "vs": s,
                    "process": q["wall_process"] / cdr["wall_process"],
                    "process_cpu": q["cpu_process"] / cdr["cpu_process"],
                    "stepping": q["stepping"] / cdr["stepping"],
                    "stepping_cpu": q["stepping_cpu"] / cdr["stepping_cpu"],
                    "steps": q["steps"] / max(cdr["steps"], 1),
                    "memory": q["peak_rss_mb"] / cdr["peak_rss_mb"],
                    "error_snap": (q["error_snap"] / cdr["error_snap"])
                    if q.get("error_snap") and cdr.get("error_snap")
                    else None,
                    "error_end": (q["error_end"] / cdr["error_end"])
                    if q.get("error_end") and cdr.get("error_end")
                    else None,
                }
                ratio_rows.append(rr)
                print(
                    f"  {p:>6} {n:>4}^2 vs {SHORT[s]:<14} process {rr['process']:6.1f}x (cpu {rr['process_cpu']:6.1f}x)  "
                    f"stepping {rr['stepping']:6.2f}x (cpu {rr['stepping_cpu']:6.2f}x)  "
                    f"steps {rr['steps']:6.1f}x  memory {rr['memory']:5.2f}x  error(t_snap) {fmt(rr['error_snap'], '.2f')}x  "
                    f"error(t_end) {fmt(rr['error_end'], '.2f')}x"
                )
    for r in results:
        if r.get("diff_vs_numba") is not None:
            print(
                f"  py-pde string vs numba, {r['problem']} {r['n']}^2: max relative difference of final states {r['diff_vs_numba']:.1e}"
            )
    chaotic = [r for r in results if (r.get("error_end") or 0) > CHAOS_THRESHOLD]
    if chaotic:
        print(
            f"\n# NOTE: {len(chaotic)} run(s) have an error > {CHAOS_THRESHOLD:g} at t_end against their own finer grid "
            f"({', '.join(sorted({r['problem'] for r in chaotic}))}): the trajectories have decorrelated "
            "(chaotic merging/emergence of aggregates); compare the errors at t_snap instead."
        )

    # ------------------------------------------------------------------ start-up of a second run
    startup = []
    if not a.no_startup:
        print("\n# crossdiff start-up: two fresh processes in a row (keller-segel-logistic 128^2, t_end 0.01)")
        for k in range(2):
            r = run_case("crossdiff", "ks", 128, root / f"startup-{k}", ["--t-end", "0.01", "--t-snap", "0.01"])
            startup.append(r)
            if not r.get("failed"):
                print(
                    f"  run {k + 1}: imports done {r['t_imports']:.2f} s, first step at {r['t_first_step']:.2f} s "
                    f"after process spawn (CPU used by then {r['cpu_first_step']:.2f} s; solve set-up "
                    f"{r['wall_setup'] * 1e3:.0f} ms), process total {r['wall_process']:.2f} s  target < 2 s: "
                    f"{'met' if r['t_first_step'] < 2 else 'NOT met'} (wall), {'met' if r['cpu_first_step'] < 2 else 'NOT met'} (CPU)"
                )

    header["load_average_end"] = load_average()
    print(f"\n# load average at end: {header['load_average_end']}")
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {
                    "header": header,
                    "results": results,
                    "references": [refs[k] for k in refs],
                    "ratios": ratio_rows,
                    "startup": startup,
                },
                indent=1,
                default=str,
            )
        )
        print(f"# wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
