"""Domains: uniform grids on boxes (:class:`Grid`), shapes cut out of them (:class:`Shape`, cut
cells), boxes that grow by a prescribed law (:class:`GrowingGrid`, :class:`Growth`), intervals with a
free boundary (:class:`FrontGrid`, :class:`Front`), and the registry of domain kinds (:data:`DOMAINS`) through which the run layer builds,
writes and reads them back.

A :class:`Grid` is geometry only: cell counts, extent, spacing, cell centres and the boundary
condition of each axis. Finite-volume operators live in :mod:`crossdiff.fv`.
"""

from ..errors import GridError
from ._box import BOUNDARIES, Grid, default_grid, parse_cells
from ._domains import DOMAINS, DomainKind, domain_kind
from ._front import Front, FrontGrid, TissueVelocity, default_front
from ._growth import GrowingGrid, Growth, MovingBox, default_growing
from ._shape import Shape, default_domain, read_mask

#: A domain the run layer and the analysis accept: a box grid, a shape cut out of one, a box that
#: grows, or an interval whose end moves with the solution.
Domain = Grid | Shape | GrowingGrid | FrontGrid

__all__ = [
    "Grid",
    "Shape",
    "GrowingGrid",
    "Growth",
    "MovingBox",
    "Front",
    "FrontGrid",
    "TissueVelocity",
    "Domain",
    "BOUNDARIES",
    "DOMAINS",
    "DomainKind",
    "default_grid",
    "default_domain",
    "default_growing",
    "default_front",
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


DOMAINS.register(
    "growing",
    DomainKind(
        "growing",
        GrowingGrid,
        default_growing,
        GrowingGrid.from_attributes,
        lambda domain, t_end: domain.growth.check(0.0, t_end, domain.cells),
    ),
    "a box that grows by a prescribed law (cells move with the tissue)",
)
DOMAINS.register(
    "front",
    DomainKind("front", FrontGrid, default_front, FrontGrid.from_attributes),
    "an interval whose high end moves with a speed the solution sets (a free boundary)",
)
