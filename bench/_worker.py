"""Run ONE benchmark case in this (fresh) process and write its result; used by bench_macro.py.

    python bench/_worker.py SOLVER PROBLEM N OUTDIR [--t-end T] [--rtol R] [--dt-factor F]

SOLVER is ``crossdiff``, ``pypde-numba`` (hand-written ``PDEBase`` with py-pde's compiled
operators) or ``pypde-string`` (``PDE({...})`` from strings). Writes ``OUTDIR/result.json`` and
``OUTDIR/final.npy`` / ``OUTDIR/snap.npy`` (state at t_end and at the problem's early time).

Timing fields (seconds), measured from ``BENCH_T0`` (the parent's clock just before it spawned
this process; falls back to this process's own start):
* ``t_imports``: the library (crossdiff or py-pde) imported;
* ``t_first_step``: crossdiff only — set-up done, stepping begins (``cpu_first_step``: the CPU
  time this process has used by then);
* ``stepping``: crossdiff: ``Solution.stats.wall_stepping`` (``stepping_steady``: the steps after
  the first, scaled by steps / (steps − 1): the first calls of the cached compiled kernels and of
  the transforms excluded, as py-pde's compilation is); py-pde: wall time of the stepping
  loop from t_end/50 to t_end, scaled by t_end/(t_end - t_end/50) (py-pde compiles lazily on the
  first step; fixed steps cost the same, so this excludes compilation).
* ``stepping_cpu``, ``cpu_process``: the same in CPU time of this process (user + system), which
  other jobs on a shared machine disturb much less than wall time.
Peak memory: ``ru_maxrss`` of this process (RUSAGE_SELF).
"""

from __future__ import annotations

import time

_T_START = time.time()

import argparse
import json
import math
import os
import resource
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _problems import PROBLEMS, initial

T0 = float(os.environ.get("BENCH_T0", _T_START))


def since() -> float:
    return time.time() - T0


# ----------------------------------------------------------------------------- crossdiff
def run_crossdiff(
    problem: str, n: int, t_end: float, t_snap: float, rtol: float, atol: float, logistic: bool = True, order: int = 4
) -> dict:
    import crossdiff as cd

    t_imports = since()
    p = PROBLEMS[problem]
    model = cd.catalogue.load(p["catalogue"])
    if not logistic:
        model = model.with_parameters(r=0.0)
    L = p["length"]
    grid = cd.Grid((n, n), ((0, L), (0, L)))
    kwargs = {}
    if problem == "ks":  # the continuum noise, identical on every grid (see _problems.py)
        kwargs["initial"] = initial(problem, n)
    from crossdiff.time import KENCARP3, KENCARP4, Observer

    class CpuClock(Observer):
        """CPU time of the integration loop (mirrors stats.wall_stepping, which excludes output),
        and the CPU and wall time of the steps after the first accepted one (the first calls of
        the compiled kernels, loaded from the disk cache, and of the transforms happen in it)."""

        cpu = 0.0
        cpu_first_step = None
        steps = 0
        after_first: tuple[float, float] | None = None
        steady: tuple[float, float] | None = None

        def start(self, system, t0, U0):
            self.cpu_first_step = time.process_time()

        def step(self, t, U):
            self.steps += 1
            if self.steps == 1:
                self.after_first = (time.process_time(), time.perf_counter())
            return None

        def finish(self, t, U, status, report):
            self.cpu = time.process_time() - self.cpu_first_step
            if self.after_first is not None and self.steps > 1:
                scale = self.steps / (self.steps - 1)
                cpu0, wall0 = self.after_first
                self.steady = (
                    (time.process_time() - cpu0) * scale,
                    (time.perf_counter() - wall0) * scale,
                )

    clock = CpuClock()
    stepper = cd.IMEX(rtol=rtol, atol=atol, tableau=KENCARP4 if order == 4 else KENCARP3)
    t_call = since()
    sol = cd.solve(model, grid, t_end=t_end, stepper=stepper, save_every=t_snap, observers=[clock], **kwargs)
    i_snap = int(np.argmin(np.abs(sol.t - t_snap)))
    st = sol.stats
    return {
        "final": sol.final,
        "snap": sol.frames[i_snap],
        "t_snap": float(sol.t[i_snap]),
        "t_final": float(sol.t_final),
        "t_imports": t_imports,
        "t_first_step": t_call + st.wall_setup,
        "wall_setup": st.wall_setup,
        "stepping": st.wall_stepping,
        "stepping_cpu": clock.cpu,
        # steady stepping (compilation excluded, as py-pde's stepping is): the steps after the
        # first, scaled by steps / (steps - 1)
        "stepping_steady_cpu": clock.steady[0] if clock.steady else None,
        "stepping_steady": clock.steady[1] if clock.steady else None,
        "cpu_first_step": clock.cpu_first_step,
        "steps": st.n_steps,
        "rejected": st.n_rejected,
        "rhs_evals": st.nfev,
        "method": sol.stepper,
        "mass_u_initial": float(grid.integrate(sol.frames[0][0])),
        "mass_u_final": float(grid.integrate(sol.final[0])),
    }


# ----------------------------------------------------------------------------- py-pde
KS_CONSTS = {"chi": 10.0}
CANCER_CONSTS = {"chi": 1.0, "xi": 5.0, "mu": 0.2, "r": 1.0, "sigma": 1.0, "eta": 0.1}
NEUMANN = {"derivative": 0}
#: no flux through the walls for the taxis term: the *flux vector* u∇v vanishes on the wall
#: (py-pde's default Neumann condition on the vector would leak mass, see README)
ZERO_FLUX = {"value": 0}


def string_pde(problem: str):
    """The PDE a py-pde user would write, with zero-flux boundary operators."""
    from pde import PDE

    if problem == "ks":
        rhs = {
            "u": "laplace(u) - chi*divergence(u*gradient(v)) + u*(1 - u)",
            "v": "laplace(v) + u - v",
        }
        return PDE(rhs, bc=NEUMANN, bc_ops={"u:divergence": ZERO_FLUX}, consts=KS_CONSTS)
    rhs = {
        "u1": "laplace(u1) - chi*divergence(u1*gradient(u2)) - xi*divergence(u1*gradient(u3)) + mu*u1*(r - u1 - u3)",
        "u2": "(laplace(u2) - (u2 - u1))/sigma",
        "u3": "-u2*u3 + eta*u3*(1 - u1 - u3)",
    }
    return PDE(rhs, bc=NEUMANN, bc_ops={"u1:divergence": ZERO_FLUX}, consts=CANCER_CONSTS)


def _operators(state, backend, neumann, flux_bc):
    """py-pde's compiled laplace and gradient (Neumann) and divergence (no-flux) operators."""
    grid = state.grid
    args = {"backend": backend, "dtype": state.dtype}
    return (
        grid.make_operator("laplace", bc=neumann, **args),
        grid.make_operator("gradient", bc=neumann, **args),
        grid.make_operator("divergence", bc=flux_bc, **args),
    )


def numba_pde(problem: str, flux_bc=ZERO_FLUX, logistic: bool = True):
    """Hand-written ``PDEBase`` whose ``make_evolution_rate`` py-pde compiles with Numba.

    ``make_evolution_rate`` is py-pde 0.59's name for the former ``_make_pde_rhs_numba`` (which
    still exists, deprecated, and forwards to it). Operators are py-pde's compiled ones.
    """
    from pde import FieldCollection, PDEBase

    class KellerSegelLogistic(PDEBase):
        check_implementation = False

        def evolution_rate(self, state, t=0):
            u, v = state
            rate = state.copy()
            rate[0] = u.laplace(NEUMANN) - KS_CONSTS["chi"] * (u * v.gradient(NEUMANN)).divergence(flux_bc)
            if logistic:
                rate[0] += u * (1 - u)
            rate[1] = v.laplace(NEUMANN) + u - v
            return rate

        def make_evolution_rate(self, state, backend):
            laplace, gradient, divergence = _operators(state, backend, NEUMANN, flux_bc)
            chi = KS_CONSTS["chi"]
            growth = 1.0 if logistic else 0.0

            def pde_rhs(state_data, t=0):
                u = state_data[0]
                v = state_data[1]
                rate = np.empty_like(state_data)
                flux = gradient(v)
                flux[0] *= u
                flux[1] *= u
                rate[0] = laplace(u) - chi * divergence(flux) + growth * u * (1 - u)
                rate[1] = laplace(v) + u - v
                return rate

            return pde_rhs

    class CancerInvasion(PDEBase):
        check_implementation = False

        def evolution_rate(self, state, t=0):
            c = CANCER_CONSTS
            u1, u2, u3 = state
            rate = state.copy()
            rate[0] = (
                u1.laplace(NEUMANN)
                - c["chi"] * (u1 * u2.gradient(NEUMANN)).divergence(flux_bc)
                - c["xi"] * (u1 * u3.gradient(NEUMANN)).divergence(flux_bc)
                + c["mu"] * u1 * (c["r"] - u1 - u3)
            )
            rate[1] = (u2.laplace(NEUMANN) - (u2 - u1)) / c["sigma"]
            rate[2] = -u2 * u3 + c["eta"] * u3 * (1 - u1 - u3)
            return rate

        def make_evolution_rate(self, state, backend):
            laplace, gradient, divergence = _operators(state, backend, NEUMANN, flux_bc)
            c = CANCER_CONSTS
            chi, xi, mu, r, inv_sigma, eta = c["chi"], c["xi"], c["mu"], c["r"], 1.0 / c["sigma"], c["eta"]

            def pde_rhs(state_data, t=0):
                u1 = state_data[0]
                u2 = state_data[1]
                u3 = state_data[2]
                rate = np.empty_like(state_data)
                g2 = gradient(u2)
                g3 = gradient(u3)
                # one taxis flux: u1 (chi grad u2 + xi grad u3), one divergence
                for a in range(2):
                    g2[a] = u1 * (chi * g2[a] + xi * g3[a])
                rate[0] = laplace(u1) - divergence(g2) + mu * u1 * (r - u1 - u3)
                rate[1] = (laplace(u2) - (u2 - u1)) * inv_sigma
                rate[2] = -u2 * u3 + eta * u3 * (1 - u1 - u3)
                return rate

            return pde_rhs

    return (KellerSegelLogistic if problem == "ks" else CancerInvasion)(), FieldCollection


def run_pypde(
    kind: str,
    problem: str,
    n: int,
    t_end: float,
    t_snap: float,
    dt_factor: float,
    flux_bc=ZERO_FLUX,
    logistic: bool = True,
) -> dict:
    warnings.simplefilter("ignore", DeprecationWarning)
    import pde
    from pde import CartesianGrid, FieldCollection, ScalarField
    from pde.trackers import CallbackTracker

    t_imports = since()
    p = PROBLEMS[problem]
    L = p["length"]
    grid = CartesianGrid([[0, L], [0, L]], [n, n], periodic=False)
    U0 = initial(problem, n)
    state = FieldCollection([ScalarField(grid, U0[i], label=s) for i, s in enumerate(p["species"])])
    if kind == "string":
        eq = string_pde(problem)
    else:
        eq, _ = numba_pde(problem, flux_bc=flux_bc, logistic=logistic)
    # explicit Euler at a fixed step: dt_factor * h^2 (diffusion limit h^2/4 in 2D with D = 1),
    # rounded so that t_end/50, t_snap and t_end are whole numbers of steps
    h = L / n
    quantum = 150 if problem == "ks" else 300
    steps = quantum * math.ceil(t_end / (dt_factor * h * h) / quantum)
    dt = t_end / steps
    t1 = t_end / 50
    marks: dict[str, float] = {}
    snaps: dict[str, np.ndarray] = {}
    mass0 = float(np.sum(U0[0]) * h * h)

    def callback(state, t):
        if abs(t - t1) < 0.5 * dt:
            marks["w1"] = time.perf_counter()
            marks["c1"] = time.process_time()
        if abs(t - t_snap) < 0.5 * dt:
            snaps["snap"] = state.data.copy()
            snaps["t_snap"] = t

    tracker = CallbackTracker(callback, interrupts=[t1, t_snap, t_end])
    solver = "euler"
    w_start = time.perf_counter()
    final, info = eq.solve(
        state, t_range=t_end, dt=dt, solver=solver, tracker=[tracker], ret_info=True, backend="numba"
    )
    w_end = time.perf_counter()
    c_end = time.process_time()
    prof = info["controller"]["profiler"]
    stepping = (w_end - marks["w1"]) * t_end / (t_end - t1)
    return {
        "final": final.data.copy(),
        "snap": snaps.get("snap"),
        "t_snap": snaps.get("t_snap"),
        "t_final": float(info["controller"]["t_final"]),
        "t_imports": t_imports,
        "t_first_step": None,
        "wall_setup": None,
        "stepping": stepping,
        "stepping_cpu": (c_end - marks["c1"]) * t_end / (t_end - t1),
        "solve_incl_compile": w_end - w_start,
        "pypde_profiler": {k: float(v) for k, v in prof.items()},
        "steps": int(info["solver"]["steps"]),
        "dt": dt,
        "rejected": 0,
        "rhs_evals": int(info["solver"]["steps"]),
        "method": f"py-pde {pde.__version__} explicit Euler, fixed dt = {dt:.4g} (~{dt_factor:g} h^2)",
        "mass_u_initial": mass0,
        "mass_u_final": float(np.sum(final.data[0]) * h * h),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("solver", choices=["crossdiff", "pypde-numba", "pypde-string"])
    ap.add_argument("problem", choices=sorted(PROBLEMS))
    ap.add_argument("n", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--t-end", type=float)
    ap.add_argument("--t-snap", type=float)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-6)
    ap.add_argument("--order", type=int, choices=[3, 4], default=4, help="crossdiff IMEX pair: 4 (default) or 3")
    ap.add_argument("--dt-factor", type=float, default=0.2)
    ap.add_argument(
        "--flux-bc", choices=["zero", "neumann"], default="zero", help="py-pde numba: BC of the taxis flux vector"
    )
    ap.add_argument("--no-logistic", action="store_true", help="KS without growth (r = 0; mass check)")
    a = ap.parse_args(argv)
    p = PROBLEMS[a.problem]
    t_end = a.t_end or p["t_end"]
    t_snap = a.t_snap or min(p["t_snap"], t_end)
    if a.solver == "crossdiff":
        res = run_crossdiff(a.problem, a.n, t_end, t_snap, a.rtol, a.atol, logistic=not a.no_logistic, order=a.order)
    else:
        res = run_pypde(
            a.solver.split("-")[1],
            a.problem,
            a.n,
            t_end,
            t_snap,
            a.dt_factor,
            flux_bc=ZERO_FLUX if a.flux_bc == "zero" else NEUMANN,
            logistic=not a.no_logistic,
        )
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "final.npy", res.pop("final"))
    snap = res.pop("snap")
    if snap is not None:
        np.save(out / "snap.npy", snap)
    res.update(
        solver=a.solver,
        problem=a.problem,
        n=a.n,
        t_end=t_end,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        cpu_process=(lambda ru: ru.ru_utime + ru.ru_stime)(resource.getrusage(resource.RUSAGE_SELF)),
        t_exit=since(),
    )
    (out / "result.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
