"""Start-up costs of crossdiff (issue 24): fresh processes, the median and best of a few tries.

    .venv/bin/python bench/startup.py [--root CHECKOUT ...] [--tries 5]

Measures the wall time of whole processes (what a user waits for): ``import numpy`` (the
yardstick), the libraries a macroscopic run cannot do without (its floor), ``import crossdiff``, ``crossdiff --help``, ``crossdiff models`` and a 64²
macroscopic run to t = 0.1, whose fixed cost is its wall time less the stepping it reports
(``wall_stepping``). Each ``--root`` is a checkout put first on ``PYTHONPATH`` (default: this
one); give two, e.g. one made with ``git archive BASE | tar -x -C /tmp/base``, to compare before
and after: their tries alternate, so a change in the machine's load touches both alike. One
untimed run of each command first fills the bytecode, Numba and compile caches (the figures are
with warm caches). The commands are interleaved within each try, so a change in the machine's
load touches every row alike; the CPU time (user + system of the child) is the figure a busy
machine disturbs least. The run is measured three ways: warm (the same model run before); with the
compile cache off (``CROSSDIFF_NO_COMPILE_CACHE=1``: SymPy prints every kernel again, Numba's
cache still warm); and cold (an empty ``CROSSDIFF_CACHE`` each time: the first run of a model,
Numba compiling its fused kernel).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = ["run", "keller-segel-logistic", "--grid", "64x64", "--t-end", "0.1", "--json", "--overwrite"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, action="append", help="checkout to measure (repeat to compare)")
    parser.add_argument("--tries", type=int, default=5, help="fresh processes per command")
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
            "64² run, compile cache off": ["-m", "crossdiff", *RUN, "--out", out],
            "64² run, cold (empty CROSSDIFF_CACHE)": ["-m", "crossdiff", *RUN, "--out", out],
        }
        extra_env = {
            "64² run, compile cache off": {"CROSSDIFF_NO_COMPILE_CACHE": "1"},
            "64² run, cold (empty CROSSDIFF_CACHE)": {"CROSSDIFF_CACHE": ""},  # a fresh directory per try
        }
        walls: dict[str, list[list[float]]] = {label: [[] for _ in roots] for label in commands}
        cpus: dict[str, list[list[float]]] = {label: [[] for _ in roots] for label in commands}
        fixed: dict[str, list[list[float]]] = {label: [[] for _ in roots] for label in commands}
        for attempt in range(args.tries + 1):  # the first fills the caches
            for label, command in commands.items():  # interleaved: a change of load touches every row
                for k, root in enumerate(roots):
                    env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_NUM_THREADS": "1", **extra_env.get(label, {})}
                    if env.get("CROSSDIFF_CACHE") == "":
                        env["CROSSDIFF_CACHE"] = tempfile.mkdtemp(dir=tmp)
                    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's install has its bytecode cached
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    start = time.perf_counter()
                    proc = subprocess.run([sys.executable, *command], env=env, cwd=tmp, check=True, capture_output=True)
                    wall = time.perf_counter() - start
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if attempt == 0:
                        continue
                    walls[label][k].append(wall)
                    cpus[label][k].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                    if command[-1] == out:  # the run: its fixed cost is all but the stepping it reports
                        fixed[label][k].append(wall - json.loads(proc.stdout)["wall_stepping"])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"crossdiff start-up: median (best) of {args.tries} fresh processes, seconds; load average {load}")
    print(f"  {'':<46}" + "".join(f"  {str(r)[-27:]:>27}" for r in roots))
    print(f"  {'':<46}" + "".join(f"  {'wall':>13}{'CPU':>14}" for _ in roots))
    for label in commands:
        rows = [(label, walls[label], cpus[label])]
        if fixed[label][0]:
            rows.append((label.replace(" (whole process)", "") + ": fixed cost", fixed[label], None))
        for name, wall_rows, cpu_rows in rows:
            cells = []
            for k in range(len(roots)):
                w = f"{statistics.median(wall_rows[k]):.3f} ({min(wall_rows[k]):.3f})"
                c = f"{statistics.median(cpu_rows[k]):.3f} ({min(cpu_rows[k]):.3f})" if cpu_rows else ""
                cells.append(f"  {w:>13} {c:>13}")
            print(f"  {name:<46}" + "".join(cells))


if __name__ == "__main__":
    main()
