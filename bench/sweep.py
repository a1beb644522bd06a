"""Sweep benchmark (issue 11): 16 runs on 2 local Dask workers against the same runs one after
another in one process, and the per-run overhead (scheduling, writing, compiling).

    .venv/bin/python bench/sweep.py [--runs 16] [--workers 2] [--grid 200] [--t-end 60] [--json out.json]

Runs: ``may-nowak-taxis`` in 1D on ``--grid`` cells of [0, 20] to ``--t-end``, chi evenly spaced in
[5.5, 12] (every run forms a pattern, so every run costs CFL-limited steps). Both sides execute the
same function per run (:func:`crossdiff.sweep.execute_run`: solve, write NetCDF, classify, write
the record); the serial side in this process, after one warm-up run so that its kernels are
loaded; the parallel side on a fresh LocalCluster (worker processes load the compiled kernels
from the on-disk cache on their first run: that cost is in the parallel figures).

Printed: serial and parallel wall times, speed-up with and without the cluster's start-up, per
run: time in the worker outside time stepping (set-up and kernel loading, writing, classifying),
the first run on each worker against the others (compiling/loading), and the scheduling gap
``(workers × wall − Σ run times)/runs`` (includes idle workers at the end of the sweep). The
machine is shared: the load average before and after is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import crossdiff as cd
from crossdiff.sweep import execute_run, plan_sweep, sweep

_FRESH = """
import sys, time, tempfile, pathlib
import crossdiff as cd
from crossdiff.sweep import execute_run, plan_sweep
model = cd.catalogue.load("may-nowak-taxis")
plan = plan_sweep(model, ["chi=8,9"], grid=cd.default_grid(model, (int(sys.argv[1]),)), t_end=5.0)
root = pathlib.Path(tempfile.mkdtemp())
(root / "runs").mkdir()
times = []
for spec in plan.runs(root):
    t0 = time.perf_counter(); execute_run(spec); times.append(time.perf_counter() - t0)
print(times[0], times[1])
"""


def fresh_process_first_run(cells: int) -> tuple[float, float]:
    """Wall times of the first and second run (same cost) in a new process: the difference is what
    a new worker spends once on compiling or loading the kernels from the on-disk cache."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", _FRESH, str(cells)], capture_output=True, text=True, env=env, check=True
    )
    first, second = (float(v) for v in out.stdout.split())
    return first, second


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--grid", type=int, default=200)
    ap.add_argument("--t-end", type=float, default=60.0)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    load_before = os.getloadavg()
    model = cd.catalogue.load("may-nowak-taxis")
    grid = cd.default_grid(model, (args.grid,))
    params = [f"chi=5.5:12:{args.runs}"]
    work = Path(tempfile.mkdtemp(prefix="crossdiff-bench-sweep-"))
    try:
        # serial: the same task function, one run after another in this process
        plan = plan_sweep(model, params, grid=grid, t_end=args.t_end)
        serial_dir = work / "serial"
        (serial_dir / "runs").mkdir(parents=True)
        warm = plan.runs(work / "warm")
        (work / "warm" / "runs").mkdir(parents=True)
        execute_run(warm[0])  # load kernels (the parallel workers do this in their first run)
        t0 = time.perf_counter()
        serial = [execute_run(spec) for spec in plan.runs(serial_dir)]
        t_serial = time.perf_counter() - t0

        # parallel: a LocalCluster of worker processes, then the sweep on it
        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR
        )
        client = Client(cluster)
        t_start = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            result = sweep(model, params, work / "parallel", grid=grid, t_end=args.t_end, client=client)
            t_parallel = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
        load_after = os.getloadavg()
        records = [json.loads((work / "parallel" / "runs" / f"{key}.json").read_text()) for key in result.table["run"]]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    first, second = fresh_process_first_run(args.grid)
    n = len(records)
    assert all(r["status"] == "success" for r in records + serial), "a benchmark run failed"
    stepping = sum(r["wall_stepping"] for r in records)
    busy = sum(r["wall_time"] for r in records)
    outside = [r["wall_time"] - r["wall_stepping"] for r in records]
    by_worker: dict[str, list[dict]] = {}
    for r in records:
        by_worker.setdefault(r["worker"], []).append(r)
    firsts = [min(rs, key=lambda r: r["started"]) for rs in by_worker.values()]
    first_setup = [r["wall_setup"] for r in firsts]
    setups = sorted(r["wall_setup"] for r in records if r not in firsts)
    figures = {
        "runs": n,
        "workers": args.workers,
        "grid": args.grid,
        "t_end": args.t_end,
        "serial_wall": t_serial,
        "serial_stepping": sum(r["wall_stepping"] for r in serial),
        "cluster_start": t_start,
        "parallel_wall": t_parallel,
        "speedup": t_serial / t_parallel,
        "speedup_with_start": t_serial / (t_parallel + t_start),
        "parallel_stepping": stepping,
        "per_run_outside_stepping_mean": statistics.mean(outside),
        "per_run_outside_stepping_max": max(outside),
        "per_run_setup_median": statistics.median(setups),
        "per_run_setup_max": max(setups),
        "first_run_setup_per_worker": first_setup,
        "per_run_scheduling_gap": (args.workers * t_parallel - busy) / n,
        "worker_utilisation": busy / (args.workers * t_parallel),
        "per_run_output_mean": statistics.mean(r["wall_output"] for r in records),
        "per_run_classify_mean": statistics.mean(r["wall_classify"] for r in records),
        "fresh_process_first_run": first,
        "fresh_process_second_run": second,
        "load_before": load_before,
        "load_after": load_after,
        "cpus": os.cpu_count(),
    }
    print(f"sweep benchmark: {n} runs of may-nowak-taxis 1D {args.grid} cells to t = {args.t_end:g}, chi in [5.5, 12]")
    print(f"  load average before {load_before[0]:.2f} / after {load_after[0]:.2f} on {os.cpu_count()} cores (shared)")
    print(f"  serial, one process:         {t_serial:7.2f} s ({figures['serial_stepping']:.2f} s stepping)")
    print(f"  {args.workers} workers (LocalCluster):   {t_parallel:7.2f} s  + {t_start:.2f} s cluster start-up")
    print(
        f"  speed-up:                    {figures['speedup']:7.2f}x  ({figures['speedup_with_start']:.2f}x with start-up)"
    )
    print(
        f"  per run outside stepping:    {figures['per_run_outside_stepping_mean']:.3f} s mean, "
        f"{figures['per_run_outside_stepping_max']:.3f} s max (set-up + kernel loading, NetCDF, classification, record)"
    )
    print(
        f"  set-up per run (solve's):    first run on each worker {', '.join(f'{s:.3f}' for s in first_setup)} s "
        f"(kernels compiled/loaded once per worker); later runs {figures['per_run_setup_median']:.3f} s median, "
        f"{figures['per_run_setup_max']:.3f} s max"
    )
    print(
        f"  of which NetCDF frames:      {figures['per_run_output_mean']:.3f} s mean; classification "
        f"{figures['per_run_classify_mean']:.3f} s mean"
    )
    print(
        f"  kernel compile/load, once per worker process: {first - second:.3f} s "
        f"(first run {first:.3f} s, second {second:.3f} s in a fresh process, t_end = 5)"
    )
    print(
        f"  worker utilisation:          {figures['worker_utilisation']:.2f} (time in runs / (workers x wall); "
        "independent of how fast the shared cores were)"
    )
    print(f"  scheduling gap per run:      {figures['per_run_scheduling_gap']:.3f} s (incl. idle workers at the end)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
