"""``crossdiff blowup MODEL --grids 64,128,256``: resolution-loss times on a grid sequence and an
extrapolated blow-up time (:func:`crossdiff.analysis.blowup_study`)."""

from __future__ import annotations

import argparse
import json

from ..errors import InputError
from ..grid import BOUNDARIES, parse_cells
from ._common import (
    add_progress_arguments,
    add_stepper_arguments,
    apply_sets,
    load_model_arg,
    non_negative_int,
    parse_initial,
    positive_float,
    progress_arg,
    stepper_arg,
    stepper_given,
)


def _grids(text: str) -> list[tuple[int, ...]]:
    try:
        return [parse_cells(part.strip()) for part in text.split(",") if part.strip()]
    except InputError as err:
        raise argparse.ArgumentTypeError(f"expected cells separated by commas, e.g. 64,128,256 ({err})") from None


def run(args: argparse.Namespace) -> int:
    from ..analysis import blowup_study

    model = apply_sets(load_model_arg(args.model), args.set)
    initial = parse_initial(args.initial, model)
    grids = [c[0] if len(c) == 1 else c for c in args.grids]
    progress = progress_arg(args)
    stepper = stepper_arg(args, args.stepper or "imex") if stepper_given(args) else None
    study = blowup_study(
        model,
        grids,
        t_end=args.t_end,
        initial=initial or None,
        progress=progress,
        boundary=args.boundary,
        stepper=stepper,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(study.to_dict(), indent=2))
        return 0
    if args.quiet:
        return 0
    print(f"{model.name}: blow-up study on {len(study.runs)} grids")
    for _, r in study.runs.iterrows():
        where = f" at ({', '.join(f'{x:.3g}' for x in r['location'])})" if r["location"] else ""
        print(f"  {r['cells']:>9}  h = {r['h']:.4g}  {r['status']:<9} t = {r['time']:.6g}  peak {r['peak']:.4g}{where}")
    if not study.blew_up:
        print(study.note)
    elif study.t_star is None:
        print(f"blow-up seen; no extrapolated time: {study.note}")
    else:
        print(f"extrapolated blow-up time T* = {study.t_star:.6g} ± {study.error:.2g} ({study.note})")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "blowup",
        help="blow-up study: resolution-loss times on a grid sequence and an extrapolated blow-up time",
        description="Run a model on a sequence of grids; report where and when each grid stopped resolving a "
        "concentrating solution, and extrapolate the blow-up time (Richardson extrapolation with the observed "
        "order, GCI error estimate; docs/analysis.md), or say that no blow-up was seen.",
    )
    p.add_argument("model", help="catalogue name or model file (.toml)")
    p.add_argument(
        "--grids", type=_grids, default=[(64,), (128,), (256,)], help="cells, coarse to fine (default 64,128,256)"
    )
    p.add_argument("--t-end", type=positive_float, help="end time of each run (default: the model's)")
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="override a parameter (number) or definition (expression)"
    )
    p.add_argument("--initial", action="append", metavar="species=EXPR", help="replace a species' initial data")
    p.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    p.add_argument("--boundary", choices=BOUNDARIES.names(), help="boundary condition (default: the model's)")
    p.add_argument("--seed", type=non_negative_int, help="seed of the initial noise (default: the model's)")
    add_stepper_arguments(p, "default imex")
    add_progress_arguments(p, "the runs")
    p.set_defaults(func=run)
