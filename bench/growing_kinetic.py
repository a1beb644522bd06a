"""A kinetic model on a growing box against the fixed box: cost per step, and the verification
figures of docs/numerics.md ("Growing domains", kinetic rows).

    .venv/bin/python bench/growing_kinetic.py [--repeat 3] [--no-verify]

Issue target: uniform growth costs at most 15 % more per step than the fixed domain. Two kinetic
catalogue models run on their box and on the same box growing slowly (``1 + 0.05*t``: the
dynamics, hence the steps, nearly the same), fixed and growing alternating in one process after
one warm-up run of each, one thread; the ratio is of the medians of the stepping time per step
attempt (start-up excluded). The verification part prints the ε → 0 errors against the derived
model on a growing domain with their fitted order, the AP distance at ε = 1e-8, the telegraph
mode against its exact amplitude and the mass drift (the tests' own cases,
``tests/kinetic/test_growing.py``); then the steps over a growth of L by 8×.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from growing import alternate  # bench/growing.py: the same alternation and medians

#: (label, catalogue name, cells, extent or None, t_end, eps, velocities)
CASES = [
    ("cancer-invasion-kinetic 1D", "cancer-invasion-kinetic", (256,), ((0.0, 30.0),), 0.5, 0.1, None),
    ("cancer-invasion-kinetic 1D", "cancer-invasion-kinetic", (256,), ((0.0, 30.0),), 0.5, 1e-4, None),
    ("forager-scrounger-kinetic 2D", "forager-scrounger-kinetic", (48, 48), None, 0.2, 0.1, 8),
]


def cost(repeat: int) -> None:
    """Stepping time per step attempt, fixed and growing, medians of ``repeat``; one thread."""
    import crossdiff as cd
    from crossdiff.threads import set_threads

    set_threads(1)
    for label, name, cells, extent, t_end, eps, velocities in CASES:
        model = cd.catalogue.load_kinetic(name)
        box = cd.Grid(cells, extent) if extent else cd.default_grid(model, cells)
        fixed, grow, steps = alternate(model, box, t_end, repeat, eps=eps, velocities=velocities)
        grid = "x".join(map(str, cells))
        print(
            f"{label:>28} {grid:>6} eps {eps:g}: fixed {fixed * 1e3:7.3f} ms/step ({steps[False]} steps), "
            f"growing {grow * 1e3:7.3f} ms/step ({steps[True]} steps): ratio {grow / fixed:.3f}"
        )


def steps_8x() -> None:
    """The steps over a growth of L by 8× (``ℓ = e^t`` to ``t = ln 8``) against the fixed box,
    cancer-invasion-kinetic 1D, 128 cells."""
    import crossdiff as cd

    model = cd.catalogue.load_kinetic("cancer-invasion-kinetic")
    box = cd.Grid((128,), ((0.0, 30.0),))
    t_end = float(np.log(8.0))
    for eps in (0.1, 1e-3):
        counts = []
        for domain in (box, cd.GrowingGrid(box, cd.Growth("exp(t)"))):
            sol = cd.solve(model, domain, t_end, eps=eps, save_every=t_end)
            counts.append(f"{sol.stats.n_steps} (+{sol.stats.n_rejected} rejected)")
        print(f"{'L x8, eps ' + format(eps, 'g'):>30}: growing {counts[1]} steps, fixed box {counts[0]}")


def verify() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "kinetic"))
    from test_growing import _l1, _telegraph_amplitude, chemotaxis_model  # the tests' own cases

    import crossdiff as cd
    from crossdiff.derive import derive
    from crossdiff.kinetic import KineticModel, KineticSpecies, Relaxation, Sphere
    from crossdiff.time import GSAIMEX

    kinetic = chemotaxis_model(1)
    domain = cd.GrowingGrid(cd.Grid((32,), ((0.0, 2.0),)), cd.Growth("exp(t)"))
    ref = cd.solve(derive(kinetic).model, domain, 0.5, stepper=cd.time.IMEX(rtol=1e-8)).final
    h = domain.spacing[0] * float(np.exp(0.5))
    eps_values = [0.1, 0.05, 0.025]
    errors = []
    for eps in eps_values:
        sol = cd.solve(kinetic, domain, 0.5, eps=eps, stepper=GSAIMEX(dt_max=0.005))
        errors.append(_l1(sol.final[0], ref[0], h))
    order = np.polyfit(np.log(eps_values), np.log(errors), 1)[0]
    print(f"{'eps -> 0, e^t, 32 cells':>30}: L1 {', '.join(f'{e:.2e}' for e in errors)}; fitted order {order:.2f}")
    limit = cd.solve(kinetic, domain, 0.5, eps=1e-8, stepper=GSAIMEX(dt_max=0.005))
    ap = [_l1(limit.final[i], ref[i], h) for i in range(2)]
    print(f"{'AP, eps = 1e-8':>30}: L1 to the macroscopic growing run {ap[0]:.1e}, {ap[1]:.1e}")
    model = KineticModel([KineticSpecies("u", Relaxation(1.0), initial="1 + 0.5*cos(x)")], Sphere(1, 1.0))
    for eps, boundary in [(1.0, "periodic"), (0.1, "noflux"), (1e-4, "periodic")]:
        length = 2 * np.pi if boundary == "periodic" else np.pi
        dom = cd.GrowingGrid(cd.Grid((64,), ((0, length),), boundary=boundary), cd.Growth("exp(0.5*t)"))
        sol = cd.solve(model, dom, 1.0, eps=eps, stepper=GSAIMEX(rtol=1e-8, atol=1e-10), save_every=1.0)
        W = dom.volume_scale(1.0) * sol.final[0]
        X, hh = dom.coordinates[0], length / 64
        mode = (np.sin(X + hh / 2) - np.sin(X - hh / 2)) / hh
        amplitude = float(np.sum((W - W.mean()) * mode) / np.sum(mode * mode)) / 0.5
        exact = _telegraph_amplitude(eps, 0.5, 1.0, 1.0)
        print(f"{f'telegraph eps {eps:g}, {boundary}':>30}: relative amplitude error {abs(amplitude / exact - 1):.1e}")
    model2 = chemotaxis_model(2)
    dom2 = cd.GrowingGrid(cd.Grid((10, 10), ((0, 2), (0, 2))), cd.Growth(("1 + t", "1 + 2*t")))
    sol = cd.solve(model2, dom2, 1.0, eps=0.1, velocities=8, save_every=0.25)
    masses = np.array([dom2.volume_scale(float(t)) * float(np.sum(f[0])) for t, f in zip(sol.t, sol.frames)])
    print(f"{'mass, 2D, area x6':>30}: max |M(t)/M(0) - 1| = {np.max(np.abs(masses / masses[0] - 1)):.1e}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args(argv)
    if not args.no_verify:
        verify()
    steps_8x()
    cost(args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
