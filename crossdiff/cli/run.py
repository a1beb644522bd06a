"""``crossdiff run MODEL``: simulate a catalogue model or a model file, write NetCDF."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import InputError, NumericalError
from ..fv import LIMITERS
from ..grid import BOUNDARIES, parse_cells
from ..solve import default_grid, solve
from ..time import STEPPERS, Monitor, stepper_from_name
from ._common import apply_sets, load_model_arg, positive_float

#: A fixed step that needs more steps than this is a typo (``--dt 1e-30``), not a run: refuse it
#: instead of running for ever.
_MAX_FIXED_STEPS = 1e9


def _seed(text: str) -> int:
    """argparse type: a non-negative integer (``numpy.random.default_rng`` refuses negative seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _stepper(args):
    options = {}
    name = args.stepper
    if name in ("imex", "imex3", "bdf"):
        if args.rtol is not None:
            options["rtol"] = args.rtol
        if args.atol is not None:
            options["atol"] = args.atol
    if args.dt is not None:
        if name == "bdf":
            raise InputError("--dt is not available with the bdf stepper (it chooses its own steps)")
        options["dt"] = args.dt
    return stepper_from_name(name, **options)


def run(args) -> int:
    model = apply_sets(load_model_arg(args.model), args.set)
    cells = parse_cells(args.grid) if args.grid is not None else None
    grid = default_grid(model, cells, args.boundary)
    t_end = args.t_end if args.t_end is not None else model.defaults.t_end
    if args.dt is not None and t_end / args.dt > _MAX_FIXED_STEPS:
        raise InputError(
            f"--dt {args.dt:g} would take {t_end / args.dt:.3g} steps to reach t = {t_end:g} "
            f"(more than {_MAX_FIXED_STEPS:.0e}); use a larger --dt or the adaptive default"
        )
    initial = {}
    for item in args.initial or []:
        if "=" not in item:
            raise InputError(f"--initial expects species=EXPRESSION, got {item!r}")
        key, value = (p.strip() for p in item.split("=", 1))
        model.index(key)
        initial[key] = value
    out = Path(args.out) if args.out else Path(f"{model.name}.nc")
    if out.exists() and out.is_dir():
        raise InputError(f"output path {str(out)!r} is a directory")
    show_progress = not args.json and not args.quiet and sys.stderr.isatty()
    monitor = Monitor(peak_limit=args.peak_limit) if args.peak_limit else Monitor()
    try:
        sol = solve(
            model,
            grid,
            t_end,
            stepper=_stepper(args),
            save_every=args.save_every,
            initial=initial or None,
            seed=args.seed,
            output=out,
            resume=args.resume,
            monitor=monitor,
            progress=show_progress,
            limiter=args.limiter,
            throw=False,
        )
    except NumericalError:
        raise
    summary = sol.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        wall = summary["wall_time"]
        print(
            f"{model.name}: {sol.status.label} at t = {sol.t_final:.6g} in {wall:.2f} s "
            f"({sol.stats.n_steps} steps, {sol.stats.n_rejected} rejected) on {grid.describe()}"
        )
        for name, info in summary["species"].items():
            print(f"  {name:>6}: mass {info['mass']:.6g}, min {info['min']:.4g}, max {info['max']:.4g}")
        print(f"wrote {out} ({len(sol.t)} frames)")
    if not sol.success:
        raise NumericalError(f"{sol.message}; the {len(sol.t)} frames before it are in {out}", sol.report)
    return 0


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a model and write a NetCDF file")
    p.add_argument("model", help="catalogue name or model file (.toml)")
    p.add_argument("--grid", help="cells, e.g. 400 (1D) or 128x128 (2D); default: the model's")
    p.add_argument(
        "--boundary", choices=BOUNDARIES.names(), help=f"boundary condition: {BOUNDARIES.help()}; default: the model's"
    )
    p.add_argument("--t-end", type=float, help="end time (default: the model's)")
    p.add_argument("--save-every", type=positive_float, help="interval between saved frames")
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="override a parameter (number) or definition (expression)"
    )
    p.add_argument("--initial", action="append", metavar="species=EXPR", help="replace a species' initial data")
    p.add_argument("--seed", type=_seed, help="seed of the initial noise")
    p.add_argument("--out", help="output NetCDF file (default MODEL.nc)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last frame")
    p.add_argument("--stepper", default="imex", choices=STEPPERS.names(), help=f"time stepper: {STEPPERS.help()}")
    p.add_argument("--rtol", type=positive_float, help="relative tolerance (imex, bdf)")
    p.add_argument("--atol", type=positive_float, help="absolute tolerance (imex, bdf)")
    p.add_argument("--dt", type=positive_float, help="fixed time step (imex, ssprk3)")
    p.add_argument("--limiter", default="mc", choices=tuple(LIMITERS), help=f"taxis slope limiter: {LIMITERS.help()}")
    p.add_argument("--peak-limit", type=positive_float, help="report blow-up when a density exceeds this")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)
