"""Helpers shared by the subcommands: model resolution and ``--set`` parsing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..catalogue import resolve_model
from ..errors import InputError
from ..time import STEPPERS, stepper_from_name, stepper_options
from ..validation import positive_number

if TYPE_CHECKING:
    from ..time import Stepper

__all__ = [
    "load_model_arg",
    "apply_sets",
    "positive_float",
    "positive_int",
    "non_negative_int",
    "argument",
    "stepper_arg",
    "stepper_given",
    "add_stepper_arguments",
    "add_progress_arguments",
    "progress_arg",
]


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


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (a seed: ``numpy.random.default_rng`` refuses negative ones)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a positive whole number (threads, workers, frames per second)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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


#: Command-line options that set a stepper option of the same name (``--rtol`` sets ``rtol``).
STEPPER_FLAGS = {
    "rtol": "relative tolerance (default 0.5/N^2, N cells along the longest axis, in [1e-8, 1e-3])",
    "atol": "absolute tolerance (default rtol/100)",
    "dt": "fixed time step (default: adaptive steps)",
}


def add_stepper_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    """``--stepper`` and the stepper options, choices and help from the registry
    (:data:`~crossdiff.time.STEPPERS`, :func:`~crossdiff.time.stepper_options`)."""
    parser.add_argument("--stepper", choices=STEPPERS.names(), help=f"time stepper: {STEPPERS.help()}; {default}")
    for option, text in STEPPER_FLAGS.items():
        takers = ", ".join(n for n in STEPPERS.names() if option in stepper_options(n))
        parser.add_argument(f"--{option.replace('_', '-')}", type=positive_float, help=f"{text} ({takers})")


def stepper_given(args: argparse.Namespace) -> bool:
    """Whether the command line names a stepper or sets a stepper option."""
    return args.stepper is not None or any(getattr(args, option) is not None for option in STEPPER_FLAGS)


def stepper_arg(args: argparse.Namespace, name: str) -> Stepper:
    """The stepper ``name`` with the options given on the command line (``--rtol``, ``--atol``,
    ``--dt``); an option the stepper does not take is refused in one line naming those it takes."""
    takes = stepper_options(name)
    options = {option: getattr(args, option) for option in STEPPER_FLAGS if getattr(args, option) is not None}
    for option in options:
        if option not in takes:
            flags = ", ".join(f"--{o}" for o in STEPPER_FLAGS if o in takes) or "none of them"
            raise InputError(f"--{option} is not available with the {name} stepper (it takes {flags})")
    return stepper_from_name(name, **options)


def add_progress_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--progress/--no-progress`` and ``--quiet`` of a long command (``what``: its runs)."""
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help=f"progress of {what}: default a bar on a terminal and nothing elsewhere; --progress also "
        "elsewhere (logs, batch jobs: a line as each run starts and ends, and at least every 10 s); "
        "--no-progress: none",
    )


def progress_arg(args: argparse.Namespace) -> bool:
    """The ``progress`` argument of the library call for ``--progress/--no-progress``, ``--quiet``
    and ``--json`` (:func:`crossdiff.progress.progress_mode` makes ``True`` a bar on a terminal and
    lines elsewhere)."""
    if getattr(args, "json", False) or args.quiet or args.progress is False:
        return False
    return True if args.progress else sys.stderr.isatty()
