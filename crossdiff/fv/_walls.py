"""The Dirichlet and Robin sides of a species on a box grid: a ghost cell beyond the side gives
the wall cell the diffusive flux ``D β (g − u_0)/h`` (module docstring of
:mod:`crossdiff.fv._discretise`), ``β = 2`` (Dirichlet) or ``2αh/(2 + αh)`` (Robin)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..grid import Grid
from ..model import Kernel

__all__ = ["_Side", "_wall_beta", "_wall_coords"]


@dataclass(frozen=True)
class _Side:
    """A Dirichlet or Robin side of one species: axis, wall, the wall-cell coefficient
    ``D β / h²`` and the boundary value ``g`` on the wall's face centres."""

    axis: int
    high: bool
    kind: str
    weight: float  # D β / h²
    value: Kernel
    coords: tuple  # face-centre coordinates of the wall (sparse mesh, 1 along ``axis``)
    index: tuple  # index of the wall cells in a field (a length-1 slice along ``axis``)
    diffusion: float = 0.0  # D (constant diffusion; 0 otherwise)
    alpha: float = 0.0  # α of a Robin side

    def on(self, grid: Grid) -> _Side:
        """The same side on ``grid`` (the same cells, another spacing: a growing domain's)."""
        weight = (
            self.diffusion * _wall_beta(self.kind, self.alpha, grid.spacing[self.axis]) / grid.spacing[self.axis] ** 2
        )
        return replace(self, weight=weight, coords=_wall_coords(grid, self.axis, self.high))


def _wall_beta(kind: str, alpha: float, h: float) -> float:
    """``β`` of the wall-cell flux ``D β (g − u_0)/h``: 2 (Dirichlet) or ``2αh/(2 + αh)`` (Robin)."""
    return 2.0 if kind == "dirichlet" else 2.0 * alpha * h / (2.0 + alpha * h)


def _wall_coords(grid: Grid, a: int, high: bool) -> tuple:
    """Face-centre coordinates of the wall ``a`` (low or high) of ``grid``: a sparse mesh, 1 along ``a``."""
    wall = grid.extent[a][1] if high else grid.extent[a][0]
    axes = [np.array([wall]) if b == a else c for b, c in enumerate(grid.coordinates)]
    return tuple(np.meshgrid(*axes, indexing="ij", sparse=True)) + (0.0,) * (3 - grid.ndim)
