"""Uniform cell-centred grids on boxes in 1, 2 or 3 dimensions.

A :class:`Grid` is geometry only: cell counts, extent, spacing, cell centres and the boundary
condition of each axis. Finite-volume operators live in :mod:`crossdiff.fv`.

A grid on a box is one **domain kind** (:data:`crossdiff.grid.DOMAINS`, ``"box"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from ..errors import GridError
from ..registry import Registry

__all__ = ["Grid", "OnBox", "BOUNDARIES", "default_grid", "parse_cells"]

#: Boundary conditions, per axis (the CLI's ``--boundary`` choices come from here).
BOUNDARIES: Registry[str] = Registry("boundary condition")
BOUNDARIES.register("noflux", "noflux", "zero normal total flux through the walls (default)")
BOUNDARIES.register("periodic", "periodic", "the domain wraps around")
_AXES = ("x", "y", "z")


@dataclass(frozen=True)
class Grid:
    """A uniform grid of ``cells[k]`` cells on ``[extent[k][0], extent[k][1]]`` along each axis.

    Parameters
    ----------
    cells : sequence of int
        Number of cells per axis (1 to 3 axes).
    extent : sequence of (low, high)
        The box; defaults to the unit interval on each axis.
    boundary : str or sequence of str
        ``"noflux"`` or ``"periodic"``, for all axes or one per axis.

    Examples
    --------
    >>> g = Grid((64, 32), extent=((0, 2), (0, 1)))
    >>> g.spacing
    (0.03125, 0.03125)
    """

    cells: tuple[int, ...]
    extent: tuple[tuple[float, float], ...] = ()
    boundary: tuple[str, ...] | str = "noflux"

    def __post_init__(self) -> None:
        cells = (self.cells,) if isinstance(self.cells, (int, np.integer)) else tuple(self.cells)
        if not 1 <= len(cells) <= 3:
            raise GridError(f"a grid has 1 to 3 axes, got {len(cells)}")
        for n in cells:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise GridError(f"number of cells must be a positive integer, got {n!r}")
        cells = tuple(int(n) for n in cells)
        extent = tuple(self.extent) or tuple((0.0, 1.0) for _ in cells)
        if len(extent) != len(cells):
            raise GridError(f"extent has {len(extent)} axes but cells has {len(cells)}")
        pairs = []
        for pair in extent:
            try:
                lo, hi = (float(v) for v in pair)
            except (TypeError, ValueError):
                raise GridError(f"extent entries must be (low, high) pairs, got {pair!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
                raise GridError(f"extent ({lo}, {hi}) must be finite with high > low")
            pairs.append((lo, hi))
        boundary = (self.boundary,) * len(cells) if isinstance(self.boundary, str) else tuple(self.boundary)
        if len(boundary) != len(cells):
            raise GridError(f"boundary has {len(boundary)} entries but the grid has {len(cells)} axes")
        for b in boundary:
            if not isinstance(b, str) or b not in BOUNDARIES.names():
                raise GridError(f"unknown boundary condition {b!r}; use one of {', '.join(BOUNDARIES)}")
        object.__setattr__(self, "cells", cells)
        object.__setattr__(self, "extent", tuple(pairs))
        object.__setattr__(self, "boundary", boundary)

    @property
    def ndim(self) -> int:
        return len(self.cells)

    @property
    def shape(self) -> tuple[int, ...]:
        """Array shape of a field on the grid (same as ``cells``)."""
        return self.cells

    @property
    def size(self) -> int:
        return int(np.prod(self.cells))

    @property
    def axes(self) -> tuple[str, ...]:
        """Axis names, ``("x",)``, ``("x", "y")`` or ``("x", "y", "z")``."""
        return _AXES[: self.ndim]

    @cached_property
    def spacing(self) -> tuple[float, ...]:
        """Cell widths ``h_k = (high - low) / cells``."""
        return tuple((hi - lo) / n for (lo, hi), n in zip(self.extent, self.cells))

    @cached_property
    def cell_volume(self) -> float:
        return float(np.prod(self.spacing))

    @cached_property
    def periodic(self) -> tuple[bool, ...]:
        return tuple(b == "periodic" for b in self.boundary)

    @cached_property
    def coordinates(self) -> tuple[np.ndarray, ...]:
        """1D arrays of cell-centre coordinates per axis."""
        return tuple(lo + h * (np.arange(n) + 0.5) for (lo, _), h, n in zip(self.extent, self.spacing, self.cells))

    def with_parameters(self, **values: float) -> Grid:
        """A box does not depend on a model's parameters: itself (shapes and growing domains may)."""
        return self

    def stretched(self, factors: Sequence[float] | np.ndarray) -> Grid:
        """The same cells on the box stretched by ``factors[b] > 0`` along each axis from its low
        corner (a growing domain's cells at some time: :class:`~crossdiff.grid.GrowingGrid`).

        Built from this grid's spacing and centres without validating again: a growing domain
        calls it at every stage time."""
        grid = object.__new__(Grid)
        extent = tuple((lo, lo + f * (hi - lo)) for (lo, hi), f in zip(self.extent, factors))
        object.__setattr__(grid, "cells", self.cells)
        object.__setattr__(grid, "extent", extent)
        object.__setattr__(grid, "boundary", self.boundary)
        # the cached properties, scaled (functools.cached_property keeps them in __dict__)
        grid.__dict__["spacing"] = tuple(h * f for h, f in zip(self.spacing, factors))
        grid.__dict__["coordinates"] = tuple(
            lo + f * (c - lo) for (lo, _), f, c in zip(self.extent, factors, self.coordinates)
        )
        return grid

    def mesh(self) -> tuple[np.ndarray, ...]:
        """Cell-centre coordinates broadcast to the grid shape (``indexing="ij"``)."""
        return tuple(np.meshgrid(*self.coordinates, indexing="ij"))

    def integrate(self, field: np.ndarray) -> float | np.ndarray:
        """Midpoint-rule integral over the box (exact for cell averages): ``Σ u h^d``.

        ``field`` may carry leading axes (e.g. species); the last ``ndim`` axes are summed.
        """
        axes = tuple(range(-self.ndim, 0))
        return np.sum(field, axis=axes) * self.cell_volume

    def attributes(self) -> dict[str, object]:
        """The grid as output attributes: ``grid`` (:meth:`describe`), ``grid_cells``,
        ``grid_extent`` (flattened low/high pairs) and ``boundary`` (comma separated)."""
        return {
            "grid": self.describe(),
            "grid_cells": np.array(self.cells, dtype=np.int64),
            "grid_extent": np.array(self.extent, dtype=float).ravel(),
            "boundary": ",".join(self.boundary),
        }

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, object]) -> Grid:
        """The grid that :meth:`attributes` wrote (``grid_cells``, ``grid_extent``, ``boundary``):
        the one reading of a grid from a run file.

        Raises
        ------
        GridError
            If a key is missing or its value does not make a grid.
        """
        try:
            cells = tuple(int(c) for c in np.atleast_1d(np.asarray(attrs["grid_cells"])))
            flat = np.atleast_1d(np.asarray(attrs["grid_extent"], dtype=float))
            boundary = tuple(str(attrs["boundary"]).split(","))
        except KeyError as err:
            raise GridError(f"grid attribute {err.args[0]!r} is missing") from None
        except (TypeError, ValueError) as err:
            raise GridError(f"grid attributes do not make a grid ({err})") from None
        if flat.size != 2 * len(cells):
            raise GridError(f"grid_extent has {flat.size} values for {len(cells)} axes")
        extent = tuple((float(flat[2 * a]), float(flat[2 * a + 1])) for a in range(len(cells)))
        return cls(cells, extent, boundary)

    def describe(self) -> str:
        """A short text such as ``"128x128 on [0, 20]x[0, 20], noflux"``."""
        box = "x".join(f"[{lo:g}, {hi:g}]" for lo, hi in self.extent)
        bc = self.boundary[0] if len(set(self.boundary)) == 1 else "/".join(self.boundary)
        return f"{'x'.join(map(str, self.cells))} on {box}, {bc}"


@dataclass(frozen=True, eq=False)  # equality is each subclass's (a shape's is identity)
class OnBox:
    """A domain made from a box grid: a shape cut out of it (:class:`~crossdiff.grid.Shape`), a
    box whose cells move (:class:`~crossdiff.grid.MovingBox`). Its cells are the box's: the
    geometry below is the box's (at ``t = 0`` for a moving one); subclasses add what differs."""

    box: Grid

    @property
    def ndim(self) -> int:
        return self.box.ndim

    @property
    def cells(self) -> tuple[int, ...]:
        return self.box.cells

    @property
    def shape(self) -> tuple[int, ...]:
        return self.box.shape

    @property
    def size(self) -> int:
        return self.box.size

    @property
    def extent(self) -> tuple[tuple[float, float], ...]:
        return self.box.extent

    @property
    def spacing(self) -> tuple[float, ...]:
        return self.box.spacing

    @property
    def cell_volume(self) -> float:
        return self.box.cell_volume

    @property
    def boundary(self) -> tuple[str, ...]:
        return self.box.boundary  # type: ignore[return-value]  # a tuple after Grid.__post_init__

    @property
    def periodic(self) -> tuple[bool, ...]:
        return self.box.periodic

    @property
    def axes(self) -> tuple[str, ...]:
        return self.box.axes

    @property
    def coordinates(self) -> tuple[np.ndarray, ...]:
        return self.box.coordinates

    def mesh(self) -> tuple[np.ndarray, ...]:
        return self.box.mesh()


def parse_cells(text: str | int | Sequence[int]) -> tuple[int, ...]:
    """``"128x128"``, ``"400"``, ``400`` or ``[128, 128]`` -> tuple of cell counts.

    Raises
    ------
    GridError
        On anything that is not 1 to 3 positive integers.
    """
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        parts: list[object] = [text]
    elif isinstance(text, str):
        parts = list(text.lower().replace("*", "x").split("x"))
    elif isinstance(text, Sequence) and not isinstance(text, (bytes, bytearray)):
        parts = list(text)
    else:
        raise GridError(f"invalid grid {text!r}: expected cell counts like 400 or 128x128")
    cells = []
    for p in parts:
        if isinstance(p, (bool, float)):
            raise GridError(f"invalid grid {text!r}: expected cell counts like 400 or 128x128 (whole numbers)")
        try:
            n = int(str(p).strip())
        except ValueError:
            raise GridError(f"invalid grid {text!r}: expected cell counts like 400 or 128x128") from None
        if n <= 0:
            raise GridError(f"invalid grid {text!r}: cell counts must be positive")
        cells.append(n)
    if not 1 <= len(cells) <= 3:
        raise GridError(f"invalid grid {text!r}: 1 to 3 axes")
    return tuple(cells)


class _Defaults(Protocol):
    """A model's default domain: plain numbers (:class:`crossdiff.base.RunDefaults`)."""

    @property
    def extent(self) -> tuple[tuple[float, float], ...]: ...
    @property
    def cells(self) -> tuple[int, ...]: ...
    @property
    def boundary(self) -> str | tuple[str, ...]: ...


def default_grid(model: Any, cells: Sequence[int] | None = None, boundary: str | None = None) -> Grid:
    """The grid of a model's default domain, optionally with other cell counts or boundary.

    Parameters
    ----------
    model : Model, KineticModel or RunDefaults
        A model (its ``defaults``) or the defaults themselves.
    cells : sequence of int, optional
        Cell counts; of another dimension than the default extent, the first extent interval
        serves every axis (``--grid 400`` runs a 2D catalogue model in 1D on its x-interval).
    boundary : str, optional
        One boundary condition for every axis instead of the model's.
    """
    d: _Defaults = getattr(model, "defaults", None) or model
    cells = tuple(cells) if cells is not None else tuple(d.cells)
    extent = tuple(d.extent)
    if len(extent) != len(cells):
        extent = tuple(extent[min(a, len(extent) - 1)] for a in range(len(cells)))
    walls = d.boundary
    if not isinstance(walls, str) and len(walls) != len(cells):  # one per axis, like the extent
        walls = tuple(walls[min(a, len(walls) - 1)] for a in range(len(cells)))
    return Grid(cells, extent, boundary or walls)
