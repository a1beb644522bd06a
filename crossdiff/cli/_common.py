"""Helpers shared by the subcommands: model resolution and ``--set`` parsing."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..catalogue import resolve_model
from ..errors import InputError
from ..time import Stepper, stepper_from_name
from ..validation import positive_number

__all__ = ["load_model_arg", "apply_sets", "positive_float", "argument", "stepper_arg"]


def load_model_arg(name_or_path: str):
    """A catalogue name or model file path -> Model (errors are InputErrors)."""
    return resolve_model(name_or_path)


def apply_sets(model, sets: list[str] | None):
    """Apply ``--set NAME=VALUE`` options: numbers set parameters, expressions replace definitions."""
    return model.with_settings(sets or [])


def parse_initial(items: list[str] | None, model) -> dict[str, str]:
    """``--initial species=EXPRESSION`` options as a mapping, each species checked on ``model``."""
    initial = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--initial expects species=EXPRESSION, got {item!r}")
        key, value = (p.strip() for p in item.split("=", 1))
        model.index(key)
        initial[key] = value
    return initial


def positive_float(text: str) -> float:
    """argparse type: a finite positive number.

    Raises :class:`argparse.ArgumentTypeError`, whose text argparse prints as is
    (``argument --dt: expected a positive number, got '-1'``) instead of naming this function.
    """
    return argument(positive_number, "a positive number")(text)


def argument(validator: Callable[[object, str], float], expected: str) -> Callable[[str], float]:
    """An argparse type from a :mod:`crossdiff.validation` validator: the text as a float, checked
    by ``validator``; :class:`argparse.ArgumentTypeError` ``expected ..., got '...'`` otherwise."""

    def convert(text: str) -> float:
        try:
            return validator(float(text), "value")
        except (ValueError, InputError):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None

    return convert


def stepper_arg(args: argparse.Namespace, name: str) -> Stepper:
    """The stepper ``name`` with the options given on the command line (``--rtol``, ``--atol``,
    ``--dt``); an option the stepper does not take is refused in one line."""
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
