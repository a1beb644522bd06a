"""Cut cells against the box: Keller–Segel with logistic growth in a disc inscribed in the box.

    .venv/bin/python bench/shapes.py [--grid 256] [--t-end 2] [--repeat 2]

Issue targets (docs/numerics.md, "Domains of any shape"): time per step on the disc at most 2×
the box's at the same grid, peak memory at most 1.5×, the step not limited by the smallest cut
cell. Each run is a fresh process (``crossdiff run ... --json``) whose CPU time and peak resident
set come from ``os.wait4``; box and disc alternate, ``--repeat`` times, on the same machine in
one invocation, and the ratios are of the medians. Also printed: the disc's smallest volume
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
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent
DISC = "(x - 10)^2 + (y - 10)^2 < 10^2"  # inscribed in [0, 20]^2


def _run(cells: int, t_end: float, shape: bool, out: Path) -> dict:
    cmd = [str(BIN / "crossdiff"), "run", "keller-segel-logistic", "--grid", f"{cells}x{cells}"]
    cmd += ["--t-end", str(t_end), "--save-every", str(t_end), "--out", str(out), "--overwrite", "--json"]
    cmd += ["--threads", "1"]
    if shape:
        cmd += ["--inside", DISC]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    stdout = proc.stdout.read() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {' '.join(cmd)}: {proc.stderr.read() if proc.stderr else ''}")
    summary = json.loads(stdout)
    return {
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "steps": summary["steps"] + summary["rejected"],
        "limited": summary["steps_limited_by_stability"],
        "stepping": summary["wall_stepping"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=256)
    ap.add_argument("--t-end", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)

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
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name in ("box", "disc"):
                results[name].append(_run(args.grid, args.t_end, name == "disc", Path(tmp) / f"{name}.nc"))
    med = {
        name: {k: statistics.median(r[k] for r in runs) for k in ("cpu", "peak_mib", "stepping")}
        for name, runs in results.items()
    }
    for name, runs in results.items():
        r = runs[-1]
        per_step = med[name]["stepping"] / r["steps"]
        print(
            f"{name:>4}: {r['steps']} step attempts ({r['limited']} held by the taxis limit), stepping {med[name]['stepping']:.2f} s "
            f"= {1e3 * per_step:.2f} ms/step, process CPU {med[name]['cpu']:.2f} s, peak {med[name]['peak_mib']:.0f} MiB"
        )
    steps = {name: runs[-1]["steps"] for name, runs in results.items()}
    ratio_step = (med["disc"]["stepping"] / steps["disc"]) / (med["box"]["stepping"] / steps["box"])
    ratio_mem = med["disc"]["peak_mib"] / med["box"]["peak_mib"]
    print(f"disc / box: time per step {ratio_step:.2f}x (target <= 2), peak memory {ratio_mem:.2f}x (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
