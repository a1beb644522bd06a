"""Benchmark of the chemotaxis–fluid coupling (issue 12): ``keller-segel-fluid`` runs.

    .venv/bin/python bench/fluid.py                   # 256×128 to the plumes, steps vs N, flow-solve costs
    .venv/bin/python bench/fluid.py --grid 64x32 --parts main --threshold 0.1
    .venv/bin/python bench/fluid.py --parts refine --sizes 32,64,128 --t-refine 0.6

Prints, for the main run, which stops when the plumes have formed (the horizontal variance of
the bacteria, the variance of ``n`` along ``x`` averaged over the rows, first exceeds
``--threshold``; :class:`Plumes`, an observer of the loop): the plume time, wall time, steps
(held by the stability limit, rejected), the wall time by part of the flow system
(:class:`FlowProfile`; the flow solve: the implicit vorticity solves, stream functions and, for
steady Stokes, the creeping vorticity), and the peak memory (RSS); then the number of steps
under refinement (N × N/2 cells, same end time), with the default tolerance (which follows the
grid) and with a fixed one (steps ∝ N is the CFL limit of the transport, ∝ N² would be a
diffusive limit); then the flow solves of one Navier–Stokes step against one batched forward +
inverse transform of all the fields on the same grid. Performance is measured, not asserted:
note the machine load when you read the figures (printed at the start and the end).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

import crossdiff as cd
from crossdiff import catalogue
from crossdiff.flow import FlowSystem
from crossdiff.grid import Grid, parse_cells
from crossdiff.model import initial_fields
from crossdiff.time import IMEX, KENCARP4, FailureReport, Observer, Status


def _grid(cells: tuple[int, int]) -> Grid:
    return Grid(cells, ((0.0, 2.0), (0.0, 1.0)), ("periodic", "noflux"))


def horizontal_variance(n: np.ndarray) -> float:
    """The plume measure: the variance of ``n`` along ``x`` (periodic), averaged over the rows."""
    return float(np.var(n, axis=0).mean())


class Plumes(Observer):
    """Stops the run when the plumes have formed: the horizontal variance of the bacteria first
    exceeds ``threshold`` (from ~1e-4/N² of the 1 % noise; a plume of twice the mean density
    across a fifth of the width gives about 0.2). Logs progress every ``log_every`` time."""

    def __init__(self, threshold: float, log_every: float = 0.05):
        self.threshold = threshold
        self.log_every = log_every
        self.steps = 0
        self.time: float | None = None
        self._next_log = 0.0
        self._wall0 = time.perf_counter()

    def start(self, system, t0, U0):
        self._wall0 = time.perf_counter()

    def step(self, t, U):
        self.steps += 1
        var = horizontal_variance(U[0])
        if t >= self._next_log:
            print(
                f"    t = {t:.3f}: {self.steps} steps, variance {var:.3g}, {time.perf_counter() - self._wall0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            self._next_log = t + self.log_every
        if var < self.threshold:
            return None
        self.time = t
        # a report stops the loop with its status: here success, the criterion being met
        return FailureReport(Status.STOPPED, t, detail=f"plumes formed (horizontal variance {var:.3g})")


class FlowProfile:
    """Exclusive wall time of the methods of a :class:`FlowSystem` that the loop calls, by part.

    Each wrapped method's time, less that of wrapped methods it calls, is added to its part:
    ``vorticity solve`` (the implicit vorticity solves: :meth:`FlowSystem.solve_implicit` less
    the species' solve inside it, and the error filter :meth:`FlowSystem.filter_error`;
    capacitance builds and GMRES included), ``stream function`` (``Δψ = ω``, also inside the
    no-slip solves, counted once), ``creeping vorticity`` (steady Stokes), ``vorticity
    transport`` (:meth:`FlowSystem.explicit` less the species' explicit part), and the species'
    own ``species explicit``/``species implicit``.
    """

    FLOW = ("vorticity solve", "stream function", "creeping vorticity")

    def __init__(self, system: FlowSystem):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[float] = []  # time spent in nested wrapped calls, per open call
        for obj, name, part in (
            (system, "solve_implicit", "vorticity solve"),
            (system, "filter_error", "vorticity solve"),
            (system, "stream_function", "stream function"),
            (system, "creeping_vorticity", "creeping vorticity"),
            (system, "explicit", "vorticity transport"),
            (system.species, "explicit", "species explicit"),
            (system.species, "solve_implicit", "species implicit"),
        ):
            setattr(obj, name, self._wrap(getattr(obj, name), part))

    def _wrap(self, func, part: str):
        def timed(*args, **kwargs):
            self._stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                nested = self._stack.pop()
                if self._stack:
                    self._stack[-1] += elapsed
                self.seconds[part] = self.seconds.get(part, 0.0) + elapsed - nested
                self.calls[part] = self.calls.get(part, 0) + 1

        return timed

    @property
    def flow_seconds(self) -> float:
        return sum(self.seconds.get(p, 0.0) for p in self.FLOW)


def main_run(cells: tuple[int, int], threshold: float, t_max: float) -> None:
    model = catalogue.load("keller-segel-fluid")
    grid = _grid(cells)
    profiles: list[FlowProfile] = []
    original = FlowSystem.__init__

    def init(self, *args, **kwargs):  # profile the flow system solve() builds
        original(self, *args, **kwargs)
        profiles.append(FlowProfile(self))

    plumes = Plumes(threshold)
    FlowSystem.__init__ = init  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        sol = cd.solve(model, grid, t_end=t_max, save_every=t_max, throw=False, observers=[plumes])
        wall = time.perf_counter() - t0
    finally:
        FlowSystem.__init__ = original  # type: ignore[method-assign]
    prof = profiles[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB on Linux
    n = sol.final[0]
    formed = f"plumes formed at t = {plumes.time:.4g}" if plumes.time is not None else f"no plumes by t = {t_max:g}"
    print(
        f"keller-segel-fluid {cells[0]}x{cells[1]}, stop at horizontal variance of n > {threshold:g}: "
        f"{formed} ({sol.status.label}, t = {sol.t_final:.4g})"
    )
    s = sol.stats
    print(
        f"  wall {wall:.1f} s, {s.n_steps} steps ({s.n_limited} held by the stability limit, "
        f"{s.n_rejected} rejected), {s.n_implicit_solves} implicit solves, {s.n_krylov_solves} Krylov solves"
    )
    print(f"  flow solve {prof.flow_seconds:.1f} s = {100 * prof.flow_seconds / wall:.0f} % of the wall time:")
    for part, sec in sorted(prof.seconds.items(), key=lambda kv: -kv[1]):
        print(f"    {part:20s} {sec:8.1f} s ({100 * sec / wall:3.0f} %) in {prof.calls[part]} calls")
    print(f"  peak memory (RSS) {rss:.0f} MB")
    print(f"  n in [{n.min():.3g}, {n.max():.3g}], horizontal variance {horizontal_variance(n):.3g}")


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


def solve_costs(cells: tuple[int, int], dt: float, repeat: int = 20) -> None:
    """The flow solves of one Navier–Stokes step against one batched transform pair.

    A step of :class:`~crossdiff.time.IMEX` (ARK4(3)6L[2]SA, ``γ = 1/4``) at ``dt``: a new
    ``γΔt`` rebuilds the no-slip capacitance matrix (block circulant along the periodic bottom:
    one transform; a dense matrix would take ``m`` batched transforms, ``m`` the wall cells),
    then six implicit vorticity solves (five stages and the error filter), each exact with the
    matrix (two transform pairs and a solve per wavenumber), and a stream function per stage
    (one DST/FFT solve). Measured through the public
    :meth:`FlowSystem.filter_error` (one implicit vorticity solve) and
    :meth:`FlowSystem.stream_function`; the creeping solve of ``kind = "stokes"`` for comparison.
    """
    model = catalogue.load("keller-segel-fluid")
    grid = _grid(cells)
    system = FlowSystem(model, grid)
    frame = initial_fields(model, grid)
    U = system.initial_state({name: frame[i] for i, name in enumerate(model.species_names)})
    gamma_dt = KENCARP4.gamma * dt

    def best(func) -> float:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            func()
            times.append(time.perf_counter() - t0)
        return min(times)

    error = np.random.default_rng(0).standard_normal(U.shape)
    system.filter_error(error.copy(), gamma_dt)  # builds the capacitance matrix at this γΔt
    solve = best(lambda: system.filter_error(error.copy(), gamma_dt))
    scales = iter(gamma_dt * (1.0 + 1e-3 * np.arange(1, 10 * repeat)))  # a new γΔt each time: a rebuild
    system.CAPACITANCE_REUSE = 1.0  # type: ignore[misc]  # never GMRES: time the build
    build = best(lambda: system.filter_error(error.copy(), next(scales))) - solve
    psi = best(lambda: system.stream_function(U[system.omega]))
    system.creeping_vorticity(U)  # the steady-Stokes capacitance matrix, once
    creeping = best(lambda: system.stream_function(system.creeping_vorticity(U)))
    batch = np.array(U)
    transform = best(lambda: system.spectral.inverse(system.spectral.forward(batch)))
    stages = KENCARP4.stages - 1
    step = build + (stages + 1) * solve + stages * psi
    print(f"flow solves on {cells[0]}x{cells[1]} (Navier-Stokes, no-slip bottom, dt = {dt:g}):")
    print(f"  one batched forward + inverse DST/FFT of the {len(batch)} fields: {1e3 * transform:.2f} ms")
    print(f"  one implicit vorticity solve (capacitance, exact): {1e3 * solve:.2f} ms, x{solve / transform:.2f}")
    print(f"  one stream function: {1e3 * psi:.2f} ms, x{psi / transform:.2f}")
    print(
        f"  one capacitance build for a new step ({system.grid.cells[0]} wall cells; block circulant along "
        f"periodic walls): {1e3 * build:.1f} ms, x{build / transform:.1f}"
    )
    print(
        f"  a step's flow solves (build + {stages + 1} vorticity solves + {stages} stream functions): "
        f"{1e3 * step:.1f} ms, x{step / transform:.1f}; {1e3 * step / stages:.2f} ms per stage, "
        f"x{step / stages / transform:.2f}"
    )
    print(
        f"  creeping flow (kind = stokes) vorticity + stream function: {1e3 * creeping:.2f} ms, x{creeping / transform:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", default="256x128", help="cells of the main run (default 256x128)")
    parser.add_argument(
        "--threshold", type=float, default=0.1, help="horizontal variance of n at which the plumes count as formed"
    )
    parser.add_argument("--t-max", type=float, default=5.0, help="end time of the main run if no plumes form")
    parser.add_argument("--sizes", default="32,64,128", help="N of the refinement study (N x N/2 cells)")
    parser.add_argument("--t-refine", type=float, default=0.6, help="end time of the refinement study")
    parser.add_argument("--dt", type=float, default=2e-4, help="step of the flow-solve costs (that of the main run)")
    parser.add_argument(
        "--parts", default="main,refine,costs", help="what to run: main (plume run), refine (steps vs N), costs"
    )
    args = parser.parse_args()
    cells = parse_cells(args.grid)
    parts = set(args.parts.split(","))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    if "main" in parts:
        main_run((cells[0], cells[1]), args.threshold, args.t_max)
    if "refine" in parts:
        sizes = [int(s) for s in args.sizes.split(",")]
        steps_vs_n(sizes, args.t_refine)  # the tolerance follows the grid: accuracy, not stability
        steps_vs_n(sizes, args.t_refine, rtol=1e-3)  # fixed tolerance: what the stability limits allow
    if "costs" in parts:
        solve_costs((cells[0], cells[1]), args.dt)
    print(f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)


if __name__ == "__main__":
    main()
