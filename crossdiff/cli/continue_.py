"""``crossdiff continue MODEL --param chi --range 2,10``: the bifurcation diagram of a model's
steady states by numerical continuation (:func:`crossdiff.continuation.continuation`,
docs/continuation.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import NumericalError
from ..fv import LIMITERS
from ..grid import BOUNDARIES, default_grid, parse_cells
from ._common import (
    add_progress_arguments,
    apply_sets,
    load_model_arg,
    non_negative_int,
    positive_float,
    positive_int,
    progress_arg,
)


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START,END (two numbers), got {text!r}") from None
    return lo, hi


def _shifts(text: str) -> tuple[complex, ...]:
    try:
        return tuple(complex(v.strip().replace("i", "j")) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas (e.g. 0,5.5i), got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from ..continuation import ContinuationError, Settings, continuation, is_diagram
    from ..output import claim_output

    # before the computation: a path that would be refused costs nothing
    if args.out:
        claim_output(args.out, overwrite=args.overwrite, what="bifurcation diagram", recognise=is_diagram)
    if args.plot:
        claim_output(args.plot, overwrite=args.overwrite, what="picture")
    model = apply_sets(load_model_arg(args.model), args.set)
    cells = parse_cells(args.grid) if args.grid is not None else None
    grid = default_grid(model, cells, args.boundary)
    settings = Settings(
        ds=args.ds,
        ds_max=args.ds_max,
        points=args.points,
        n_eig=args.n_eig,
        shifts=args.shifts,
        max_newton=args.max_newton,
        newton_tol=args.newton_tol,
        ds_min=args.ds_min,
    )
    progress = None
    terminal = sys.stderr.isatty()
    if progress_arg(args):
        last = [time.perf_counter()]

        def progress(line: str) -> None:
            if terminal:  # one line, rewritten at every point
                sys.stderr.write(f"\r{line:<70}")
                sys.stderr.flush()
            elif time.perf_counter() - last[0] >= 10.0:  # logs: a line at least every 10 s
                last[0] = time.perf_counter()
                sys.stderr.write(f"continue: {line}\n")
                sys.stderr.flush()

    try:
        diagram = continuation(
            model,
            args.param,
            args.range,
            grid=grid,
            branches=args.branches,
            settings=settings,
            state=args.state,
            limiter=args.limiter,
            progress=progress,
        )
    except ContinuationError as err:
        where = ""
        if err.diagram is not None and args.out:
            err.diagram.write(args.out, overwrite=args.overwrite)
            where = f"; the diagram so far ({len(err.diagram.points)} points) is in {args.out}"
        raise NumericalError(f"{err}{where}") from None
    finally:
        if progress is not None and terminal:
            sys.stderr.write("\r" + " " * 72 + "\r")
    if args.out:
        diagram.write(args.out, overwrite=args.overwrite)
    if args.plot:
        from ..plot import save_figure

        save_figure(diagram.plot(), args.plot, overwrite=args.overwrite)
    if args.json:
        data = diagram.to_dict()
        data.update(out=args.out, plot=args.plot)
        print(json.dumps(data, indent=2, default=str))
        return 0
    if not args.quiet:
        print("\n".join(diagram.describe()))
        for path in (args.out, args.plot):
            if path:
                print(f"wrote {path}")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "continue",
        help="bifurcation diagram: continue steady states in a parameter, branch points, folds, Hopf points",
        description="Follow the homogeneous steady state of a model's finite-volume discretisation through a "
        "parameter range by pseudo-arclength continuation, locate its branch points (where `crossdiff stability` "
        "predicts them), folds and Hopf points, switch onto the patterned branches and follow them "
        "(docs/continuation.md). Stable states are drawn solid, unstable dashed.",
    )
    p.add_argument("model", help="catalogue name or model file (.toml)")
    p.add_argument("--param", required=True, metavar="NAME", help="the parameter continued in")
    p.add_argument("--range", required=True, type=_range, metavar="START,END", help="parameter range, from START")
    p.add_argument(
        "--branches",
        type=non_negative_int,
        default=1,
        help="patterned branches to follow, from the first branch points met (default 1; 0: homogeneous only)",
    )
    p.add_argument("--grid", help="cells, e.g. 200 or 64x64 (default: the model's)")
    p.add_argument(
        "--boundary", choices=BOUNDARIES.names(), help=f"boundary condition: {BOUNDARIES.help()}; default: the model's"
    )
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="override a parameter (number) or definition (expression)"
    )
    p.add_argument("--state", type=non_negative_int, help="index of the homogeneous steady state to start from")
    p.add_argument("--points", type=positive_int, default=200, help="most points per branch (default 200)")
    p.add_argument("--ds", type=positive_float, help="first arclength step (default: 1/100 of the range)")
    p.add_argument("--ds-max", type=positive_float, help="largest arclength step (default: 1/25 of the range)")
    p.add_argument("--n-eig", type=positive_int, default=10, help="eigenvalues computed near each shift (default 10)")
    p.add_argument(
        "--shifts",
        type=_shifts,
        metavar="S1,S2",
        help="where the eigenvalue solver looks, e.g. 0,5.5i (default: 0 and the expected Hopf frequency)",
    )
    p.add_argument("--max-newton", type=positive_int, default=10, help="Newton iterations per step (default 10)")
    p.add_argument(
        "--newton-tol", type=positive_float, default=1e-10, help="relative size of Newton's last update (default 1e-10)"
    )
    p.add_argument("--ds-min", type=positive_float, help="smallest arclength step before giving up")
    p.add_argument("--limiter", choices=tuple(LIMITERS), help=f"taxis slope limiter: {LIMITERS.help()}")
    p.add_argument("--out", metavar="FILE.nc", help="write the diagram (points, special points, states) to NetCDF")
    p.add_argument("--plot", metavar="FILE", help="write the picture of the diagram")
    p.add_argument("--overwrite", action="store_true", help="replace a diagram or picture crossdiff wrote before")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    add_progress_arguments(p, "the continuation (the branch, point and parameter reached)")
    p.set_defaults(func=run)
