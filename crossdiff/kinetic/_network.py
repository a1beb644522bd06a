r"""The asymptotic-preserving micro–macro scheme of a kinetic model on a network of 1D edges
(``docs/networks.md``, "Kinetic models on networks").

On every edge ``e`` of a :class:`crossdiff.grid.Network` (length ``ℓ_e``, cross-section
``A_e``, arc length ``s`` from its node ``a`` to its node ``b``) the 1D kinetic model of
paper (9)–(10) with the velocities of its 1D velocity set (``±R`` on the sphere),

.. math::

    \varepsilon\,\partial_t f + v\,\partial_s f = \varepsilon^{-p}(\mathcal T^0 + \varepsilon^b\mathcal T^1)(f)
        + \varepsilon G,

is written in the micro–macro form of Lemou & Mieussens [LM08] and discretised as the box
scheme (``docs/kinetic.md``): densities at the cell centres, the micro part ``g`` on the
``n_e + 1`` faces of each edge (its two end faces are at the vertices), the same compiled
kernels (:func:`~._explicit.explicit_part`, :func:`~._implicit.stage_solve`) on a staggered
grid whose centre/face operations are the network's (:class:`NetworkStaggered`).

**The vertex.** At a vertex ``v`` with edge ends ``k`` (end cell value ``ρ_k`` at distance
``h_k/2``, weight ``w_k = A_k/h_k``, ``σ_k = +1`` at a low end — ``s`` increases away from the
vertex — and ``−1`` at a high end):

* the density at the vertex is the Kirchhoff value ``ρ_v = Σ w_k ρ_k / Σ w_k`` (each end cell's
  ghost ``2ρ_v − ρ_k``), so the face density is ``ρ_v`` and the face gradient
  ``2σ_k(ρ_k − ρ_v)/h_k`` (the forcing ``−ε^{p−1} v ∂_s(Mρ)`` of the micro part);
* the micro part arriving at the vertex on the other edges is transmitted into edge ``k``: the
  transport of ``g`` on edge ``k`` sees beyond the vertex the mean, weighted by ``w_{k'}``, of
  the other ends' ``g`` at the same distance from the vertex, with the velocity ``v`` of edge
  ``k`` carried to ``−σ_kσ_{k'} v`` on edge ``k'`` (a particle leaving the vertex into ``k``
  arrived on ``k'``): the kinetic transmission conditions of Bretti, Natalini & Ribot [BNR14]
  with the coefficients ``β_{kk'} ∝ w_{k'}``, no reflection;
* the density fluxes ``⟨v g⟩`` of the ends are kept conservative, ``Σ_k A_k σ_k ⟨v g_k⟩ = 0``,
  by projecting the vertex faces' micro parts after every stage solve
  (``g_k ← g_k − σ_k c vM/⟨v²M⟩``, ``c = Σ A_k σ_k ⟨v g_k⟩ / Σ A_k``; mean-free, so ``∫ g = 0``
  stays): the mass is conserved to round-off.

A vertex of one edge is a no-flux wall: specular reflection exactly as the box's walls. As
``ε → 0`` the micro part is ``g = −(𝒯^0)^{-1}[v ∂_s(Mρ) − ρ 𝒯^1 M]`` at every face, the vertex
faces' fluxes balance already (the projection vanishes for a species with a constant limit
diffusion), and the scheme is the macroscopic network scheme (:class:`crossdiff.fv.NetworkDiscretisation`):
``ρ_v`` continuous, ``Σ_k A_k D ∂_s ρ_k = 0`` (Kirchhoff), the penalisation ``μΔρ`` the graph
Laplacian solved by :class:`crossdiff.fv.GraphSolve`. Two edges of equal ``h`` and ``A`` meeting
at a vertex are an interval: a path of two edges is the box scheme on the interval to round-off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InputError
from ..fv import DEFAULT_LIMITER, BoundaryKind, NetworkCells, limited_slopes, upwind_transport
from ..grid import Grid, Network
from ..time import Coordinate, Counters, FailureReport, Layout, Variable
from ._discretise import check_eps, nodal_equilibria
from ._explicit import explicit_part
from ._face_operators import FaceOperators
from ._implicit import implicit_part, stage_solve
from ._limits import explain_negative, explicit_step_limit, imex_step_limit
from ._model import KineticModel
from ._nodal import NodalModel
from ._pointwise import LocalTurning
from ._staggered import StaggeredGrid, reflection
from ._transport import MicroTransport

__all__ = ["NetworkKineticDiscretisation", "NetworkStaggered"]


def _kernel_names(model: KineticModel) -> set[str]:
    """The names in the species' turning operators, biases, interactions and equilibria and in
    the definitions they may use (a superset of the parameters the scheme evaluates)."""
    text = [repr(s.turning) + repr(s.bias) + repr(s.equilibrium) + str(s.interaction) for s in model.species]
    text += [str(v) for v in model.definitions.values()]
    return set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", " ".join(text)))


class NetworkStaggered(StaggeredGrid):
    """The state layout and the centre/face operations of the micro–macro scheme on a network
    (module docstring): ``(n_species (1 + m), N + E)``, densities in the first ``N`` slots (the
    last ``E`` copies of edge end cells), ``g`` on the ``n_e + 1`` faces of every edge, edge ``e``'s
    faces at ``face_offset[e] … face_offset[e] + n_e``."""

    def __init__(self, network: Network, n_species: int, nodal: NodalModel):
        nodes, w = nodal.nodes, nodal.weights
        self.grid = network  # type: ignore[assignment]
        self.network = network
        self.n_species, self.dim, self.m = n_species, 1, len(w)
        self.walls = (True,)
        self.reflect = [reflection(nodes, 0, w, nodal.equilibria)]
        net = network
        E, N = len(net.edges), net.size
        n = net.cells_per_edge
        off = net.offsets[:-1]
        self.n_edges, self.n_cells = E, N
        self.face_offset = off + np.arange(E)
        F = N + E
        self.shape = (F,)
        self.h = (float(np.min(net.edge_spacing)),)
        self.cells = (slice(0, N),)
        self.face_slices = [(slice(0, F),)]
        self.edge_h = net.edge_spacing
        self.face_h = np.repeat(net.edge_spacing, n + 1)
        self.cell_face = np.arange(N) + net.edge_of_cell  # a cell's low face; +1 its high face
        # ends: 2e low (node a), 2e + 1 high (node b)
        self.cells_graph = NetworkCells(net)
        self.end_cell = self.cells_graph.end_cell
        self.end_node = self.cells_graph.end_node
        self.end_face = np.empty(2 * E, np.int64)
        self.end_face[0::2] = self.face_offset
        self.end_face[1::2] = self.face_offset + n
        self.end_sign = np.tile([1.0, -1.0], E)  # σ_k
        self.end_area = np.array([e.weight for e in net.edges]).repeat(2)
        weight = self.end_area / net.edge_spacing.repeat(2)
        degree = np.bincount(self.end_node, minlength=len(net.nodes))
        self.end_degree = degree[self.end_node]
        import scipy.sparse as sps

        # P: ρ_v at every end (Σ w ρ / Σ w over its vertex; exactly ρ_k at a vertex of one end)
        # Q: the mean over the *other* ends of the vertex (β of the transmission); itself at a leaf
        rows, cols, pv, qv = [], [], [], []
        by_node: dict[int, list[int]] = {}
        for k, v in enumerate(self.end_node):
            by_node.setdefault(int(v), []).append(k)
        self.vertex_ends = [np.array(ends, np.int64) for ends in by_node.values() if len(ends) > 1]
        for ends in by_node.values():
            total = float(sum(weight[k] for k in ends))
            for k in ends:
                others = [j for j in ends if j != k]
                rest = total - weight[k]
                for j in ends:
                    rows.append(k)
                    cols.append(j)
                    pv.append(1.0 if len(ends) == 1 else weight[j] / total)
                    qv.append(1.0 if not others else (0.0 if j == k else weight[j] / rest))
        shape = (2 * E, 2 * E)
        self.P = sps.csr_matrix((pv, (rows, cols)), shape=shape)
        self.Q = sps.csr_matrix((qv, (rows, cols)), shape=shape)
        # the extended cells: per edge [ghost_lo, cells, ghost_hi], N + 2E values; faces between
        # ext[L] and ext[R]
        ext_pos = np.arange(N) + 2 * net.edge_of_cell + 1
        self._ext_cells = ext_pos
        self._ext_ghost = np.empty(2 * E, np.int64)
        self._ext_ghost[0::2] = off + 2 * np.arange(E)
        self._ext_ghost[1::2] = off + n + 2 * np.arange(E) + 1
        left = np.concatenate([np.arange(k + 1) + o + 2 * e for e, (o, k) in enumerate(zip(off, n))])
        self._face_left, self._face_right = left, left + 1
        self._pad_cells = self.end_cell[1::2]  # the extra E density slots copy each edge's last cell
        #: the penalisation's graph Laplacian: ``K`` (D = 1) and the cell volumes
        self.K = self.cells_graph.graph_laplacian()
        self.volume = net.cell_measure

    # ------------------------------------------------------------------ layout
    def set_rho(self, U: np.ndarray, rho: np.ndarray) -> None:
        N = self.n_cells
        U[: self.n_species, :N] = rho
        U[: self.n_species, N:] = rho[..., self._pad_cells]

    def vertex_values(self, x: np.ndarray) -> np.ndarray:
        """``ρ_v`` at every end ``(…, 2E)`` of cell values ``x`` ``(…, N)``."""
        ends = x[..., self.end_cell]
        return np.asarray((self.P @ ends.reshape(-1, ends.shape[-1]).T).T).reshape(ends.shape)

    def extend(self, x: np.ndarray) -> np.ndarray:
        """``x`` ``(…, N)`` with a ghost cell ``2ρ_v − ρ_k`` beyond every end, ``(…, N + 2E)``."""
        out = np.empty(x.shape[:-1] + (self.n_cells + 2 * self.n_edges,))
        out[..., self._ext_cells] = x
        ends = x[..., self.end_cell]
        out[..., self._ext_ghost] = 2.0 * self.vertex_values(x) - ends
        return out

    def face_mean(self, x: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """Mean of the two cells at every face; ``ρ_v`` at the vertex faces."""
        e = self.extend(x)
        return 0.5 * (e[..., self._face_left] + e[..., self._face_right])

    def face_difference(self, x: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """``x_high − x_low`` at every face; at a vertex face ``±2(ρ_k − ρ_v)`` (zero at a leaf)."""
        e = self.extend(x)
        return e[..., self._face_right] - e[..., self._face_left]

    def divergence(self, flux: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """``(F_high − F_low)/h`` of every cell; no flux through a leaf (a wall)."""
        f = np.array(flux, dtype=float, copy=True)
        leaf = self.end_face[self.end_degree == 1]
        f[..., leaf] = 0.0
        return (f[..., self.cell_face + 1] - f[..., self.cell_face]) / (self.face_h[self.cell_face])

    def laplacian(self, rho: np.ndarray) -> np.ndarray:
        """The graph Laplacian ``V⁻¹ K ρ`` (the macroscopic network's, D = 1)."""
        flat = rho.reshape(-1, rho.shape[-1])
        return (np.asarray(self.K @ flat.T).T / self.volume).reshape(rho.shape)

    def gradients_at_faces(self, rho: np.ndarray, a: int) -> np.ndarray:
        return (self.face_difference(rho, a) / self.face_h)[:, None]

    def centred(self, x: np.ndarray, b: int, lead: int = 1) -> np.ndarray:  # pragma: no cover - 1D only
        raise NotImplementedError("a network's edges are 1D")

    def edge(self, x: np.ndarray, ax: int) -> np.ndarray:  # pragma: no cover - 1D only
        raise NotImplementedError("a network has no box walls")

    # ------------------------------------------------------------------ the vertex
    def toward_values(self, rho: np.ndarray, limiter: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """West and east reconstructions of every cell (slopes limited against the ghost cells
        beyond the vertices: zero at a leaf) and each end's value facing its vertex ``(…, 2E)``."""
        ext = self.extend(rho)
        slopes = limited_slopes(ext, ext.ndim - 1, False, limiter)[..., self._ext_cells]
        west, east = rho - 0.5 * slopes, rho + 0.5 * slopes
        toward = np.empty(rho.shape[:-1] + (2 * self.n_edges,))
        toward[..., 0::2] = west[..., self.end_cell[0::2]]
        toward[..., 1::2] = east[..., self.end_cell[1::2]]
        return west, east, toward

    def across(self, x: np.ndarray) -> np.ndarray:
        """The mean over the other ends of each end's vertex (``Q``), ``x`` ``(…, 2E)``."""
        flat = x.reshape(-1, x.shape[-1])
        return np.asarray((self.Q @ flat.T).T).reshape(x.shape)

    def conserve(self, U: np.ndarray, M: np.ndarray, nodes: np.ndarray, weights: np.ndarray) -> None:
        """Project the vertex faces' micro parts so that ``Σ_k A_k σ_k ⟨v g_k⟩ = 0`` at every
        vertex of several ends (module docstring), in place: ``c = S j`` per end with the sparse
        ``S_{kk'} = A_{k'} σ_{k'} / Σ A`` over the ends of one vertex."""
        if not self.vertex_ends:
            return
        v = nodes[:, 0]
        g = self.g(U, 0)  # (ns, m, F)
        ends = self._conserved_ends
        faces = self.end_face[ends]
        j = np.einsum("k,ikf->if", weights * v, g[:, :, faces])  # ⟨v g⟩ of each end, (ns, ends)
        c = np.asarray((self._balance @ j.T).T)  # (ns, ends): the vertex's c at each of its ends
        phi = v[None, :] * M / (M @ (weights * v * v))[:, None]  # (ns, m)
        g[:, :, faces] -= phi[:, :, None] * (self.end_sign[ends] * c)[:, None, :]

    @cached_property
    def _conserved_ends(self) -> np.ndarray:
        return np.concatenate(self.vertex_ends)

    @cached_property
    def _balance(self) -> Any:
        import scipy.sparse as sps

        ends = self._conserved_ends
        position = {int(k): q for q, k in enumerate(ends)}
        rows, cols, vals = [], [], []
        for group in self.vertex_ends:
            total = float(np.sum(self.end_area[group]))
            for k in group:
                for kk in group:
                    rows.append(position[int(k)])
                    cols.append(position[int(kk)])
                    vals.append(self.end_area[kk] * self.end_sign[kk] / total)
        return sps.csr_matrix((vals, (rows, cols)), shape=(len(ends), len(ends)))


class NetworkFaceOperators(FaceOperators):
    """:class:`~._face_operators.FaceOperators` on a :class:`NetworkStaggered`: the upwind
    density of the bias flux reconstructed on each edge, and across a vertex from the other ends
    (their values facing the vertex, weighted as the transmission), the taxis flux through a
    vertex upwinded as inside an edge ([ES20] for the macroscopic one)."""

    staggered: NetworkStaggered

    def upwind_density(self, i: int, rho: np.ndarray, a: int, A1: LocalTurning) -> np.ndarray:
        st = self.staggered
        drift = A1.drift(self.M[i], self.nodal.weights * self.nodal.nodes[:, a])
        west, east, toward = st.toward_values(rho[i], self.limiter)
        beyond = st.across(toward)
        F = st.shape[0]
        left, right = np.empty(F), np.empty(F)
        left[st.cell_face + 1] = east
        right[st.cell_face] = west
        left[st.end_face[0::2]] = beyond[0::2]
        right[st.end_face[1::2]] = beyond[1::2]
        return np.where(drift >= 0, left, right)


class NetworkTransport:
    """``g ↦ −∂_s(v g)`` on every edge (:func:`crossdiff.fv.upwind_transport`, limited MUSCL),
    the faces beyond a vertex of several ends those of the other ends (module docstring), at a
    leaf the box's specular ghost (:meth:`~._transport.MicroTransport.inflow_ghosts`)."""

    def __init__(self, st: NetworkStaggered, nodal: NodalModel, limiter: str):
        import scipy.sparse as sps

        self.st, self.limiter = st, limiter
        self.nodes = nodal.nodes
        net = st.network
        n = net.cells_per_edge
        self.reflect = st.reflect[0]
        self.pad = st.end_degree > 1  # ends with two ghost faces
        #: per end ``k`` the ghost faces at distance ``j`` (module docstring), for each other end
        #: ``(j, face, β, velocity map)``
        self.sources: list[list[tuple[int, int, float, np.ndarray]]] = []
        # the same as sparse matrices (2E × F) per distance j: ``ghost_j[l] = C_j g[l] + R_j g[R l]``
        rows: dict[tuple[int, bool], tuple[list[int], list[int], list[float]]] = {
            (j, same): ([], [], []) for j in (1, 2) for same in (False, True)
        }
        Q = st.Q.tocsr()
        for k in range(2 * st.n_edges):
            row = []
            if self.pad[k]:
                for idx in range(Q.indptr[k], Q.indptr[k + 1]):
                    kk, beta = int(Q.indices[idx]), float(Q.data[idx])
                    if beta == 0.0:
                        continue
                    e2 = kk // 2
                    same = bool(st.end_sign[k] * st.end_sign[kk] > 0)
                    vmap = self.reflect if same else np.arange(st.m)
                    for j in (1, 2):
                        face = int(st.face_offset[e2] + (j if kk % 2 == 0 else n[e2] - j))
                        row.append((j, face, beta, vmap))
                        r, c, v = rows[(j, same)]
                        r.append(k)
                        c.append(face)
                        v.append(beta)
            self.sources.append(row)
        shape = (2 * st.n_edges, st.shape[0])
        self._ghost = {key: sps.csr_matrix((v, (r, c)), shape=shape) for key, (r, c, v) in rows.items()}
        # groups of edges with the same padded layout: (faces, pad_lo, pad_hi) -> edges
        groups: dict[tuple[int, bool, bool], list[int]] = {}
        for e in range(st.n_edges):
            groups.setdefault((int(n[e]) + 1, bool(self.pad[2 * e]), bool(self.pad[2 * e + 1])), []).append(e)
        self.groups = []
        for key, edges in groups.items():
            index = np.array(edges, np.int64)
            faces = st.face_offset[index][:, None] + np.arange(key[0])[None, :]
            self.groups.append((key, index, faces))
        self._box: dict[int, MicroTransport] = {}
        self._nodal = nodal

    def _wall(self, faces: int) -> MicroTransport:
        """The box's transport on an interval of ``faces − 1`` cells with walls (its specular ghosts)."""
        if faces not in self._box:
            grid = Grid((faces - 1,), extent=((0.0, 1.0),))
            self._box[faces] = MicroTransport(StaggeredGrid(grid, 1, self._nodal), self.nodes, self.limiter)
        return self._box[faces]

    def ghosts(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The faces at distance 1 and 2 beyond every end, ``(ns, m, 2E)`` each, velocities in
        the frame of the end's edge (zero at a leaf)."""
        ns, m, F = g.shape
        flat = g.reshape(ns * m, F)
        mirrored = g[:, self.reflect].reshape(ns * m, F)
        out = []
        for j in (1, 2):
            value = (self._ghost[(j, False)] @ flat.T).T + (self._ghost[(j, True)] @ mirrored.T).T
            out.append(np.asarray(value).reshape(ns, m, -1))
        return out[0], out[1]

    def __call__(self, g: np.ndarray, out: np.ndarray, a: int, skip: tuple[bool, ...] = ()) -> None:
        st = self.st
        ns, m = g.shape[:2]
        v = self.nodes
        g1, g2 = self.ghosts(g)
        for (faces, lo, hi), edges, index in self.groups:
            count = len(edges)
            length = faces + 2 * lo + 2 * hi
            work = np.empty((ns, m, count, length))
            start = 2 * int(lo)
            work[..., start : start + faces] = g[:, :, index]
            if lo:
                work[..., 1], work[..., 0] = g1[:, :, 2 * edges], g2[:, :, 2 * edges]
            if hi:
                work[..., start + faces], work[..., start + faces + 1] = (
                    g1[:, :, 2 * edges + 1],
                    g2[:, :, 2 * edges + 1],
                )
            lo_ghost = work[..., 0].copy()
            hi_ghost = work[..., -1].copy()
            if not lo or not hi:  # a leaf: the box's specular ghost of the edge's own faces
                block = np.moveaxis(work[..., start : start + faces], 2, 1).reshape(ns * count, m, faces)
                pair = self._wall(faces).inflow_ghosts(block, 0, 0)
                assert pair is not None
                if not lo:
                    lo_ghost = np.moveaxis(pair[0].reshape(ns, count, m), 1, 2)
                if not hi:
                    hi_ghost = np.moveaxis(pair[1].reshape(ns, count, m), 1, 2)
            L = ns * m * count
            velocity = np.broadcast_to(v[None, :, None, :], (ns, m, count, 1)).reshape(L, 1)
            res = np.empty((L, length))
            upwind_transport(
                work.reshape(L, length),
                np.ascontiguousarray(velocity),
                (1.0,),
                res,
                limiter=self.limiter,
                boundary=(BoundaryKind.INFLOW,),
                ghosts=((np.ascontiguousarray(lo_ghost).reshape(L), np.ascontiguousarray(hi_ghost).reshape(L)),),
            )
            block_out = res.reshape(ns, m, count, length)[..., start : start + faces]
            out[:, :, index] = block_out / st.edge_h[edges][:, None]
        for i in range(ns):
            if i < len(skip) and skip[i]:
                out[i] = 0.0


class _GraphSolves:
    """``(I − s Δ) ρ = B`` with the graph Laplacian ``Δ = V⁻¹K`` (:class:`crossdiff.fv.GraphSolve`,
    factorised once per ``s``): the network's counterpart of ``SpectralLaplacian.solve_diagonal``."""

    def __init__(self, st: NetworkStaggered):
        self.st = st
        self._solvers: dict[float, object] = {}

    def solve_diagonal(self, B: np.ndarray, scales: np.ndarray) -> np.ndarray:
        st = self.st
        cg = st.cells_graph
        out = np.empty_like(B)
        for i in range(B.shape[0]):
            s = float(scales[i, 0])
            if s == 0.0:
                out[i] = B[i]
                continue
            if s not in self._solvers:
                if len(self._solvers) > 16:
                    self._solvers.clear()
                none = np.zeros(0, np.int64)
                self._solvers[s] = cg.solver(st.volume, s, cg.face_conductance, cg.pair_geometric, none, np.zeros(0))
            out[i] = self._solvers[s].solve(st.volume * B[i])  # type: ignore[attr-defined]
        return out


class NetworkKineticDiscretisation:
    """A 1D kinetic model on a network by the micro–macro AP scheme (module docstring): a
    :class:`crossdiff.time.SemiDiscrete` (stepper ARS(4,4,3), as on a box).

    Parameters
    ----------
    model : KineticModel
        Velocity dimension 1.
    network : Network
        Kirchhoff vertices with continuity (no permeability), leaves no-flux.
    eps : float
        ``ε ∈ (0, 1]``.
    velocities : int, optional
        The resolution of the velocity quadrature (the 1D sphere has its two velocities ``±R``).
    limiter : str
    values : mapping, optional
        Parameter values replacing the model's.
    """

    def __init__(
        self,
        model: KineticModel,
        network: Network,
        eps: float,
        velocities: int | None = None,
        limiter: str = DEFAULT_LIMITER,
        values: Mapping[str, float] | None = None,
    ):
        if not isinstance(model, KineticModel):
            raise InputError(f"model must be a KineticModel, got {type(model).__name__}")
        if not isinstance(network, Network):
            raise InputError(f"network must be a crossdiff Network, got {type(network).__name__}")
        self.eps = check_eps(eps, model)
        if model.dim != 1:
            raise InputError(f"a network's edges are 1D; the kinetic model has velocity dimension {model.dim}")
        for node in network.nodes:
            cond = network.condition(node)
            if cond.kind != "kirchhoff" or not (isinstance(cond.permeability, float) and math.isinf(cond.permeability)):
                raise InputError(
                    f"vertex {node!r}: kinetic models on networks support Kirchhoff vertices with continuity "
                    f"and no-flux leaves, not {cond.kind!r}"
                    + (" with a permeability" if cond.kind == "kirchhoff" else "")
                )
        used = {str(x) for x in model.parameters}
        kernels = _kernel_names(model)
        for e in network.edges:
            if e.parameters and not set(e.parameters) <= used:
                raise InputError(f"edge {e.label()}: parameters {sorted(set(e.parameters) - used)} are not the model's")
            shared = sorted(set(e.parameters) & kernels)
            if shared:
                raise InputError(
                    f"edge {e.label()}: per-edge values of {', '.join(shared)} reach only the initial data of a "
                    "kinetic model on a network; its turning rates, biases and interactions take one value (not yet per edge)"
                )
        self.model, self.grid, self.network, self.limiter = model, network, network, limiter
        self.nodal, self.M, self.velocities = nodal_equilibria(model, velocities, values)
        w = self.nodal.weights
        self.m = m = len(w)
        self.dim = 1
        names = model.species_names
        self.n_species = ns = len(names)
        self.staggered = NetworkStaggered(network, ns, self.nodal)
        self.shape, self.h = self.staggered.shape, self.staggered.h
        self.operators = NetworkFaceOperators(model, self.nodal, self.staggered, self.eps, self.M, limiter)
        self.p, self.b = self.operators.p, self.operators.b
        self.transport = NetworkTransport(self.staggered, self.nodal, limiter)
        self.spectral = _GraphSolves(self.staggered)
        self.implicit_transport = (False,) * ns
        n_components = ns * (1 + m)
        self.differential = np.ones(n_components, dtype=bool)
        self.nonnegative = np.arange(n_components) < ns
        self.error_components = self.nonnegative.copy()
        self.positive: tuple[tuple[int, str], ...] = ()
        self.counters = Counters()
        self._mu = np.zeros(ns)
        self._layout = self._make_layout()

    def _make_layout(self) -> Layout:
        net = self.network
        nodes = self.nodal.nodes
        coords = (
            Coordinate("cell", net.arc_length, "arc length of the cell centre along its edge (edge_of_cell)"),
            Coordinate(
                "v", nodes[:, 0].copy(), "velocity", {"weights": self.nodal.weights.copy(), "vx": nodes[:, 0].copy()}
            ),
        )
        fields = tuple(
            Variable(s.name, ("cell",), s.long_name, {"description": f"density {s.name} = integral of f over v"})
            for s in self.model.species
        )
        extras = tuple(
            Variable(f"f_{s.name}", ("v", "cell"), f"distribution of {s.long_name}", {}) for s in self.model.species
        )
        attrs = {
            "model": self.model.name,
            "scale": "kinetic",
            "eps": self.eps,
            "velocities": self.m,
            "walls": "network vertices (transmission; leaves specular reflection)",
            **net.attributes(),
        }
        return Layout(
            fields,
            coords,
            ("cell",),
            1.0,
            attrs,
            extras,
            weights=net.cell_measure,
            weights_name="cell_measure",
            weights_long_name="volume A_e h_e of the cell (cross-section times width): the mass is sum(u * cell_measure)",
            place=net.place,
        )

    @property
    def layout(self) -> Layout:
        return self._layout

    # ------------------------------------------------------------------ state
    def fields(self, U: np.ndarray) -> np.ndarray:
        return self.staggered.rho(U)

    def mass(self, U: np.ndarray) -> np.ndarray:
        """``Σ A_e h_e ρ`` of every species."""
        return np.asarray(self.network.integrate(self.staggered.rho(U)))

    def distributions(self, U: np.ndarray) -> np.ndarray:
        """``f_i(v_k) = M ρ + ε ḡ`` at the cell centres, ``(ns, m, N)`` (``ḡ`` the mean of a
        cell's two faces)."""
        st = self.staggered
        rho = st.rho(U)
        g = st.g(U, 0)
        micro = 0.5 * (g[..., st.cell_face] + g[..., st.cell_face + 1])
        return self.M[:, :, None] * rho[:, None] + self.eps * micro

    def extras(self, U: np.ndarray) -> Mapping[str, np.ndarray]:
        f = self.distributions(U)
        return {f"f_{s}": np.ascontiguousarray(f[i]) for i, s in enumerate(self.model.species_names)}

    def initial_state(self, frame: Mapping[str, np.ndarray], t: float = 0.0) -> np.ndarray:
        """Well-prepared ``f = M ρ`` from the densities, or from the distributions ``f_<species>``
        (the micro part ``(f − Mρ)/ε`` averaged to the faces, its even part at a leaf, the vertex
        faces projected on conservation)."""
        st = self.staggered
        N = self.network.size
        rho = np.empty((self.n_species, N))
        U = np.zeros((self.n_species * (1 + self.m), *self.shape))
        names = self.model.species_names
        for i, s in enumerate(names):
            if s not in frame:
                raise InputError(f"initial data: missing density {s!r}")
            rho[i] = np.broadcast_to(np.asarray(frame[s], dtype=float), (N,))
        for i, s in enumerate(names):
            if f"f_{s}" not in frame:
                continue
            f = np.asarray(frame[f"f_{s}"], dtype=float)
            if f.shape != (self.m, N):
                raise InputError(f"initial distribution f_{s} has shape {f.shape}, expected {(self.m, N)}")
            if not np.all(np.isfinite(f)):
                raise InputError(f"initial distribution f_{s} is not finite")
            rho[i] = self.nodal.weights @ f
            micro = (f - self.M[i][:, None] * rho[i][None]) / self.eps
            face = st.face_mean(micro, 0)
            leaf = st.end_face[st.end_degree == 1]
            face[:, leaf] = 0.5 * (face[:, leaf] + face[:, leaf][st.reflect[0]])
            st.g(U, 0)[i] = face
        st.set_rho(U, rho)
        st.conserve(U, self.M, self.nodal.nodes, self.nodal.weights)
        return U

    def prepare(self, t: float, U: np.ndarray) -> None:
        """Penalisation ``μ_i = D_i exp(−ε²/h)`` (as on a box, docs/kinetic.md)."""
        rho = self.staggered.rho(U)
        weight = math.exp(-(self.eps**2) / min(self.h))
        self._mu = np.array(
            [weight * self.operators.diffusion(i, rho) if self.p[i] == 1 else 0.0 for i in range(self.n_species)]
        )

    # ------------------------------------------------------------------ the SemiDiscrete parts
    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.counters.nfev += 1
        if out is None:
            out = np.zeros_like(U)
        return explicit_part(self.operators, self.transport, self._mu, U, out)  # type: ignore[arg-type]

    def implicit(self, U: np.ndarray) -> np.ndarray:
        return implicit_part(self.operators, self._mu, U)

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """The box's stage solve with the graph Laplacian's solve for the densities, then the
        vertex faces projected on conservation (:meth:`NetworkStaggered.conserve`)."""
        self.counters.n_implicit_solves += 1
        X = np.zeros_like(B) if out is None else out
        stage_solve(self.operators, self.spectral, self._mu, B, gamma_dt, X)  # type: ignore[arg-type]
        self.staggered.conserve(X, self.M, self.nodal.nodes, self.nodal.weights)
        return X

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        return U

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        return self.explicit(t, U) + self.implicit(U)

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        return imex_step_limit(self.operators, self._mu, U)

    def explain_negative(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        return explain_negative(self.operators, self.layout, t, U)

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        return explicit_step_limit(self.operators, U)

    def describe(self) -> str:
        return (
            f"kinetic micro-macro AP scheme on a network, eps = {self.eps:g}, {self.m} velocities, "
            f"{self.network.describe()}"
        )
