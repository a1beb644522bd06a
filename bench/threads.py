"""Threads that help and never hurt (issue 24): run times with one thread, the default and two
threads forced, on an idle machine and with its cores loaded by busy processes.

    PYTHONPATH=. .venv/bin/python bench/threads.py                # about 10-15 minutes on 2 cores
    PYTHONPATH=. .venv/bin/python bench/threads.py --loaders 3 --json out.json

Cases: the four kinetic catalogue entries (``crossdiff.catalogue.names("kinetic")``) on 200
cells (1D) and on 32² cells × 16 directions (2D), ε = 0.01, t = 0.3, ARS(4,4,3) (the default);
``keller-segel-logistic`` on 128² to t = 20 and ``cancer-invasion`` on 96² to t = 60 (their
defaults otherwise); and one case large enough for the default to take two threads on an idle
2-core machine, ``cancer-invasion-kinetic`` on 128² × 16 directions, 10 steps of 1e-3. Times are
of ``crossdiff run`` (``crossdiff.cli.main``) within one process, imports excluded; each case
runs ``--rounds`` times (default 2) in each configuration in turn, so that all of them see the
same minutes of a shared machine, and the fastest is kept:

* ``one``: one thread (``crossdiff.threads.using(threads=1)``, as ``--threads 1``);
* ``default``: the automatic choice (free cores at the run's start × size of each kernel's work);
* ``two``: two threads for every kernel and transform, whatever its size (``--threads 2``);
* ``two-spin`` (another process, one round, at most ``--spin-timeout`` seconds): two threads with
  GNU OpenMP's default spinning wait (``OMP_WAIT_POLICY`` set empty: libgomp ignores it, and
  ``crossdiff.threads`` leaves a value it finds alone) — Numba's default before issue 24.

Loaded: ``--loaders`` busy processes (default 3; a Python loop that ends by itself after the
longest the loaded half can take) run during the loaded half and are killed at its end; they
start ``--warm`` seconds (default 20) before the first loaded measurement. Prints one table per
scenario with the ratios default / one and two / one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KINETIC = [
    "cancer-invasion-kinetic",
    "forager-scrounger-kinetic",
    "nonlinear-singular-kinetic",
    "oncolytic-virus-kinetic",
]
MACRO = [("keller-segel-logistic", "128x128", "20"), ("cancer-invasion", "96x96", "60")]
#: thread choice of each configuration measured in the main child (None: the automatic choice)
CHOICES = {"one": 1, "default": None, "two": 2}


def cases() -> list[tuple[str, list[str]]]:
    out = []
    for name in KINETIC:
        for grid in ("200", "32x32"):
            args = [name, "--grid", grid, "--eps", "0.01", "--velocities", "16", "--t-end", "0.3"]
            out.append((f"{name} {grid}", args))
    for name, grid, t_end in MACRO:
        out.append((f"{name} {grid}", [name, "--grid", grid, "--t-end", t_end]))
    # large enough for two threads (16 × 128 × 129 micro values per species and axis)
    large = ["cancer-invasion-kinetic", "--grid", "128x128", "--eps", "0.01", "--velocities", "16"]
    out.append(("cancer-invasion-kinetic 128x128 (10 steps)", [*large, "--dt", "1e-3", "--t-end", "0.01"]))
    return out


def child(configs: list[str], rounds: int, timeout: float) -> None:
    """Every case, ``rounds`` times each configuration in turn (the same minutes of the machine
    for all of them), the fastest kept; prints {config: {case: seconds}} after every case."""
    import crossdiff.cli as cli
    from crossdiff.threads import threads_for, using

    times: dict[str, dict[str, float]] = {c: {} for c in configs}
    used: dict[str, dict[str, int]] = {c: {} for c in configs}
    deadline = time.perf_counter() + timeout
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "run.nc")
        for label, args in cases():
            for _ in range(rounds):
                for config in configs:
                    if time.perf_counter() > deadline:
                        break
                    with using(threads=CHOICES[config.removesuffix("-spin")]):
                        used[config][label] = threads_for(2**40)
                        t0 = time.perf_counter()
                        rc = cli.main(["run", *args, "--out", out, "--overwrite", "--quiet"])
                        dt = time.perf_counter() - t0
                    if rc != 0:
                        raise SystemExit(f"{label}: exit {rc}")
                    times[config][label] = min(dt, times[config].get(label, dt))
            print(json.dumps({"times": times, "used": used, "load": os.getloadavg()[0]}), flush=True)


def measure(configs: list[str], rounds: int, timeout: float, env_extra: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CROSSDIFF_THREADS", "NUMBA_NUM_THREADS")}
    env.update(env_extra)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    cmd = [sys.executable, __file__, "--child", ",".join(configs), "--rounds", str(rounds), "--timeout", str(timeout)]
    lines = []
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) as proc:
        try:
            lines, _ = proc.communicate(timeout=timeout + 60)
            lines = lines.splitlines()
        except subprocess.TimeoutExpired:  # a run far slower than the others: keep what finished
            proc.kill()
            lines = proc.communicate()[0].splitlines()
    found = [json.loads(line) for line in lines if line.startswith("{")]
    return found[-1] if found else {"times": {c: {} for c in configs}, "used": {}, "load": float("nan")}


def scenario(rounds: int, timeout: float, spin: float | None) -> dict:
    """The three configurations in one process; the spinning one in another (its wait policy is
    the process's)."""
    main = measure(list(CHOICES), rounds, timeout, {})
    if spin:
        other = measure(["two-spin"], 1, spin, {"CROSSDIFF_THREADS": "2", "OMP_WAIT_POLICY": ""})
        main["times"].update(other["times"])
        main["used"].update(other.get("used", {}))
        main["load_spin"] = other.get("load")
    return main


def table(title: str, result: dict) -> str:
    times = result["times"]
    configs = list(times)
    lines = [f"### {title}", ""]
    head = "| case | " + " | ".join(f"{c} (s)" for c in configs) + " | default / one | two / one |"
    lines += [head, "|" + " --- |" * (len(configs) + 3)]
    for label, _ in cases():
        cells = [f"{times[c][label]:.2f}" if label in times[c] else "—" for c in configs]
        one = times["one"].get(label)
        ratios = [f"{times[c][label] / one:.2f}" if label in times[c] and one else "—" for c in ("default", "two")]
        lines.append(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    default_used = result.get("used", {}).get("default", {})
    lines += [
        "",
        f"load average after the last case: {result.get('load', float('nan')):.1f}; threads of the default "
        f"(largest kernel): {sorted(set(default_used.values()))}",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each case and configuration (default 2)")
    parser.add_argument("--timeout", type=float, default=400.0, help="seconds per process (default 400)")
    parser.add_argument("--spin-timeout", type=float, default=90.0, help="seconds for two-spin (default 90)")
    parser.add_argument("--loaders", type=int, default=3, help="busy processes of the loaded half (default 3)")
    parser.add_argument("--warm", type=float, default=20.0, help="seconds the loaders run before measuring")
    parser.add_argument("--no-spin", action="store_true", help="skip the two-spin configuration")
    parser.add_argument("--skip-idle", action="store_true")
    parser.add_argument("--idle-only", action="store_true", help="no loaded half")
    parser.add_argument("--json", help="write every time here")
    args = parser.parse_args()
    if args.child:
        child(args.child.split(","), args.rounds, args.timeout)
        return
    print(f"cores: {os.cpu_count()}, affinity {len(os.sched_getaffinity(0))}, load {os.getloadavg()}", flush=True)
    measure(["one"], 1, args.timeout, {})  # fill the compile cache
    report: dict[str, dict] = {}
    if not args.skip_idle:
        report["idle"] = scenario(args.rounds, args.timeout, None if args.no_spin else args.spin_timeout)
        print(table("idle", report["idle"]), flush=True)
    if args.idle_only:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))
        return
    busy = []
    total = args.warm + args.timeout + args.spin_timeout + 300
    try:
        for _ in range(args.loaders):
            spin = f"import time\nend = time.time() + {total:.0f}\nwhile time.time() < end: pass"
            busy.append(subprocess.Popen([sys.executable, "-c", spin]))  # bounded in time, killed below
        time.sleep(args.warm)
        report["loaded"] = scenario(args.rounds, args.timeout, None if args.no_spin else args.spin_timeout)
    finally:
        for p in busy:
            p.kill()
        for p in busy:
            p.wait()
    print(table(f"loaded ({args.loaders} busy processes)", report["loaded"]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
