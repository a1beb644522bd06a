"""Domains: uniform grids on boxes (:class:`Grid`), shapes cut out of them (:class:`Shape`, cut
cells), boxes that grow by a prescribed law (:class:`GrowingGrid`, :class:`Growth`), intervals with a
free boundary (:class:`FrontGrid`, :class:`Front`), networks of 1D edges (:class:`Network`), and the
registry of domain kinds (:data:`DOMAINS`) through which the run layer builds, writes and reads them
back.

A :class:`Grid` is geometry only: cell counts, extent, spacing, cell centres and the boundary
condition of each axis. Finite-volume operators live in :mod:`crossdiff.fv`.
"""

from ..errors import GridError
from ._box import BOUNDARIES, Grid, default_grid, parse_cells
from ._domains import DOMAINS, DomainKind, domain_kind
from ._front import Front, FrontGrid, default_front
from ._growth import GrowingGrid, Growth, MovingBox, TissueGrowth, default_growing
from ._network import VERTEX_KINDS, Edge, Network, VertexCondition
from ._shape import Shape, read_mask
from ._shape import default_domain as _box_or_shape

#: A domain the run layer and the analysis accept: a box grid, a shape cut out of one, a box that
#: grows, an interval whose end moves with the solution, or a network.
Domain = Grid | Shape | GrowingGrid | FrontGrid | Network

__all__ = [
    "Grid",
    "Shape",
    "GrowingGrid",
    "Growth",
    "MovingBox",
    "Front",
    "FrontGrid",
    "TissueGrowth",
    "Network",
    "Edge",
    "VertexCondition",
    "VERTEX_KINDS",
    "Domain",
    "BOUNDARIES",
    "DOMAINS",
    "DomainKind",
    "default_grid",
    "default_domain",
    "default_growing",
    "default_front",
    "default_network",
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


def default_network(model, cells=None, boundary=None):
    """The network of a model's ``[network]`` table; with ``cells = (N,)`` its cell size is
    ``Σℓ / N`` (about ``N`` cells in all: ``--grid N``, grid sequences).

    Raises
    ------
    GridError
        The model has no ``[network]``, its ``[domain]`` is 2D or 3D, or the table is bad.
    """
    defaults = getattr(model, "defaults", None)
    table = getattr(defaults, "network", None)
    if table is None:
        raise GridError(f"model {getattr(model, 'name', '')!r} has no [network]")
    if len(defaults.extent) != 1:
        raise GridError(
            f"a network's edges are 1D, but the model's [domain] is {len(defaults.extent)}D: drop its extent"
        )
    if boundary is not None:
        raise GridError(
            "a network's boundary conditions are its vertex conditions ([network.vertices]), not --boundary"
        )
    network = Network.from_table(table)
    if cells is None:
        return network
    cells = tuple(cells)
    if len(cells) != 1 or int(cells[0]) < 1:
        raise GridError(
            f"a network takes one cell count (about that many cells in all), got {'x'.join(map(str, cells))}"
        )
    nodes = dict(network.positions) if network.positions else list(network.nodes)
    return Network(nodes, network.edges, network.length / int(cells[0]), network.vertices)


def default_domain(model, cells=None, boundary=None, inside=None, mask=None, growth=None, front=None):
    """A model's default domain: its ``[network]`` if it has one (:func:`default_network`), else
    its box, cut to the shape its ``[domain]`` gives, growing, or with a free boundary
    (:func:`~crossdiff.grid._shape.default_domain`)."""
    if getattr(getattr(model, "defaults", None), "network", None) is not None:
        if inside is not None or mask is not None or growth is not None or front is not None:
            raise GridError("a network takes no inside, mask, growth or front")
        return default_network(model, cells, boundary)
    return _box_or_shape(model, cells, boundary, inside=inside, mask=mask, growth=growth, front=front)


DOMAINS.register(
    "network",
    DomainKind("network", Network, default_network, Network.from_attributes),
    "a metric graph of 1D edges joined at vertices",
)
