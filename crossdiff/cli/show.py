"""``crossdiff show NAME``: equations, parameters and defaults of a model."""

from __future__ import annotations

from ._common import apply_sets, load_model_arg


def _parameters(model) -> None:
    print("\nparameters:")
    if not model.parameters:
        print("  (none)")
    width = max((len(k) for k in model.parameters), default=0)
    for key, value in model.parameters.items():
        desc = model.parameter_info.get(key, "")
        print(f"  {key:<{width}} = {value:<12g} {desc}")


def _kinetic(model) -> int:
    """A kinetic model: its velocity space, each species' turning operator, bias and interaction,
    the parameters; its limit is what ``crossdiff derive`` prints."""
    import sympy as sp

    from ..kinetic import Relaxation

    print(f"{model.name}: {model.description}" if model.description else model.name)
    if model.reference:
        print(f"reference: {model.reference}")
    print(f"\nkinetic model (docs/kinetic.md) on {model.velocity.describe()}")
    for s in model.species:
        turning = (
            f"relaxation at rate {sp.sstr(s.turning.rate)}" if isinstance(s.turning, Relaxation) else "turning kernel"
        )
        print(f"  {s.name}: {turning}, p = {s.p}, b = {s.b}" + (f"    [{s.long_name}]" if s.long_name else ""))
        if s.bias is not None:
            bias = s.bias.kernel if s.bias.kernel is not None else s.bias.operator
            print(f"      bias {sp.sstr(bias)}")
        if s.interaction != 0:
            print(f"      interaction {sp.sstr(s.interaction)}")
    _parameters(model)
    limit = f" (the catalogue entry {model.macro})" if model.macro else ""
    print(f"\nits macroscopic limit{limit}: crossdiff derive {model.name}")
    print(f"run it: crossdiff run {model.name} --eps 0.01")
    return 0


def run(args) -> int:
    import sympy as sp

    from ..catalogue import resolve_any
    from ..model import Model, to_latex

    named = resolve_any(args.model)
    if not isinstance(named, Model):
        return _kinetic(apply_sets(named, args.set))
    model = apply_sets(load_model_arg(args.model), args.set)
    latex = args.latex
    print(f"{model.name}: {model.description}" if model.description else model.name)
    if model.reference:
        print(f"reference: {model.reference}")
    print()
    print("equations:" if not latex else "equations (LaTeX):")
    lines = model.equations(latex=latex)
    for s, eq in zip(model.species, lines):
        print(f"  {eq}" + ("" if latex else f"    [{s.name}: {s.long_name}]"))
    if model.flow is not None:  # the flow's equations follow the species'
        print(f"\nflow ({model.flow.kind}):")
        for eq in lines[model.n_species :]:
            print(f"  {eq}")
    if model.definitions:
        print("\ndefinitions:")
        for key, expr in model.definitions.items():
            print(f"  {key} = {to_latex(expr) if latex else sp.sstr(expr)}")
    _parameters(model)
    d = model.defaults
    box = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in d.extent)
    where = f"domain {box}, grid {'x'.join(map(str, d.cells))}, {d.boundary if isinstance(d.boundary, str) else '/'.join(d.boundary)} boundaries"
    if d.network is not None:  # a network's description (its [network] table)
        from ..grid import default_domain as _network

        where = f"domain {_network(model).describe()}"
    print(
        f"\ndefaults: {where}, "
        f"t_end = {d.t_end:g}" + (f", save every {d.save_every:g}" if d.save_every else "") + f", seed {d.seed}"
    )
    if d.inside is not None or d.mask is not None:
        from ..grid import default_domain

        shape = default_domain(model)
        print(f"shape: {shape.describe()}; no flux through its boundary")
    if d.growth is not None:
        from ..grid import default_domain

        laws = [d.growth] if isinstance(d.growth, str) else list(d.growth)
        default_domain(model)  # one line if the law is bad
        print(
            "growth: L(t)/L(0) = "
            + (laws[0] if len(laws) == 1 else ", ".join(f"{a}: {law}" for a, law in zip("xyz", laws)))
            + " (cells move with the tissue; docs/theory.md §7)"
        )
    if d.front is not None or d.growth_velocity is not None:
        from ..grid import default_domain

        default_domain(model)  # one line if the speed or velocity is bad
        if d.front is not None:
            print(f"free boundary: the high end moves at s' = {d.front} (front fixing; docs/theory.md §7.6)")
        else:
            print(f"growth: the tissue moves with a(x, t) = {d.growth_velocity}, its end with it (docs/theory.md §7.7)")
    sides = [(s, side, cond) for s in model.species for side, cond in s.boundary]
    if sides:
        print("boundary conditions (other sides: no flux):")
        for s, side, cond in sides:
            print(f"  {s.name} at {side}: {cond.describe(s.name)}")
    print("initial data:")
    for s in model.species:
        print(f"  {s.name}(0) = {to_latex(s.initial) if latex else sp.sstr(s.initial)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("show", help="show a model's equations, parameters and defaults")
    p.add_argument("model", help="catalogue name or model file (.toml)")
    p.add_argument("--latex", action="store_true", help="equations in LaTeX")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a parameter or definition")
    p.set_defaults(func=run)
