"""A kinetic model on a network against one interval: time per step of the micro–macro AP scheme
on a graph of 1,000 edges × 50 cells and on one interval of the same 50,000 cells.

    .venv/bin/python bench/kinetic_network.py [--edges 1000] [--cells 50] [--steps 6] [--repeat 3] [--eps 0.5,1e-4]

docs/networks.md, "Kinetic models on networks": the graph is the square lattice of
bench/networks.py (degree 4 inside), the model 1D Keller–Segel behind a relaxation kernel with
the bias (41) towards a produced signal (two species, two velocities); both domains run the same
fixed ARS(4,4,3) steps in this process, alternating ``--repeat`` times after one warm-up each;
the ratio is of the medians of the stepping wall time per step, single-threaded kernels.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from networks import lattice


def model():
    from crossdiff.kinetic import Bias, KineticModel, KineticSpecies, Relaxation, Sphere

    return KineticModel(
        [
            KineticSpecies(
                "u",
                Relaxation("R**2/d"),
                bias=Bias(kernel="-(chi*sigma_u*d/(absV**2*R**2))*vs_grad_S/Ms_u"),
                initial="1 + 0.5*cos(pi*x)",
            ),
            KineticSpecies("S", Relaxation("R**2/(d*DS)"), interaction="(u - S)/absV", initial="1 + 0.5*cos(2*pi*x)"),
        ],
        Sphere(1, "R"),
        parameters={"R": 1.0, "chi": 0.5, "DS": 1.0},
        name="ks-kinetic",
    )


def _time(domain, m, eps: float, steps: int, dt: float) -> float:
    import crossdiff as cd

    sol = cd.solve(m, domain, steps * dt, eps=eps, stepper=cd.time.GSAIMEX(dt=dt), save_every=steps * dt)
    if not sol.success:
        raise SystemExit(f"run failed: {sol.message}")
    return float(sol.summary()["wall_stepping"]) / int(sol.stats.n_steps)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edges", type=int, default=1000)
    ap.add_argument("--cells", type=int, default=50)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--eps", default="0.5,1e-4")
    args = ap.parse_args(argv)

    import crossdiff as cd

    net = lattice(args.edges, args.cells)
    interval = cd.Grid((net.size,), ((0.0, float(len(net.edges))),))
    m = model()
    print(f"{net.describe()}; interval {interval.describe()}")
    for eps in (float(e) for e in args.eps.split(",")):
        t0 = time.perf_counter()
        _time(net, m, eps, 2, args.dt)  # warm-up: compilation, factorisations
        _time(interval, m, eps, 2, args.dt)
        per_step: dict[str, list[float]] = {"network": [], "interval": []}
        for _ in range(args.repeat):
            for name, domain in (("network", net), ("interval", interval)):
                per_step[name].append(_time(domain, m, eps, args.steps, args.dt))
        med = {k: statistics.median(v) for k, v in per_step.items()}
        print(
            f"eps = {eps:g}: network {1e3 * med['network']:.1f} ms, interval {1e3 * med['interval']:.1f} ms per step; "
            f"ratio {med['network'] / med['interval']:.2f} (warm-up {time.perf_counter() - t0:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
