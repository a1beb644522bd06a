"""Reading model files: TOML, names, numbers and the tables shared by every kind of model file.

Macroscopic model files (:mod:`crossdiff.model`) and kinetic model files
(:mod:`crossdiff.kinetic`) have the same ``[parameters]`` and ``[definitions]`` tables, the same
rules for names and numbers and the same strictness (an unknown key is an error, never ignored).
Every function takes the exception type to raise (``error``), so that each kind of file reports
its own :class:`~crossdiff.errors.ModelError` subclass; messages are one line and name the
offending table, key or value. Expression strings are parsed by :mod:`crossdiff.expressions`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sympy as sp

from .errors import ModelError, ParameterError
from .expressions import RESERVED
from .validation import finite_number

__all__ = [
    "MAX_FILE_BYTES",
    "parse_toml",
    "check_keys",
    "expr_value",
    "read_parameters",
    "read_definitions",
    "check_name",
    "to_number",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


#: Largest model or kinetic file read (bytes). The catalogue's files are 2–5 kB; a model with a
#: hundred species and long expressions stays far below. Larger files are refused at once instead
#: of spending minutes parsing them.
MAX_FILE_BYTES = 1_000_000


def parse_toml(path: str | Path, what: str = "model file", error: type[ModelError] = ModelError) -> dict[str, Any]:
    """Read a TOML file (at most :data:`MAX_FILE_BYTES`).

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for messages (``"model file"``, ``"kinetic file"``).
    error : type
        The exception raised when the file is missing, unreadable or not valid TOML; its
        message names the file and the problem in one line.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(f"{what} {str(path)!r} not found") from None
    except OSError as err:
        raise error(f"cannot read {what} {str(path)!r}: {err}") from None
    if size > MAX_FILE_BYTES:
        raise error(
            f"{what} {str(path)!r} is {size / 1e6:.1f} MB; model files are limited to {MAX_FILE_BYTES / 1e6:g} MB"
        )
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


def _any_keys(table: object, where: str, error: type[ModelError]) -> Mapping[str, Any]:
    return check_keys(table, set(table) if isinstance(table, Mapping) else set(), where, error)


def read_parameters(
    data: Mapping[str, Any], error: type[ModelError] = ModelError
) -> tuple[dict[str, float], dict[str, str]]:
    """The ``[parameters]`` table: ``name = number`` or ``name = {value, description}``.

    Returns
    -------
    values : dict of str to number
        The parameter values (checked to be finite when the model is built).
    descriptions : dict of str to str
        The one-line descriptions of the parameters that have one.
    """
    params: dict[str, float] = {}
    info: dict[str, str] = {}
    for key, value in _any_keys(data.get("parameters", {}), "[parameters]", error).items():
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
    """The ``[definitions]`` table: ``name = expression`` (named sub-expressions)."""
    table = _any_keys(data.get("definitions", {}), "[definitions]", error)
    return {key: expr_value(value, f"definition {key!r}", error) for key, value in table.items()}


def check_name(name: object, what: str, error: type[ModelError] = ModelError) -> str:
    """``name`` if it can name a species, parameter or definition; else ``error``.

    A name is letters, digits and ``_``, starting with a letter, and is not reserved
    (``t``, ``x``, ``y``, ``z``, ``noise``, the constants and the function names of
    :mod:`crossdiff.expressions`).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise error(f"invalid {what} name {name!r}: use letters, digits and '_', starting with a letter")
    if name in RESERVED:
        raise error(f"{what} name {name!r} is reserved (t, x, y, z, noise and function names)")
    return name


def to_number(value: object, what: str, error: type[ModelError] = ParameterError) -> float:
    """``value`` (a real number or a constant SymPy expression) as a finite float.

    Raises ``error`` naming ``what`` for booleans, strings, symbolic expressions and
    non-finite values.
    """
    if isinstance(value, bool):
        raise error(f"{what}: expected a number, got a boolean")
    if isinstance(value, sp.Basic) and not value.is_number:
        raise error(f"{what}: expected a number, got {value}")
    if isinstance(value, str):
        raise error(f"{what}: expected a number, got the string {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise error(f"{what}: expected a number, got {value!r}") from None
    return finite_number(number, what, error)
