"""Benchmark of the chemotaxis–fluid coupling (issue 12): ``keller-segel-fluid`` runs.

    .venv/bin/python bench/fluid.py                       # 256×128 to t = 0.8, steps vs N, solve costs
    .venv/bin/python bench/fluid.py --grid 128x64 --t-end 0.6 --sizes 32,64,128

Prints, for the main run: wall time, steps (and how many the stability limit held), the share of
the wall time spent in the flow solve (the vorticity and stream function of
:class:`crossdiff.flow.FlowSystem`: ``creeping_vorticity``/``stream_function``, and for an
unsteady flow its implicit viscous solves), and the peak memory (RSS); then the number of steps
under refinement (N cells across, same end time), with the default tolerance (which follows the
grid) and with a fixed one (steps ∝ N is the CFL limit of the transport, ∝ N² would be a
diffusive limit); then the cost of one flow solve against one batched
forward + inverse transform of all the fields on the same grid. Performance is measured, not
asserted: note the machine load when you read the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

import crossdiff as cd
from crossdiff import catalogue
from crossdiff.flow import FlowSystem
from crossdiff.grid import Grid, parse_cells
from crossdiff.solve import initial_fields
from crossdiff.time import IMEX


def _grid(cells: tuple[int, int]) -> Grid:
    return Grid(cells, ((0.0, 2.0), (0.0, 1.0)), ("periodic", "noflux"))


class _Timed:
    """Wraps the flow-solving methods of a FlowSystem and adds up their wall time."""

    METHODS = ("creeping_vorticity", "stream_function")

    def __init__(self, system: FlowSystem):
        self.seconds = 0.0
        self.calls = 0
        for name in self.METHODS:
            original = getattr(system, name)
            setattr(system, name, self._wrap(original))

    def _wrap(self, func):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0
                self.calls += 1

        return timed


def main_run(cells: tuple[int, int], t_end: float) -> None:
    model = catalogue.load("keller-segel-fluid")
    grid = _grid(cells)
    timed: list[_Timed] = []
    original = FlowSystem.__init__

    def init(self, *args, **kwargs):  # time the flow solves of the system solve() builds
        original(self, *args, **kwargs)
        timed.append(_Timed(self))

    FlowSystem.__init__ = init  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        sol = cd.solve(model, grid, t_end=t_end, save_every=t_end / 4, throw=False)
        wall = time.perf_counter() - t0
    finally:
        FlowSystem.__init__ = original  # type: ignore[method-assign]
    flow = timed[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB on Linux
    n = sol.final[0]
    print(f"keller-segel-fluid {cells[0]}x{cells[1]} to t = {sol.t_final:g}: {sol.status.label}")
    print(f"  wall {wall:.1f} s, {sol.stats.n_steps} steps ({sol.stats.n_limited} held by the stability limit)")
    print(
        f"  flow solve {flow.seconds:.1f} s in {flow.calls} calls = {100 * flow.seconds / wall:.0f} % of the wall time"
    )
    print(f"  peak memory (RSS) {rss:.0f} MB")
    print(f"  n in [{n.min():.3g}, {n.max():.3g}], horizontal variance {np.var(n, axis=0).mean():.3g}")


def steps_vs_n(sizes: list[int], t_end: float, rtol: float | None = None) -> None:
    model = catalogue.load("keller-segel-fluid")
    tolerance = "the default rtol 0.5/N²" if rtol is None else f"rtol {rtol:g}"
    print(f"steps to t = {t_end:g} under refinement (N x N/2 cells, {tolerance}):")
    previous = None
    for n in sizes:
        t0 = time.perf_counter()
        stepper = IMEX() if rtol is None else IMEX(rtol=rtol)
        sol = cd.solve(model, _grid((n, n // 2)), t_end=t_end, save_every=t_end, throw=False, stepper=stepper)
        steps = sol.stats.n_steps
        ratio = f", x{steps / previous:.2f} for x2 cells" if previous else ""
        print(
            f"  N = {n:4d}: {steps:5d} steps ({sol.stats.n_limited} held by the limit), "
            f"{time.perf_counter() - t0:.1f} s{ratio}"
        )
        previous = steps


def solve_costs(cells: tuple[int, int], repeat: int = 20) -> None:
    model = catalogue.load("keller-segel-fluid")
    grid = _grid(cells)
    system = FlowSystem(model, grid)
    frame = initial_fields(model, grid)
    U = system.initial_state({name: frame[i] for i, name in enumerate(model.species_names)})
    system.creeping_vorticity(U)  # builds the capacitance matrix once (not per step)

    def best(func) -> float:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            func()
            times.append(time.perf_counter() - t0)
        return min(times)

    flow = best(lambda: system.stream_function(system.creeping_vorticity(U)))
    batch = np.array(U)
    transform = best(lambda: system.spectral.inverse(system.spectral.forward(batch)))
    print(f"one flow solve (vorticity + stream function) on {cells[0]}x{cells[1]}: {1e3 * flow:.2f} ms")
    print(f"one batched forward + inverse DST/FFT of the {len(batch)} fields: {1e3 * transform:.2f} ms")
    print(f"ratio {flow / transform:.2f} (flow solve / batched transform pair)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", default="256x128", help="cells of the main run (default 256x128)")
    parser.add_argument("--t-end", type=float, default=0.8, help="end time of the main run (plumes by ~0.6)")
    parser.add_argument("--sizes", default="32,64,128", help="N of the refinement study (N x N/2 cells)")
    parser.add_argument("--t-refine", type=float, default=0.5, help="end time of the refinement study")
    args = parser.parse_args()
    cells = parse_cells(args.grid)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    main_run((cells[0], cells[1]), args.t_end)
    sizes = [int(s) for s in args.sizes.split(",")]
    steps_vs_n(sizes, args.t_refine)  # the tolerance follows the grid: accuracy, not stability
    steps_vs_n(sizes, args.t_refine, rtol=1e-3)  # fixed tolerance: what the stability limits allow
    solve_costs((cells[0], cells[1]))


if __name__ == "__main__":
    main()
