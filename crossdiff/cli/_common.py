"""Helpers shared by the subcommands: model resolution and ``--set`` parsing."""

from __future__ import annotations

import argparse
import math

from ..catalogue import resolve_model
from ..errors import ParameterError

__all__ = ["load_model_arg", "apply_sets", "positive_float"]


def load_model_arg(name_or_path: str):
    """A catalogue name or model file path -> Model (errors are InputErrors)."""
    return resolve_model(name_or_path)


def apply_sets(model, sets: list[str] | None):
    """Apply ``--set NAME=VALUE`` options: numbers set parameters, expressions replace definitions."""
    params: dict[str, float] = {}
    defs: dict[str, str] = {}
    for item in sets or []:
        if "=" not in item:
            raise ParameterError(f"--set expects NAME=VALUE, got {item!r}")
        key, value = (p.strip() for p in item.split("=", 1))
        if key in model.definitions:
            defs[key] = value
            continue
        if key not in model.parameters:
            known = sorted(model.parameters) + sorted(model.definitions)
            raise ParameterError(
                f"unknown parameter {key!r} for model {model.name!r}; known: {', '.join(known) or 'none'}"
            )
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(f"parameter {key!r} needs a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ParameterError(f"parameter {key!r} must be finite, got {value!r}")
        params[key] = number
    if params:
        model = model.with_parameters(**params)
    if defs:
        model = model.with_definitions(**defs)
    return model


def positive_float(text: str) -> float:
    """argparse type: a finite positive number.

    Raises :class:`argparse.ArgumentTypeError`, whose text argparse prints as is
    (``argument --dt: expected a positive number, got '-1'``) instead of naming this function.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value
