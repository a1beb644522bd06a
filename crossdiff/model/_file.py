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

Unknown keys are errors (a misspelt key must not be silently ignored).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sympy as sp
import tomli_w

from ..errors import ModelError, OutputError
from ._model import Model, RunDefaults, Species, Taxis

__all__ = ["read_model_file", "model_from_dict", "model_to_dict", "save_model", "parse_toml"]

_TOP_KEYS = {"model", "parameters", "definitions", "domain", "species"}
_MODEL_KEYS = {"name", "description", "reference", "equation"}
_SPECIES_KEYS = {"name", "long_name", "diffusion", "taxis", "reaction", "tau", "initial"}
_DOMAIN_KEYS = {"extent", "cells", "boundary", "t_end", "save_every", "seed"}


def parse_toml(path: str | Path, what: str = "model file", error: type[ModelError] = ModelError) -> dict[str, Any]:
    """Read a TOML file; errors (of type ``error``) name the file and the problem in one line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"cannot read {what} {str(path)!r}: {err}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"malformed TOML in {str(path)!r}: {err}") from None


def check_keys(table: object, allowed: set[str], where: str, error: type[ModelError] = ModelError) -> Mapping[str, Any]:
    """``table`` if it is a table whose keys are all in ``allowed``; else ``error`` naming the key."""
    if not isinstance(table, Mapping):
        raise error(f"{where} must be a table, got {type(table).__name__}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise error(f"unknown key {unknown[0]!r} in {where}; allowed: {', '.join(sorted(allowed))}")
    return table


def expr_value(value: object, where: str, error: type[ModelError] = ModelError) -> object:
    """``value`` if it is a number or an expression string; else ``error``."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    raise error(f"{where} must be a number or an expression string, got {type(value).__name__}")


_check_keys = check_keys
_expr_value = expr_value


def read_parameters(data: Mapping[str, Any], error: type[ModelError] = ModelError) -> tuple[dict[str, float], dict[str, str]]:
    """The ``[parameters]`` table: ``name = number`` or ``name = {value, description}``.

    Returns the values and the descriptions.
    """
    params: dict[str, float] = {}
    info: dict[str, str] = {}
    table = data.get("parameters", {})
    for key, value in check_keys(table, set(table) if isinstance(table, Mapping) else set(), "[parameters]", error).items():
        if isinstance(value, Mapping):
            check_keys(value, {"value", "description"}, f"parameter {key!r}", error)
            if "value" not in value:
                raise error(f"parameter {key!r} has no value")
            info[key] = str(value.get("description", ""))
            value = value["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise error(f"parameter {key!r} must be a number, got {value!r}")
        params[key] = value
    return params, info


def read_definitions(data: Mapping[str, Any], error: type[ModelError] = ModelError) -> dict[str, object]:
    """The ``[definitions]`` table: ``name = expression``."""
    table = data.get("definitions", {})
    return {
        key: expr_value(value, f"definition {key!r}", error)
        for key, value in check_keys(table, set(table) if isinstance(table, Mapping) else set(), "[definitions]", error).items()
    }


def _domain(table: Mapping[str, Any]) -> RunDefaults:
    table = _check_keys(table, _DOMAIN_KEYS, "[domain]")
    kwargs: dict[str, Any] = {}
    if "extent" in table:
        extent = table["extent"]
        if (
            not isinstance(extent, list)
            or not extent
            or not all(isinstance(e, list) and len(e) == 2 for e in extent)
        ):
            raise ModelError("[domain] extent must be a list of [low, high] pairs, e.g. [[0, 20], [0, 20]]")
        pairs = []
        for lo, hi in extent:
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)):
                raise ModelError("[domain] extent entries must be numbers")
            if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
                raise ModelError(f"[domain] extent [{lo}, {hi}] must have high > low")
            pairs.append((float(lo), float(hi)))
        kwargs["extent"] = tuple(pairs)
    if "cells" in table:
        cells = table["cells"]
        cells = [cells] if isinstance(cells, int) else cells
        if not isinstance(cells, list) or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in cells):
            raise ModelError("[domain] cells must be positive integers")
        kwargs["cells"] = tuple(cells)
    if "boundary" in table:
        if table["boundary"] not in ("noflux", "periodic"):
            raise ModelError(f"[domain] boundary must be 'noflux' or 'periodic', got {table['boundary']!r}")
        kwargs["boundary"] = table["boundary"]
    for key in ("t_end", "save_every"):
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ModelError(f"[domain] {key} must be a positive number, got {v!r}")
            kwargs[key] = float(v)
    if "seed" in table:
        if isinstance(table["seed"], bool) or not isinstance(table["seed"], int) or table["seed"] < 0:
            # numpy.random.default_rng refuses negative seeds
            raise ModelError(f"[domain] seed must be a non-negative integer, got {table['seed']!r}")
        kwargs["seed"] = table["seed"]
    defaults = RunDefaults(**kwargs)
    if len(defaults.cells) != len(defaults.extent):
        raise ModelError(
            f"[domain] cells has {len(defaults.cells)} entries but extent has {len(defaults.extent)}"
        )
    return defaults


def model_from_dict(data: Mapping[str, Any], source: str = "model") -> Model:
    """Build a :class:`Model` from the parsed contents of a model file."""
    _check_keys(data, _TOP_KEYS, f"{source}")
    meta = _check_keys(data.get("model", {}), _MODEL_KEYS, "[model]")
    params, info = read_parameters(data)
    definitions = read_definitions(data)
    species_tables = data.get("species")
    if not isinstance(species_tables, list) or not species_tables:
        raise ModelError(f"{source}: needs at least one [[species]] table")
    species = []
    for k, table in enumerate(species_tables):
        table = _check_keys(table, _SPECIES_KEYS, f"[[species]] number {k + 1}")
        if "name" not in table:
            raise ModelError(f"[[species]] number {k + 1} has no name")
        name = table["name"]
        kwargs: dict[str, Any] = {"name": name}
        for key in ("reaction", "tau", "initial"):
            if key in table:
                kwargs[key] = _expr_value(table[key], f"{key} of species {name!r}")
        if "diffusion" in table:
            d = table["diffusion"]
            kwargs["diffusion"] = d if isinstance(d, list) else _expr_value(d, f"diffusion of species {name!r}")
        if "long_name" in table:
            kwargs["long_name"] = str(table["long_name"])
        taxis = table.get("taxis", [])
        if isinstance(taxis, Mapping):
            taxis = [taxis]
        if not isinstance(taxis, list):
            raise ModelError(f"taxis of species {name!r} must be a list of tables")
        terms = []
        for term in taxis:
            term = _check_keys(term, {"signal", "sensitivity"}, f"taxis of species {name!r}")
            if "signal" not in term:
                raise ModelError(f"taxis of species {name!r}: missing 'signal'")
            terms.append(Taxis(term["signal"], _expr_value(term.get("sensitivity", 1), f"sensitivity of species {name!r}")))
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
        defaults=_domain(data.get("domain", {})),
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
    params: dict[str, Any] = {}
    for key, value in model.parameters.items():
        desc = model.parameter_info.get(key, "")
        params[key] = {"value": value, "description": desc} if desc else value
    d = model.defaults
    domain: dict[str, Any] = {
        "extent": [list(p) for p in d.extent],
        "cells": list(d.cells),
        "boundary": d.boundary,
        "t_end": d.t_end,
        "seed": d.seed,
    }
    if d.save_every is not None:
        domain["save_every"] = d.save_every
    species = []
    for s in model.species:
        table: dict[str, Any] = {"name": s.name, "long_name": s.long_name}
        if s.is_tensor:
            table["diffusion"] = [[_expr_out(s.diffusion[i, j]) for j in range(s.diffusion.cols)] for i in range(s.diffusion.rows)]
        else:
            table["diffusion"] = _expr_out(s.diffusion)
        if s.taxis:
            table["taxis"] = [{"signal": t.signal, "sensitivity": _expr_out(t.sensitivity)} for t in s.taxis]
        table["reaction"] = _expr_out(s.reaction)
        table["tau"] = _expr_out(s.tau)
        table["initial"] = _expr_out(s.initial)
        species.append(table)
    out: dict[str, Any] = {"model": meta, "parameters": params}
    if model.definitions:
        out["definitions"] = {k: _expr_out(v) for k, v in model.definitions.items()}
    out["domain"] = domain
    out["species"] = species
    return out


def save_model(model: Model, path: str | Path) -> Path:
    """Write ``model`` as a TOML model file; returns the path."""
    path = Path(path)
    try:
        path.write_text(tomli_w.dumps(model_to_dict(model)), encoding="utf-8")
    except OSError as err:
        raise OutputError(f"cannot write model file {str(path)!r}: {err.strerror or err}") from None
    return path
