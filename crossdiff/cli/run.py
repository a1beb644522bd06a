"""``crossdiff run MODEL``: simulate a catalogue model or a model file, write NetCDF."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError, NumericalError
from ..fv import LIMITERS
from ..grid import BOUNDARIES, parse_cells
from ..kinetic import KineticModel
from ..solve import default_grid, resolve_any, run_record, solve
from ..time import STEPPERS, Monitor, stepper_from_name
from ._common import apply_sets, load_model_arg, parse_initial, positive_float

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


def _stepper(args: argparse.Namespace, name: str):
    options = {}
    if name in ("imex", "imex3", "bdf", "ars443"):
        if args.rtol is not None:
            options["rtol"] = args.rtol
        if args.atol is not None:
            options["atol"] = args.atol
    if args.dt is not None:
        if name == "bdf":
            raise InputError("--dt is not available with the bdf stepper (it chooses its own steps)")
        options["dt"] = args.dt
    return stepper_from_name(name, **options)


def _resumed(args: argparse.Namespace, out: Path):
    """Model, grid, stepper, limiter and save interval of the run in ``out``; options given on the
    command line must agree with the file (exit 2 naming the first difference)."""
    if not out.is_file():
        raise InputError(f"cannot resume: run file {str(out)!r} not found")
    record = run_record(out)
    model = record.model
    where = f"cannot resume {str(out)!r}: it"
    named = load_model_arg(args.model)
    if named.name != model.name:
        raise InputError(f"{where} holds a run of model {model.name!r}, not {named.name!r}")
    if args.set:
        changed = apply_sets(model, args.set)
        for key in changed.parameters:
            if changed.parameters[key] != model.parameters[key]:
                raise InputError(
                    f"{where} was run with {key} = {model.parameters[key]:g}; --set {key}={changed.parameters[key]:g} "
                    "contradicts it"
                )
        for key in changed.definitions:
            if changed.definitions[key] != model.definitions[key]:
                raise InputError(f"{where} was run with {key} = {model.definitions[key]}; --set contradicts it")
    if args.initial or args.seed is not None:
        raise InputError(f"cannot resume {str(out)!r}: --initial and --seed do not apply when continuing a run")
    grid = record.grid
    if args.grid is not None and parse_cells(args.grid) != grid.cells:
        raise InputError(f"{where} has grid {'x'.join(map(str, grid.cells))}; --grid {args.grid} contradicts it")
    if args.boundary is not None and (args.boundary,) * grid.ndim != grid.boundary:
        raise InputError(f"{where} has {','.join(grid.boundary)} boundaries; --boundary {args.boundary} contradicts it")
    if args.limiter is not None and args.limiter != record.limiter:
        raise InputError(f"{where} was run with limiter {record.limiter}; --limiter {args.limiter} contradicts it")
    stepper = record.stepper
    given = args.stepper is not None or args.rtol is not None or args.atol is not None or args.dt is not None
    if given or stepper is None:
        recorded = stepper.settings() if stepper is not None else None
        name = args.stepper or (recorded[0] if recorded else "imex")
        wanted = _stepper(args, name)
        if stepper is not None and wanted.settings() != stepper.settings():
            raise InputError(f"{where} was run with {stepper.describe()}; the stepper options given contradict it")
        stepper = wanted
    return model, grid, stepper, record.limiter, args.save_every or record.save_every


_KINETIC_OPTIONS = (("eps", "--eps"), ("velocities", "--velocities"), ("save_f", "--save-f"))


def _kinetic(args: argparse.Namespace, model: KineticModel, out: Path | None):
    """Model, grid, stepper and keyword arguments of a kinetic run (``--resume`` reads the grid
    and ε from the file, :func:`crossdiff.solve`)."""
    if args.initial:
        raise InputError("--initial is not available for kinetic models (their initial data are well-prepared M u(0))")
    name = args.stepper or "ars443"
    if name != "ars443":
        raise InputError(f"kinetic models are solved with the asymptotic-preserving stepper ars443, not {name!r}")
    model = apply_sets(model, args.set)
    grid = None
    if not args.resume or args.grid is not None:
        cells = parse_cells(args.grid) if args.grid is not None else None
        grid = default_grid(model, cells, args.boundary)  # type: ignore[arg-type]
    if args.eps is None and not args.resume:
        raise InputError(f"kinetic model {model.name!r} needs --eps (ε in (0, 1]), e.g. --eps 0.01")
    kwargs = {"eps": args.eps, "velocities": args.velocities, "save_f": args.save_f}
    return model, grid, _stepper(args, name), kwargs


def run(args) -> int:
    out = Path(args.out) if args.out else None
    named = resolve_any(args.model)
    kinetic: dict[str, Any] = {}
    initial: dict[str, str] = {}
    if isinstance(named, KineticModel):
        if args.resume and out is None:
            raise InputError("--resume needs --out, the run file to continue")
        model, grid, stepper, kinetic = _kinetic(args, named, out)
        limiter, save_every = args.limiter or "mc", args.save_every
    else:
        for key, flag in _KINETIC_OPTIONS:
            if getattr(args, key) not in (None, False):
                raise InputError(f"{flag} applies to kinetic models only; {args.model!r} is macroscopic")
        if args.resume:
            if out is None:
                raise InputError("--resume needs --out, the run file to continue")
            model, grid, stepper, limiter, save_every = _resumed(args, out)
        else:
            model = apply_sets(load_model_arg(args.model), args.set)
            cells = parse_cells(args.grid) if args.grid is not None else None
            grid = default_grid(model, cells, args.boundary)
            stepper = _stepper(args, args.stepper or "imex")
            limiter, save_every = args.limiter or "mc", args.save_every
            initial = parse_initial(args.initial, model)
    t_end = args.t_end if args.t_end is not None else model.defaults.t_end
    if args.dt is not None and t_end / args.dt > _MAX_FIXED_STEPS:
        raise InputError(
            f"--dt {args.dt:g} would take {t_end / args.dt:.3g} steps to reach t = {t_end:g} "
            f"(more than {_MAX_FIXED_STEPS:.0e}); use a larger --dt or the adaptive default"
        )
    out = out if out is not None else Path(f"{model.name}.nc")
    show_progress = not args.json and not args.quiet and sys.stderr.isatty()
    monitor = Monitor(peak_limit=args.peak_limit) if args.peak_limit else Monitor()
    sol = solve(
        model,
        grid,
        t_end,
        stepper=stepper,
        save_every=save_every,
        initial=initial or None,
        seed=args.seed,
        output=out,
        resume=args.resume,
        overwrite=args.overwrite,
        monitor=monitor,
        progress=show_progress,
        limiter=limiter,
        throw=False,
        **kinetic,
    )
    summary = sol.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        wall = summary["wall_time"]
        print(
            f"{model.name}: {sol.status.label} at t = {sol.t_final:.6g} in {wall:.2f} s "
            f"({sol.stats.n_steps} steps, {sol.stats.n_rejected} rejected) on {sol.grid.describe()}"
        )
        if sol.stats.n_limited > sol.stats.n_steps / 2:
            print(
                f"  {sol.stats.n_limited} of {sol.stats.n_steps} steps were held by the stability limit, not by "
                "the error control (the time error is below the tolerance there)"
            )
        for name, info in summary["species"].items():
            print(f"  {name:>6}: mass {info['mass']:.6g}, min {info['min']:.4g}, max {info['max']:.4g}")
        for name, info in summary.get("flow", {}).items():  # a computed flow
            print(f"  {name:>6}: min {info['min']:.4g}, max {info['max']:.4g}")
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
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last frame, with its model, parameters, grid and stepper",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing crossdiff run in --out")
    p.add_argument("--stepper", choices=STEPPERS.names(), help=f"time stepper: {STEPPERS.help()}")
    p.add_argument("--rtol", type=positive_float, help="relative tolerance (imex, bdf, ars443)")
    p.add_argument("--atol", type=positive_float, help="absolute tolerance (imex, bdf, ars443)")
    p.add_argument("--dt", type=positive_float, help="fixed time step (imex, ssprk3, ars443)")
    p.add_argument("--limiter", choices=tuple(LIMITERS), help=f"taxis slope limiter: {LIMITERS.help()}")
    p.add_argument("--peak-limit", type=positive_float, help="report blow-up when a density exceeds this")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    k = p.add_argument_group("kinetic models (docs/kinetic.md)")
    k.add_argument("--eps", type=float, help="the scaling parameter ε in (0, 1] (required for a kinetic model)")
    k.add_argument(
        "--velocities",
        type=int,
        help="velocity directions on the circle (2D, default 16; even with walls) or polar nodes on the sphere (3D)",
    )
    k.add_argument("--save-f", action="store_true", help="also write the distributions f_<species>(v, x, ...)")
    p.set_defaults(func=run)
