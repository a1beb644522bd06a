"""Work–precision comparison on Keller–Segel: crossdiff's cost at equal or better error than py-pde.

    .venv/bin/python bench/work_precision.py --pypde RESULTS.json [--grids 32,64,128,256]
        [--rtols default,3e-3,1e-3,3e-4,1e-4,3e-5,1e-5] [--orders 4,3] [--also 512@default,32@1e-2@3]
        [--ref-grid 1024] [--ref-dir DIR] [--pypde-errors 64=..,128=..,256=..,512=..]

``bench_macro.py`` compares the two codes grid by grid at one crossdiff tolerance. The issue's
targets are "at equal or better error", and the two codes do not have the same error on the same
grid (crossdiff's t = 4 error on 64² is close to py-pde's on 256²), so this script measures
crossdiff over a grid × tolerance table and, for every py-pde run, picks the cheapest crossdiff
run whose error is not larger:

1. crossdiff runs problem ``ks`` (bench/_problems.py) to t_end = 20 in a fresh process per
   (IMEX pair, grid, rtol) case (``atol = rtol/100``; ``default`` is crossdiff's default
   tolerance of the grid, ``0.5/N²``, :func:`crossdiff.time.default_rtol`; pairs: the default
   fourth-order ARK4(3)6L[2]SA and the third-order ARK3(2)4L[2]SA, ``--stepper imex3``),
   timing the whole process and the stepping exactly as ``bench_macro.py`` does (same worker);
   ``--also N@RTOL[@ORDER]`` adds single runs (fourth order unless given), e.g. the expensive
   512² ones; ``--merge OUT.json`` adds the runs of an earlier invocation (``--json``, with
   ``--keep`` directories);
2. the error of each run is the L1-relative error of ``u`` at t = 4, cell-averaged, against
   crossdiff on the reference grid (default 1024², a multiple of every power-of-two grid up to
   512) with rtol = 3e-7 (``--ref-dir`` reuses a directory holding its ``snap.npy``); a grid
   that does not divide the reference grid gets no error;
3. py-pde's runs (whole process, stepping, and their t = 4 error against py-pde's own run on a
   finer grid) come from a ``bench_macro.py --json`` file; where that file has no py-pde
   reference errors, ``--pypde-errors`` supplies them (py-pde's discretisation and step do not
   depend on crossdiff, so errors measured once stay valid for the same py-pde version).

Both codes are measured against their own finest solution (no common exact solution exists), as
in ``bench_macro.py``. The t = 4 error is the one that can be compared: KS with logistic growth
is chaotic later (see bench/README.md).

Stepping is compared with compilation excluded on both sides: py-pde's stepping leaves out its
first 2 % of the time (it compiles lazily), crossdiff's its first step (the first calls of the
cached compiled kernels and transforms), both scaled to the whole run; ``stepping`` in the JSON
is crossdiff's whole loop.

Printed: every crossdiff run; for each grid, the error at the default tolerance against the
smallest error measured on that grid (the space error: time error below it when the ratio is
below 2); for each py-pde run the cheapest crossdiff run at ≤ its error, by whole process and by
stepping alone, with the issue's targets (process ≥ 30× the string PDE and ≥ 5× the
hand-written Numba PDE; stepping faster than the hand-written Numba PDE).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # this checkout's crossdiff (default_rtol)
from _problems import PROBLEMS, l1_rel
from bench_macro import git_state, load_average, load_state, run_case

REF_RTOL = 3e-7
#: the issue's targets: whole process against the string and the hand-written py-pde PDE, and
#: stepping alone against the hand-written one
TARGETS = {"pypde-string": (30.0, None), "pypde-numba": (5.0, 1.0)}


def default_rtol(n: int) -> float:
    """crossdiff's default tolerance on an ``n × n`` grid (imported lazily: the parent process
    needs no Numba)."""
    from crossdiff.time import default_rtol as rule

    return rule((n, n))


def fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def parse_rtol(text: str, n: int) -> tuple[float, bool]:
    """``(rtol, is_default)`` of one ``--rtols`` entry on an ``n × n`` grid."""
    return (default_rtol(n), True) if text == "default" else (float(text), False)


def parse_errors(text: str | None) -> dict[int, float]:
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        n, e = item.split("=")
        out[int(n)] = float(e)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--pypde",
        required=True,
        help="bench_macro.py --json output with the py-pde ks runs (read after the crossdiff runs: waits for it)",
    )
    ap.add_argument("--pypde-errors", help="py-pde t=4 errors per grid, e.g. 64=9.82e-2,128=3.15e-2,256=6.90e-3")
    ap.add_argument("--grids", default="32,64,128,256")
    ap.add_argument(
        "--rtols", default="default,3e-3,1e-3,3e-4,1e-4,3e-5,1e-5", help="'default': crossdiff's 0.5/N^2 of the grid"
    )
    ap.add_argument(
        "--also", default="", help="extra runs N@RTOL[@ORDER] (order 4 unless given), e.g. 512@default,64@3e-3@3"
    )
    ap.add_argument(
        "--orders", default="4,3", help="IMEX pairs to try: 4 = ARK4(3)6L[2]SA (default), 3 = ARK3(2)4L[2]SA"
    )
    ap.add_argument("--ref-grid", type=int, default=1024)
    ap.add_argument(
        "--ref-dir",
        help="directory with the crossdiff reference snap.npy (skips the reference run; waits for the file if a "
        "separate reference run has not written it yet, and computes the errors after the runs)",
    )
    ap.add_argument("--keep", help="keep the run directories here")
    ap.add_argument(
        "--merge",
        action="append",
        default=[],
        help="add the runs of an earlier --json output (kept run directories: errors recomputed against this "
        "reference); repeatable",
    )
    ap.add_argument("--json", help="write the table to this JSON file")
    ap.add_argument(
        "--by",
        choices=["cpu", "wall"],
        default="cpu",
        help="pick the cheapest crossdiff run and state the targets by CPU time (default: steadier on a shared "
        "machine) or wall time; the other is printed next to it",
    )
    a = ap.parse_args(argv)

    p = PROBLEMS["ks"]
    t_end, t_snap = p["t_end"], p["t_snap"]
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="crossdiff-wp-"))
    print(f"# work-precision, ks, crossdiff at {git_state()}, load {load_average()}, dir {root}", flush=True)

    def reference() -> np.ndarray | None:
        if a.ref_dir:
            path = Path(a.ref_dir) / "snap.npy"
            while not path.exists():  # a reference run started separately may still be going
                print(f"# waiting for {path}", flush=True)
                time.sleep(60)
            return np.load(path)
        r = run_case(
            "crossdiff",
            "ks",
            a.ref_grid,
            root / "ref",
            [
                "--t-end",
                repr(t_snap),
                "--t-snap",
                repr(t_snap),
                "--rtol",
                repr(REF_RTOL),
                "--atol",
                repr(REF_RTOL / 100),
            ],
        )
        if r.get("failed"):
            print(r["stderr"])
            return None
        return load_state(r, "snap")

    # the reference first, unless it is another process's (then its errors come after the runs)
    ref = None if a.ref_dir else reference()
    if ref is None and not a.ref_dir:
        return 1

    cases = [
        (order, int(g), r)
        for order in [int(o) for o in a.orders.split(",")]
        for g in filter(None, a.grids.split(","))
        for r in filter(None, a.rtols.split(","))
    ]
    for item in filter(None, a.also.split(",")):
        n_text, rtol_text, *order_text = item.split("@")
        cases.append((int(order_text[0]) if order_text else 4, int(n_text), rtol_text))
    runs = []
    for order, n, rtol_text in cases:
        rtol, is_default = parse_rtol(rtol_text, n)
        label = f"default {rtol:.2g}" if is_default else f"{rtol:g}"
        r = run_case(
            "crossdiff",
            "ks",
            n,
            root / f"{n}-{rtol_text}-o{order}",
            [
                "--t-end",
                repr(t_end),
                "--t-snap",
                repr(t_snap),
                "--rtol",
                repr(rtol),
                "--atol",
                repr(rtol / 100),
                "--order",
                str(order),
            ],
        )
        if r.get("failed"):
            print(f"  FAILED {n}^2 rtol {label} order {order}: {r['stderr'][-400:]}", flush=True)
            continue
        err = l1_rel(load_state(r, "snap")[0], ref[0]) if ref is not None and ref.shape[-1] % n == 0 else None
        runs.append(
            {
                "dir": r["dir"],
                "n": n,
                "rtol": rtol,
                "default": is_default,
                "order": order,
                "process": r["wall_process"],
                "process_cpu": r["cpu_process"],
                "stepping": r["stepping"],
                "stepping_cpu": r["stepping_cpu"],
                # compilation excluded, as py-pde's stepping (None from an older worker)
                "steady": r.get("stepping_steady"),
                "steady_cpu": r.get("stepping_steady_cpu"),
                "steps": r["steps"],
                "rejected": r["rejected"],
                "error": err,
            }
        )
        print(
            f"  crossdiff IMEX{order} {n:>4}^2 rtol {label:<14} process {r['wall_process']:6.2f} s (cpu {r['cpu_process']:6.2f})  "
            f"stepping {r['stepping']:7.3f} s (cpu {r['stepping_cpu']:7.3f}; after the first step "
            f"{fmt_s(r.get('stepping_steady_cpu'))})  {r['steps']:>5} steps  "
            f"error(t={t_snap:g}) {'-' if err is None else format(err, '.2e')}  [load {load_average()}]",
            flush=True,
        )

    # an earlier invocation's runs, less the cases run again here
    again = {(r["n"], r["rtol"], r["order"]) for r in runs}
    merged = [
        run
        for path in a.merge
        for run in json.loads(Path(path).read_text())["runs"]
        if (run["n"], run["rtol"], run["order"]) not in again
    ]
    if ref is None or merged:
        ref = reference() if ref is None else ref
        assert ref is not None
        runs += merged
        print(
            f"\n# errors at t = {t_snap:g} against the reference ({len(merged)} runs merged from {', '.join(a.merge) or '-'})"
        )
        for run in runs:
            n = run["n"]
            snap = Path(run.get("dir", "-")) / "snap.npy"
            if ref.shape[-1] % n == 0 and snap.exists():
                run["error"] = l1_rel(np.load(snap)[0], ref[0])
            err = run["error"]
            print(
                f"  IMEX{run['order']} {n:>4}^2 rtol {run['rtol']:<10.3g}{' (default)' if run['default'] else '':<10} "
                f"process cpu {run['process_cpu']:6.2f} s  stepping cpu {run['stepping_cpu']:7.3f} s "
                f"(after the first step {fmt_s(run.get('steady_cpu'))})  {run['steps']:>5} steps  "
                f"error {'-' if err is None else format(err, '.3e')}"
            )
    print(f"# reference: crossdiff {ref.shape[-1]}^2, rtol {REF_RTOL:g}, t = {t_snap:g}", flush=True)

    print("\n# time error against space error: per grid, the error at the default tolerance and the smallest measured")
    for n in sorted({r["n"] for r in runs}):
        mine = [r for r in runs if r["n"] == n and r["error"] is not None]
        default = [r for r in mine if r["default"] and r["order"] == 4]
        if not default or len(mine) < 2:
            continue
        floor = min(r["error"] for r in mine)
        tight = min(mine, key=lambda r: r["rtol"])
        d = default[0]
        print(
            f"  {n:>4}^2: default rtol {d['rtol']:.2g} error {d['error']:.3e}; smallest error {floor:.3e} "
            f"(tightest rtol {tight['rtol']:g}: {tight['error']:.3e}); default / smallest {d['error'] / floor:.2f}"
        )

    while not Path(a.pypde).exists():  # a bench_macro.py run started alongside may still be going
        print(f"# waiting for {a.pypde}", flush=True)
        time.sleep(60)
    bench = json.loads(Path(a.pypde).read_text())
    given = parse_errors(a.pypde_errors)
    peers = [
        r for r in bench["results"] if r["problem"] == "ks" and r["solver"].startswith("pypde") and not r.get("failed")
    ]
    print(
        f"\n# py-pde runs from {a.pypde} ({bench['header']['date']}, load at start {bench['header']['load_average_start']})"
    )
    print(
        f"# for each py-pde run: the cheapest crossdiff run (whole process; stepping) with error <= py-pde's error, "
        f"by {a.by} time (in brackets: the same runs' ratio in {'wall' if a.by == 'cpu' else 'CPU'} time)"
    )
    print(
        f"{'py-pde':>14} {'grid':>5} {'error':>9} {'process':>8} {'stepping':>8} | {'crossdiff (process)':>34} {'ratio':>6} | "
        f"{'crossdiff (stepping)':>34} {'ratio':>6} | targets"
    )
    table = []
    for q in peers:
        err = q.get("error_snap") or given.get(q["n"])
        if err is None:
            continue
        ok = [r for r in runs if r["error"] is not None and r["error"] <= err]
        if not ok:
            print(f"{q['solver']:>14} {q['n']:>4}² {err:9.2e}  no crossdiff run reaches this error")
            continue
        pk, qp = ("process_cpu", "cpu_process") if a.by == "cpu" else ("process", "wall_process")
        qs = "stepping_cpu" if a.by == "cpu" else "stepping"
        for r in ok:  # stepping with compilation excluded, as py-pde's (the whole loop if not measured)
            r["step_cost"] = r.get("steady_cpu" if a.by == "cpu" else "steady") or r[qs]
            r["step_cost_other"] = (
                r.get("steady" if a.by == "cpu" else "steady_cpu") or r["stepping" if a.by == "cpu" else "stepping_cpu"]
            )
        sk = "step_cost"
        best_p = min(ok, key=lambda r: r[pk])
        best_s = min(ok, key=lambda r: r[sk])
        row = {
            "pypde": q["solver"],
            "n": q["n"],
            "pypde_error": err,
            "pypde_process": q["wall_process"],
            "pypde_process_cpu": q["cpu_process"],
            "pypde_stepping": q["stepping"],
            "pypde_stepping_cpu": q["stepping_cpu"],
            "best_process": best_p,
            "best_stepping": best_s,
            "ratio_process": q[qp] / best_p[pk],
            "ratio_stepping": q[qs] / best_s[sk],
            # the same choices in the other clock
            "ratio_process_other": q["wall_process" if a.by == "cpu" else "cpu_process"]
            / best_p["process" if a.by == "cpu" else "process_cpu"],
            "ratio_stepping_other": q["stepping" if a.by == "cpu" else "stepping_cpu"] / best_s["step_cost_other"],
        }
        table.append(row)
        want_p, want_s = TARGETS.get(q["solver"], (None, None))
        verdict = []
        if want_p is not None:
            verdict.append(f"process >= {want_p:g}x {'met' if row['ratio_process'] >= want_p else 'MISSED'}")
        if want_s is not None:
            verdict.append(f"stepping > {want_s:g}x {'met' if row['ratio_stepping'] > want_s else 'MISSED'}")

        def name(r):
            rt = f"default {r['rtol']:.2g}" if r["default"] else f"rtol {r['rtol']:g}"
            return f"IMEX{r['order']} {r['n']}² {rt}"

        left = f"{name(best_p)} {best_p[pk]:.2f}s"
        right = f"{name(best_s)} {best_s[sk]:.3f}s"
        print(
            f"{q['solver']:>14} {q['n']:>4}² {err:9.2e} {q[qp]:7.1f}s {q[qs]:7.2f}s | "
            f"{left:>34} {row['ratio_process']:5.1f}x ({row['ratio_process_other']:.1f}x) | {right:>34} "
            f"{row['ratio_stepping']:5.2f}x ({row['ratio_stepping_other']:.2f}x) | {'; '.join(verdict)}"
        )
    if a.json:
        Path(a.json).write_text(json.dumps({"runs": runs, "table": table}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
