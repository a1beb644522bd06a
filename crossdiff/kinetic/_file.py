"""Kinetic model files (TOML), strict like model files: unknown keys are errors.

::

    [kinetic]                       # name, description, reference, macro (catalogue entry of the limit)
    name = "my-kinetic"

    [velocity]                      # the velocity space V
    space = "sphere"                # or "ball" (|v| <= radius), "gaussian" (R^d; temperature = "T"),
    dim = 2                         # or "discrete" (then points = [[...], ...], weights = [...])
    radius = "R"                    # number or expression of parameters

    [parameters]                    # as in model files: name = value or {value, description}
    R = 1
    [definitions]                   # functions of densities/parameters, carried to the limit model
    [domain]                        # as in model files: the limit model's default domain

    [[species]]
    name = "u"
    p = 1                           # T scales as eps^-p (the paper's q)
    b = 1                           # bias T1 of order eps^b
    equilibrium = "1/absV"          # expression of vx, vy, vz, or a list on a discrete set; default uniform
    turning = { relaxation = "sigma_value" }    # or { kernel = "T0(v, v*)" } or { matrix = [[...]] }
    bias = { kernel = "-(chi/absV)*vs_grad_c" } # or { operator = "T1[Mu](M)(v)" }
    interaction = "r/absV*u*(1 - u)"            # G(f, v)
    initial = "1 + 0.01*noise"

    [paper]                         # optional: the paper's printed result, compared automatically
    equation = "(48)"
    notes = ["..."]
    [paper.printed.u]
    diffusion = 1
    taxis = [{ signal = "c", sensitivity = "chi" }]
    reaction = "..."
    bias = "kernel as printed"      # and/or interaction = "G as printed"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from ..base import RunDefaults
from ..errors import InputError, KineticModelError
from ..expressions import to_expr
from ..parsing import check_keys, expr_value, parse_toml, read_definitions, read_parameters
from ._model import KineticModel, KineticSpecies, PaperReference, PrintedSpecies
from ._operators import Bias, Equilibrium, Relaxation, TurningKernel
from ._velocity import Ball, DiscreteVelocities, Gaussian, Sphere, VelocitySpace

__all__ = ["read_kinetic_file", "kinetic_from_dict", "kinetic_to_dict"]

#: The keys allowed in each table of a kinetic file ("file": the top level).
_KEYS = {
    "file": {"kinetic", "velocity", "parameters", "definitions", "domain", "species", "paper", "network"},
    "kinetic": {"name", "description", "reference", "macro"},
    "velocity": {"space", "dim", "radius", "temperature", "points", "weights"},
    "species": {"name", "long_name", "p", "b", "equilibrium", "turning", "bias", "interaction", "initial"},
    "paper": {"equation", "notes", "printed"},
    "printed": {"diffusion", "taxis", "reaction", "bias", "interaction"},
}


def _keys(table: object, allowed: set[str], where: str) -> Mapping[str, Any]:
    return check_keys(table, allowed, where, KineticModelError)


def _value(value: object, where: str) -> object:
    return expr_value(value, where, KineticModelError)


def _one_of(table: object, allowed: set[str], where: str) -> tuple[str, Any]:
    table = _keys(table, allowed, where)
    if len(table) != 1:
        raise KineticModelError(f"{where} needs exactly one of {', '.join(sorted(allowed))}")
    return next(iter(table.items()))


#: The keys of [velocity] that each space takes (besides ``space``).
_SPACE_KEYS = {
    "sphere": {"dim", "radius"},
    "ball": {"dim", "radius"},
    "gaussian": {"dim", "temperature"},
    "discrete": {"dim", "points", "weights"},
}


def _velocity(table: Mapping[str, Any]):
    table = _keys(table, _KEYS["velocity"], "[velocity]")
    space = table.get("space", "sphere")
    if not isinstance(space, str) or space not in _SPACE_KEYS:
        raise KineticModelError(f"[velocity] space must be one of {', '.join(map(repr, _SPACE_KEYS))}, got {space!r}")
    for key in sorted(set(table) - {"space"} - _SPACE_KEYS[space]):
        takes = [s for s, keys in _SPACE_KEYS.items() if key in keys]
        raise KineticModelError(f"[velocity] {key} is only for space = {' or '.join(map(repr, takes))}")
    if space != "discrete":
        dim = table.get("dim")
        if isinstance(dim, bool) or dim not in (1, 2, 3):
            raise KineticModelError(f"[velocity] dim must be 1, 2 or 3, got {dim!r}")
        if space == "gaussian":
            where = "[velocity] temperature"
            return Gaussian(dim, to_expr(_value(table.get("temperature", 1), where), where))
        radius = to_expr(_value(table.get("radius", 1), "[velocity] radius"), "[velocity] radius")
        return Sphere(dim, radius) if space == "sphere" else Ball(dim, radius)
    points = table.get("points")
    if not isinstance(points, list) or not all(isinstance(p, list) for p in points):
        raise KineticModelError("[velocity] points must be a list of velocity vectors, e.g. [[-1], [1]]")
    pts = [[to_expr(_value(c, "[velocity] points"), "[velocity] points") for c in p] for p in points]
    weights = [to_expr(_value(w, "[velocity] weights"), "[velocity] weights") for w in table.get("weights", [])]
    space_obj = DiscreteVelocities(tuple(map(tuple, pts)), tuple(weights))
    if "dim" in table and table["dim"] != space_obj.dim:
        raise KineticModelError(f"[velocity] dim = {table['dim']!r} but the points have {space_obj.dim} components")
    return space_obj


def _bias(value: object, where: str) -> Bias:
    if isinstance(value, str):
        return Bias(kernel=value)
    key, expr = _one_of(value, {"kernel", "operator"}, where)
    return Bias(**{key: _value(expr, where)})


def _species(table: Mapping[str, Any], k: int) -> KineticSpecies:
    table = _keys(table, _KEYS["species"], f"[[species]] number {k}")
    if "name" not in table:
        raise KineticModelError(f"[[species]] number {k} has no name")
    name = table["name"]
    where = f"species {name!r}"
    if "turning" not in table:
        raise KineticModelError(f"{where}: missing 'turning' (e.g. turning = {{ relaxation = 1 }})")
    key, value = _one_of(table["turning"], {"relaxation", "kernel", "matrix"}, f"turning of {where}")
    turning: Relaxation | TurningKernel
    if key == "relaxation":
        turning = Relaxation(to_expr(_value(value, f"relaxation of {where}"), f"relaxation rate of {where}"))
    elif key == "kernel":
        turning = TurningKernel(expr=to_expr(_value(value, f"kernel of {where}"), f"turning kernel of {where}"))
    else:
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
            raise KineticModelError(f"turning matrix of {where} must be a list of rows")
        turning = TurningKernel(matrix=tuple(tuple(_value(x, f"turning matrix of {where}") for x in r) for r in value))
    eq = table.get("equilibrium")
    if eq is None:
        equilibrium = Equilibrium()
    elif isinstance(eq, list):
        equilibrium = Equilibrium(values=tuple(_value(x, f"equilibrium of {where}") for x in eq))
    else:
        equilibrium = Equilibrium(expr=to_expr(_value(eq, f"equilibrium of {where}"), f"equilibrium of {where}"))
    kwargs: dict[str, Any] = {"name": name, "turning": turning, "equilibrium": equilibrium}
    if "bias" in table:
        kwargs["bias"] = _bias(table["bias"], f"bias of {where}")
    for key in ("interaction", "initial"):
        if key in table:
            kwargs[key] = to_expr(_value(table[key], f"{key} of {where}"), f"{key} of {where}")
    for key in ("p", "b"):
        if key in table:
            kwargs[key] = table[key]
    if "long_name" in table:
        kwargs["long_name"] = str(table["long_name"])
    return KineticSpecies(**kwargs)


def _paper(table: Mapping[str, Any]) -> PaperReference:
    table = _keys(table, _KEYS["paper"], "[paper]")
    notes = table.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise KineticModelError("[paper] notes must be a list of strings")
    printed = {}
    for name, entry in _keys(table.get("printed", {}), set(table.get("printed", {})), "[paper.printed]").items():
        where = f"[paper.printed.{name}]"
        entry = _keys(entry, _KEYS["printed"], where)
        kwargs: dict[str, Any] = {}
        for key in ("diffusion", "reaction", "interaction"):
            if key in entry:
                kwargs[key] = to_expr(_value(entry[key], f"{where} {key}"), f"{where} {key}")
        if "taxis" in entry:
            terms = entry["taxis"]
            if not isinstance(terms, list):
                raise KineticModelError(f"{where} taxis must be a list of {{signal, sensitivity}} tables")
            taxis = {}
            for term in terms:
                term = _keys(term, {"signal", "sensitivity"}, f"{where} taxis")
                taxis[str(term.get("signal"))] = to_expr(
                    _value(term.get("sensitivity", 1), f"{where} taxis"), f"{where} taxis"
                )
            kwargs["taxis"] = taxis
        if "bias" in entry:
            kwargs["bias"] = _bias(entry["bias"], f"{where} bias")
        printed[name] = PrintedSpecies(**kwargs)
    return PaperReference(equation=str(table.get("equation", "")), notes=tuple(notes), printed=printed)


def kinetic_from_dict(data: Mapping[str, Any], source: str = "kinetic") -> KineticModel:
    """Build a :class:`KineticModel` from the parsed contents of a kinetic file."""
    _keys(data, _KEYS["file"], source)
    meta = _keys(data.get("kinetic", {}), _KEYS["kinetic"], "[kinetic]")
    if "velocity" not in data:
        raise KineticModelError(f"{source}: missing [velocity] table (space, dim, radius)")
    velocity = _velocity(data["velocity"])
    params, info = read_parameters(data, KineticModelError)
    defs = read_definitions(data, KineticModelError)
    tables = data.get("species")
    if not isinstance(tables, list) or not tables:
        raise KineticModelError(f"{source}: needs at least one [[species]] table")
    species = tuple(_species(t, k + 1) for k, t in enumerate(tables))
    defaults = RunDefaults.from_table(data["domain"], KineticModelError, growth=True) if "domain" in data else None
    if "network" in data:  # a network of 1D edges (crossdiff.grid.Network reads the table)
        if not isinstance(data["network"], Mapping):
            raise KineticModelError("[network] must be a table (nodes, edges, h, vertices)")
        if velocity.dim != 1:
            raise KineticModelError(f"a network's edges are 1D but the velocity space has d = {velocity.dim}")
        base = defaults if defaults is not None else RunDefaults.from_table({}, KineticModelError)
        defaults = dataclasses.replace(base, network=dict(data["network"]))
    if defaults is not None and defaults.network is None and len(defaults.extent) != velocity.dim:
        raise KineticModelError(
            f"[domain] has {len(defaults.extent)} dimensions but the velocity space has d = {velocity.dim}"
        )
    return KineticModel(
        species=species,
        velocity=velocity,
        parameters=params,
        name=str(meta.get("name", source)),
        description=str(meta.get("description", "")),
        reference=str(meta.get("reference", "")),
        definitions=defs,
        parameter_info=info,
        defaults=defaults,
        macro=str(meta.get("macro", "")),
        paper=_paper(data["paper"]) if "paper" in data else None,
    )


def read_kinetic_file(path: str | Path) -> KineticModel:
    """Read a kinetic model file; errors are one line and name the file."""
    path = Path(path)
    data = parse_toml(path, "kinetic file", KineticModelError)
    if "kinetic" not in data and "velocity" not in data:
        raise KineticModelError(f"{str(path)!r} is not a kinetic model file (no [kinetic] or [velocity] table)")
    try:
        return kinetic_from_dict(data, source=path.stem)
    except InputError as err:
        raise type(err)(f"{path.name}: {err}") from None


class _Printer(StrPrinter):
    """SymPy's ``sstr`` in the words :func:`crossdiff.expressions.parse_expression` reads back
    to the same expression: double-precision floats with all their digits (``sstr`` keeps 15),
    ``heaviside``, ``min`` and ``max`` as the file functions are named, and a numeric
    coefficient kept apart where ``sstr``'s ``4*(x + 1)/(5*y)`` would be read as
    ``(4*x + 4)/(5*y)`` (a number times a sum is distributed as it is read)."""

    def _print_Mul(self, expr: sp.Expr) -> str:
        text = super()._print_Mul(expr)
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_Number and coeff != 1 and _read(text) != expr:
            return f"-({self._print(rest)})" if coeff == -1 else f"{self._print(coeff)}*({self._print(rest)})"
        return text

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr)) if expr._prec == 53 else super()._print_Float(expr)

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        if len(expr.args) == 2 and expr.args[1] == sp.S.Half:
            return f"heaviside({self._print(expr.args[0])})"
        return super()._print_Heaviside(expr)

    def _print_Min(self, expr: sp.Expr) -> str:
        return f"min({self.stringify(expr.args, ', ')})"

    def _print_Max(self, expr: sp.Expr) -> str:
        return f"max({self.stringify(expr.args, ', ')})"


def _read(text: str) -> sp.Expr | None:
    try:
        return to_expr(text, "expression")
    except InputError:
        return None


def _expr_out(expr: sp.Expr) -> object:
    """An expression as a file writes it: an int, a float or an expression string."""
    if expr.is_Integer:
        return int(expr)
    if expr.is_Float:
        return float(expr)
    return _Printer().doprint(expr)


def _bias_out(bias: Bias) -> dict[str, Any]:
    if bias.kernel is not None:
        return {"kernel": _expr_out(bias.kernel)}
    assert bias.operator is not None  # a Bias has exactly one of them
    return {"operator": _expr_out(bias.operator)}


def _velocity_out(velocity: VelocitySpace) -> dict[str, Any]:
    if isinstance(velocity, (Sphere, Ball)):
        space = "sphere" if isinstance(velocity, Sphere) else "ball"
        return {"space": space, "dim": velocity.dim, "radius": _expr_out(velocity.radius)}
    if isinstance(velocity, Gaussian):
        return {"space": "gaussian", "dim": velocity.dim, "temperature": _expr_out(velocity.temperature)}
    return {
        "space": "discrete",
        "points": [[_expr_out(c) for c in p] for p in velocity.points],
        "weights": [_expr_out(w) for w in velocity.weights],
        "dim": velocity.dim,
    }


def _species_out(s: KineticSpecies) -> dict[str, Any]:
    table: dict[str, Any] = {"name": s.name, "long_name": s.long_name, "p": s.p, "b": s.b}
    eq = s.equilibrium
    if eq.values is not None:
        table["equilibrium"] = [_expr_out(x) for x in eq.values]
    elif eq.expr is not None:
        table["equilibrium"] = _expr_out(eq.expr)
    if isinstance(s.turning, Relaxation):
        table["turning"] = {"relaxation": _expr_out(s.turning.rate)}
    elif s.turning.expr is not None:
        table["turning"] = {"kernel": _expr_out(s.turning.expr)}
    else:
        assert s.turning.matrix is not None  # a TurningKernel has exactly one of them
        table["turning"] = {"matrix": [[_expr_out(x) for x in row] for row in s.turning.matrix]}
    if s.bias is not None:
        table["bias"] = _bias_out(s.bias)
    table["interaction"] = _expr_out(s.interaction)
    table["initial"] = _expr_out(s.initial)
    return table


def _paper_out(paper: PaperReference) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if paper.equation:
        out["equation"] = paper.equation
    if paper.notes:
        out["notes"] = list(paper.notes)
    printed: dict[str, Any] = {}
    for name, entry in paper.printed.items():
        table: dict[str, Any] = {}
        if entry.diffusion is not None:
            table["diffusion"] = _expr_out(entry.diffusion)
        if entry.taxis is not None:
            table["taxis"] = [{"signal": j, "sensitivity": _expr_out(chi)} for j, chi in entry.taxis.items()]
        if entry.reaction is not None:
            table["reaction"] = _expr_out(entry.reaction)
        if entry.bias is not None:
            table["bias"] = _bias_out(entry.bias)
        if entry.interaction is not None:
            table["interaction"] = _expr_out(entry.interaction)
        printed[name] = table
    if printed:
        out["printed"] = printed
    return out


def kinetic_to_dict(model: KineticModel) -> dict[str, Any]:
    """The inverse of :func:`kinetic_from_dict` (round-trips up to expression formatting): what a
    run file stores so that a kinetic run can be resumed from the file alone.

    Parameters
    ----------
    model : KineticModel

    Returns
    -------
    dict
        The parsed contents of a kinetic file (see the module docstring): ``[kinetic]``,
        ``[velocity]``, ``[parameters]``, ``[definitions]`` (if any), ``[domain]``,
        ``[[species]]`` and ``[paper]`` (if the model has one). Only strings, numbers, lists
        and tables (no ``None``), so that ``tomli_w.dumps`` writes it;
        ``kinetic_from_dict(kinetic_to_dict(model), source=model.name)`` rebuilds ``model``.
        Expressions are written as numbers where they are one, else as strings that parse
        back to the same SymPy expression (floats with all their digits).
    """
    meta: dict[str, Any] = {"name": model.name}
    if model.description:
        meta["description"] = model.description
    if model.reference:
        meta["reference"] = model.reference
    if model.macro:
        meta["macro"] = model.macro
    velocity = _velocity_out(model.velocity)
    out: dict[str, Any] = {"kinetic": meta, "velocity": velocity, "parameters": model.parameter_table()}
    if model.definitions:
        out["definitions"] = {k: _expr_out(v) for k, v in model.definitions.items()}
    if model.defaults is not None:
        out["domain"] = model.defaults.to_table()
        if model.defaults.network is not None:
            out["network"] = dict(model.defaults.network)
    out["species"] = [_species_out(s) for s in model.species]
    if model.paper is not None:
        out["paper"] = _paper_out(model.paper)
    return out
