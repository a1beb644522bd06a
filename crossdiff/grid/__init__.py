"""Domains: uniform grids on boxes (:class:`Grid`), shapes cut out of them (:class:`Shape`, cut
cells), and the registry of domain kinds (:data:`DOMAINS`) through which the run layer builds,
writes and reads them back.

A :class:`Grid` is geometry only: cell counts, extent, spacing, cell centres and the boundary
condition of each axis. Finite-volume operators live in :mod:`crossdiff.fv`.
"""

from ..errors import GridError
from ._box import BOUNDARIES, Grid, default_grid, parse_cells
from ._domains import DOMAINS, DomainKind, domain_kind
from ._shape import Shape, default_domain, read_mask

#: A domain the run layer and the analysis accept: a box grid or a shape cut out of one.
Domain = Grid | Shape

__all__ = [
    "Grid",
    "Shape",
    "Domain",
    "BOUNDARIES",
    "DOMAINS",
    "DomainKind",
    "default_grid",
    "default_domain",
    "domain_kind",
    "parse_cells",
    "read_mask",
]


def _default_shape(model, cells=None, boundary=None):
    """The shape of a model's ``[domain]`` (``inside`` or ``mask``)."""
    domain = default_domain(model, cells, boundary)
    if not isinstance(domain, Shape):
        raise GridError(
            f"model {getattr(model, 'name', '')!r} has no shape: its [domain] gives neither inside nor mask"
        )
    return domain


DOMAINS.register(
    "shape",
    DomainKind("shape", Shape, _default_shape, Shape.from_attributes),
    "cut out of a box by a condition or a mask (cut cells)",
)
