"""``crossdiff converge KINETIC_MODEL --eps LIST``: the kinetic model at each ε against its derived
macroscopic limit on the same grid (docs/kinetic.md)."""

from __future__ import annotations

import json
from pathlib import Path

from ..catalogue import resolve_any
from ..errors import InputError
from ..grid import BOUNDARIES, default_domain, default_grid, parse_cells
from ._common import (
    add_progress_arguments,
    add_stepper_arguments,
    apply_sets,
    non_negative_int,
    positive_float,
    progress_arg,
    stepper_arg,
    stepper_given,
)


def _eps_list(text: str) -> list[float]:
    from ..kinetic import check_eps

    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--eps expects comma-separated numbers in (0, 1], got {text!r}") from None
    if not values:
        raise InputError("--eps needs at least one value")
    return [check_eps(v) for v in values]


def run(args) -> int:
    from ..analysis import limit_convergence
    from ..kinetic import KineticModel

    model = resolve_any(args.model)
    if not isinstance(model, KineticModel):
        raise InputError(f"converge needs a kinetic model; {args.model!r} is macroscopic")
    model = apply_sets(model, args.set)
    eps = _eps_list(args.eps)
    cells = parse_cells(args.grid) if args.grid is not None else None
    if getattr(model.defaults, "network", None) is not None:  # a kinetic model on a network
        grid = default_domain(model, cells, args.boundary)
    else:
        grid = default_grid(model, cells, args.boundary)
    stepper = stepper_arg(args, args.stepper or "ars443") if stepper_given(args) else None
    table = limit_convergence(
        model,
        eps,
        grid,
        args.t_end,
        velocities=args.velocities,
        kinetic_stepper=stepper,
        seed=args.seed,
        progress=progress_arg(args),
    )
    if args.plot:
        from ..plot import plot_convergence, save_figure

        save_figure(plot_convergence(table), Path(args.plot), overwrite=args.overwrite)
    if args.json:
        print(json.dumps(table.as_dict(), indent=2))
        return 0
    if args.quiet:
        return 0
    print(
        f"{table.model} against its derived limit on {table.grid}, t = {table.t_end:g}, {table.velocities} velocities"
    )
    header = "      eps " + "".join(f"  {n + ' L1':>11}  {n + ' Linf':>11}" for n in table.species) + "  steps"
    print(header)
    for k, e in enumerate(table.eps):
        row = "".join(f"  {table.l1[n][k]:11.3e}  {table.linf[n][k]:11.3e}" for n in table.species)
        print(f"{e:9.3g}{row}  {table.steps[k]:5d}")
    orders = "".join(
        f"  {'-' if table.order_l1[n] is None else format(table.order_l1[n], '.2f'):>11}"
        f"  {'-' if table.order_linf[n] is None else format(table.order_linf[n], '.2f'):>11}"
        for n in table.species
    )
    print(f"{'order':>9}{orders}")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("converge", help="kinetic model at several eps against its derived macroscopic limit")
    p.add_argument("model", help="kinetic catalogue name or kinetic file (.toml)")
    p.add_argument("--eps", required=True, help="comma-separated values of eps in (0, 1], e.g. 0.1,0.05,0.025")
    p.add_argument("--grid", help="cells, e.g. 200 (1D) or 64x64 (2D); default: the model's")
    p.add_argument("--boundary", choices=BOUNDARIES.names(), help="boundary condition (default: the model's)")
    p.add_argument("--t-end", type=positive_float, help="end time (default: the model's)")
    p.add_argument("--velocities", type=int, help="velocity directions on the circle (2D, default 16)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a parameter or definition")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--plot", help="write the log-log plot of the L1 difference against eps (PNG)")
    p.add_argument("--overwrite", action="store_true", help="replace a picture crossdiff wrote before")
    p.add_argument("--seed", type=non_negative_int, help="seed of the initial noise (default: the model's)")
    add_stepper_arguments(p, "of the kinetic runs; default ars443 with rtol 1e-5, atol 1e-6")
    add_progress_arguments(p, "the runs (the limit, then one per eps)")
    p.set_defaults(func=run)
