r"""Networks: metric graphs of 1D edges (roads, vessels, rivers) joined at vertices.

A :class:`Network` is a set of nodes (with optional positions in the plane, for pictures) and
edges ``e = (a, b, ℓ_e[, A_e])``: an interval ``[0, ℓ_e]`` from node ``a`` (``s = 0``) to node
``b`` (``s = ℓ_e``), of cross-section (weight) ``A_e`` (default 1), on which a 1D equation holds
(the metric graphs of Berkolaiko & Kuchment 2013, docs/references.md [BK13]). Each edge is cut
into ``n_e = max(2, round(ℓ_e / h))`` cells of width ``h_e = ℓ_e / n_e`` from one target cell
size ``h``. The cells of all edges are numbered edge after edge (edge 0's cells first, from
``a`` to ``b``): a field on a network is one array of ``Σ n_e`` values.

Vertices couple the edges (:class:`VertexCondition`, the equations in docs/networks.md):

* ``kirchhoff`` (default): continuity of the densities and conservation of the flux,
  ``Σ_e A_e j_e(v) = 0``; with a ``permeability`` ``p`` the continuity is replaced by the
  weighted transmission condition ``j_e(v) = 2p (u_e(v) − u_v)``: between two edges
  ``j = p (u_1(v) − u_2(v))``, a membrane of permeability ``p`` (``p = ∞`` is continuity). At a
  vertex of one edge this is no flux.
* ``dirichlet``: ``u_e(v) = g(t)`` for the species given a value (an expression of ``t``).
* ``inflow``: a vertex of one edge through which the species given a value enter at the mass
  rate ``q(t)`` (no other flux).
* ``noflux``: a vertex of one edge with no flux (the default there).

A loop (an edge from a node to itself) is supported; two edges between the same nodes are too
(parallel roads) unless they repeat each other exactly. A disconnected network is allowed
(:attr:`Network.components` says how many parts; :meth:`Network.describe` says it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GridError

__all__ = ["Edge", "VertexCondition", "Network", "VERTEX_KINDS"]

#: The kinds of vertex conditions, with one line of help each.
VERTEX_KINDS = {
    "kirchhoff": "continuity and flux conservation (with a permeability: weighted transmission)",
    "dirichlet": "the given species take the value g(t) at the vertex",
    "inflow": "the given species enter at the mass rate q(t) (a vertex of one edge)",
    "noflux": "no flux (a vertex of one edge; the default there)",
}

_NETWORK_KEYS = {"nodes", "edges", "h", "vertices"}
_EDGE_KEYS = {"from", "to", "length", "weight", "parameters"}
_VERTEX_KEYS = {"kind", "permeability"}


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise GridError(f"{what} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Edge:
    """An edge from node ``a`` to node ``b`` of length ``length`` and cross-section ``weight``,
    with parameter values of its own (``parameters``: model parameters that differ on it)."""

    a: str
    b: str
    length: float
    weight: float = 1.0
    parameters: Mapping[str, float] = field(default_factory=dict)

    def label(self) -> str:
        return f"{self.a}–{self.b}"


@dataclass(frozen=True)
class VertexCondition:
    """The condition of one vertex (module docstring): ``kind`` in :data:`VERTEX_KINDS`,
    ``values`` per species (expressions of ``t``: the Dirichlet value or the inflow rate),
    ``permeability`` of a Kirchhoff vertex (``inf``: continuity; or the name of a model
    parameter, so that sweeps can vary it)."""

    kind: str = "kirchhoff"
    values: Mapping[str, str] = field(default_factory=dict)
    permeability: float | str = math.inf

    def to_table(self) -> dict[str, Any]:
        table: dict[str, Any] = {"kind": self.kind}
        if isinstance(self.permeability, str) or math.isfinite(self.permeability):
            table["permeability"] = self.permeability
        table.update({k: str(v) for k, v in self.values.items()})
        return table


class Network:
    """A metric graph with its cells (module docstring).

    Parameters
    ----------
    nodes : sequence of str, or mapping of str to ``(x, y)`` or None
        The node names, with their positions in the plane where known (for pictures).
    edges : sequence of Edge or ``(a, b, length[, weight])``
    h : float
        Target cell size: edge ``e`` gets ``max(2, round(ℓ_e / h))`` cells.
    vertices : mapping of str to VertexCondition, optional
        Conditions of the vertices that are not Kirchhoff (or no-flux at a vertex of one edge).

    Raises
    ------
    GridError
        One line naming the problem: no node or no edge, an edge naming an unknown node, a
        length or weight that is not positive, an exact repeat of an edge, a condition for a node
        that does not exist, an unknown condition kind, an inflow at a vertex of several edges, a
        permeability that is not positive.
    """

    nodes: tuple[str, ...]
    edges: tuple[Edge, ...]
    h: float
    vertices: Mapping[str, VertexCondition]
    positions: Mapping[str, tuple[float, float]]

    def __init__(
        self,
        nodes: Sequence[str] | Mapping[str, Sequence[float] | None],
        edges: Sequence[Edge | Sequence[Any]],
        h: float,
        vertices: Mapping[str, VertexCondition] | None = None,
    ):
        positions: dict[str, tuple[float, float]] = {}
        if isinstance(nodes, Mapping):
            names = []
            for name, pos in nodes.items():
                names.append(str(name))
                if pos is not None:
                    if not isinstance(pos, (list, tuple)) or len(pos) != 2:
                        raise GridError(f"the position of node {name!r} must be [x, y], got {pos!r}")
                    positions[str(name)] = (_number(pos[0], f"node {name!r} x"), _number(pos[1], f"node {name!r} y"))
        else:
            if isinstance(nodes, str) or not isinstance(nodes, Sequence):
                raise GridError(f"network nodes must be a list of names or a table of positions, got {nodes!r}")
            names = [str(n) for n in nodes]
        if not names:
            raise GridError("a network needs at least one node")
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})[0]
            raise GridError(f"node {twice!r} is named twice")
        if positions and len(positions) != len(names):
            missing = next(n for n in names if n not in positions)
            raise GridError(f"node {missing!r} has no position: give every node one, or none")
        h = _number(h, "the network's cell size h")
        if h <= 0:
            raise GridError(f"the network's cell size h must be positive, got {h:g}")
        known = set(names)
        made: list[Edge] = []
        seen: dict[tuple, int] = {}
        if isinstance(edges, (str, Mapping)) or not isinstance(edges, Sequence) or not edges:
            raise GridError("a network needs at least one edge: edges = [[a, b, length], ...]")
        for k, e in enumerate(edges):
            edge = e if isinstance(e, Edge) else _edge(e, k)
            where = f"edge {k} ({edge.a}–{edge.b})"
            for end in (edge.a, edge.b):
                if end not in known:
                    raise GridError(f"{where} names unknown node {end!r}")
            length = _number(edge.length, f"{where} length")
            weight = _number(edge.weight, f"{where} weight")
            if length <= 0:
                raise GridError(f"{where} has length {length:g}: lengths must be positive")
            if weight <= 0:
                raise GridError(f"{where} has weight {weight:g}: cross-sections must be positive")
            params = {str(p): _number(v, f"{where} parameter {p!r}") for p, v in dict(edge.parameters).items()}
            key = (*sorted((edge.a, edge.b)), length, weight, tuple(sorted(params.items())))
            if key in seen:
                raise GridError(f"{where} repeats edge {seen[key]} (same nodes, length and weight)")
            seen[key] = k
            made.append(Edge(edge.a, edge.b, length, weight, params))
        conditions = dict(vertices or {})
        degree = {n: 0 for n in names}
        for edge in made:
            degree[edge.a] += 1
            degree[edge.b] += 1
        for node, cond in conditions.items():
            if node not in known:
                raise GridError(f"a vertex condition is given for node {node!r}, which the network does not have")
            if not isinstance(cond, VertexCondition):
                raise GridError(f"the condition of node {node!r} must be a VertexCondition, got {cond!r}")
            if cond.kind not in VERTEX_KINDS:
                raise GridError(
                    f"node {node!r}: unknown vertex condition {cond.kind!r} (use {', '.join(VERTEX_KINDS)})"
                )
            if isinstance(cond.permeability, str):
                if not cond.permeability.isidentifier():
                    raise GridError(
                        f"node {node!r}: permeability must be a number or a parameter's name, got {cond.permeability!r}"
                    )
            elif not cond.permeability > 0:
                raise GridError(f"node {node!r}: permeability must be positive, got {cond.permeability:g}")
            if cond.kind in ("inflow", "noflux") and degree[node] != 1:
                raise GridError(
                    f"node {node!r}: an {cond.kind} condition needs a vertex of one edge, it has {degree[node]}"
                )
            if cond.kind in ("dirichlet", "inflow") and not cond.values:
                raise GridError(f"node {node!r}: a {cond.kind} condition needs a value for at least one species")
        self.nodes = tuple(names)
        self.edges = tuple(made)
        self.h = h
        self.vertices = conditions
        self.positions = positions

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str = "[network]") -> Network:
        """The network of a model file's ``[network]`` table::

            [network]
            h = 0.05
            nodes = { A = [0, 0], B = [1, 0], C = [0.5, 1] }   # or nodes = ["A", "B", "C"]
            edges = [["A", "B", 1.0], ["B", "C", 1.2, 0.5]]    # [a, b, length(, weight)]
            [network.vertices.A]
            kind = "dirichlet"
            u = "1 + 0.5*sin(t)"

        An edge may also be a table ``{from, to, length, weight, parameters = {chi = 2}}``.
        """
        if not isinstance(table, Mapping):
            raise GridError(f"{where} must be a table")
        unknown = sorted(set(table) - _NETWORK_KEYS)
        if unknown:
            raise GridError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_NETWORK_KEYS))})")
        for key in ("nodes", "edges", "h"):
            if key not in table:
                raise GridError(f"{where} needs {key}")
        vertices = {}
        raw = table.get("vertices", {})
        if not isinstance(raw, Mapping):
            raise GridError(f"{where} vertices must be a table of node names")
        for node, entry in raw.items():
            if not isinstance(entry, Mapping):
                raise GridError(f"{where} vertices.{node} must be a table (kind, permeability, species values)")
            values = {str(k): str(v) for k, v in entry.items() if k not in _VERTEX_KEYS}
            for k, v in values.items():
                if not v.strip():
                    raise GridError(f"{where} vertices.{node}.{k}: an empty value")
            perm: float | str = math.inf
            if isinstance(entry.get("permeability"), str):
                perm = entry["permeability"].strip()
            elif "permeability" in entry:
                perm = _number(entry["permeability"], f"node {node!r} permeability")
            vertices[str(node)] = VertexCondition(str(entry.get("kind", "kirchhoff")), values, perm)
        return cls(table["nodes"], table["edges"], table["h"], vertices)

    def with_parameters(self, **values: float) -> Network:
        """A network's geometry does not depend on a model's parameters (its vertex conditions
        read them when the model is discretised): itself."""
        return self

    def to_table(self) -> dict[str, Any]:
        """The ``[network]`` table: the inverse of :meth:`from_table`."""
        nodes: Any = {n: list(self.positions[n]) for n in self.nodes} if self.positions else list(self.nodes)
        edges: list[Any] = []
        for e in self.edges:
            if e.parameters:
                edges.append(
                    {"from": e.a, "to": e.b, "length": e.length, "weight": e.weight, "parameters": dict(e.parameters)}
                )
            else:
                edges.append([e.a, e.b, e.length, e.weight])
        table: dict[str, Any] = {"h": self.h, "nodes": nodes, "edges": edges}
        if self.vertices:
            table["vertices"] = {n: c.to_table() for n, c in self.vertices.items()}
        return table

    @classmethod
    def from_csv(cls, path: str | Path, h: float, vertices: Mapping[str, VertexCondition] | None = None) -> Network:
        """A network from a CSV edge list with a header ``a,b,length[,weight]`` (the nodes are
        those the edges name)."""
        import csv

        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        except OSError as err:
            raise GridError(f"cannot read edge list {str(path)!r}: {err.strerror or err}") from None
        if not rows or not {"a", "b", "length"} <= set(rows[0]):
            raise GridError(f"edge list {str(path)!r} needs the columns a, b, length (and optionally weight)")
        edges = []
        nodes: dict[str, None] = {}
        for k, row in enumerate(rows):
            try:
                length = float(row["length"])
                weight = float(row["weight"]) if row.get("weight") not in (None, "") else 1.0
            except ValueError:
                raise GridError(f"edge list {str(path)!r} row {k + 2}: length and weight must be numbers") from None
            edges.append(Edge(row["a"].strip(), row["b"].strip(), length, weight))
            nodes.setdefault(row["a"].strip())
            nodes.setdefault(row["b"].strip())
        return cls(list(nodes), edges, h, vertices)

    @classmethod
    def from_geojson(cls, path: str | Path, h: float, vertices: Mapping[str, VertexCondition] | None = None) -> Network:
        """A network from a GeoJSON FeatureCollection: each ``LineString`` feature an edge between
        its first and last points (length: its ``length`` property, else the polyline's length in
        the coordinates' units; cross-section: its ``weight`` property, default 1), endpoints that
        coincide one node, named by a ``Point`` feature there with a ``name`` property (else
        ``n0, n1, …``), at its coordinates."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise GridError(f"cannot read GeoJSON file {str(path)!r}: {err.strerror or err}") from None
        except ValueError as err:
            raise GridError(f"GeoJSON file {str(path)!r} is not JSON ({err})") from None
        features = data.get("features") if isinstance(data, Mapping) else None
        if not isinstance(features, list):
            raise GridError(f"GeoJSON file {str(path)!r} is not a FeatureCollection")

        def key(point: Sequence[float]) -> tuple[float, float]:
            return (round(float(point[0]), 9), round(float(point[1]), 9))

        names: dict[tuple[float, float], str] = {}
        for f in features:
            geometry, props = f.get("geometry") or {}, f.get("properties") or {}
            if geometry.get("type") == "Point" and "name" in props:
                names[key(geometry["coordinates"])] = str(props["name"])
        nodes: dict[str, tuple[float, float]] = {}
        edges = []
        for k, f in enumerate(features):
            geometry, props = f.get("geometry") or {}, f.get("properties") or {}
            if geometry.get("type") != "LineString":
                continue
            points = np.asarray(geometry.get("coordinates"), dtype=float)
            if points.ndim != 2 or points.shape[0] < 2:
                raise GridError(f"GeoJSON feature {k}: a LineString needs two points or more")
            ends = []
            for point in (points[0], points[-1]):
                name = names.setdefault(key(point), f"n{len(names)}")
                nodes[name] = (float(point[0]), float(point[1]))
                ends.append(name)
            length = props.get("length", float(np.sum(np.hypot(*np.diff(points[:, :2], axis=0).T))))
            edges.append(Edge(ends[0], ends[1], length, props.get("weight", 1.0)))
        if not edges:
            raise GridError(f"GeoJSON file {str(path)!r} has no LineString feature (no edge)")
        return cls(nodes, edges, h, vertices)

    @classmethod
    def from_networkx(
        cls,
        graph: Any,
        h: float,
        length: str = "length",
        weight: str = "weight",
        pos: str = "pos",
        vertices: Mapping[str, VertexCondition] | None = None,
    ) -> Network:
        """A network from a ``networkx`` graph (any graph with ``nodes(data=True)`` and
        ``edges(data=True)``): edge attribute ``length`` (required), ``weight`` (cross-section,
        default 1); node attribute ``pos`` (optional positions)."""
        nodes: dict[str, Any] = {}
        for name, data in graph.nodes(data=True):
            nodes[str(name)] = tuple(data[pos]) if pos in data else None
        if any(p is None for p in nodes.values()):
            nodes = {n: None for n in nodes}
        edges = []
        for k, (a, b, data) in enumerate(graph.edges(data=True)):
            if length not in data:
                raise GridError(f"edge {k} ({a}–{b}) of the graph has no {length!r} attribute")
            edges.append(Edge(str(a), str(b), data[length], data.get(weight, 1.0)))
        return cls(nodes if any(p is not None for p in nodes.values()) else list(nodes), edges, h, vertices)

    # ---------------------------------------------------------------- cells
    @cached_property
    def cells_per_edge(self) -> np.ndarray:
        """``n_e = max(2, round(ℓ_e / h))`` per edge."""
        return np.array([max(2, int(round(e.length / self.h))) for e in self.edges], dtype=np.int64)

    @cached_property
    def offsets(self) -> np.ndarray:
        """Index of each edge's first cell (and the total, last)."""
        return np.concatenate([[0], np.cumsum(self.cells_per_edge)])

    @cached_property
    def edge_spacing(self) -> np.ndarray:
        """``h_e = ℓ_e / n_e`` per edge."""
        return np.array([e.length for e in self.edges]) / self.cells_per_edge

    @cached_property
    def edge_of_cell(self) -> np.ndarray:
        """The edge of every cell."""
        return np.repeat(np.arange(len(self.edges)), self.cells_per_edge)

    @cached_property
    def cell_spacing(self) -> np.ndarray:
        """The width of every cell."""
        return self.edge_spacing[self.edge_of_cell]

    @cached_property
    def cell_weight(self) -> np.ndarray:
        """The cross-section of every cell's edge."""
        return np.array([e.weight for e in self.edges])[self.edge_of_cell]

    @cached_property
    def cell_measure(self) -> np.ndarray:
        """``A_e h_e``: the volume of every cell (``Σ u · measure`` is the mass)."""
        return self.cell_weight * self.cell_spacing

    @cached_property
    def arc_length(self) -> np.ndarray:
        """The position ``s`` of every cell centre along its edge, from node ``a``."""
        local = np.arange(self.size) - self.offsets[self.edge_of_cell]
        return (local + 0.5) * self.cell_spacing

    @property
    def ndim(self) -> int:
        return 1

    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.size,)

    @property
    def cells(self) -> tuple[int, ...]:
        return (self.size,)

    @property
    def axes(self) -> tuple[str, ...]:
        return ("cell",)

    @property
    def extent(self) -> tuple[tuple[float, float], ...]:
        """``((0, Σ ℓ_e),)``: the edges laid end to end (what a box's extent would be)."""
        return ((0.0, self.length),)

    @property
    def boundary(self) -> tuple[str, ...]:
        """``("noflux",)``: a network's boundary conditions are its vertex conditions."""
        return ("noflux",)

    @property
    def periodic(self) -> tuple[bool, ...]:
        return (False,)

    @property
    def length(self) -> float:
        """``Σ ℓ_e``."""
        return float(sum(e.length for e in self.edges))

    @property
    def measure(self) -> float:
        """``Σ A_e ℓ_e``."""
        return float(sum(e.length * e.weight for e in self.edges))

    def mesh(self) -> tuple[np.ndarray, ...]:
        """``(s,)``: the arc length of every cell centre along its edge (what ``x`` means in a
        model's expressions on a network)."""
        return (self.arc_length,)

    @property
    def coordinates(self) -> tuple[np.ndarray, ...]:
        return (self.arc_length,)

    def integrate(self, field: np.ndarray) -> float | np.ndarray:
        """``Σ u A_e h_e`` over the last axis."""
        return np.sum(field * self.cell_measure, axis=-1)

    def parameter_groups(self) -> list[tuple[dict[str, float], np.ndarray]]:
        """The edges with parameter values of their own: ``(values, cells)`` per distinct set
        (what a model's initial data and kernels use on those cells)."""
        groups: dict[tuple, list[int]] = {}
        for e, edge in enumerate(self.edges):
            if edge.parameters:
                groups.setdefault(tuple(sorted(edge.parameters.items())), []).append(e)
        return [(dict(key), np.flatnonzero(np.isin(self.edge_of_cell, edges))) for key, edges in groups.items()]

    def condition(self, node: str) -> VertexCondition:
        """The condition of ``node`` (Kirchhoff unless given)."""
        return self.vertices.get(node, VertexCondition())

    @cached_property
    def degree(self) -> dict[str, int]:
        out = {n: 0 for n in self.nodes}
        for e in self.edges:
            out[e.a] += 1
            out[e.b] += 1
        return out

    @cached_property
    def components(self) -> int:
        """The number of connected parts (isolated nodes count)."""
        parent = {n: n for n in self.nodes}

        def root(n: str) -> str:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        for e in self.edges:
            ra, rb = root(e.a), root(e.b)
            if ra != rb:
                parent[ra] = rb
        return len({root(n) for n in self.nodes})

    def cell_positions(self) -> np.ndarray | None:
        """``(size, 2)``: every cell centre in the plane, on the straight segment between its
        edge's node positions (None without positions)."""
        if not self.positions:
            return None
        a = np.array([self.positions[e.a] for e in self.edges])[self.edge_of_cell]
        b = np.array([self.positions[e.b] for e in self.edges])[self.edge_of_cell]
        lengths = np.array([e.length for e in self.edges])[self.edge_of_cell]
        f = (self.arc_length / lengths)[:, None]
        return (1 - f) * a + f * b

    # ---------------------------------------------------------------- description and files
    def describe(self) -> str:
        """``"network of 4 nodes, 3 edges (length 3, 60 cells, h = 0.05)"``."""
        parts = f", {self.components} disconnected parts" if self.components > 1 else ""
        return (
            f"network of {len(self.nodes)} nodes, {len(self.edges)} edges (length {self.length:g}, "
            f"{self.size} cells, h = {self.h:g}{parts})"
        )

    def attributes(self) -> dict[str, object]:
        """The network as run-file attributes: ``grid`` (:meth:`describe`), ``network`` (the
        ``[network]`` table as JSON: nodes with positions, edges, h, vertex conditions),
        ``grid_cells`` (the cell count), ``edge_of_cell`` and ``edge_offsets``."""
        return {
            "grid": self.describe(),
            "network": json.dumps(self.to_table()),
            "grid_cells": np.array([self.size], dtype=np.int64),
            "edge_of_cell": self.edge_of_cell.astype(np.int64),
            "edge_offsets": self.offsets.astype(np.int64),
        }

    def place(self, cell: int) -> str:
        """Cell ``cell`` in words: its edge and the arc length of its centre along it,
        ``"edge B–C (1) at s = 0.35"`` (for failure reports: the arc length alone is ambiguous)."""
        e = int(self.edge_of_cell[cell])
        return f"edge {self.edges[e].label()} ({e}) at s = {float(self.arc_length[cell]):.4g}"

    def tables(self) -> list[tuple[str, tuple[str, ...], np.ndarray, dict[str, object]]]:
        """The network as NetCDF variables ``(name, dims, values, attrs)``, readable without
        crossdiff: the node table ``node(node)`` (names) with ``node_x``, ``node_y`` (where
        positions are known), the edges ``edge_from(edge)``, ``edge_to(edge)`` (node indices),
        ``edge_length``, ``edge_weight`` (cross-section ``A_e``), and every cell's edge
        ``cell_edge(cell)`` (its arc length along it is the ``cell`` coordinate) and, with
        positions, its centre ``cell_x``, ``cell_y`` in the plane (:meth:`cell_positions`)."""
        index = {n: i for i, n in enumerate(self.nodes)}
        edges = self.edges
        out: list[tuple[str, tuple[str, ...], np.ndarray, dict[str, object]]] = [
            ("node", ("node",), np.array(self.nodes, dtype=object), {"long_name": "node name"}),
            ("edge_from", ("edge",), np.array([index[e.a] for e in edges], dtype=np.int64),
             {"long_name": "index of the edge's node a (arc length s = 0) in node"}),
            ("edge_to", ("edge",), np.array([index[e.b] for e in edges], dtype=np.int64),
             {"long_name": "index of the edge's node b (arc length s = length) in node"}),
            ("edge_length", ("edge",), np.array([e.length for e in edges], dtype=float), {"long_name": "edge length"}),
            ("edge_weight", ("edge",), np.array([e.weight for e in edges], dtype=float),
             {"long_name": "edge cross-section A_e"}),
            ("cell_edge", ("cell",), self.edge_of_cell.astype(np.int64),
             {"long_name": "index of the cell's edge in edge (the cell coordinate: arc length along it)"}),
        ]  # fmt: skip
        if self.positions:
            xy = np.array([self.positions[n] for n in self.nodes], dtype=float)
            cells = self.cell_positions()
            assert cells is not None
            for k, axis in enumerate("xy"):
                out.append((f"node_{axis}", ("node",), xy[:, k].copy(), {"long_name": f"node position {axis}"}))
            for k, axis in enumerate("xy"):
                out.append(
                    (f"cell_{axis}", ("cell",), cells[:, k].copy(), {"long_name": f"cell centre {axis} in the plane"})
                )
        return out

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, object]) -> Network:
        """The network :meth:`attributes` wrote."""
        if "network" not in attrs:
            raise GridError("the run file's network attribute is missing")
        try:
            table = json.loads(str(attrs["network"]))
        except ValueError as err:
            raise GridError(f"the run file's network attribute is not JSON ({err})") from None
        return cls.from_table(table, "the run file's network")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Network) and self.to_table() == other.to_table()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_table(), sort_keys=True))

    def __repr__(self) -> str:
        return f"Network({self.describe()})"


def _edge(entry: Any, k: int) -> Edge:
    """An edge from ``[a, b, length(, weight)]`` or ``{from, to, length, weight, parameters}``."""
    if isinstance(entry, Mapping):
        unknown = sorted(set(entry) - _EDGE_KEYS)
        if unknown:
            raise GridError(f"edge {k}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_EDGE_KEYS))})")
        for key in ("from", "to", "length"):
            if key not in entry:
                raise GridError(f"edge {k} needs {key!r}")
        params = entry.get("parameters", {})
        if not isinstance(params, Mapping):
            raise GridError(f"edge {k}: parameters must be a table, e.g. {{ chi = 2 }}")
        return Edge(str(entry["from"]), str(entry["to"]), entry["length"], entry.get("weight", 1.0), dict(params))
    if isinstance(entry, (str, bytes)) or not isinstance(entry, Sequence) or len(entry) not in (3, 4):
        raise GridError(f"edge {k} must be [a, b, length] or [a, b, length, weight], got {entry!r}")
    return Edge(str(entry[0]), str(entry[1]), entry[2], entry[3] if len(entry) == 4 else 1.0)
