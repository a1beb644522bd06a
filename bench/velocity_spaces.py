"""Convergence of the kinetic solver on the continuous velocity spaces (docs/kinetic.md,
"Continuous velocity spaces"): the decay rate of a Fourier mode of the 1D relaxation model
against the exact kinetic dispersion relation, for the uniform equilibrium on [−1, 1] (the ball)
and the Maxwellian of temperature 1/3 (R), at ε = 1, 0.5, 0.1, under grid refinement; and the
velocity quadrature's error in the relation itself.

    PYTHONPATH=. NUMBA_NUM_THREADS=1 .venv/bin/python bench/velocity_spaces.py [--cells 32,64,128,256]

The exact roots, the model and the measurement are those of the test
(tests/kinetic/test_continuous_solver.py), imported from it so that there is one copy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from crossdiff.kinetic import Ball, Gaussian, NodalModel
from tests.kinetic.test_continuous_solver import (
    EPSILONS,
    RADIUS,
    SIGMA,
    TEMPERATURE,
    K,
    decay_rate,
    lambda_maxwellian,
    lambda_uniform,
    relaxation,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="32,64,128,256")
    args = parser.parse_args()
    cells = [int(c) for c in args.cells.split(",")]
    spaces = {
        "uniform": (Ball(1, RADIUS), lambda_uniform, lambda eps: 16),
        "maxwellian": (Gaussian(1, TEMPERATURE), lambda_maxwellian, lambda eps: 32 if eps == 1.0 else 16),
    }
    print("relative error of the decay rate |rate/λ − 1| (mass change in brackets), t = 2, k = 1")
    print("| equilibrium | ε | λ (exact) | " + " | ".join(f"{c} cells" for c in cells) + " | order | time (s) |")
    print("| --- " * (5 + len(cells)) + "|")
    for kind, (space, exact, nodes) in spaces.items():
        for eps in EPSILONS:
            lam = exact(eps)
            errors, changes, wall = [], [], 0.0
            for c in cells:
                t0 = time.perf_counter()
                rate, change = decay_rate(space, eps, lam, nodes(eps), cells=c)
                wall += time.perf_counter() - t0
                errors.append(abs(rate / lam - 1))
                changes.append(change)
            order = -np.polyfit(np.log(cells), np.log(errors), 1)[0]
            row = " | ".join(f"{e:.2e} ({m:.0e})" for e, m in zip(errors, changes))
            print(f"| {kind} | {eps:g} | {lam:.9f} | {row} | {order:.2f} | {wall:.1f} |")
    print()
    print("velocity quadrature: |Σ_k w_k φ(v_k) − 1| with φ = M/(1 + ε(ελ + ikv)) (the relation on the nodes)")
    print("| equilibrium | ε | " + " | ".join(f"n = {n}" for n in (4, 8, 16, 32, 64)) + " |")
    print("| --- " * 7 + "|")
    for kind, (space, exact, _) in spaces.items():
        for eps in EPSILONS:
            lam = exact(eps)
            row = []
            for n in (4, 8, 16, 32, 64):
                nodal = NodalModel(relaxation(space), n)
                v, w, m = nodal.nodes[:, 0], nodal.weights, nodal.equilibria["u"]
                phi = m / (1 + eps / SIGMA * (eps * lam + 1j * K * v))
                row.append(f"{abs(w @ phi - 1):.1e}")
            print(f"| {kind} | {eps:g} | " + " | ".join(row) + " |")
    print(f"\n(D = {RADIUS**2 / (3 * SIGMA):.6f} = T/σ = {TEMPERATURE / SIGMA:.6f}; pole of φ at v = i(1 + ε²λ)/(εk))")


if __name__ == "__main__":
    main()
