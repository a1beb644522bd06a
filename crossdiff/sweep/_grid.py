"""Grids of parameter values: ranges, lists and their Cartesian product.

A sweep varies some parameters of a model over values given as ``NAME=START:STOP:COUNT`` (``COUNT``
equally spaced values, both ends included, as :func:`numpy.linspace`), ``NAME=V1,V2,...`` (a list)
or ``NAME=V`` (one value). Several parameters span their Cartesian product, the first one varying
slowest (the order of :func:`itertools.product`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["ParameterGrid", "parse_values"]

#: The most runs a sweep plans (and values an axis takes). Each run costs at least its set-up and
#: file (0.4–0.6 s measured, docs/sweeps.md): 10⁵ runs are more than a day of work on two cores;
#: a larger grid of values is a typo (``chi=0:10:1e9``) or belongs in several sweeps. Refused
#: when the grid is built, before any run is listed.
MAX_POINTS = 100_000


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ParameterError(f"{what}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ParameterError(f"{what}: {text.strip()!r} is not a finite number")
    return value


def parse_values(text: str, what: str = "parameter values") -> tuple[float, ...]:
    """The values of ``START:STOP:COUNT`` (inclusive range), ``V1,V2,...`` or ``V``.

    Raises
    ------
    ParameterError
        Not numbers, a count that is not a positive integer, an empty or repeated list.

    Examples
    --------
    >>> parse_values("0:10:3")
    (0.0, 5.0, 10.0)
    >>> parse_values("0.1,1")
    (0.1, 1.0)
    """
    text = text.strip()
    if not text:
        raise ParameterError(f"{what}: no values given (use START:STOP:COUNT or V1,V2,...)")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ParameterError(f"{what}: a range is START:STOP:COUNT, got {text!r}")
        start, stop = _number(parts[0], what), _number(parts[1], what)
        try:
            count = int(parts[2])
        except ValueError:
            raise ParameterError(f"{what}: the count of {text!r} must be a positive integer") from None
        if count < 1 or count > MAX_POINTS:
            raise ParameterError(f"{what}: the count of {text!r} must be between 1 and {MAX_POINTS}")
        if count == 1 and start != stop:
            raise ParameterError(f"{what}: a range of one value needs START = STOP, got {text!r}")
        return tuple(float(v) for v in np.linspace(start, stop, count))
    values = tuple(_number(part, what) for part in text.split(","))
    if len(set(values)) != len(values):
        raise ParameterError(f"{what}: {text!r} repeats a value")
    return values


@dataclass(frozen=True)
class ParameterGrid:
    """The Cartesian product of values of named parameters.

    Parameters
    ----------
    axes : mapping of str to sequence of float (or a float)
        Each swept parameter with its values, in the order given (the first varies slowest);
        stored as tuples of floats.

    Examples
    --------
    >>> grid = ParameterGrid.parse(["chi=0:10:3", "D1=0.1,1"])
    >>> len(grid), grid.names
    (6, ('chi', 'D1'))
    >>> grid.points()[1]
    {'chi': 0.0, 'D1': 1.0}
    """

    axes: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.axes, Mapping) or not self.axes:
            raise ParameterError("a sweep needs at least one parameter with values (--param NAME=VALUES)")
        axes: dict[str, tuple[float, ...]] = {}
        for name, values in self.axes.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ParameterError(f"a swept parameter needs a name, got {name!r}")
            vals = tuple(_checked(v, f"values of {name}") for v in (values if _iterable(values) else [values]))
            if not vals:
                raise ParameterError(f"parameter {name!r} has no values")
            if len(set(vals)) != len(vals):
                raise ParameterError(f"values of {name}: a value is repeated")
            axes[name] = vals
        size = math.prod(len(v) for v in axes.values())
        if size > MAX_POINTS:
            shape = " x ".join(str(len(v)) for v in axes.values())
            raise ParameterError(
                f"the sweep has {size:,} runs ({shape}), more than {MAX_POINTS:,}: split it, or sweep fewer values"
            )
        object.__setattr__(self, "axes", dict(axes))

    @classmethod
    def parse(cls, specs: Iterable[str]) -> ParameterGrid:
        """From ``NAME=VALUES`` strings (the CLI's ``--param``); a name given twice is refused."""
        axes: dict[str, tuple[float, ...]] = {}
        for spec in specs:
            if not isinstance(spec, str) or "=" not in spec:
                raise ParameterError(f"--param expects NAME=START:STOP:COUNT or NAME=V1,V2,..., got {spec!r}")
            name, text = (part.strip() for part in spec.split("=", 1))
            if name in axes:
                raise ParameterError(f"parameter {name!r} is swept twice")
            axes[name] = parse_values(text, f"--param {name}")
        return cls(axes)

    @property
    def names(self) -> tuple[str, ...]:
        """The swept parameters, in order."""
        return tuple(self.axes)

    def __len__(self) -> int:
        return math.prod(len(v) for v in self.axes.values())

    def __iter__(self) -> Iterator[dict[str, float]]:
        for combo in itertools.product(*self.axes.values()):
            yield dict(zip(self.axes, combo))

    def points(self) -> list[dict[str, float]]:
        """Every combination of values, ``[{name: value, ...}, ...]``."""
        return list(self)

    def check(self, model) -> None:
        """Refuse names that are not parameters of ``model`` (:class:`ParameterError`, listing them)."""
        for name in self.names:
            if name not in model.parameters:
                known = ", ".join(sorted(model.parameters)) or "none"
                raise ParameterError(f"unknown parameter {name!r} for model {model.name!r}; parameters: {known}")

    def as_dict(self) -> dict[str, list[float]]:
        """``{name: [values]}`` (JSON-ready)."""
        return {k: list(v) for k, v in self.axes.items()}


def _iterable(value: object) -> bool:
    return isinstance(value, Sequence | np.ndarray) and not isinstance(value, str)


def _checked(value: object, what: str) -> float:
    if isinstance(value, str):
        return _number(value, what)
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ParameterError(f"{what}: {value!r} is not a number")
    if not math.isfinite(float(value)):
        raise ParameterError(f"{what}: {value!r} is not a finite number")
    return float(value)
