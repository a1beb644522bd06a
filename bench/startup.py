"""Start-up costs of crossdiff (issue 24): fresh processes, the best of a few tries each.

    .venv/bin/python bench/startup.py [--root CHECKOUT ...] [--tries 5]

Measures the wall time of whole processes (what a user waits for): ``import numpy`` (the
yardstick), the libraries a macroscopic run cannot do without (its floor), ``import crossdiff``, ``crossdiff --help``, ``crossdiff models`` and a 64²
macroscopic run to t = 0.1, whose fixed cost is its wall time less the stepping it reports
(``wall_stepping``). Each ``--root`` is a checkout put first on ``PYTHONPATH`` (default: this
one); give two, e.g. one made with ``git archive BASE | tar -x -C /tmp/base``, to compare before
and after: their tries alternate, so a change in the machine's load touches both alike. One
untimed run of each command first fills the bytecode and Numba caches (the figures are with a
warm compile cache).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = ["run", "keller-segel-logistic", "--grid", "64x64", "--t-end", "0.1", "--json", "--overwrite"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, action="append", help="checkout to measure (repeat to compare)")
    parser.add_argument("--tries", type=int, default=5, help="fresh processes per command (the best counts)")
    args = parser.parse_args()
    roots = [r.resolve() for r in args.root or [Path(__file__).resolve().parents[1]]]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "ks.nc")
        commands = {
            "import numpy": ["-c", "import numpy"],
            "import numpy, sympy, numba, scipy.fft, h5netcdf": [
                "-c",
                "import numpy, sympy, numba, scipy.fft, h5netcdf",
            ],
            "import crossdiff": ["-c", "import crossdiff"],
            "crossdiff --help": ["-m", "crossdiff", "--help"],
            "crossdiff models": ["-m", "crossdiff", "models"],
            "64² run (whole process)": ["-m", "crossdiff", *RUN, "--out", out],
        }
        best: dict[str, list[float]] = {}
        for label, command in commands.items():
            walls: list[list[float]] = [[] for _ in roots]
            fixed: list[list[float]] = [[] for _ in roots]
            for attempt in range(args.tries + 1):  # the first fills the caches
                for k, root in enumerate(roots):
                    env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_NUM_THREADS": "1"}
                    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's install has its bytecode cached
                    start = time.perf_counter()
                    proc = subprocess.run([sys.executable, *command], env=env, cwd=tmp, check=True, capture_output=True)
                    wall = time.perf_counter() - start
                    if attempt == 0:
                        continue
                    walls[k].append(wall)
                    if command[-1] == out:  # the run: its fixed cost is all but the stepping it reports
                        fixed[k].append(wall - json.loads(proc.stdout)["wall_stepping"])
            best[label] = [min(w) for w in walls]
            if fixed[0]:
                best["64² run fixed cost (process − stepping)"] = [min(f) for f in fixed]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"crossdiff start-up: best of {args.tries} fresh processes (s); load average {load}")
    print(f"  {'':<42}" + "".join(f"  {str(r):>20}" for r in roots))
    for label, seconds in best.items():
        print(f"  {label:<42}" + "".join(f"  {s:20.3f}" for s in seconds))


if __name__ == "__main__":
    main()
