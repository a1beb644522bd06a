"""One step of the kinetic AP scheme at 256² × 32 against the one-thread bandwidth bound (issue 24,
part 3): where the time of a step goes, and before/after in one run.

    PYTHONPATH=. .venv/bin/python bench/kinetic_step.py [--root CHECKOUT ...] [--cells 256]
        [--velocities 32] [--steps 3] [--rounds 2]

Model: ``cancer-invasion-kinetic`` (three species, no-flux walls) on cells² × velocities
directions at ε = 0.01, ARS(4,4,3) with a fixed step ``Δt = 10⁻³`` (:class:`crossdiff.time.GSAIMEX`,
five stages: one explicit, four implicit), stepped directly (``stepper.step`` in a loop) after two
warm-up steps, one thread (``NUMBA_NUM_THREADS=1``). Smooth initial densities
``1 + 0.1 cos x sin y``.

For each checkout (``--root``, put first on ``PYTHONPATH``; default this one) a fresh process
measures the CPU time (``time.process_time``: on a shared machine the wall time also counts the
other work) of ``--steps`` steps, the best step and the CPU time by part: the explicit part
(``system.explicit``), the stage solves (``system.solve_implicit``) and the stage sums
(``crossdiff.time.gsa_start`` and ``gsa_scatter``), the rest being the stepper's own Python.
The checkouts alternate for ``--rounds`` rounds, so a change of the machine's load touches them
alike, and each prints the SHA-1 of its final state: equal SHA-1s mean bit-identical results.

The bound is that of ``bench/kinetic.py --memory``: a four-stage step that reads and writes the
state once per stage, ``4 × 2 × state bytes`` at this machine's one-thread copy bandwidth
(``bench/bandwidth.py``); the issue's target is a step within 3× of it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def worker(cells: int, velocities: int, steps: int) -> dict:
    """One measurement in this process (run by :func:`main` in a fresh interpreter per checkout)."""
    import hashlib
    import time

    import numpy as np

    import crossdiff as cd
    import crossdiff.time._gsa as gsa
    from crossdiff.catalogue import load_kinetic
    from crossdiff.kinetic import KineticDiscretisation
    from crossdiff.time import GSAIMEX

    kin = load_kinetic("cancer-invasion-kinetic")
    grid = cd.Grid((cells, cells), kin.defaults.extent)
    system = KineticDiscretisation(kin, grid, 0.01, velocities=velocities)
    x, y = grid.mesh()
    U = system.initial_state({s: 1 + 0.1 * np.cos(x) * np.sin(y) for s in kin.species_names})
    system.prepare(0.0, U)
    parts: dict[str, float] = {}

    def timed(owner: object, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def call(*args, **kwargs):
            t0 = time.process_time()
            result = inner(*args, **kwargs)
            parts[label] = parts.get(label, 0.0) + time.process_time() - t0
            return result

        setattr(owner, name, call)

    timed(system, "explicit", "explicit part (4 calls)")
    timed(system, "solve_implicit", "stage solves (4 calls)")
    timed(gsa, "gsa_start", "stage sums (crossdiff.time)")
    timed(gsa, "gsa_scatter", "stage sums (crossdiff.time)")
    stepper, state, t, dt = GSAIMEX(dt=1e-3), None, 0.0, 1e-3
    for _ in range(2):  # compile or load the kernels, touch the work arrays
        result = stepper.step(system, t, U, dt, state)
        U, state, t = result.U, result.state, t + dt
    parts.clear()
    cpu = []
    for _ in range(steps):
        t0 = time.process_time()
        result = stepper.step(system, t, U, dt, state)
        cpu.append(time.process_time() - t0)
        U, state, t = result.U, result.state, t + dt
    return {
        "crossdiff": cd.__file__,
        "state_bytes": U.nbytes,
        "step_cpu_min": min(cpu),
        "step_cpu_mean": sum(cpu) / steps,
        "parts": {k: v / steps for k, v in parts.items()},
        "sha1": hashlib.sha1(U.tobytes()).hexdigest()[:16],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, action="append", help="checkout to measure (repeat to compare)")
    parser.add_argument("--cells", type=int, default=256)
    parser.add_argument("--velocities", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="measured steps per process (after two warm-up steps)")
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per checkout, alternated")
    parser.add_argument("--json", help="write every number to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.cells, args.velocities, args.steps)))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bandwidth import bandwidth

    roots = [r.resolve() for r in args.root or [Path(__file__).resolve().parents[1]]]
    load = os.getloadavg()
    rows: dict[str, list[dict]] = {str(r): [] for r in roots}
    for _ in range(args.rounds):
        for root in roots:
            env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_NUM_THREADS": "1"}
            command = [sys.executable, __file__, "--worker", "--cells", str(args.cells)]
            command += ["--velocities", str(args.velocities), "--steps", str(args.steps)]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            rows[str(root)].append(json.loads(out.strip().splitlines()[-1]))
    copy = bandwidth(5)["copy_GBps"] * 1e9
    state = rows[str(roots[0])][0]["state_bytes"]
    bound = 4 * 2 * state / copy
    print(
        f"kinetic step, cancer-invasion-kinetic {args.cells}² x {args.velocities} directions, walls, eps = 0.01, "
        f"ARS(4,4,3) dt = 1e-3, one thread; state {state / 1e6:.0f} MB; load average {load[0]:.1f} -> "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(f"bound: 4 x 2 x state at the one-thread copy bandwidth {copy / 1e9:.1f} GB/s = {bound:.4f} s")
    summary = {}
    for root, runs in rows.items():
        best = min(runs, key=lambda r: r["step_cpu_min"])
        print(f"{root}: sha1 {', '.join(sorted({r['sha1'] for r in runs}))}")
        print(
            f"  step CPU {best['step_cpu_min']:.3f} s (best of {args.rounds} x {args.steps}; the means "
            + ", ".join(f"{r['step_cpu_mean']:.3f}" for r in runs)
            + f" s) = {best['step_cpu_min'] / bound:.1f} x the bound"
        )
        for part, seconds in best["parts"].items():
            print(f"    {part:<32} {seconds:.3f} s")
        summary[root] = {
            "runs": runs,
            "best_step_cpu": best["step_cpu_min"],
            "ratio_to_bound": best["step_cpu_min"] / bound,
        }
    if len(roots) > 1:
        first = summary[str(roots[0])]["best_step_cpu"]
        for root in roots[1:]:
            print(f"{root} / {roots[0]}: {summary[str(root)]['best_step_cpu'] / first:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {"bound_seconds": bound, "copy_Bps": copy, "load": list(load), "checkouts": summary}, fh, indent=2
            )


if __name__ == "__main__":
    main()
