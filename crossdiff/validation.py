"""Validators of user-given values shared by every layer (one place for each rule).

Each returns the value in canonical form or raises :class:`~crossdiff.errors.InputError` (or
the subclass given) with a one-line message that names the value and what was received.
"""

from __future__ import annotations

import math
import numbers

from .errors import InputError

__all__ = ["positive_number", "non_negative_number", "finite_number", "non_negative_integer"]


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
