"""Mass drift of the Keller–Segel taxis term with py-pde's boundary conditions, vs crossdiff.

    .venv/bin/python bench/mass_check.py [--n 64] [--t-end 2]

Keller–Segel *without* growth (r = 0), so ∫u must stay constant. Runs (fresh processes):
crossdiff; py-pde's hand-written Numba PDE with the flux vector's boundary condition
``{"value": 0}`` (what bench_macro.py uses for both py-pde variants); and the same with
``{"derivative": 0}`` (py-pde's default Neumann condition on every operator, which is what a
string PDE gets without ``bc_ops``). Prints the relative change of ∫u.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_macro import run_case


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--t-end", type=float, default=2.0)
    a = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="crossdiff-mass-"))
    base = ["--t-end", repr(a.t_end), "--no-logistic"]
    cases = [
        ("crossdiff", "crossdiff (finite volumes)", []),
        ("pypde-numba", 'py-pde, flux BC {"value": 0}', ["--flux-bc", "zero"]),
        ("pypde-numba", 'py-pde, flux BC {"derivative": 0} (default Neumann)', ["--flux-bc", "neumann"]),
    ]
    for k, (solver, label, extra) in enumerate(cases):
        r = run_case(solver, "ks", a.n, root / f"case{k}", base + extra)
        if r.get("failed"):
            print(f"{label}: FAILED\n{r['stderr']}")
            continue
        m0, m1 = r["mass_u_initial"], r["mass_u_final"]
        print(
            f"KS r=0 {a.n}^2 t={a.t_end:g}  {label:<52} mass {m0:.10g} -> {m1:.10g}  relative change {(m1 - m0) / m0:+.2e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
