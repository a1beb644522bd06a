"""The cells of a network as one graph: their conductances, volumes and vertex conditions
(:class:`NetworkCells`), and the implicit diffusion solve on it (:class:`GraphSolve`: each edge's
tridiagonal part by the Thomas algorithm, the vertices' Schur complement by a small sparse LU).
The discretisation that uses them is :class:`crossdiff.fv.NetworkDiscretisation`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from ..errors import ModelError
from ..grid import Network

__all__ = ["NetworkCells", "GraphSolve"]


@njit(cache=True)
def _thomas_factor(off: np.ndarray, diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Thomas algorithm's factors of the symmetric tridiagonal ``T`` (diagonal ``diag``, off
    diagonal ``off``): ``c'_k = off_k / δ_k`` and ``1/δ_k``, ``δ_k = d_k − off_{k−1} c'_{k−1}``.
    Stable without pivoting for diagonally dominant ``T`` (docs/references.md [GVL13] §4.3), which
    ``M − sK`` is (``M > 0``, ``K`` a graph Laplacian)."""
    n = diag.size
    c = np.zeros(n)
    inv = np.empty(n)
    prev = 0.0
    for k in range(n):
        delta = diag[k] - (off[k - 1] * prev if k > 0 else 0.0)
        inv[k] = 1.0 / delta
        prev = off[k] * inv[k] if k < n - 1 else 0.0
        c[k] = prev
    return c, inv


@njit(cache=True)
def _thomas_solve(off: np.ndarray, c: np.ndarray, inv: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out = T⁻¹ b`` from :func:`_thomas_factor`'s factors: forward and back substitution."""
    n = b.size
    prev = 0.0
    for k in range(n):
        prev = (b[k] - (off[k - 1] * prev if k > 0 else 0.0)) * inv[k]
        out[k] = prev
    for k in range(n - 2, -1, -1):
        out[k] -= c[k] * out[k + 1]


class NetworkCells:
    """The cells of a network as the finite volumes need them (module docstring): cell volumes
    ``A h``, the interior faces of the edges, the edge ends at the vertices and the pairs of ends
    that a vertex couples, with their conductances.

    Parameters
    ----------
    network : Network
    parameters : mapping, optional
        Values of the parameters that vertex permeabilities name.
    """

    def __init__(self, network: Network, parameters: Mapping[str, float] | None = None):
        self.network = network
        net = network
        E = len(net.edges)
        off, n = net.offsets[:-1], net.cells_per_edge
        self.measure = net.cell_measure
        self.h_cell = net.cell_spacing
        # interior faces of every edge
        left = np.concatenate([o + np.arange(k - 1) for o, k in zip(off, n)]).astype(np.int64)
        self.face_left, self.face_right = left, left + 1
        self.face_conductance = (net.cell_weight / net.cell_spacing)[left]  # A_e / h_e
        # edge ends: end 2e at node a (low), 2e + 1 at node b (high)
        node_index = {name: k for k, name in enumerate(net.nodes)}
        self.end_cell = np.empty(2 * E, np.int64)
        self.end_inner = np.empty(2 * E, np.int64)
        self.end_node = np.empty(2 * E, np.int64)
        for e, edge in enumerate(net.edges):
            lo, hi = off[e], off[e] + n[e] - 1
            self.end_cell[2 * e], self.end_cell[2 * e + 1] = lo, hi
            self.end_inner[2 * e], self.end_inner[2 * e + 1] = lo + 1, hi - 1
            self.end_node[2 * e], self.end_node[2 * e + 1] = node_index[edge.a], node_index[edge.b]
        ends_h = net.edge_spacing.repeat(2)
        ends_a = np.array([e.weight for e in net.edges]).repeat(2)
        self.end_half = 0.5 * ends_h  # distance from the end cell's centre to the vertex
        self.end_area = ends_a
        self.node_permeability = np.array([self._permeability(v, parameters or {}) for v in net.nodes])
        # pairs of ends at each vertex (the vertex faces), every vertex
        by_node: dict[int, list[int]] = {}
        for k, v in enumerate(self.end_node):
            by_node.setdefault(int(v), []).append(k)
        first, second = [], []
        for ends in by_node.values():
            for x in range(len(ends)):
                for y in range(x + 1, len(ends)):
                    first.append(ends[x])
                    second.append(ends[y])
        self.pair_first = np.array(first, np.int64)
        self.pair_second = np.array(second, np.int64)
        self.pair_node = self.end_node[self.pair_first]
        #: geometric conductances of the ends (D = 1) and of the pairs
        self.end_geometric = self.end_conductance(np.ones(2 * E))
        self.pair_geometric = self.pair_conductance(self.end_geometric)

    def _permeability(self, node: str, parameters: Mapping[str, float]) -> float:
        p = self.network.condition(node).permeability
        if isinstance(p, str):
            if p not in parameters:
                raise ModelError(f"the permeability of vertex {node!r} is {p!r}, which is not a parameter of the model")
            value = float(parameters[p])
            if not value > 0:
                raise ModelError(f"the permeability of vertex {node!r} ({p} = {value:g}) must be positive")
            return value
        return float(p)

    def end_conductance(self, d_end: np.ndarray) -> np.ndarray:
        """``g_e = A_e / (h_e/(2 D_e) + 1/(2 p_v))`` of every end."""
        p = self.node_permeability[self.end_node]
        with np.errstate(divide="ignore"):
            resistance = self.end_half / d_end + np.where(np.isinf(p), 0.0, 0.5 / p)
            return np.where(d_end > 0, self.end_area / resistance, 0.0)

    def pair_conductance(self, g: np.ndarray) -> np.ndarray:
        """``g_e g_e' / G_v`` of every pair of ends."""
        total = np.bincount(self.end_node, weights=g, minlength=len(self.network.nodes))
        G = total[self.pair_node]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(G > 0, g[self.pair_first] * g[self.pair_second] / np.where(G > 0, G, 1.0), 0.0)

    def laplacian(self, face_c: np.ndarray, pair_c: np.ndarray, dir_ends: np.ndarray, dir_c: np.ndarray | None):
        """``K``: the symmetric conductance matrix of the cells (``(K u)_c = Σ_f c_f (u_{c'} − u_c)``,
        Dirichlet ends ``−g_e u_e``)."""
        import scipy.sparse as sps

        N = self.network.size
        pl = self.end_cell[self.pair_first]
        pr = self.end_cell[self.pair_second]
        left = np.concatenate([self.face_left, pl])
        right = np.concatenate([self.face_right, pr])
        c = np.concatenate([face_c, pair_c])
        diag = -np.bincount(left, weights=c, minlength=N) - np.bincount(right, weights=c, minlength=N)
        if dir_c is not None and dir_ends.size:
            diag -= np.bincount(self.end_cell[dir_ends], weights=dir_c, minlength=N)
        rows = np.concatenate([left, right, np.arange(N)])
        cols = np.concatenate([right, left, np.arange(N)])
        vals = np.concatenate([c, c, diag])
        return sps.csr_matrix((vals, (rows, cols)), shape=(N, N))

    def solver(
        self, mass: np.ndarray, s: float, face: np.ndarray, pair: np.ndarray, dir_ends: np.ndarray, dir_c: np.ndarray
    ) -> GraphSolve:
        """The solver of ``(diag(mass) − s K) x = b`` for the conductances given (:class:`GraphSolve`)."""
        return GraphSolve(self, mass, s, face, pair, dir_ends, dir_c)

    def graph_laplacian(self):
        """``K`` of ``D = 1`` with every vertex's own condition for no species (Kirchhoff, or
        transmission with its permeability; no-flux at the leaves): ``−K v = μ M v`` are the
        network's diffusion modes (:func:`crossdiff.analysis.admissible_modes`)."""
        return self.laplacian(self.face_conductance, self.pair_geometric, np.zeros(0, np.int64), None)


class GraphSolve:
    r"""``(M − sK) x = b`` on a network: each edge's tridiagonal part by the Thomas algorithm
    (factorised once, compiled), the vertices by their Schur complement.

    Split ``A = M − sK = T + C`` with ``T`` tridiagonal (each edge's cells, the diagonal with
    every face's share; edges uncoupled) and ``C`` the vertex faces between end cells. With
    ``P`` the end cells, ``z = T⁻¹b``, ``G = PᵀT⁻¹P`` (a 2×2 block per edge: the ends' Green's
    functions ``W``, two tridiagonal solves made once) and ``(I + C G) y = C z_P`` (a sparse LU
    of size ``2E``), ``x = z − T⁻¹P y`` (the Sherman–Morrison–Woodbury formula,
    docs/references.md [GVL13] §2.1.4). A solve is one tridiagonal solve, a small sparse one and
    two scaled additions; on 1,000 edges × 50 cells the network's step went from 5.2× to 2.2× the
    interval's with it (a sparse LU of the whole graph before; bench/networks.py).
    """

    def __init__(
        self,
        graph: NetworkCells,
        mass: np.ndarray,
        s: float,
        face: np.ndarray,
        pair: np.ndarray,
        dir_ends: np.ndarray,
        dir_c: np.ndarray,
    ):
        import scipy.sparse as sps
        from scipy.sparse.linalg import splu

        N = graph.network.size
        E2 = graph.end_cell.size
        pl, pr = graph.end_cell[graph.pair_first], graph.end_cell[graph.pair_second]
        diag = np.array(mass, dtype=float)
        diag += s * (
            np.bincount(graph.face_left, weights=face, minlength=N)
            + np.bincount(graph.face_right, weights=face, minlength=N)
        )
        diag += s * (np.bincount(pl, weights=pair, minlength=N) + np.bincount(pr, weights=pair, minlength=N))
        if dir_ends.size:
            diag += s * np.bincount(graph.end_cell[dir_ends], weights=dir_c, minlength=N)
        off = np.zeros(N)
        off[graph.face_left] = -s * face
        self._off = off
        self._c, self._inv = _thomas_factor(off, diag)
        self.ends = graph.end_cell
        self.edge_of_cell = graph.network.edge_of_cell
        lo, hi = np.zeros(N), np.zeros(N)
        lo[graph.end_cell[0::2]] = 1.0
        hi[graph.end_cell[1::2]] = 1.0
        self.w_low, self.w_high = self._tridiagonal(lo), self._tridiagonal(hi)
        # G: per edge [[W_lo(lo), W_hi(lo)], [W_lo(hi), W_hi(hi)]] on the end indices 2e, 2e + 1
        e = np.arange(E2 // 2)
        rows = np.concatenate([2 * e, 2 * e, 2 * e + 1, 2 * e + 1])
        cols = np.concatenate([2 * e, 2 * e + 1, 2 * e, 2 * e + 1])
        lo_cells, hi_cells = graph.end_cell[0::2], graph.end_cell[1::2]
        vals = np.concatenate(
            [self.w_low[lo_cells], self.w_high[lo_cells], self.w_low[hi_cells], self.w_high[hi_cells]]
        )
        G = sps.csr_matrix((vals, (rows, cols)), shape=(E2, E2))
        a, b = graph.pair_first, graph.pair_second
        self.C = sps.csr_matrix(
            (np.concatenate([-s * pair, -s * pair]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(E2, E2)
        )
        self._schur = splu((sps.identity(E2) + self.C @ G).tocsc()) if pair.size and np.any(pair) else None

    def _tridiagonal(self, b: np.ndarray) -> np.ndarray:
        out = np.empty(b.size)
        _thomas_solve(self._off, self._c, self._inv, np.ascontiguousarray(b, dtype=float), out)
        return out

    def solve(self, b: np.ndarray) -> np.ndarray:
        """``x`` with ``(M − sK) x = b``."""
        z = self._tridiagonal(b)
        if self._schur is None:
            return z
        y = self._schur.solve(self.C @ z[self.ends])
        return z - (self.w_low * y[0::2][self.edge_of_cell] + self.w_high * y[1::2][self.edge_of_cell])
