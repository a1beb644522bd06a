"""Networks against one interval: time per step of a 3-species model on a graph of 1,000 edges
× 50 cells, and on one interval of the same 50,000 cells.

    .venv/bin/python bench/networks.py [--edges 1000] [--cells 50] [--steps 40] [--repeat 3]

Issue 21's target (docs/networks.md, "Speed"): the network's time per step within 3× the
interval's. The graph is a square lattice of nodes (degree 4 inside) cut to ``--edges`` edges of
length 1, ``h = 1/cells``; the model is chemotaxis toward a produced signal with a consumed
nutrient (every term a macroscopic model has: diffusion, taxis, reactions). Both run the same
number of fixed IMEX steps (ARK4(3)6L, ``dt`` fixed), in this process, alternating ``--repeat``
times after one warm-up each (compilation); the ratio is of the medians of the stepping wall
time (``Solution.summary()["wall_stepping"]``), single-threaded kernels.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def lattice(edges: int, cells: int):
    """A square lattice of nodes with ``edges`` edges of length 1 (``cells`` cells each)."""
    from crossdiff.grid import Network

    side = int(np.ceil(np.sqrt(edges / 2))) + 1
    pairs = []
    for i in range(side):
        for j in range(side):
            if i + 1 < side:
                pairs.append((f"{i},{j}", f"{i + 1},{j}", 1.0))
            if j + 1 < side:
                pairs.append((f"{i},{j}", f"{i},{j + 1}", 1.0))
    pairs = pairs[:edges]
    used = sorted({n for a, b, _ in pairs for n in (a, b)})
    return Network({n: tuple(float(v) for v in n.split(",")) for n in used}, pairs, 1.0 / cells)


def model():
    from crossdiff.model import Model, Species, Taxis

    return Model(
        species=(
            Species("u", diffusion=0.1, taxis=(Taxis("v", "chi"),), reaction="u*(w - u)", initial="1 + 0.1*noise"),
            Species("v", diffusion=1.0, reaction="u - v", initial="1"),
            Species("w", diffusion=0.5, reaction="-u*w + 0.1*(1 - w)", initial="1"),
        ),
        parameters={"chi": 2.0},
        name="taxis-nutrient",
    )


def _time(system_domain, m, steps: int, dt: float) -> tuple[float, int]:
    import crossdiff as cd

    sol = cd.solve(m, system_domain, steps * dt, stepper=cd.time.IMEX(dt=dt), save_every=steps * dt)
    if not sol.success:
        raise SystemExit(f"run failed: {sol.message}")
    return float(sol.summary()["wall_stepping"]), int(sol.stats.n_steps)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edges", type=int, default=1000)
    ap.add_argument("--cells", type=int, default=50)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dt", type=float, default=2e-3)
    args = ap.parse_args(argv)

    import crossdiff as cd

    net = lattice(args.edges, args.cells)
    interval = cd.Grid((net.size,), ((0.0, float(len(net.edges))),))
    m = model()
    t0 = time.perf_counter()
    _time(net, m, 2, args.dt)  # warm-up: compilation, caches
    _time(interval, m, 2, args.dt)
    print(f"{net.describe()}; interval {interval.describe()}; warm-up {time.perf_counter() - t0:.1f} s")
    per_step = {"network": [], "interval": []}
    for _ in range(args.repeat):
        for name, domain in (("network", net), ("interval", interval)):
            wall, steps = _time(domain, m, args.steps, args.dt)
            per_step[name].append(wall / steps)
    med = {k: statistics.median(v) for k, v in per_step.items()}
    for k, v in per_step.items():
        print(f"{k:9s} per step: median {1e3 * med[k]:.2f} ms  ({', '.join(f'{1e3 * x:.2f}' for x in v)})")
    ratio = med["network"] / med["interval"]
    print(f"network / interval time per step: {ratio:.2f} (target <= 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
