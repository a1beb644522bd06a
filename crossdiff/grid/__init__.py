"""Domains: uniform grids on boxes (:class:`Grid`), shapes cut out of them (:class:`Shape`, cut
cells), and the registry of domain kinds (:data:`DOMAINS`) through which the run layer builds,
writes and reads them back.

A :class:`Grid` is geometry only: cell counts, extent, spacing, cell centres and the boundary
condition of each axis. Finite-volume operators live in :mod:`crossdiff.fv`.
"""

from ..errors import GridError
from ._box import BOUNDARIES, Grid, default_grid, parse_cells
from ._domains import DOMAINS, DomainKind, domain_kind
from ._shape import Shape, read_mask

__all__ = [
    "Grid",
    "Shape",
    "BOUNDARIES",
    "DOMAINS",
    "DomainKind",
    "default_grid",
    "domain_kind",
    "parse_cells",
    "read_mask",
]


def _default_shape(model, cells=None, boundary=None):  # a shape needs its condition: no default
    raise GridError("a shape has no default: give its condition (inside) or mask")


DOMAINS.register(
    "shape",
    DomainKind("shape", Shape, _default_shape, Shape.from_attributes),
    "cut out of a box by a condition or a mask (cut cells)",
)
