"""Work–precision comparison on Keller–Segel: crossdiff's cost at equal or better error than py-pde.

    .venv/bin/python bench/work_precision.py --pypde RESULTS.json [--grids 64,128,256]
        [--rtols 1e-3,3e-4,1e-4,3e-5,1e-5] [--ref-dir DIR] [--pypde-errors 64=..,128=..,256=..]

``bench_macro.py`` compares the two codes grid by grid at one crossdiff tolerance. The issue's
targets are "at equal or better error", and the two codes do not have the same error on the same
grid (crossdiff's t = 4 error on 64² is close to py-pde's on 256²), so this script measures
crossdiff over a grid × tolerance table and, for every py-pde run, picks the cheapest crossdiff
run whose error is not larger:

1. crossdiff runs problem ``ks`` (bench/_problems.py) to t_end = 20 in a fresh process per
   (IMEX pair, grid, rtol) case (``atol = rtol/100``; pairs: the default fourth-order
   ARK4(3)6L[2]SA and the third-order ARK3(2)4L[2]SA, ``--stepper imex3``), timing the whole process and the stepping exactly as
   ``bench_macro.py`` does (same worker);
2. the error of each run is the L1-relative error of ``u`` at t = 4, cell-averaged, against
   crossdiff on the reference grid (default 512²) with rtol = 3e-7 (``--ref-dir`` reuses a
   ``bench_macro.py --keep`` reference directory holding ``snap.npy``);
3. py-pde's runs (whole process, stepping, and their t = 4 error against py-pde's own 512² run)
   come from a ``bench_macro.py --json`` file; where that file has no py-pde reference errors,
   ``--pypde-errors`` supplies them (py-pde's discretisation and step do not depend on crossdiff,
   so errors measured once stay valid for the same py-pde version).

Both codes are measured against their own finest solution (no common exact solution exists), as
in ``bench_macro.py``. The t = 4 error is the one that can be compared: KS with logistic growth
is chaotic later (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _problems import PROBLEMS, l1_rel
from bench_macro import git_state, load_average, load_state, run_case

REF_RTOL = 3e-7


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
    ap.add_argument("--pypde", required=True, help="bench_macro.py --json output with the py-pde ks runs")
    ap.add_argument("--pypde-errors", help="py-pde t=4 errors per grid, e.g. 64=9.82e-2,128=3.15e-2,256=6.90e-3")
    ap.add_argument("--grids", default="64,128,256")
    ap.add_argument("--rtols", default="1e-3,3e-4,1e-4,3e-5,1e-5")
    ap.add_argument(
        "--orders", default="4,3", help="IMEX pairs to try: 4 = ARK4(3)6L[2]SA (default), 3 = ARK3(2)4L[2]SA"
    )
    ap.add_argument("--ref-grid", type=int, default=512)
    ap.add_argument("--ref-dir", help="directory with the crossdiff reference snap.npy (skips the reference run)")
    ap.add_argument("--keep", help="keep the run directories here")
    ap.add_argument("--json", help="write the table to this JSON file")
    a = ap.parse_args(argv)

    p = PROBLEMS["ks"]
    t_end, t_snap = p["t_end"], p["t_snap"]
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="crossdiff-wp-"))
    print(f"# work-precision, ks, crossdiff at {git_state()}, load {load_average()}, dir {root}", flush=True)

    if a.ref_dir:
        ref = np.load(Path(a.ref_dir) / "snap.npy")
    else:
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
            return 1
        ref = load_state(r, "snap")
    print(f"# reference: crossdiff {ref.shape[-1]}^2, rtol {REF_RTOL:g}, t = {t_snap:g}", flush=True)

    runs = []
    for order in [int(o) for o in a.orders.split(",")]:
        for n in [int(g) for g in a.grids.split(",")]:
            for rtol in [float(x) for x in a.rtols.split(",")]:
                r = run_case(
                    "crossdiff",
                    "ks",
                    n,
                    root / f"{n}-{rtol:g}-o{order}",
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
                    print(f"  FAILED {n}^2 rtol {rtol:g} order {order}: {r['stderr'][-400:]}", flush=True)
                    continue
                err = l1_rel(load_state(r, "snap")[0], ref[0])
                runs.append(
                    {
                        "n": n,
                        "rtol": rtol,
                        "order": order,
                        "process": r["wall_process"],
                        "stepping": r["stepping"],
                        "steps": r["steps"],
                        "error": err,
                    }
                )
                print(
                    f"  crossdiff IMEX{order} {n:>4}^2 rtol {rtol:<7g} process {r['wall_process']:6.2f} s  stepping "
                    f"{r['stepping']:6.2f} s  {r['steps']:>5} steps  error(t={t_snap:g}) {err:.2e}  [load {load_average()}]",
                    flush=True,
                )

    bench = json.loads(Path(a.pypde).read_text())
    given = parse_errors(a.pypde_errors)
    peers = [
        r for r in bench["results"] if r["problem"] == "ks" and r["solver"].startswith("pypde") and not r.get("failed")
    ]
    print(
        f"\n# py-pde runs from {a.pypde} ({bench['header']['date']}, load at start {bench['header']['load_average_start']})"
    )
    print("# for each py-pde run: the cheapest crossdiff run (whole process; stepping) with error <= py-pde's error")
    print(
        f"{'py-pde':>14} {'grid':>5} {'error':>9} {'process':>8} {'stepping':>8} | {'crossdiff (process)':>32} {'ratio':>6} | "
        f"{'crossdiff (stepping)':>32} {'ratio':>6}"
    )
    table = []
    for q in peers:
        err = q.get("error_snap") or given.get(q["n"])
        if err is None:
            continue
        ok = [r for r in runs if r["error"] <= err]
        if not ok:
            print(f"{q['solver']:>14} {q['n']:>4}² {err:9.2e}  no crossdiff run reaches this error")
            continue
        best_p = min(ok, key=lambda r: r["process"])
        best_s = min(ok, key=lambda r: r["stepping"])
        row = {
            "pypde": q["solver"],
            "n": q["n"],
            "pypde_error": err,
            "pypde_process": q["wall_process"],
            "pypde_stepping": q["stepping"],
            "best_process": best_p,
            "best_stepping": best_s,
            "ratio_process": q["wall_process"] / best_p["process"],
            "ratio_stepping": q["stepping"] / best_s["stepping"],
        }
        table.append(row)

        left = f"IMEX{best_p['order']} {best_p['n']}² rtol {best_p['rtol']:g} {best_p['process']:.2f}s"
        right = f"IMEX{best_s['order']} {best_s['n']}² rtol {best_s['rtol']:g} {best_s['stepping']:.2f}s"
        print(
            f"{q['solver']:>14} {q['n']:>4}² {err:9.2e} {q['wall_process']:7.1f}s {q['stepping']:7.2f}s | "
            f"{left:>32} {row['ratio_process']:5.1f}x | {right:>32} {row['ratio_stepping']:5.2f}x"
        )
    if a.json:
        Path(a.json).write_text(json.dumps({"runs": runs, "table": table}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
