"""Memory bandwidth of this machine vs the cost of crossdiff's explicit part of one stage.

    .venv/bin/python bench/bandwidth.py [--n 512] [--repeat 20]

1. Bandwidth (one thread, as NumPy runs): best of ``repeat`` of
   * copy   ``b[:] = a``          (bytes moved: read a + write b = 16 B/element),
   * triad  ``c = a + s*b`` fused as ``np.multiply(b, s, out=c); np.add(c, a, out=c)`` is two
     passes, so the triad reported is ``numpy.add(a, b, out=c)`` (24 B/element).
   Arrays of 2^25 doubles (256 MiB each), far beyond the caches.
2. ``Discretisation.explicit(t, U)`` (taxis fluxes + reactions; the IMEX stepper evaluates it once
   per stage, 4 times per step) on a 512^2 state of a 2-species model (keller-segel-logistic) and
   a 4-species model (oncolytic-virus): the minimum of ``repeat`` calls (the machine is shared;
   the median and the CPU time are printed too).
3. Minimal traffic of one evaluation: read the whole state once and write the rate of every
   species once, ``2 × n_species × N × 8`` bytes (a fused kernel could do exactly this; the
   stencil's neighbours come from cache). The bandwidth bound is that divided by the copy
   bandwidth; the issue's target is time <= 3 × bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
from numba import get_num_threads, njit, prange


def best(fn, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def timings(fn, repeat: int) -> dict:
    """Wall time (min and median) and CPU time (min) of ``repeat`` calls after a warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"min": min(wall), "median": statistics.median(wall), "cpu_min": min(cpu)}


def bandwidth(repeat: int) -> dict:
    n = 1 << 25
    a = np.random.default_rng(0).random(n)
    b = np.empty_like(a)
    c = np.empty_like(a)
    b[:] = 1.0
    c[:] = 0.0
    t_copy = best(lambda: np.copyto(b, a), repeat)
    t_add = best(lambda: np.add(a, b, out=c), repeat)
    _threaded_copy(b, a)  # compile
    t_threads = best(lambda: _threaded_copy(b, a), repeat)
    return {
        "copy_GBps": 16 * n / t_copy / 1e9,
        "triad_GBps": 24 * n / t_add / 1e9,
        "copy_all_threads_GBps": 16 * n / t_threads / 1e9,
        "threads": int(get_num_threads()),
    }


@njit(parallel=True)
def _threaded_copy(b, a):
    """``b[:] = a`` spread over Numba's threads (the bandwidth the kinetic kernels can use)."""
    for q in prange(a.size):
        b[q] = a[q]


def explicit_cost(name: str, n: int, repeat: int, bw: float) -> dict:
    import crossdiff as cd
    from crossdiff.fv import Discretisation
    from crossdiff.grid import default_grid
    from crossdiff.model import initial_fields

    model = cd.catalogue.load(name)
    grid = default_grid(model, (n, n))
    disc = Discretisation(model, grid)
    U = disc.initial_state(initial_fields(model, grid))
    # a developed state (gradients everywhere) rather than the flat initial data
    U = U * (1 + 0.1 * np.random.default_rng(1).random(U.shape))
    te = timings(lambda: disc.explicit(0.0, U), repeat)
    ti = timings(lambda: disc.solve_implicit(U, 0.01), repeat)
    t = te["min"]
    nbytes = 2 * model.n_species * grid.size * 8
    bound = nbytes / (bw * 1e9)
    return {
        "model": name,
        "species": model.n_species,
        "grid": f"{n}x{n}",
        "explicit_ms": t * 1e3,
        "explicit_median_ms": te["median"] * 1e3,
        "explicit_cpu_ms": te["cpu_min"] * 1e3,
        "bytes_min_MB": nbytes / 1e6,
        "bound_ms": bound * 1e3,
        "ratio_to_bound": t / bound,
        "implicit_solve_ms": ti["min"] * 1e3,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    bw = bandwidth(max(5, a.repeat // 2))
    print(
        f"memory bandwidth (1 thread, 256 MiB arrays): copy {bw['copy_GBps']:.1f} GB/s, add {bw['triad_GBps']:.1f} GB/s"
    )
    rows = []
    for name in ("keller-segel-logistic", "oncolytic-virus"):
        r = explicit_cost(name, a.n, a.repeat, bw["copy_GBps"])
        rows.append(r)
        print(
            f"{r['model']:>22} ({r['species']} species, {r['grid']}): explicit {r['explicit_ms']:.2f} ms "
            f"(min; median {r['explicit_median_ms']:.2f}, CPU {r['explicit_cpu_ms']:.2f}); "
            f"minimal traffic {r['bytes_min_MB']:.1f} MB -> bound {r['bound_ms']:.2f} ms at {bw['copy_GBps']:.1f} GB/s; "
            f"ratio {r['ratio_to_bound']:.1f}x (target <= 3x: {'met' if r['ratio_to_bound'] <= 3 else 'NOT met'}); "
            f"implicit DCT solve (all species) {r['implicit_solve_ms']:.2f} ms"
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bandwidth": bw, "explicit": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
