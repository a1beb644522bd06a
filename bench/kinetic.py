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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write every number to this file")
    args = parser.parse_args()
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
