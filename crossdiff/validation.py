"""Validators of user-given values shared by every layer (one place for each rule).

Each returns the value in canonical form or raises :class:`~crossdiff.errors.InputError` (or
the subclass given) with a one-line message that names the value and what was received.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

from .errors import InputError

__all__ = ["positive_number", "non_negative_number", "finite_number", "non_negative_integer", "require", "a_path"]


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def finite_number(value: object, what: str, error: type[InputError] = InputError) -> float:
    """``value`` as a finite float; ``error`` naming ``what`` otherwise.

    >>> finite_number(2, "rtol")
    2.0
    """
    if not _is_real(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise error(f"{what} must be a finite number, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def positive_number(value: object, what: str, error: type[InputError] = InputError) -> float:
    """``value`` as a finite float ``> 0``; ``error`` naming ``what`` otherwise.

    >>> positive_number(1e-4, "rtol")
    0.0001
    """
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) <= 0:  # type: ignore[arg-type]
        raise error(f"{what} must be a positive number, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def non_negative_number(value: object, what: str, error: type[InputError] = InputError) -> float:
    """``value`` as a finite float ``>= 0``; ``error`` naming ``what`` otherwise."""
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) < 0:  # type: ignore[arg-type]
        raise error(f"{what} must be a non-negative number, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def non_negative_integer(value: object, what: str, error: type[InputError] = InputError) -> int:
    """``value`` as an int ``>= 0`` (bools refused); ``error`` naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise error(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def require(value: object, kind: type | tuple[type, ...], what: str, error: type[InputError] = InputError) -> None:
    """Refuse ``value`` unless it is a ``kind``: ``"{what} must be a {Kind}, got {type}"`` (what a
    public function says instead of an AttributeError deep inside).

    >>> require(3, str, "model")
    Traceback (most recent call last):
    ...
    crossdiff.errors.InputError: model must be a str, got int
    """
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        names = " or ".join(k.__name__ for k in kinds)
        raise error(f"{what} must be a {names}, got {type(value).__name__}")


def a_path(value: object, what: str, error: type[InputError] = InputError) -> Path:
    """``value`` as a :class:`~pathlib.Path` (a non-empty ``str`` or path); ``error`` otherwise."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise error(f"{what} must be a file or directory path, got {value!r}")
    return Path(value)
