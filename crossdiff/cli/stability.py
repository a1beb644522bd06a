"""``crossdiff stability MODEL``: homogeneous steady states, their stability, the dispersion
relation on the admissible modes of the domain, and the critical value of a parameter."""

from __future__ import annotations

import argparse
import json

from ..errors import InputError
from ..grid import BOUNDARIES, default_domain, parse_cells
from ._common import apply_sets, load_model_arg


def _bracket(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (two numbers), got {text!r}") from None
    return lo, hi


def _at_time(domain, time: float | None):
    """The box whose modes count: a growing domain's at ``time`` (default 0), with a line saying
    so (the frozen-time analysis: docs/theory.md §7); any other domain itself."""
    from ..grid import GrowingGrid

    if not isinstance(domain, GrowingGrid):
        if time is not None:
            raise InputError("--time applies to a growing domain (the model's [domain] growth, or --growth)")
        return domain, None
    t = 0.0 if time is None else time
    domain.growth.check(0.0, max(t, 1e-300), domain.cells)
    lengths = ", ".join(f"{v:.6g}" for v in domain.lengths(t))
    note = (
        f"growing domain at t = {t:g}: length(s) {lengths} (the modes of that box; growth dilutes every density "
        f"at the rate {domain.growth.dilution(t):.6g}, which the frozen-time rates below do not include)"
    )
    return domain.at(t), note


def run(args: argparse.Namespace) -> int:
    from ..analysis import critical, dispersion, select_state, steady_states
    from ..output import claim_output

    if args.plot:  # before the analysis: a path that would be refused costs nothing
        claim_output(args.plot, overwrite=args.overwrite, what="picture")
    model = apply_sets(load_model_arg(args.model), args.set)
    cells = parse_cells(args.grid) if args.grid is not None else None
    domain = default_domain(model, cells, args.boundary, inside=args.inside, mask=args.mask, growth=args.growth)
    grid, growing = _at_time(domain, args.time)
    states = steady_states(model, grid=grid)
    if args.state is not None and not 0 <= args.state < len(states):
        raise InputError(f"--state {args.state}: the model has {len(states)} steady states (0..{len(states) - 1})")
    existing = [s for s in states if s.exists]
    chosen = select_state(states, args.state) if existing or args.state is not None else None
    disp = dispersion(model, chosen, grid) if chosen is not None else None
    crit = None
    if args.critical:
        crit = critical(model, args.critical, grid=grid, bracket=args.bracket, state=chosen)
    if args.plot:
        if disp is None:
            raise InputError("no non-negative steady state: nothing to plot")
        from ..plot import plot_dispersion, save_figure

        save_figure(plot_dispersion(disp, crit), args.plot, overwrite=args.overwrite)
    if args.json:
        data = {
            "model": model.name,
            "grid": grid.describe(),
            "time": args.time if growing is not None else None,
            "steady_states": [s.to_dict() for s in states],
            "state": chosen.index if chosen is not None else None,
            "dispersion": disp.to_dict() if disp is not None else None,
            "critical": crit.to_dict() if crit is not None else None,
            "plot": args.plot,
        }
        if data["dispersion"] is not None and not args.continuum:
            del data["dispersion"]["continuum"]
        print(json.dumps(data, indent=2))
        return 0
    print(f"{model.name}: homogeneous steady states of the reactions")
    for s in states:
        print(f"  [{s.index}] {s.describe()}")
    if disp is None:
        print("no non-negative steady state at these parameters")
        return 0
    if growing is not None:
        print(growing)
    print(f"dispersion relation at state [{disp.state.index}] on {grid.describe()}:")
    print(f"  k = 0 (homogeneous): growth rate {disp.homogeneous.growth:.6g}")
    top = disp.most_unstable
    print(
        f"  most unstable mode m = {top.m}, k = {top.k:.6g} (wavelength {top.wavelength:.6g}): "
        f"growth rate {top.growth:.6g}" + (f", frequency {top.frequency:.6g}" if top.oscillatory else "")
    )
    bands = ", ".join(f"{lo:.6g} < k < {hi:.6g}" for lo, hi in disp.unstable_band) or "none"
    print(f"  unstable band on the continuum: {bands}; {len(disp.unstable_modes)} admissible modes grow")
    if disp.stable:
        verdict = "stable: no admissible mode grows"
    elif disp.taxis_driven:  # stable at k = 0, unstable at some k != 0: by taxis, or by diffusion alone (Turing)
        cause = "taxis-driven" if any(s.taxis for s in model.species) else "diffusion-driven (Turing)"
        verdict = f"{cause} instability ({disp.onset} onset: {'waves' if disp.onset == 'oscillatory' else 'a stationary pattern'})"
    else:
        verdict = "unstable already as an ODE equilibrium (k = 0)"
    print(f"  verdict: {verdict}")
    if crit is not None:
        print(f"critical value: {crit.describe()}")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "stability",
        help="steady states, dispersion relation and critical parameter values of a model",
        description="Homogeneous steady states of the reactions (with existence conditions) and their stability as "
        "ODE equilibria; the dispersion relation on the admissible modes of the domain (docs/theory.md §4.4); "
        "with --critical, the value of a parameter at which the state changes stability.",
    )
    p.add_argument("model", help="catalogue name or model file (.toml)")
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="override a parameter (number) or definition (expression)"
    )
    p.add_argument("--grid", help="cells whose modes count, e.g. 200 or 64x64 (default: the model's)")
    p.add_argument(
        "--inside",
        metavar="CONDITION",
        help="analyse on the shape where CONDITION holds (its modes: the eigenfunctions of the shape's no-flux "
        "Laplacian; default: the model's [domain] shape, else the box)",
    )
    p.add_argument("--mask", metavar="FILE", help="analyse on the cells a mask picture marks dark, or a .npy array")
    p.add_argument(
        "--boundary", choices=BOUNDARIES.names(), help=f"boundary condition: {BOUNDARIES.help()}; default: the model's"
    )
    p.add_argument(
        "--growth",
        action="append",
        metavar="LAW",
        help="a box that grows by L(t)/L(0) = LAW (default: the model's [domain] growth); its modes at --time",
    )
    p.add_argument(
        "--time",
        type=float,
        metavar="T",
        help="on a growing domain, the admissible modes of the box of time T (default 0)",
    )
    p.add_argument("--state", type=int, help="index of the steady state to analyse (default: the positive stable one)")
    p.add_argument("--critical", metavar="PARAM", help="find the critical value of this parameter")
    p.add_argument("--bracket", type=_bracket, metavar="LOW,HIGH", help="interval for --critical (default: searched)")
    p.add_argument("--plot", metavar="FILE", help="write the dispersion relation (growth rate against k) to FILE")
    p.add_argument("--overwrite", action="store_true", help="replace a picture crossdiff wrote before")
    p.add_argument("--continuum", action="store_true", help="with --json, include the continuum growth curve")
    p.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    p.set_defaults(func=run)
