"""Kinetic solver benchmark (issue 10): cost against ε, against a plain explicit kinetic scheme,
and steps against the grid.

    PYTHONPATH=. .venv/bin/python bench/kinetic.py            # about 2 minutes on one core
    PYTHONPATH=. .venv/bin/python bench/kinetic.py --json out.json

Model: 1D Keller–Segel behind a relaxation kernel with the bias of type (41) (the model of
tests/kinetic/test_solver.py), two velocities ±1, no-flux walls, t_end = 0.5.

1. Cost per unit simulated time of the AP scheme (crossdiff.solve, default stepper) at
   ε = 0.1, 1e-4, 1e-8 on 128 cells, and the ratios to ε = 0.1.
2. A plain explicit kinetic scheme — upwind transport (crossdiff.fv.upwind_divergence, minmod
   slopes, specular ghost values), relaxation, bias and interaction explicit, forward Euler with
   ``Δt = 0.45 min(εh/c, ε²/σ)`` — at ε = 1e-2 and 1e-3: its wall time and its L1 error
   against the derived limit, beside the AP scheme's.
3. Steps of the AP scheme at ε = 1e-4 on 64…512 cells (diffusion implicit: the steps should
   not grow like N²).

    PYTHONPATH=. .venv/bin/python bench/kinetic.py --memory [--cells 256 --velocities 32 --steps 4]

4. (only this, with ``--memory``) Memory and time per step of ``cancer-invasion-kinetic`` (three
   species, walls) on cells² × velocities at ε = 0.01, a few fixed steps of ARS(4,4,3) by
   ``crossdiff.solve`` in a subprocess: the state's bytes per cell·velocity·species, the peak
   RSS of the subprocess (``ru_maxrss``; the RSS after the imports and the set-up printed too),
   the steady time per step (a run of ``1 + steps`` steps minus a run of one: no set-up, no
   first touch of the work arrays), and the bandwidth bound of one step: reading and writing
   the state once per stage (4 stages), ``4 × 2 × state bytes`` over the copy bandwidth of this
   machine (``bench/bandwidth.py``, 256 MiB arrays). The load average is printed: the machine
   is shared.

    PYTHONPATH=. .venv/bin/python bench/kinetic.py --band     # about 10-15 minutes on a shared core

5. (only this, with ``--band``) The largest stable fixed step against ε on the two-velocity
   model for three choices of the penalisation μ (docs/kinetic.md, "Step restriction").

    PYTHONPATH=. .venv/bin/python bench/kinetic.py --work-precision   # about 1-3 minutes

6. (only this, with ``--work-precision``) Work–precision over ε ∈ {1, 0.3, 0.1, 0.03, 0.01,
   1e-3} on the telegraph model against its exact solution: the AP scheme (default stepper; the
   micro transport implicit in the ε ≈ h band, docs/kinetic.md "The ε ≈ h band") on 32–512
   cells and the plain explicit scheme on 32–4096 cells, and for the errors 1e-3 and 1e-4 the
   cheapest run of each that reaches it.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import crossdiff as cd
from crossdiff.derive import derive
from crossdiff.fv import BoundaryKind, axis_view, upwind_divergence
from crossdiff.kinetic import Bias, KineticModel, KineticSpecies, Relaxation, Sphere

T_END = 0.5


def model() -> KineticModel:
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


def explicit_kinetic(kin: KineticModel, grid: cd.Grid, eps: float, t_end: float) -> tuple[np.ndarray, int, float]:
    """The plain explicit scheme on ``f_±``; the walls reflect ``f_+ ↔ f_-`` through ghost
    cells. Returns the densities, the steps and the wall time."""
    h = grid.spacing[0]
    x = grid.coordinates[0]
    u = 1 + 0.5 * np.cos(np.pi * x)
    s = 1 + 0.5 * np.cos(2 * np.pi * x)
    f = np.stack([np.stack([u / 2, u / 2]), np.stack([s / 2, s / 2])])  # (species, velocity ±, x)
    v = np.array([-1.0, 1.0])
    chi, sigma = 0.5, 1.0
    dt = 0.45 * min(eps * h, eps**2 / sigma)
    steps = int(np.ceil(t_end / dt))
    dt = t_end / steps
    wall = time.perf_counter()
    for _ in range(steps):
        rho = f.sum(axis=1)
        rate = np.zeros_like(f)
        for i in range(2):
            for k in range(2):
                line = np.ascontiguousarray(f[i, k])[None, :, None]
                out = np.zeros_like(line)
                # specular walls: the ghost value of f(v) is f(−v) of the boundary cell
                low = f[i, 1 - k, 0]
                high = f[i, 1 - k, -1]
                upwind_divergence(
                    line,
                    v[k],
                    h,
                    out,
                    limiter="minmod",
                    boundary=BoundaryKind.INFLOW,
                    low=low,
                    high=high,
                    scale=1 / eps,
                )
                rate[i, k] = axis_view(out, 1)[0, :, 0]
        rate += (sigma / eps**2) * (rho[:, None] / 2 - f)
        # bias (41) on {±1}, σ = 1: ε^{-1} 𝒯^1 f_u with (𝒯^1 f)_k = χσ S' (v_k f_k − (f_+ − f_−)/2)
        grad_s = np.gradient(rho[1], h)
        odd = 0.5 * (f[0, 1] - f[0, 0])
        for k in range(2):
            rate[0, k] += (chi * sigma * grad_s * (v[k] * f[0, k] - odd)) / eps
        rate[1] += ((rho[0] - rho[1]) / 2)[None]
        f = f + dt * rate
    return f.sum(axis=1), steps, time.perf_counter() - wall


def band(eps_values: tuple[float, ...] = (0.3, 0.1, 0.05, 0.03, 0.02, 0.01)) -> dict:
    """Largest stable fixed step of the AP scheme on the two-velocity model (σ = c = 1, periodic,
    64 cells of h = 0.05, 1 % noise, ARS(4,4,3) for 40 steps or to t = 0.5: stable if the
    perturbation stays below 5 %), on a geometric ladder of steps (ratio 1.3), for three choices of
    the penalisation μ: the default ``D exp(−ε²/h)``, ``0`` and ``D``."""
    import math

    from crossdiff.kinetic import KineticDiscretisation
    from crossdiff.time import GSAIMEX, SaveAt, integrate

    kin = KineticModel([KineticSpecies("u", Relaxation(1.0), initial="1")], Sphere(1, 1.0), name="two-velocity")
    grid = cd.Grid((64,), ((0.0, 3.2),), "periodic")
    h = grid.spacing[0]
    rho0 = 1 + 0.01 * np.random.default_rng(0).standard_normal(64)
    choices = {"default": lambda e: math.exp(-(e**2) / h), "mu=0": lambda e: 0.0, "mu=D": lambda e: 1.0}

    def stable(eps: float, dt: float, weight) -> bool:
        system = KineticDiscretisation(kin, grid, eps)
        system._penalisation = lambda rho: np.array([weight(eps) * system.operators.diffusion(0, rho)])  # type: ignore[method-assign]
        t_end = max(40 * dt, 0.5)
        with np.errstate(all="ignore"):
            run = integrate(system, GSAIMEX(dt=dt), system.initial_state({"u": rho0}), (0.0, t_end), save=SaveAt(t_end))
        r = system.fields(run.U)[0]
        return bool(np.all(np.isfinite(r)) and np.max(np.abs(r - r.mean())) <= 0.05)

    print("5. largest stable step, two velocities, h = 0.05 (transport CFL eps*h/c, h^2 = 0.0025)")
    rows = []
    for eps in eps_values:
        row: dict[str, float] = {"eps": eps}
        for name, weight in choices.items():
            best = 0.0
            for dt in np.geomspace(1e-4, 0.2, 28):
                if not stable(eps, float(dt), weight):
                    break
                best = float(dt)
            row[name] = best
        print(f"  eps={eps:<5g} " + "  ".join(f"{k} {row[k]:.3g}" for k in choices) + f"  (eps*h = {eps * h:.3g})")
        rows.append(row)
    return {"band": rows}


def telegraph_explicit(n: int, eps: float, t_end: float, cap: int) -> tuple[np.ndarray | None, int, float]:
    """The plain explicit scheme on the telegraph model (two velocities ±1, σ = 1, periodic
    [0, 2π], ``ρ(0) = 1 + A cos x``, well prepared): limited upwind transport (minmod,
    :func:`crossdiff.fv.upwind_divergence`), explicit relaxation, forward Euler with
    ``Δt = 0.45 min(εh/c, ε²/σ)``. Returns the densities (None past ``cap`` steps: then only
    ``cap`` steps are run and the wall time is scaled to all of them), the steps and the wall time."""
    h = 2 * np.pi / n
    x = (np.arange(n) + 0.5) * h
    f = np.stack([0.5 * (1 + WP_A * np.cos(x))] * 2)  # (velocity −1, +1; x)
    v = np.array([-1.0, 1.0])
    dt = 0.45 * min(eps * h, eps**2)
    steps = int(np.ceil(t_end / dt))
    dt = t_end / steps
    run = min(steps, cap)
    wall = time.perf_counter()
    for _ in range(run):
        rate = np.zeros_like(f)
        for k in range(2):
            upwind_divergence(
                f[k][None, :, None],
                v[k],
                h,
                rate[k][None, :, None],
                limiter="minmod",
                boundary=BoundaryKind.PERIODIC,
                scale=1 / eps,
            )
        rate += (1 / eps**2) * (0.5 * f.sum(axis=0)[None] - f)
        f = f + dt * rate
    wall = (time.perf_counter() - wall) * steps / run
    return (f.sum(axis=0) if run == steps else None), steps, wall


WP_A = 0.5


def work_precision(
    eps_values: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.01, 1e-3),
    cells: tuple[int, ...] = (32, 64, 128, 256, 512),
    explicit_cells: tuple[int, ...] = (32, 64, 128, 256, 512, 1024, 2048, 4096),
    targets: tuple[float, ...] = (1e-3, 1e-4),
    cap: int = 5_000,
) -> dict:
    """Work–precision over ε on the telegraph model (``tests/kinetic/test_solver.py``: two
    velocities ±1, σ = 1, periodic [0, 2π], ``ρ(0) = 1 + cos(x)/2``, t = 1, exact solution
    ``1 + A a(t) cos x`` with ``ε² a'' + σ a' + a = 0``): the AP scheme (``crossdiff.solve``,
    default stepper and tolerance) against the plain explicit scheme (:func:`telegraph_explicit`)
    on ``cells``; max-norm error of the density against the exact solution, wall time; then for
    each target error the cheapest run of each scheme that reaches it. The explicit scheme also
    runs on finer grids (``explicit_cells``: it is first order in time, ``Δt ∝ h``); a run past
    ``cap`` steps is timed on ``cap`` steps and scaled (its error is not known: a lower bound of
    the cost of any accuracy)."""
    import math

    from crossdiff.kinetic import KineticDiscretisation

    def amplitude(t: float, eps: float) -> float:
        import cmath

        disc = 1 - 4 * eps**2
        if disc == 0:
            lam = -1 / (2 * eps**2)
            return (1 - lam * t) * math.exp(lam * t)
        root = cmath.sqrt(disc)
        lp, lm = -2 / (1 + root), (-1 - root) / (2 * eps**2)
        return ((lm * cmath.exp(lp * t) - lp * cmath.exp(lm * t)) / (lm - lp)).real

    kin = KineticModel(
        [KineticSpecies("u", Relaxation(1.0), initial=f"1 + {WP_A}*cos(x)")], Sphere(1, 1.0), name="telegraph"
    )
    cd.solve(kin, cd.Grid((16,), ((0.0, 2 * math.pi),), "periodic"), 0.1, eps=0.01)  # compile
    telegraph_explicit(16, 0.5, 0.01, 10)
    print("6. work-precision on the telegraph model, t = 1 (max error of the density against the exact solution)")
    rows = []
    for eps in eps_values:
        for n in sorted(set(cells) | set(explicit_cells)):
            grid = cd.Grid((n,), ((0.0, 2 * math.pi),), "periodic")
            exact = 1 + WP_A * amplitude(1.0, eps) * np.cos(grid.coordinates[0])
            row: dict[str, object] = {"eps": eps, "cells": n}
            text = f"  eps={eps:<6g} N={n:4d}:"
            if n in cells:
                t0 = time.perf_counter()
                sol = cd.solve(kin, grid, 1.0, eps=eps)
                wall = time.perf_counter() - t0
                implicit = KineticDiscretisation(kin, grid, eps).implicit_transport[0]
                err = float(np.max(np.abs(sol.final[0] - exact)))
                row.update(ap_steps=sol.stats.n_steps, ap_s=wall, ap_err=err, ap_implicit_transport=bool(implicit))
                text += f" AP{' (implicit transport)' if implicit else ''} {sol.stats.n_steps} steps {wall:.3f} s err {err:.2e};"
            if n in explicit_cells:
                rho, steps, wall_ex = telegraph_explicit(n, eps, 1.0, cap)
                err_ex = float(np.max(np.abs(rho - exact))) if rho is not None else None
                row.update(explicit_steps=steps, explicit_s=wall_ex, explicit_err=err_ex)
                ex = f"{err_ex:.2e}" if err_ex is not None else "(not run: time extrapolated)"
                text += f" explicit {steps} steps {wall_ex:.3f} s err {ex}"
            rows.append(row)
            print(text, flush=True)
    table = []
    for eps in eps_values:
        mine = [r for r in rows if r["eps"] == eps]
        for target in targets:
            ap = [r["ap_s"] for r in mine if "ap_s" in r and r["ap_err"] <= target]
            ex = [r["explicit_s"] for r in mine if r.get("explicit_err") is not None and r["explicit_err"] <= target]
            # an explicit run not made (past the cap) is slower than any capped run: a lower bound
            floor = min(
                (r["explicit_s"] for r in mine if "explicit_s" in r and r["explicit_err"] is None), default=None
            )
            entry = {"eps": eps, "target": target, "ap_s": min(ap, default=None), "explicit_s": min(ex, default=None)}
            if entry["explicit_s"] is None and floor is not None:
                entry["explicit_s_at_least"] = floor
            table.append(entry)
            ap_s, ex_s = entry["ap_s"], entry["explicit_s"] or entry.get("explicit_s_at_least")
            ratio = f"{ex_s / ap_s:.1f}x" if ap_s and ex_s else "—"
            print(
                f"  eps={eps:<6g} error <= {target:g}: AP {ap_s if ap_s is None else f'{ap_s:.3f} s'}, explicit "
                f"{'>= ' if 'explicit_s_at_least' in entry else ''}{ex_s if ex_s is None else f'{ex_s:.3f} s'}: "
                f"explicit / AP = {ratio}"
            )
    return {"runs": rows, "equal_accuracy": table}


def memory_worker(cells: int, velocities: int, steps: int) -> dict:
    """One ``cancer-invasion-kinetic`` run of ``steps`` fixed steps (in a fresh process)."""
    import resource

    from crossdiff.catalogue import load_kinetic
    from crossdiff.kinetic import KineticDiscretisation
    from crossdiff.time import GSAIMEX

    kin = load_kinetic("cancer-invasion-kinetic")
    cd.solve(kin, cd.Grid((8, 8), kin.defaults.extent), 2e-3, eps=0.01, velocities=8, stepper=GSAIMEX(dt=1e-3))
    grid = cd.Grid((cells, cells), kin.defaults.extent)
    system = KineticDiscretisation(kin, grid, 0.01, velocities=velocities)
    x, _ = grid.mesh()
    state_bytes = system.initial_state({s: 1 + 0 * x for s in kin.species_names}).nbytes
    del system
    rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    dt = 1e-3
    walls = []
    for n in (1, 1 + steps):  # the difference: the steady cost of a step (no set-up, no first touch)
        t0 = time.perf_counter()
        sol = cd.solve(kin, grid, n * dt, eps=0.01, velocities=velocities, stepper=GSAIMEX(dt=dt))
        walls.append(time.perf_counter() - t0)
        assert sol.success and sol.stats.n_steps == n
    wall = walls[1] - walls[0]
    return {
        "cells": cells,
        "velocities": velocities,
        "species": len(kin.species_names),
        "state_bytes": state_bytes,
        "bytes_per_cell_velocity_species": state_bytes / (grid.size * velocities * len(kin.species_names)),
        "rss_setup_bytes": rss_setup,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "seconds_per_step": wall / steps,
        "seconds_first_step_with_setup": walls[0],
    }


def memory(cells: int, velocities: int, steps: int) -> dict:
    import os
    import subprocess
    import sys

    from bandwidth import bandwidth

    load = os.getloadavg()
    # the worker first: a child's peak RSS starts from its parent's at the fork
    out = subprocess.run(
        [sys.executable, __file__, "--memory-worker", str(cells), str(velocities), str(steps)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    row = json.loads(out.strip().splitlines()[-1])
    bw = bandwidth(5)
    copy = bw["copy_GBps"] * 1e9
    row["copy_bandwidth_Bps"] = copy
    row["copy_bandwidth_all_threads_Bps"] = bw["copy_all_threads_GBps"] * 1e9
    row["threads"] = bw["threads"]
    row["bound_seconds_per_step"] = 4 * 2 * row["state_bytes"] / copy
    row["bound_all_threads_seconds_per_step"] = 4 * 2 * row["state_bytes"] / row["copy_bandwidth_all_threads_Bps"]
    row["load_average"] = list(load) + list(os.getloadavg())
    mb = 1e6
    print(
        f"4. cancer-invasion-kinetic {cells}² x {velocities} directions, 3 species, walls, eps = 0.01, "
        f"{steps} steps (load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    print(
        f"  state {row['state_bytes'] / mb:.0f} MB = {row['bytes_per_cell_velocity_species']:.1f} bytes per "
        f"cell·velocity·species; RSS after set-up {row['rss_setup_bytes'] / mb:.0f} MB, "
        f"peak RSS {row['peak_rss_bytes'] / mb:.0f} MB"
    )
    print(
        f"  {row['seconds_per_step']:.2f} s per step; bound (read + write the state once per stage, "
        f"4 stages, copy bandwidth {copy / 1e9:.1f} GB/s) {row['bound_seconds_per_step']:.3f} s: "
        f"{row['seconds_per_step'] / row['bound_seconds_per_step']:.0f}x the bound"
    )
    print(
        f"  with all {row['threads']} threads (copy {row['copy_bandwidth_all_threads_Bps'] / 1e9:.1f} GB/s) the bound is "
        f"{row['bound_all_threads_seconds_per_step']:.3f} s: "
        f"{row['seconds_per_step'] / row['bound_all_threads_seconds_per_step']:.0f}x"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write every number to this file")
    parser.add_argument("--memory", action="store_true", help="only the memory / time-per-step measurement (4.)")
    parser.add_argument("--cells", type=int, default=256, help="cells per axis of --memory (default 256)")
    parser.add_argument("--velocities", type=int, default=32, help="directions of --memory (default 32)")
    parser.add_argument("--steps", type=int, default=4, help="steps of --memory, after one warm-up step (default 4)")
    parser.add_argument("--memory-worker", nargs=3, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--band", action="store_true", help="only the stable step against eps and mu (5.)")
    parser.add_argument("--work-precision", action="store_true", help="only the telegraph work-precision table (6.)")
    args = parser.parse_args()
    if args.band:
        rows = band()
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(rows, fh, indent=2)
        return
    if args.work_precision:
        result = work_precision()
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(result, fh, indent=2)
        return
    if args.memory_worker:
        print(json.dumps(memory_worker(*args.memory_worker)))
        return
    if args.memory:
        row = memory(args.cells, args.velocities, args.steps)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"memory": row}, fh, indent=2)
        return
    kin = model()
    macro = derive(kin).model
    results: dict[str, object] = {}

    grid = cd.Grid((128,), ((0.0, 2.0),))
    ref = cd.solve(macro, grid, T_END, stepper=cd.time.IMEX(rtol=1e-8)).final
    print("1. cost per unit simulated time, 128 cells, two velocities")
    cost = {}
    for eps in (0.1, 1e-4, 1e-8):
        t0 = time.perf_counter()
        sol = cd.solve(kin, grid, T_END, eps=eps)
        wall = time.perf_counter() - t0
        cost[eps] = wall / T_END
        err = float(np.sum(np.abs(sol.final[0] - ref[0])) * grid.cell_volume)
        print(
            f"  eps={eps:<7g} steps={sol.stats.n_steps:5d}  {cost[eps]:.3f} s per unit time  L1 error vs limit {err:.2e}"
        )
    for eps in (1e-4, 1e-8):
        print(f"  cost(eps={eps:g}) / cost(eps=0.1) = {cost[eps] / cost[0.1]:.2f}")
    results["cost_per_unit_time"] = {str(k): v for k, v in cost.items()}

    print("2. against a plain explicit kinetic scheme (upwind transport, explicit relaxation), 128 cells")
    table = []
    for eps in (1e-2, 1e-3):
        t0 = time.perf_counter()
        sol = cd.solve(kin, grid, T_END, eps=eps)
        wall_ap = time.perf_counter() - t0
        err_ap = float(np.sum(np.abs(sol.final[0] - ref[0])) * grid.cell_volume)
        rho, steps, wall_ex = explicit_kinetic(kin, grid, eps, T_END)
        err_ex = float(np.sum(np.abs(rho[0] - ref[0])) * grid.cell_volume)
        print(
            f"  eps={eps:g}: AP {sol.stats.n_steps} steps {wall_ap:.2f} s (L1 {err_ap:.2e}); "
            f"explicit {steps} steps {wall_ex:.2f} s (L1 {err_ex:.2e}); speed-up {wall_ex / wall_ap:.1f}x"
        )
        table.append({"eps": eps, "ap_s": wall_ap, "ap_err": err_ap, "explicit_s": wall_ex, "explicit_err": err_ex})
    results["explicit"] = table

    print("3. steps of the AP scheme at eps = 1e-4 against the grid")
    rows = []
    for n in (64, 128, 256, 512):
        sol = cd.solve(kin, cd.Grid((n,), ((0.0, 2.0),)), T_END, eps=1e-4)
        print(f"  N={n:4d}: {sol.stats.n_steps} steps ({sol.stats.n_rejected} rejected)")
        rows.append({"cells": n, "steps": sol.stats.n_steps})
    results["steps_vs_cells"] = rows
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
