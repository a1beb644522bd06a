"""Helpers shared by the subcommands: model resolution and ``--set`` parsing."""

from __future__ import annotations

import argparse
import math

from ..catalogue import resolve_model

__all__ = ["load_model_arg", "apply_sets", "positive_float"]


def load_model_arg(name_or_path: str):
    """A catalogue name or model file path -> Model (errors are InputErrors)."""
    return resolve_model(name_or_path)


def apply_sets(model, sets: list[str] | None):
    """Apply ``--set NAME=VALUE`` options: numbers set parameters, expressions replace definitions."""
    return model.with_settings(sets or [])


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
