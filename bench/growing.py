"""A growing domain against the fixed one: cost per step, and the verification figures of
docs/numerics.md ("Growing domains").

    .venv/bin/python bench/growing.py [--grid 128] [--t-end 2] [--repeat 3] [--no-verify]

Issue target (docs/numerics.md, "Growing domains"): uniform growth costs at most 15 % more per
step than the fixed domain. Keller–Segel with logistic growth (2D, and 1D on 8× the cells per
axis) runs on its box and on the same box growing slowly (``1 + 0.05*t``: the dynamics, hence the
steps, nearly the same); each run is a fresh process (``crossdiff run ... --json --threads 1``),
fixed and growing alternate ``--repeat`` times, and the ratio is of the medians of the stepping
time per step attempt (start-up excluded). The verification part prints Simpson's amplitudes
(exponential 1D, logistic 2D, anisotropic 2D) at three grids with their orders, and the mass
drift with taxis.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

GROWTH = "1 + 0.05*t"


def alternate(model, box, t_end: float, repeat: int, **options) -> tuple[float, float, dict[bool, int]]:
    """Stepping time per step attempt on ``box`` fixed and growing by :data:`GROWTH`, alternating
    in this process after one warm-up run of each (compiled kernels loaded): the medians of
    ``repeat`` (fixed, growing) and the step attempts of each."""
    import crossdiff as cd

    domains = {False: box, True: cd.GrowingGrid(box, cd.Growth(GROWTH, ndim=box.ndim))}
    per_step: dict[bool, list[float]] = {False: [], True: []}
    steps = {}
    for k in range(repeat + 1):
        for growing, domain in domains.items():
            sol = cd.solve(model, domain, t_end, save_every=t_end, **options)
            attempts = sol.stats.n_steps + sol.stats.n_rejected
            steps[growing] = attempts
            if k:  # the first of each is the warm-up
                per_step[growing].append(sol.stats.wall_stepping / attempts)
    fixed, grow = (statistics.median(per_step[g]) for g in (False, True))
    return fixed, grow, steps


def cost(cells: tuple[int, ...], t_end: float, repeat: int) -> None:
    """:func:`alternate` on Keller–Segel with logistic growth; one thread."""
    import crossdiff as cd
    from crossdiff.threads import set_threads

    set_threads(1)
    model = cd.catalogue.load("keller-segel-logistic")
    fixed, grow, steps = alternate(model, cd.default_grid(model, cells), t_end, repeat)
    grid = "x".join(map(str, cells))
    print(
        f"{grid:>9}: fixed {fixed * 1e3:7.3f} ms/step ({steps[False]} steps), growing "
        f"{grow * 1e3:7.3f} ms/step ({steps[True]} steps): ratio {grow / fixed:.3f}"
    )


def verify() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fv"))
    from test_growing import _KS, D, _mode_error, _orders  # the tests' own cases

    import crossdiff as cd

    rho = 1.0
    A = np.exp(-rho) * np.exp(-(np.pi**2) * D * (1 - np.exp(-2 * rho)) / (2 * rho))
    K, r, t = 3.0, 2.0, 1.0
    ell = K / (1 + (K - 1) * np.exp(-r * t))
    integral = (t + 2 * (K - 1) * (1 - np.exp(-r * t)) / r + (K - 1) ** 2 * (1 - np.exp(-2 * r * t)) / (2 * r)) / K**2
    A2 = ell**-2 * np.exp(-2 * np.pi**2 * D * integral)
    A3 = np.exp(-(np.pi**2) * D * ((1 - np.exp(-2)) / 2 + 0.5)) / (np.e * 2)
    cases = [
        ("exponential e^t, 1D", 1, (f"exp({rho}*t)",), A, (16, 32, 64)),
        ("logistic K=3, r=2, 2D", 2, (f"{K}/(1 + ({K} - 1)*exp(-{r}*t))",), A2, (8, 16, 32)),
        ("anisotropic e^t, 1+t, 2D", 2, ("exp(t)", "1 + t"), A3, (8, 16, 32)),
    ]
    for label, ndim, growth, amp, grids in cases:
        errors = [_mode_error(n, ndim, growth, amp) for n in grids]
        orders = ", ".join(f"{o:.2f}" for o in _orders(errors))
        print(f"{label:>26}: max error {', '.join(f'{e:.2e}' for e in errors)} at {grids}; orders {orders}")
    domain = cd.GrowingGrid(cd.Grid((24, 24), ((0, 3), (0, 3))), cd.Growth("exp(0.7*t)", ndim=2))
    sol = cd.solve(_KS, domain, 2.0, save_every=0.5)
    mass = sol.mass().values[:, 0]
    print(f"{'mass with taxis, L x4':>26}: max |M(t)/M(0) - 1| = {np.max(np.abs(mass / mass[0] - 1)):.1e}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=128)
    ap.add_argument("--t-end", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args(argv)
    if not args.no_verify:
        verify()
    cost((args.grid, args.grid), args.t_end, args.repeat)
    cost((8 * args.grid,), args.t_end, args.repeat)
    cost((args.grid // 2,) * 3, args.t_end / 4, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
