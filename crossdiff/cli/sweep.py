"""``crossdiff sweep MODEL --param ...`` and ``crossdiff sweep-report DIR``: parameter sweeps on
Dask and their report (the library: :mod:`crossdiff.sweep`)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ..analysis import BEHAVIOURS
from ..errors import InputError
from ..fv import LIMITERS
from ..grid import BOUNDARIES, default_domain, parse_cells
from ._common import (
    add_progress_arguments,
    add_stepper_arguments,
    apply_sets,
    load_model_arg,
    non_negative_int,
    positive_float,
    positive_int,
    progress_arg,
    stepper_arg,
)
from .run import use_threads


def run_sweep(args) -> int:
    from ..sweep import ParameterGrid, sweep

    use_threads(args)
    model = apply_sets(load_model_arg(args.model), args.set)
    parameters = ParameterGrid.parse(args.param or [])
    fixed = {item.split("=", 1)[0].strip() for item in args.set or []}
    if fixed & set(parameters.names):
        raise InputError(
            f"--set {sorted(fixed & set(parameters.names))[0]} contradicts --param: a parameter is set or swept"
        )
    parameters.check(model)
    cells = parse_cells(args.grid) if args.grid is not None else None
    grid = default_domain(model, cells, args.boundary)  # with the shape of the model's [domain], if any
    if args.workers is not None and args.scheduler is not None:
        raise InputError("--workers starts a local cluster; --scheduler uses a running one: give one of them")
    stepper = stepper_arg(args, args.stepper or "imex")
    out = Path(args.out) if args.out else Path(f"{model.name}-sweep")
    progress = progress_arg(args)
    result = sweep(
        model,
        parameters,
        out,
        grid=grid,
        t_end=args.t_end,
        save_every=args.save_every,
        stepper=stepper,
        seed=args.seed,
        limiter=args.limiter,
        species=args.species,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=progress,
        threads=args.threads,
    )
    summary = result.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        counts = ", ".join(f"{n} {b}" for b, n in summary["behaviour"].items())
        print(
            f"{model.name}: {result.total} runs over {', '.join(result.parameters)} on {grid.describe()}: "
            f"{result.ran} run now, {result.skipped} already finished ({result.wall_time:.1f} s)"
        )
        print(f"  {counts}")
        print(f"wrote {out}/ (runs/*.nc, summary.parquet); report: crossdiff sweep-report {out} --out sweep.png")
    for message in result.lost:
        sys.stderr.write(f"crossdiff: warning: run lost on the cluster, retried when the sweep runs again: {message}\n")
    return 0


def _threshold(args, result) -> float | None:
    """``--threshold``, else the prediction of :func:`crossdiff.sweep.predicted_threshold` for the
    sweep's model (rebuilt from the manifest)."""
    if args.threshold is not None:
        if not math.isfinite(args.threshold):
            raise InputError(f"--threshold must be a finite number, got {args.threshold!r}")
        return float(args.threshold)
    from ..sweep import predicted_threshold

    return predicted_threshold(result.base_model(), args.x or result.parameters[0], result.grid())


def run_report(args) -> int:
    from ..sweep import load_sweep, plot_sweep, report_table

    result = load_sweep(args.directory)
    if args.x is not None and args.x not in result.parameters:
        raise InputError(f"--x {args.x}: not a swept parameter; swept: {', '.join(result.parameters)}")
    threshold = _threshold(args, result)
    table = report_table(result)
    figure = None
    if args.out:
        from ..plot import save_figure

        figure = save_figure(plot_sweep(result, x=args.x, threshold=threshold), args.out, overwrite=args.overwrite)
    if args.json:
        rows = json.loads(table.to_json(orient="records"))
        print(
            json.dumps(
                {**result.summary(), "threshold": threshold, "figure": str(figure) if figure else None, "table": rows},
                indent=2,
            )
        )
        return 0
    text = table.to_string(index=False, float_format=lambda v: f"{v:.4g}" if math.isfinite(v) else "-")
    print(f"{result.model}: {len(result.table)} of {result.total} runs finished in {result.directory}")
    print(text)
    if threshold is not None:
        print(f"predicted threshold: {args.x or result.parameters[0]} = {threshold:.6g}")
    if figure:
        print(f"wrote {figure}")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a model over a grid of parameter values on Dask (restartable)",
        description="Run a model at every point of a parameter grid, each run a Dask task; results (NetCDF per run, "
        "summary.parquet) under --out. Re-running the same sweep skips finished runs.",
    )
    p.add_argument("model", help="catalogue name or model file (.toml)")
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUES",
        required=True,
        help="swept parameter: NAME=START:STOP:COUNT (inclusive) or NAME=V1,V2,...; several --param: all combinations",
    )
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="fixed parameter or definition for every run")
    p.add_argument("--grid", help="cells, e.g. 200 (1D) or 64x64 (2D); default: the model's")
    p.add_argument(
        "--boundary", choices=BOUNDARIES.names(), help=f"boundary condition: {BOUNDARIES.help()}; default: the model's"
    )
    p.add_argument("--t-end", type=positive_float, help="end time of every run (default: the model's)")
    p.add_argument("--save-every", type=positive_float, help="interval between saved frames (default t_end/20)")
    p.add_argument("--seed", type=non_negative_int, help="seed of the initial noise (the same for every run)")
    p.add_argument("--species", help="species whose pattern is classified (default: the first)")
    p.add_argument("--out", help="result directory (default MODEL-sweep)")
    p.add_argument(
        "--workers", type=positive_int, help="worker processes of the local Dask cluster (default: one per core)"
    )
    p.add_argument(
        "--threads",
        type=positive_int,
        help="threads of each run's kernels on its worker (default: CROSSDIFF_THREADS, else the "
        "cores a worker's share, by the size of the work)",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="use the running Dask cluster at ADDRESS (tcp://host:8786)")
    add_stepper_arguments(p, "default imex")
    p.add_argument("--limiter", choices=tuple(LIMITERS), help=f"taxis slope limiter: {LIMITERS.help()}")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    add_progress_arguments(p, "the runs")
    p.set_defaults(func=run_sweep)

    r = sub.add_parser(
        "sweep-report",
        help="table and plot of a sweep: pattern amplitude against the swept parameters",
        description="Behaviours: " + "; ".join(f"{k}: {v}" for k, v in BEHAVIOURS.items()),
    )
    r.add_argument("directory", help="result directory of crossdiff sweep")
    r.add_argument("--out", help="picture file (.png, .pdf, .svg)")
    r.add_argument("--overwrite", action="store_true", help="replace a picture crossdiff wrote before")
    r.add_argument("--x", help="swept parameter on the horizontal axis (default: the first)")
    r.add_argument(
        "--threshold",
        type=float,
        help="critical value of that parameter, drawn as a line (default: the one linear stability predicts)",
    )
    r.add_argument("--json", action="store_true", help="print the table and summary as JSON")
    r.set_defaults(func=run_report)


__all__ = ["register", "run_sweep", "run_report"]
