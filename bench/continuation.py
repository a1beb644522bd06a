"""Time the continuation of a patterned branch (issue 22): target under 10 s for a 1D branch of
200 points on 200 cells.

Keller–Segel with logistic growth (catalogue ``keller-segel-logistic``, D = r = 1) on [0, 20] with
no-flux walls, 200 cells, continued in the chemotactic sensitivity χ: the homogeneous branch from
χ = 3.8 to 8 with its branch points, then the first patterned branch (mode 6, χ_c ≈ 4.014) for
200 points (steps of at most 0.02). Reported: the wall time of the whole diagram and per point of the patterned branch,
the points per branch, and the first branch point against the discrete dispersion relation.
Run: ``python bench/continuation.py``; ``--cells N --points M`` change the sizes; ``--square N``
runs the 2D figure instead (target under 2 min for 50 points on 64²): the same model on
[0, 20]², χ from 3.95 to 4.1 in steps of at most 0.002, the first patterned branch for
``--points`` points; the homogeneous branch and the patterned one are timed apart.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from crossdiff import catalogue
from crossdiff.continuation import Settings, continuation
from crossdiff.grid import Grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--square", type=int, help="cells per axis of the 2D figure")
    args = parser.parse_args()
    model = catalogue.load("keller-segel-logistic")
    if args.square:
        grid = Grid((args.square, args.square), ((0.0, 20.0), (0.0, 20.0)), "noflux")
        stamps: list[tuple[float, str]] = []
        start = time.perf_counter()
        diagram = continuation(
            model,
            "chi",
            (3.95, 4.1),
            grid=grid,
            branches=1,
            settings=Settings(points=args.points, n_eig=6, ds_max=0.002),
            progress=lambda line: stamps.append((time.perf_counter(), line)),
        )
        wall = time.perf_counter() - start
        print("\n".join(diagram.describe()[:8]))
        counts = dict(diagram.points.groupby("branch").size())
        home = max(t for t, line in stamps if line.startswith("branch 0"))
        print(
            f"points per branch: {counts}; wall {wall:.1f} s: homogeneous branch (with its branch points "
            f"located) {home - start:.1f} s, patterned branch {wall - (home - start):.1f} s "
            f"({(wall - (home - start)) / max(1, counts.get(1, 0)):.2f} s per point)"
        )
        return
    grid = Grid((args.cells,), ((0.0, 20.0),), "noflux")
    continuation(model, "chi", (3.9, 4.1), grid=grid, branches=0)  # imports and caches: not timed
    start = time.perf_counter()
    diagram = continuation(
        model, "chi", (3.8, 8.0), grid=grid, branches=1, settings=Settings(points=args.points, ds_max=0.02)
    )
    wall = time.perf_counter() - start
    counts = diagram.points.groupby("branch").size()
    print("\n".join(diagram.describe()[:6]))
    print(f"points per branch: {dict(counts)}; wall {wall:.2f} s, {wall / len(diagram.points) * 1e3:.1f} ms per point")
    bp = diagram.branch_points(0).iloc[0]
    h = 20.0 / args.cells
    k = math.pi * int(bp["mode"]) / 20.0
    kh2 = 4 / h**2 * np.sin(k * h / 2) ** 2
    exact = (1 + kh2) ** 2 / kh2
    print(
        f"first branch point chi = {bp['parameter']:.10g}; discrete dispersion {exact:.10g}; "
        f"relative difference {abs(bp['parameter'] - exact) / exact:.2g}"
    )


if __name__ == "__main__":
    main()
