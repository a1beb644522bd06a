"""Cut cells against the box: Keller–Segel with logistic growth in a disc inscribed in the box.

    .venv/bin/python bench/shapes.py [--grid 256] [--t-end 2] [--repeat 2]

Issue targets (docs/numerics.md, "Domains of any shape"): time per step on the disc at most 2×
the box's at the same grid, peak memory at most 1.5×, the step not limited by the smallest cut
cell. Each run is a fresh process (this script with ``--child``, one thread everywhere): a short
run to load the kernels, then the measured ``crossdiff.solve`` whose CPU time
(``time.process_time``: the machine's other load does not count) over its step attempts gives
the time per step; the peak resident set comes from ``os.wait4``. Box and disc alternate,
``--repeat`` times, in one invocation, and the ratios are of the medians. Also printed: the disc's smallest volume
fraction, the smallest merged group that exchanges fluxes, and how many steps the taxis step
limit held (``n_limited``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
DISC = "(x - 10)^2 + (y - 10)^2 < 10^2"  # inscribed in [0, 20]^2


def _child(cells: int, t_end: float, shape: bool) -> None:
    """One measured run in this process: a short run first (kernels loaded, caches warm), then
    the run whose stepping CPU time (``time.process_time``, robust on a loaded machine) is
    reported as JSON on stdout."""
    import time

    import crossdiff as cd

    model = cd.catalogue.load("keller-segel-logistic")
    box = cd.Grid((cells, cells), ((0.0, 20.0), (0.0, 20.0)))
    domain = cd.Shape(box, DISC) if shape else box
    cd.solve(model, domain, t_end=t_end / 50, save_every=t_end / 50)
    cpu = time.process_time()
    sol = cd.solve(model, domain, t_end=t_end, save_every=t_end)
    cpu = time.process_time() - cpu
    stats = sol.stats
    print(
        json.dumps(
            {
                "cpu_run": cpu,
                "steps": stats.n_steps + stats.n_rejected,
                "limited": stats.n_limited,
                "stepping": stats.wall_stepping,
            }
        )
    )


def _run(cells: int, t_end: float, shape: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", "disc" if shape else "box", "--grid", str(cells), "--t-end", str(t_end)]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    stdout = proc.stdout.read() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {' '.join(cmd)}: {proc.stderr.read() if proc.stderr else ''}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {**summary, "peak_mib": usage.ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=256)
    ap.add_argument("--t-end", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--child", choices=("box", "disc"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.grid, args.t_end, args.child == "disc")
        return 0

    import crossdiff as cd
    from crossdiff.fv import CutCells

    box = cd.Grid((args.grid, args.grid), ((0.0, 20.0), (0.0, 20.0)))
    disc = cd.Shape(box, DISC)
    cut = CutCells(disc)
    print(f"disc: {disc.describe()}")
    print(
        f"smallest volume fraction {disc.smallest_fraction:.3g}; smallest merged group exchanging fluxes {cut.smallest_volume:.3g} cells"
    )
    results: dict[str, list[dict]] = {"box": [], "disc": []}
    for _ in range(args.repeat):
        for name in ("box", "disc"):
            results[name].append(_run(args.grid, args.t_end, name == "disc"))
    med = {
        name: {k: statistics.median(r[k] for r in runs) for k in ("cpu_run", "peak_mib", "stepping")}
        for name, runs in results.items()
    }
    for name, runs in results.items():
        r = runs[-1]
        print(
            f"{name:>4}: {r['steps']} step attempts ({r['limited']} held by the taxis limit), run CPU {med[name]['cpu_run']:.2f} s "
            f"= {1e3 * med[name]['cpu_run'] / r['steps']:.2f} ms/step (stepping wall {med[name]['stepping']:.2f} s), "
            f"peak {med[name]['peak_mib']:.0f} MiB"
        )
    steps = {name: runs[-1]["steps"] for name, runs in results.items()}
    ratio_step = (med["disc"]["cpu_run"] / steps["disc"]) / (med["box"]["cpu_run"] / steps["box"])
    ratio_mem = med["disc"]["peak_mib"] / med["box"]["peak_mib"]
    print(
        f"disc / box: CPU time per step {ratio_step:.2f}x (target <= 2), peak memory {ratio_mem:.2f}x (target <= 1.5)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
