"""Model files: TOML in, TOML out.

A model file has the tables ``[model]`` (name, description, reference), ``[parameters]``
(``name = value`` or ``name = {value = ..., description = "..."}``), optional ``[definitions]``
(named sub-expressions), ``[domain]`` (extent, cells, boundary, t_end, save_every, seed) and
one ``[[species]]`` table per species::

    [[species]]
    name = "u"
    long_name = "cell density"
    diffusion = 1                      # number, expression, or [[D11, D12], [D12, D22]]
    taxis = [{ signal = "v", sensitivity = "chi" }]
    reaction = "r*u*(1 - u)"
    tau = 1                            # 0: quasi-stationary (elliptic)
    initial = "1 + 0.01*noise"
    advected = false                   # true: carried by the [flow]
    boundary = { y_high = { dirichlet = "1" }, x_low = { robin = 2, value = "c_air" } }

and an optional ``[flow]`` (``kind = "prescribed"``, ``velocity = ["u_x", "u_y"]`` or
``stream = "psi"``, :class:`~crossdiff.model.Flow`).

Unknown keys are errors (a misspelt key must not be silently ignored).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sympy as sp
import tomli_w

from ..base import RunDefaults
from ..errors import ModelError, OutputError
from ..output import MARK, claim_output
from ..parsing import check_keys, expr_value, parse_toml, read_definitions, read_parameters
from ._flow import Flow
from ._model import Model, Species, Taxis

__all__ = ["read_model_file", "model_from_dict", "model_to_dict", "save_model"]

#: The keys allowed in each table of a model file ("file": the top level).
_KEYS = {
    "file": {"model", "parameters", "definitions", "domain", "species", "flow", "network"},
    "model": {"name", "description", "reference", "equation"},
    "species": {"name", "long_name", "diffusion", "taxis", "reaction", "tau", "initial", "advected", "boundary"},
    "flow": {"kind", "velocity", "stream", "density", "viscosity", "buoyancy", "walls", "lid", "initial"},
    "taxis": {"signal", "sensitivity"},
}


def model_from_dict(data: Mapping[str, Any], source: str = "model") -> Model:
    """Build a :class:`Model` from the parsed contents of a model file."""
    check_keys(data, _KEYS["file"], f"{source}")
    meta = check_keys(data.get("model", {}), _KEYS["model"], "[model]")
    params, info = read_parameters(data)
    definitions = read_definitions(data)
    species_tables = data.get("species")
    if not isinstance(species_tables, list) or not species_tables:
        raise ModelError(f"{source}: needs at least one [[species]] table")
    species = []
    for k, table in enumerate(species_tables):
        table = check_keys(table, _KEYS["species"], f"[[species]] number {k + 1}")
        if "name" not in table:
            raise ModelError(f"[[species]] number {k + 1} has no name")
        name = table["name"]
        kwargs: dict[str, Any] = {"name": name}
        for key in ("reaction", "tau", "initial"):
            if key in table:
                kwargs[key] = expr_value(table[key], f"{key} of species {name!r}")
        if "diffusion" in table:
            d = table["diffusion"]
            kwargs["diffusion"] = d if isinstance(d, list) else expr_value(d, f"diffusion of species {name!r}")
        if "long_name" in table:
            kwargs["long_name"] = str(table["long_name"])
        if "boundary" in table:
            kwargs["boundary"] = table["boundary"]
        if "advected" in table:
            if not isinstance(table["advected"], bool):
                raise ModelError(f"advected of species {name!r} must be true or false, got {table['advected']!r}")
            kwargs["advected"] = table["advected"]
        taxis = table.get("taxis", [])
        if isinstance(taxis, Mapping):
            taxis = [taxis]
        if not isinstance(taxis, list):
            raise ModelError(f"taxis of species {name!r} must be a list of tables")
        terms = []
        for term in taxis:
            term = check_keys(term, _KEYS["taxis"], f"taxis of species {name!r}")
            if "signal" not in term:
                raise ModelError(f"taxis of species {name!r}: missing 'signal'")
            terms.append(
                Taxis(term["signal"], expr_value(term.get("sensitivity", 1), f"sensitivity of species {name!r}"))
            )
        kwargs["taxis"] = tuple(terms)
        species.append(Species(**kwargs))
    return Model(
        species=tuple(species),
        parameters=params,
        name=str(meta.get("name", source)),
        description=str(meta.get("description", "")),
        reference=str(meta.get("reference", "")),
        definitions=definitions,
        parameter_info=info,
        defaults=_with_network(RunDefaults.from_table(data.get("domain", {}), shapes=True), data.get("network")),
        flow=_flow_from_table(data["flow"]) if "flow" in data else None,
    )


def _with_network(defaults: RunDefaults, table: object) -> RunDefaults:
    """The defaults with the model file's ``[network]`` table (read by crossdiff.grid.Network)."""
    if table is None:
        return defaults
    if not isinstance(table, Mapping):
        raise ModelError("[network] must be a table (nodes, edges, h, vertices)")
    return dataclasses.replace(defaults, network=dict(table))


def _flow_from_table(table: object) -> Flow:
    """The ``[flow]`` table: ``kind``, and ``velocity = [..]`` or ``stream = ".."``."""
    table = check_keys(table, _KEYS["flow"], "[flow]")
    velocity = table.get("velocity", [])
    if not isinstance(velocity, list):
        raise ModelError(f"[flow] velocity must be a list of expressions, one per axis, got {velocity!r}")
    stream = table.get("stream")
    kwargs: dict[str, Any] = {}
    for key in ("density", "viscosity", "initial"):
        if key in table:
            kwargs[key] = expr_value(table[key], f"[flow] {key}")
    for key in ("buoyancy", "walls", "lid"):
        if key in table:
            entries = table[key]
            if not isinstance(entries, Mapping):
                raise ModelError(f"[flow] {key} must be a table, e.g. {key} = {{ y_high = ... }}")
            kwargs[key] = {k: (v if key == "walls" else expr_value(v, f"[flow] {key}.{k}")) for k, v in entries.items()}
    return Flow(
        kind=str(table.get("kind", "prescribed")),
        velocity=tuple(expr_value(v, f"[flow] velocity component {a + 1}") for a, v in enumerate(velocity)),
        stream=None if stream is None else expr_value(stream, "[flow] stream"),
        **kwargs,
    )


def read_model_file(path: str | Path) -> Model:
    """Read a macroscopic model from a TOML file (see the module docstring for the format)."""
    path = Path(path)
    data = parse_toml(path)
    if "kinetic" in data:
        raise ModelError(f"{str(path)!r} is a kinetic model file; derive it first (crossdiff derive)")
    return model_from_dict(data, source=path.stem)


def _expr_out(expr: sp.Expr) -> object:
    if expr.is_Integer:
        return int(expr)
    if expr.is_Float:
        return float(expr)
    return sp.sstr(expr)


def model_to_dict(model: Model) -> dict[str, Any]:
    """The inverse of :func:`model_from_dict` (round-trips up to expression formatting)."""
    meta = {"name": model.name}
    if model.description:
        meta["description"] = model.description
    if model.reference:
        meta["reference"] = model.reference
    params = model.parameter_table()
    domain = model.defaults.to_table()
    species = []
    for s in model.species:
        table: dict[str, Any] = {"name": s.name, "long_name": s.long_name}
        if s.is_tensor:
            table["diffusion"] = [
                [_expr_out(s.diffusion[i, j]) for j in range(s.diffusion.cols)] for i in range(s.diffusion.rows)
            ]
        else:
            table["diffusion"] = _expr_out(s.diffusion)
        if s.taxis:
            table["taxis"] = [{"signal": t.signal, "sensitivity": _expr_out(t.sensitivity)} for t in s.taxis]
        table["reaction"] = _expr_out(s.reaction)
        table["tau"] = _expr_out(s.tau)
        table["initial"] = _expr_out(s.initial)
        if s.advected:
            table["advected"] = True
        if s.boundary:
            table["boundary"] = {side: cond.to_toml() for side, cond in s.boundary}
        species.append(table)
    out: dict[str, Any] = {"model": meta, "parameters": params}
    if model.definitions:
        out["definitions"] = {k: _expr_out(v) for k, v in model.definitions.items()}
    out["domain"] = domain
    if model.defaults.network is not None:
        out["network"] = dict(model.defaults.network)
    if model.flow is not None:
        out["flow"] = model.flow.to_dict()
    out["species"] = species
    return out


def save_model(model: Model, path: str | Path, overwrite: bool = False) -> Path:
    """Write ``model`` as a TOML model file (its first line a comment with crossdiff's mark);
    returns the path.

    An existing file is replaced only with ``overwrite`` and only if crossdiff wrote it
    (:func:`crossdiff.output.claim_output`): a user's own model file is never overwritten.

    Raises
    ------
    OutputError
        The path is refused, or cannot be written.
    """
    path = claim_output(path, overwrite=overwrite, what="model file")
    try:
        path.write_text(f"# {MARK}\n" + tomli_w.dumps(model_to_dict(model)), encoding="utf-8")
    except OSError as err:
        raise OutputError(f"cannot write model file {str(path)!r}: {err.strerror or err}") from None
    return path
