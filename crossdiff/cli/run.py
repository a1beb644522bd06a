"""``crossdiff run MODEL``: simulate a catalogue model or a model file, write NetCDF."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalogue import resolve_any
from ..errors import InputError, NumericalError
from ..fv import LIMITERS
from ..grid import BOUNDARIES, Grid, Shape, default_domain, parse_cells
from ..solve import SCALES, Scale, scale_of
from ._common import (
    add_progress_arguments,
    add_stepper_arguments,
    apply_sets,
    non_negative_int,
    parse_initial,
    positive_float,
    positive_int,
    progress_arg,
    stepper_arg,
    stepper_given,
)

if TYPE_CHECKING:
    from ..solve import Run, Solution

#: A fixed step that needs more steps than this is a typo (``--dt 1e-30``), not a run: refuse it
#: instead of running for ever.
_MAX_FIXED_STEPS = 1e9


def use_threads(args: argparse.Namespace) -> None:
    """``--threads N``, else ``CROSSDIFF_THREADS`` read now: a bad value is a one-line error
    (exit 2) before any work (``crossdiff.threads``)."""
    from ..threads import set_threads, threads_for

    if getattr(args, "threads", None) is not None:
        set_threads(args.threads)
    threads_for(1)


def run_from_args(args: argparse.Namespace) -> Run:
    """The :class:`~crossdiff.solve.Run` the command line describes: a new run, or with
    ``--resume`` the run in ``--out`` (:meth:`~crossdiff.solve.Run.from_file`) with every option
    given checked against it (:meth:`~crossdiff.solve.Run.agree`)."""
    from ..solve import Run

    out = Path(args.out) if args.out else None
    if args.resume:
        if out is None:
            raise InputError("--resume needs --out, the run file to continue")
        return _resumed(args, out)
    model = apply_sets(resolve_any(args.model), args.set)
    scale = scale_of(model)
    if args.initial and scale.kinetic:
        raise InputError("--initial is not available for kinetic models (their initial data are well-prepared M u(0))")
    cells = parse_cells(args.grid) if args.grid is not None else None
    initial: Any = None
    diagram = _diagram_point(args.initial)
    if diagram is not None:  # a point of a bifurcation diagram: its model, parameter value and state
        model, initial = _from_diagram(diagram, model, args)
        if cells is not None and tuple(cells) != initial.shape[1:]:
            raise InputError(
                f"--grid {args.grid} contradicts the diagram's grid {'x'.join(map(str, initial.shape[1:]))}"
            )
        cells = initial.shape[1:]
    else:
        initial = parse_initial(args.initial, model) or None
    return Run(
        model,
        default_domain(
            model, cells, args.boundary, inside=args.inside, mask=args.mask, growth=args.growth, front=args.front
        ),
        args.t_end,
        stepper=stepper_arg(args, args.stepper or _default_stepper_name(scale)),
        save_every=args.save_every,
        limiter=args.limiter,
        seed=args.seed,
        initial=initial,
        eps=args.eps,
        velocities=args.velocities,
        save_f=args.save_f or None,
        output=out if out is not None else Path(f"{model.name}.nc"),
        mode="overwrite" if args.overwrite else "new",
    )


def _diagram_point(items: list[str] | None) -> tuple[str, int, int] | None:
    """``--initial DIAGRAM.nc:branch=B,point=P`` as (path, B, P); None for species expressions."""
    import re

    for item in items or []:
        match = re.fullmatch(r"(.+?):branch=(\d+),point=(\d+)", item.strip())
        if match is None:
            continue
        if len(items or []) > 1:
            raise InputError("--initial with a diagram point takes the whole state from it: give no other --initial")
        return match.group(1), int(match.group(2)), int(match.group(3))
    return None


def _from_diagram(point: tuple[str, int, int], named: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """The model of the diagram at the point's parameter value (the ``--set`` values applied) and
    the point's fields; the diagram must hold the model named on the command line."""
    from ..continuation import read_state

    path, branch, index = point
    model, fields = read_state(path, branch, index)
    if model.name != named.name:
        raise InputError(f"{path!r} is a diagram of model {model.name!r}, not {named.name!r}")
    return apply_sets(model, args.set), fields


def _default_stepper_name(scale: Scale) -> str:
    return scale.stepper  # a registered name: the help lists it without importing the stepper


def _resumed(args: argparse.Namespace, out: Path) -> Run:
    """The run in ``out``, continued with the options given: each must agree with the file."""
    from ..solve import Run

    if not out.is_file():
        raise InputError(f"cannot resume: run file {str(out)!r} not found")
    named = resolve_any(args.model)
    run = Run.from_file(out, model=named if scale_of(named).kinetic else None)
    if named.name != run.model.name:
        raise InputError(f"cannot resume {str(out)!r}: it holds a run of model {run.model.name!r}, not {named.name!r}")
    if args.initial or args.seed is not None:
        raise InputError(f"cannot resume {str(out)!r}: --initial and --seed do not apply when continuing a run")
    given: dict[str, Any] = {
        "t_end": args.t_end,
        "save_every": args.save_every,
        "limiter": args.limiter,
        "eps": args.eps,
        "velocities": args.velocities,
        "save_f": args.save_f,
    }
    flags = {"model": "--set", "save_every": f"--save-every {args.save_every}", "limiter": f"--limiter {args.limiter}"}
    flags.update(eps=f"--eps {args.eps}", velocities=f"--velocities {args.velocities}", save_f="--save-f")
    if args.set:
        given["model"] = apply_sets(run.model, args.set)
    if args.front is not None:
        raise InputError(f"cannot resume {str(out)!r} with --front: a run continues with the front its file records")
    if args.growth is not None:
        raise InputError(
            f"cannot resume {str(out)!r} with --growth: a run continues with the growth law its file records"
        )
    if any(v is not None for v in (args.grid, args.boundary, args.inside, args.mask)):
        grid = run.domain
        cells = parse_cells(args.grid) if args.grid is not None else grid.cells
        box = Grid(cells, grid.extent, args.boundary or grid.boundary)
        if args.inside is not None or args.mask is not None:
            given["domain"] = default_domain(run.model, box.cells, box.boundary[0], inside=args.inside, mask=args.mask)
        elif isinstance(grid, Shape) and grid.inside is not None:
            given["domain"] = Shape(box, grid.inside, parameters=grid.parameters)
        else:
            given["domain"] = box
        words = [("--grid", args.grid), ("--boundary", args.boundary), ("--inside", args.inside), ("--mask", args.mask)]
        flags["domain"] = " ".join(f for f in (_flag(k, v) for k, v in words) if f)
    if stepper_given(args):
        recorded = run.stepper.settings()
        given["stepper"] = stepper_arg(args, args.stepper or (recorded[0] if recorded else "imex"))
    return run.agree(flags, **given)


def _flag(flag: str, value: object) -> str:
    return f"{flag} {value}" if value is not None else ""


def run(args) -> int:
    from ..solve import solve
    from ..time import Monitor

    use_threads(args)
    spec = run_from_args(args)
    if args.dt is not None and spec.t_end / args.dt > _MAX_FIXED_STEPS:
        raise InputError(
            f"--dt {args.dt:g} would take {spec.t_end / args.dt:.3g} steps to reach t = {spec.t_end:g} "
            f"(more than {_MAX_FIXED_STEPS:.0e}); use a larger --dt or the adaptive default"
        )
    # a bar on a terminal; --progress also elsewhere (a line every 10 s: logs, batch jobs)
    show_progress = progress_arg(args)
    monitor = Monitor(peak_limit=args.peak_limit) if args.peak_limit else Monitor()
    sol = solve(spec, monitor=monitor, progress=show_progress, throw=False)
    _report(args, spec, sol)
    if not sol.success:
        raise NumericalError(f"{sol.message}; the {len(sol.t)} frames before it are in {spec.output}", sol.report)
    return 0


def _report(args: argparse.Namespace, spec: Run, sol: Solution) -> None:
    """The run's summary on standard output (``--json``: machine-readable)."""
    summary = sol.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    if args.quiet:
        return
    wall = summary["wall_time"]
    print(
        f"{spec.model.name}: {sol.status.label} at t = {sol.t_final:.6g} in {wall:.2f} s "
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
    if spec.resume and spec.output is not None:  # the file holds the earlier frames too
        from ..io import frame_count

        print(f"wrote {spec.output} ({len(sol.t)} new frames, {frame_count(spec.output)} in the file)")
    else:
        print(f"wrote {spec.output} ({len(sol.t)} frames)")


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a model and write a NetCDF file")
    p.add_argument("model", help="catalogue name or model file (.toml)")
    p.add_argument("--grid", help="cells, e.g. 400 (1D) or 128x128 (2D); default: the model's")
    p.add_argument(
        "--boundary", choices=BOUNDARIES.names(), help=f"boundary condition: {BOUNDARIES.help()}; default: the model's"
    )
    p.add_argument(
        "--inside",
        metavar="CONDITION",
        help="run on the shape where CONDITION holds, e.g. '(x-10)^2 + (y-10)^2 < 100' (&, |, ~ combine; "
        "default: the model's [domain] inside, else the whole box)",
    )
    p.add_argument(
        "--mask", metavar="FILE", help="run on the cells a mask picture marks dark (2D), or a .npy boolean array"
    )
    p.add_argument(
        "--growth",
        action="append",
        metavar="LAW",
        help="run on a box that grows: the length scale L(t)/L(0), an expression of t and the parameters, e.g. "
        "'exp(0.01*t)'; once for every axis or once per axis (default: the model's [domain] growth)",
    )
    p.add_argument(
        "--front",
        metavar="SPEED",
        help="1D: the high end is a free boundary moving at SPEED, an expression of t, the parameters and each "
        "species' value u and gradient u_x there, e.g. --front='-mu*u_x' (Stefan; a value starting with '-' needs the "
        "'='; default: the model's [domain] front)",
    )
    p.add_argument("--t-end", type=float, help="end time (default: the model's)")
    p.add_argument(
        "--save-every", type=positive_float, help="interval between saved frames (default: the model's, else t_end/20)"
    )
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="override a parameter (number) or definition (expression)"
    )
    p.add_argument(
        "--initial",
        action="append",
        metavar="species=EXPR",
        help="replace a species' initial data; or DIAGRAM.nc:branch=B,point=P: start from a point of a bifurcation "
        "diagram (crossdiff continue), at its parameter value and on its grid",
    )
    p.add_argument("--seed", type=non_negative_int, help="seed of the initial noise (default: the model's)")
    p.add_argument("--out", help="output NetCDF file (default MODEL.nc)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last frame, with its model, parameters, grid and stepper",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing crossdiff run in --out")
    add_stepper_arguments(p, "default: " + ", ".join(f"{_default_stepper_name(SCALES[n])} ({n})" for n in SCALES))
    p.add_argument("--limiter", choices=tuple(LIMITERS), help=f"taxis slope limiter: {LIMITERS.help()}")
    p.add_argument(
        "--peak-limit",
        type=positive_float,
        help="report blow-up when a density exceeds this (default: 1e6 times the initial maximum)",
    )
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    add_progress_arguments(p, "the run")
    p.add_argument(
        "--threads",
        type=positive_int,
        help="threads of the compiled kernels and transforms (default: CROSSDIFF_THREADS, else chosen "
        "from the free cores and the size of the work; docs/numerics.md)",
    )
    k = p.add_argument_group("kinetic models (docs/kinetic.md)")
    k.add_argument("--eps", type=float, help="the scaling parameter ε in (0, 1] (required for a kinetic model)")
    k.add_argument(
        "--velocities",
        type=int,
        help="velocity directions on the circle (2D, default 16; even with walls) or polar nodes on the sphere (3D)",
    )
    k.add_argument("--save-f", action="store_true", help="also write the distributions f_<species>(v, x, ...)")
    p.set_defaults(func=run)
