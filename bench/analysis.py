"""Time ``crossdiff stability`` of a 4-species model with the critical-value search (issue 11).

The model is May–Nowak virus dynamics (catalogue ``may-nowak-taxis``) with the healthy cells
following a chemokine ``c`` released by infected cells instead of the infected cells themselves:

    ∂t u1 = D1 Δu1 − χ ∇·(u1 ∇c) − d1 u1 − β u1 u3 + r
    ∂t u2 = D2 Δu2 − d2 u2 + β u1 u3
    ∂t u3 = D3 Δu3 − d3 u3 + k u2
    ∂t c  = Dc Δc + a u2 − b c

on [0, 20]² with no-flux walls (64² cells: 4096 admissible modes). Measured: the steady states
(SymPy), the dispersion relation on the modes and the continuum, and the bisection for χ_c to
1e-6 relative, in one process (the library) and as the command line a user types (a fresh
interpreter, imports included). Target: under 5 s. Run: ``python bench/analysis.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import crossdiff as cd
from crossdiff.analysis import critical, dispersion, steady_states
from crossdiff.model import RunDefaults, save_model


def model() -> cd.Model:
    return cd.Model(
        species=(
            cd.Species("u1", diffusion="D1", taxis=[cd.Taxis("c", "chi")], reaction="-d1*u1 - beta*u1*u3 + r"),
            cd.Species("u2", diffusion="D2", reaction="-d2*u2 + beta*u1*u3"),
            cd.Species("u3", diffusion="D3", reaction="-d3*u3 + k*u2"),
            cd.Species("c", diffusion="Dc", reaction="a*u2 - b*c"),
        ),
        parameters=dict(D1=1, D2=1, D3=1, Dc=1, chi=6, d1=1, d2=1, d3=1, beta=1, k=1, r=2, a=1, b=1),
        name="may-nowak-chemokine",
        defaults=RunDefaults(extent=((0.0, 20.0), (0.0, 20.0)), cells=(64, 64)),
    )


def main() -> None:
    m = model()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    states = steady_states(m)
    t1 = time.perf_counter()
    d = dispersion(m)
    t2 = time.perf_counter()
    c = critical(m, "chi")
    t3 = time.perf_counter()
    print(f"machine load (1 min average): {load:.2f} on {os.cpu_count()} cores")
    print(f"steady states: {len(states)} in {t1 - t0:.3f} s; {d.modes.shape[0]} admissible modes")
    print(f"dispersion: {t2 - t1:.3f} s (most unstable k = {d.most_unstable.k:.4g}, onset {d.onset})")
    print(f"critical: {c.describe()} in {t3 - t2:.3f} s, {c.evaluations} growth-rate evaluations")
    print(f"library total: {t3 - t0:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = save_model(m, os.path.join(tmp, "model.toml"))
        start = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-m", "crossdiff.cli", "stability", str(path), "--critical", "chi", "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    status = "ok" if res.returncode == 0 else f"exit {res.returncode}: {res.stderr.strip()}"
    print(f"command line `crossdiff stability MODEL --critical chi --json`: {wall:.2f} s ({status}; target < 5 s)")


if __name__ == "__main__":
    main()
