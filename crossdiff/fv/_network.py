r"""Finite volumes on a network: a 1D scheme on every edge, coupled at the vertices.

On a :class:`~crossdiff.grid.Network` every edge ``e`` holds cells of width ``h_e`` and
cross-section ``A_e`` (volume ``A_e h_e``). The cells of the whole network form one graph
whose links are *faces*: the interior faces of each edge (conductance ``A_e / h_e``) and, at each
vertex, the faces that the vertex conditions make between the end cells of its edges
(docs/networks.md). The conservative update of species ``u`` in cell ``c`` is

.. math::

    A_c h_c \frac{du_c}{dt} = -\sum_{f \ni c} \pm Q_f + A_c h_c\,ψ_c(u),

with the mass rate ``Q_f`` of each face (diffusion and taxis), so that without reactions the mass
``Σ_c A_c h_c u_c`` changes only through Dirichlet and inflow vertices, to round-off.

**Vertex conditions by elimination.** At a Kirchhoff vertex ``v`` with end cells ``e`` (value
``u_e`` at distance ``h_e/2`` from the vertex), continuity ``u_e(v) = u_v`` — or the weighted
transmission condition ``j_e = 2p (u_e(v) − u_v)`` of a vertex of permeability ``p`` (between
two edges ``j = p (u_1(v) − u_2(v))``, a membrane) — and flux conservation ``Σ_e A_e j_e = 0``
give the flux from edge ``e`` into the vertex ``g_e (u_e − u_v)`` with
``g_e = A_e / (h_e/(2D_e) + 1/(2p))`` and the vertex value
``u_v = Σ g_e u_e / Σ g_e``. Eliminating ``u_v`` (the Schur complement of the vertex),

.. math::

    A_e j_e = \sum_{e' \ne e} \frac{g_e g_{e'}}{G_v} (u_e − u_{e'}), \qquad G_v = \sum_e g_e,

a face between every two end cells of the vertex with conductance ``g_e g_e' / G_v``. Two edges
of equal ``h`` and ``A`` meeting at a vertex give ``g_e g_{e'}/G_v = D/h``: the interior face of
an interval, so a path of two edges *is* an interval (to round-off; tests/network). A Dirichlet
vertex gives each end cell the flux ``g_e (u_e − g(t))`` with ``g_e = 2 A_e D_e / h_e`` (the
box's ghost cell, docs/references.md [LeV07] §2.12); an inflow vertex the source ``q(t)``; a no-flux vertex
nothing.

**Taxis through a vertex, upwinded** (as Egger & Schöbel-Kröhn 2020 do, docs/references.md
[ES20]): on the face between end cells ``e, e'`` the velocity is ``a = χ̄ k_{ee'} (w_{e'} −
w_e)`` with the geometric conductance ``k_{ee'}`` (``g`` with ``D = 1``) and the mass rate the
upwind flux ``a⁺ u_e^* + a⁻ u_{e'}^*`` of the limited face values ``u^*`` (the end cells'
slopes limited against the ghost value ``2u_v − u_e``, clipped at 0): conservative (each face
gives what it takes), and non-negative under the CFL condition like the interior faces. Inside
each edge the taxis flux is the box's compiled kernel (:func:`~crossdiff.fv._transport.taxis_divergence`)
on one line holding every edge between two ghost cells, whose faces carry no flux.

**The diffusion solve** is ``(M − γΔt K) u = M b`` with ``M`` the cell volumes and ``K`` the
graph's conductance matrix (symmetric, ``1ᵀK = 0`` without Dirichlet vertices): each edge's
tridiagonal part factorised once (LAPACK) and the vertices' Schur complement by a sparse LU of
the edge ends (:class:`GraphSolve`), made once per step size and operator and reused by the
stages and the steps that share ``γΔt`` (as :class:`~crossdiff.fv.CutCellDiscretisation` keeps
its factorisations).

Per-edge parameters (:attr:`~crossdiff.grid.Edge.parameters`) compile the model once per
distinct set of values; each edge's cells use theirs for diffusion, sensitivities and
reactions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from ..errors import InputError, ModelError, NumericalError
from ..expressions import to_expr
from ..grid import Grid, Network
from ..model import CompiledModel, DiffusionKind, Model, compile_kernel, compile_model
from ..time import Coordinate, Layout, Variable
from ._discretise import Discretisation, model_attributes
from ._faces import limited_slopes
from ._graph import NetworkCells
from ._kernels import axis_view
from ._limiters import DEFAULT_LIMITER
from ._transport import taxis_divergence, upwind_divergence

__all__ = ["NetworkDiscretisation"]

_DUMMY = np.zeros((1, 1, 1))


class _Group:
    """The cells of the edges that share one set of parameter values, with their compiled model."""

    def __init__(self, compiled: CompiledModel, cells: np.ndarray | None, coords: tuple):
        self.compiled = compiled
        self.cells = cells  # None: every cell
        self.coords = coords


class _EdgeFlow:
    """A prescribed velocity along the edges: one value per edge (from its node ``a`` to ``b``),
    of ``t`` and the edge's parameters (incompressible: it may not vary along an edge, and at
    every vertex of several edges ``Σ A_e v_e`` into it is 0; checked at ``t = 0``)."""

    def bind(self, system: NetworkDiscretisation) -> None:
        net = system.network
        model = system.model
        assert model.flow is not None
        expr = model.flow.velocity[0]
        self.first = net.offsets[:-1]
        self.kernels = []
        for g in system._groups:
            cm = g.compiled.model if g.cells is not None else model
            value = cm.expand(expr).xreplace(cm.parameter_symbols())
            if value.free_symbols - {sp.Symbol("t")}:
                raise ModelError(
                    f"model {model.name!r}: the velocity along an edge may depend on t and the edge's parameters "
                    f"only (incompressible), got {value}"
                )
            cells = np.arange(net.size) if g.cells is None else g.cells
            edges = np.unique(net.edge_of_cell[cells])
            self.kernels.append((compile_kernel(value, [], "flow velocity along the edges"), edges))
        self.n_edges = len(net.edges)
        v = self.edge_velocities(0.0)
        if not np.all(np.isfinite(v)):
            raise ModelError(f"model {model.name!r}: the velocity along the edges is not finite at t = 0")
        graph = system.graph
        q = graph.end_area * np.repeat(v, 2) * np.tile([-1.0, 1.0], self.n_edges)
        balance = np.bincount(graph.end_node, weights=q, minlength=len(net.nodes))
        scale = float(np.max(np.abs(q), initial=0.0))
        for node, b in zip(net.nodes, balance):
            if net.degree[node] > 1 and abs(b) > 1e-12 * max(scale, 1e-300):
                raise ModelError(
                    f"the flow along the edges is not conserved at vertex {node!r}: sum of A v into it is {b:.3g} "
                    "(what arrives must leave)"
                )

    def edge_velocities(self, t: float) -> np.ndarray:
        """``v_e(t)`` per edge."""
        v = np.empty(self.n_edges)
        for kernel, edges in self.kernels:
            v[edges] = float(np.asarray(kernel(t, (0.0, 0.0, 0.0), np.zeros((0, 1)))))
        return v

    def face_velocities(self, t: float) -> tuple[np.ndarray, ...]:
        """The velocity of every edge's interior faces (what the step limits read)."""
        return (self.edge_velocities(t),)


class NetworkDiscretisation(Discretisation):
    """Finite volumes of ``model`` on a :class:`~crossdiff.grid.Network` (module docstring).

    The state is ``(n_species, network.size)``: the cell averages, edge after edge. Supported:
    constant and density-dependent diffusion, taxis, advection by a prescribed velocity along
    the edges, reactions, quasi-stationary species, with parameters per edge. Refused
    (:class:`~crossdiff.errors.ModelError`): computed flows and stream functions, a species'
    ``boundary`` sides (a network's boundary conditions are its vertex conditions).

    Parameters
    ----------
    model : Model
    network : Network
    limiter, krylov_rtol
        As :class:`Discretisation`.
    """

    def __init__(self, model: Model, network: Network, limiter: str = DEFAULT_LIMITER, krylov_rtol: float = 1e-10):
        if not isinstance(network, Network):
            raise InputError(f"a network discretisation needs a Network, got {type(network).__name__}")
        if isinstance(model, Model):
            flow = model.flow
            if flow is not None and (flow.computed or flow.stream is not None or len(flow.velocity) != 1):
                raise ModelError(
                    f"model {model.name!r}: on a network a flow is a prescribed velocity along the edges "
                    '([flow] velocity = ["U"], from each edge\'s node a to its node b)'
                )
            for s in model.species:
                if s.boundary:
                    raise ModelError(
                        f"species {s.name!r} has boundary sides: on a network give vertex conditions instead "
                        "([network.vertices])"
                    )
        carrier = Grid((network.size,), ((0.0, float(network.size)),))  # the base's bookkeeping only
        edge_flow = _EdgeFlow() if isinstance(model, Model) and model.flow is not None else None
        super().__init__(model, carrier, limiter=limiter, krylov_rtol=krylov_rtol, flow=edge_flow)
        self.network = network
        self.coords = (network.arc_length, 0.0, 0.0)
        names = set(model.species_names)
        for node, cond in network.vertices.items():
            for key in cond.values:
                if key not in names:
                    raise ModelError(f"vertex {node!r}: {key!r} is not a species of model {model.name!r}")
        self.graph = NetworkCells(network, model.parameters)
        self._groups = self._make_groups()
        if edge_flow is not None:
            edge_flow.bind(self)
        if len(self._groups) > 1:
            self._fused = None  # per-edge parameters: the NumPy kernels per group
        self._vertex_values = self._make_vertex_values()
        self._d_cells: dict[int, np.ndarray] = {}  # diffusion per cell (constant, or frozen at U^n)
        for i, cs in enumerate(self.compiled.species):
            if cs.diffusion_kind in (DiffusionKind.CONSTANT, DiffusionKind.TENSOR):  # a 1D tensor is a number
                self._d_cells[i] = self._cellwise(i, "diffusion", 0.0, None)
        self._stiff: dict[int, Any] = {}
        self._factors: dict[tuple, Any] = {}
        P = network.size + 2 * len(network.edges)
        self._pad = np.zeros((4, P))

    def _species_kind(self, i: int) -> np.ndarray:
        """Per node, the condition kind for species ``i`` (Kirchhoff where none is given for it)."""
        name = self.model.species_names[i]
        kinds = []
        for v in self.network.nodes:
            cond = self.network.condition(v)
            kinds.append(cond.kind if (name in cond.values or cond.kind == "noflux") else "kirchhoff")
        return np.array(kinds)

    def _make_vertex_values(self) -> list[dict[str, Any]]:
        """Per species: the masks of its Dirichlet and inflow ends and their value kernels."""
        net = self.network
        out = []
        for i, name in enumerate(self.model.species_names):
            kinds = self._species_kind(i)
            dirichlet = kinds[self.graph.end_node] == "dirichlet"
            inflow = kinds[self.graph.end_node] == "inflow"
            kirchhoff_pair = kinds[self.graph.pair_node] == "kirchhoff"
            kernels = {}
            for k in np.flatnonzero(dirichlet | inflow):
                node = net.nodes[int(self.graph.end_node[k])]
                text = net.condition(node).values[name]
                expr = self.model.expand(to_expr(text, f"vertex {node!r} value of {name!r}"))
                expr = expr.xreplace(self.model.parameter_symbols())
                if expr.free_symbols - {sp.Symbol("t")}:
                    raise ModelError(f"vertex {node!r}: the value of {name!r} may depend on t only, got {expr}")
                kernels[int(k)] = compile_kernel(expr, [], f"vertex {node!r} value of {name!r}")
            out.append({"dirichlet": dirichlet, "inflow": inflow, "pairs": kirchhoff_pair, "kernels": kernels})
        return out

    def _end_values(self, i: int, t: float, which: str) -> np.ndarray:
        """The Dirichlet values or inflow rates of species ``i`` at its ends of that kind."""
        vv = self._vertex_values[i]
        ends = np.flatnonzero(vv[which])
        return np.array([float(vv["kernels"][int(k)](t, (0.0, 0.0, 0.0), np.zeros((0, 1)))) for k in ends])

    # ------------------------------------------------------------------ per-edge parameters
    def _make_groups(self) -> list[_Group]:
        """The edges grouped by the values they give the parameters the kernels use (a
        parameter of the initial data alone, such as sir-network's ``I0``, makes no group)."""
        net = self.network
        used = {str(sym) for cs in self.compiled.species for sym in self._kernel_symbols(cs)}
        if self.model.flow is not None and self.model.flow.velocity:  # a velocity per edge
            used |= {str(sym) for sym in self.model.expand(sp.sympify(self.model.flow.velocity[0])).free_symbols}
        sets: dict[tuple, list[int]] = {}
        for e, edge in enumerate(net.edges):
            unknown = [p for p in edge.parameters if p not in self.model.parameters]
            if unknown:
                raise ModelError(f"edge {e} sets {unknown[0]!r}, which is not a parameter of the model")
            sets.setdefault(tuple(sorted((k, v) for k, v in edge.parameters.items() if k in used)), []).append(e)
        if list(sets) == [()]:
            return [_Group(self.compiled, None, self.coords)]
        groups = []
        for key, edges in sets.items():
            compiled = self.compiled if not key else compile_model(self.model.with_parameters(**dict(key)), 1)
            cells = np.flatnonzero(np.isin(net.edge_of_cell, edges))
            groups.append(_Group(compiled, cells, (net.arc_length[cells], 0.0, 0.0)))
        return groups

    def _kernel_symbols(self, cs: Any) -> set:
        """The parameters species ``cs``'s diffusion, sensitivities and reaction use."""
        model = self.model
        s = model.species[model.index(cs.name)]
        exprs = [s.reaction, *(t.sensitivity for t in s.taxis)]
        exprs += list(s.diffusion) if s.is_tensor else [s.diffusion]
        return set().union(*(model.expand(sp.sympify(e)).free_symbols for e in exprs if e is not None))

    def _cellwise(self, i: int, what: str, t: float, U: np.ndarray | None, k: int = 0) -> np.ndarray:
        """A kernel of species ``i`` on every cell, each edge with its parameters: ``what`` is
        ``"diffusion"``, ``"reaction"`` or ``"taxis"`` (the ``k``-th sensitivity)."""
        N = self.network.size
        V = np.zeros((self.n, N)) if U is None else U

        def kernel(cm: CompiledModel):
            s = cm.species[i]
            return s.scalar_diffusion if what == "diffusion" else s.reaction if what == "reaction" else s.taxis[k][1]

        if len(self._groups) == 1:
            return np.broadcast_to(np.asarray(kernel(self.compiled)(t, self.coords, V), dtype=float), (N,))
        out = np.empty(N)
        for g in self._groups:
            out[g.cells] = kernel(g.compiled)(t, g.coords, V[:, g.cells])
        return out

    # ------------------------------------------------------------------ description
    @cached_property
    def layout(self) -> Layout:
        net = self.network
        return Layout(
            fields=tuple(Variable(s.name, ("cell",), s.long_name) for s in self.model.species),
            coordinates=(
                Coordinate("cell", net.arc_length, "arc length of the cell centre along its edge (edge_of_cell)"),
            ),
            space=("cell",),
            cell_volume=1.0,
            attrs={**model_attributes(self.model), **net.attributes()},
            weights=net.cell_measure,
            weights_name="cell_measure",
            weights_long_name="volume A_e h_e of the cell (cross-section times width): the mass is sum(u * cell_measure)",
            place=net.place,
        )

    def jacobian_sparsity(self):
        """Cells coupled through at most two faces (taxis reconstructions), all species together."""
        import scipy.sparse as sps

        N = self.network.size
        links = self.graph.laplacian(
            np.ones(self.graph.face_left.size), np.ones(self.graph.pair_first.size), np.zeros(0, np.int64), None
        )
        near = (abs(links) + sps.identity(N)).tocsr()
        near = (near @ near).tocsr()
        near.data[:] = 1.0
        return sps.kron(np.ones((self.n, self.n)), near, format="csr")

    def mass(self, U: np.ndarray) -> np.ndarray:
        """``Σ A_e h_e u`` of every species."""
        return np.asarray(self.network.integrate(U))

    # ------------------------------------------------------------------ diffusion
    def _conductances(self, i: int, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Face, pair and Dirichlet-end conductances of species ``i`` with cell diffusions ``d``.

        A density-dependent ``D(u)`` is continuous through a vertex: its ends take the vertex's
        mean ``Σ k_e D_e / Σ k_e`` (``k_e = A_e / (h_e/2)``), which on a path of two equal edges is
        the interval's face mean. A constant ``D`` may jump at a vertex (per-edge parameters):
        each end keeps its edge's, and the elimination gives the series (harmonic) combination
        that makes piecewise-linear steady states exact."""
        vv = self._vertex_values[i]
        graph = self.graph
        face = graph.face_conductance * 0.5 * (d[graph.face_left] + d[graph.face_right])
        d_end = d[graph.end_cell]
        if self.compiled.species[i].diffusion_kind is DiffusionKind.NONLINEAR:
            k = graph.end_area / graph.end_half
            nodes = len(self.network.nodes)
            mean = np.bincount(graph.end_node, weights=k * d_end, minlength=nodes) / np.bincount(
                graph.end_node, weights=k, minlength=nodes
            )
            d_end = mean[graph.end_node]
        g = graph.end_conductance(d_end)
        pair = np.where(vv["pairs"], self.graph.pair_conductance(np.where(vv["dirichlet"] | vv["inflow"], 0.0, g)), 0.0)
        ends = np.flatnonzero(vv["dirichlet"])
        dirichlet = 2.0 * self.graph.end_area[ends] * d[self.graph.end_cell[ends]] / (2.0 * self.graph.end_half[ends])
        return face, pair, ends, dirichlet

    def _stiffness(self, i: int):
        """``K_i / τ_i`` of species ``i`` (made once; again after :meth:`refresh`)."""
        if i not in self._stiff:
            face, pair, ends, dirichlet = self._conductances(i, self._d_cells[i])
            self._stiff[i] = self.graph.laplacian(face, pair, ends, dirichlet) * self.inv_tau[i]
        return self._stiff[i]

    def _has_diffusion(self, i: int) -> bool:
        return bool(self.parabolic[i]) and self.compiled.species[i].diffusion_kind is not DiffusionKind.NONE

    def refresh(self, t: float, U: np.ndarray) -> None:
        """Freeze density-dependent diffusions at ``U``; drop their matrices and factors.

        Raises :class:`NumericalError` if a diffusion became negative."""
        for i, s in enumerate(self.compiled.species):
            if s.diffusion_kind is not DiffusionKind.NONLINEAR:
                continue
            d = self._cellwise(i, "diffusion", t, U)
            dmin, dmax = float(np.min(d)), float(np.max(d))
            if not (np.isfinite(dmin) and np.isfinite(dmax)):
                continue
            if dmin < 0:
                raise NumericalError(f"diffusion of species {s.name!r} became negative ({dmin:g})")
            self._d_cells[i] = np.array(d)
            self._frozen[i] = [d]
            self._stiff.pop(i, None)
            for key in [k for k in self._factors if k[0] == ("species", i)]:
                del self._factors[key]

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """``L U``: ``M⁻¹ K_i u_i / τ_i`` of every diffusing species."""
        out = np.zeros_like(U)
        for i in range(self.n):
            if self._has_diffusion(i):
                if i not in self._d_cells:
                    raise RuntimeError("refresh() must be called before the implicit operator")  # pragma: no cover
                out[i] = (self._stiffness(i) @ U[i]) / self.graph.measure
        return out

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        if self.has_nonlinear_diffusion and not self._frozen:
            self.refresh(t, U)
        return self.explicit(t, U) + self.implicit(U)

    def _operator_key(self, i: int) -> tuple:
        s = self.compiled.species[i]
        if s.diffusion_kind is DiffusionKind.NONLINEAR:
            return ("species", i)
        vv = self._vertex_values[i]
        return ("constant", self._d_cells[i].tobytes(), float(self.inv_tau[i]), vv["dirichlet"].tobytes())

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """Solve ``(I − γΔt L) U = B``: per species ``(M − γΔt K_i/τ_i) u = M b`` by
        :class:`GraphSolve`, its factorisations kept for the next solves with the same ``γΔt``."""
        self.counters.n_implicit_solves += 1
        if out is None:
            out = np.empty_like(B)
        for i in range(self.n):
            if not self._has_diffusion(i):
                out[i] = B[i]
                continue
            key = (self._operator_key(i), gamma_dt)
            lu = self._factors.get(key)
            if lu is None:
                if len(self._factors) >= 2 * self.n:  # the step size changed: the old ones go
                    self._factors.clear()
                face, pair, ends, dirichlet = self._conductances(i, self._d_cells[i])
                lu = self.graph.solver(self.graph.measure, gamma_dt * self.inv_tau[i], face, pair, ends, dirichlet)
                self._factors[key] = lu
            x = lu.solve(self.graph.measure * B[i])
            if not np.all(np.isfinite(x)):
                raise NumericalError(f"implicit diffusion solve of species {self.model.species_names[i]!r} failed")
            out[i] = x
        return out

    def solve_elliptic(self, t: float, U: np.ndarray) -> np.ndarray:
        """The quasi-stationary species: ``(|c| M − K) u = M r`` (mean-free when ``c = 0`` and
        no Dirichlet vertex: ``r`` and ``u`` of zero mass)."""
        import scipy.sparse as sps
        from scipy.sparse.linalg import splu, spsolve

        M = self.graph.measure
        for e in self._elliptic:
            i = e.index
            r = np.array(e.rest.evaluate_array(t, self.coords, U), dtype=float)
            vv = self._vertex_values[i]
            d = np.full(self.network.size, e.diffusion)
            face, pair, ends, dirichlet = self._conductances(i, d)
            K = self.graph.laplacian(face, pair, ends, dirichlet)
            rate = np.zeros(self.network.size)
            self._vertex_sources(i, t, d, rate)
            r = r + rate
            mean_free = e.linear == 0 and not vv["dirichlet"].any()
            if mean_free:
                r -= np.sum(M * r) / np.sum(M)
                w = M[:, None]
                bordered = sps.bmat([[-K, sps.csc_matrix(w)], [sps.csc_matrix(w.T), None]], format="csc")
                u = spsolve(bordered, np.append(M * r, 0.0))[:-1]
                u -= np.sum(M * u) / np.sum(M)
            else:
                key = ("elliptic", i)
                lu = self._factors.get(key)
                if lu is None:
                    lu = splu((sps.diags(-e.linear * M) - K).tocsc())
                    self._factors[key] = lu
                u = lu.solve(M * r)
            U[i] = u
        return U

    def _vertex_sources(self, i: int, t: float, d: np.ndarray, rate: np.ndarray) -> None:
        """``rate += (g_e g(t) + q(t)) / (A h)`` in the end cells of Dirichlet and inflow vertices."""
        vv = self._vertex_values[i]
        if vv["dirichlet"].any():
            ends = np.flatnonzero(vv["dirichlet"])
            c = 2.0 * self.graph.end_area[ends] * d[self.graph.end_cell[ends]] / (2.0 * self.graph.end_half[ends])
            np.add.at(
                rate,
                self.graph.end_cell[ends],
                c * self._end_values(i, t, "dirichlet") / self.graph.measure[self.graph.end_cell[ends]],
            )
        if vv["inflow"].any():
            ends = np.flatnonzero(vv["inflow"])
            np.add.at(
                rate,
                self.graph.end_cell[ends],
                self._end_values(i, t, "inflow") / self.graph.measure[self.graph.end_cell[ends]],
            )

    # ------------------------------------------------------------------ explicit part
    def vertex_values(self, i: int, t: float, u: np.ndarray) -> np.ndarray:
        """Per end, the vertex value of species ``i`` its edge sees: the Dirichlet value, or the
        Kirchhoff value ``Σ k_e u_e / Σ k_e`` (geometric conductances; a no-flux or inflow end:
        its own cell's value)."""
        vv = self._vertex_values[i]
        ue = u[self.graph.end_cell]
        k = np.where(vv["dirichlet"] | vv["inflow"], 0.0, self.graph.end_geometric)
        nodes = len(self.network.nodes)
        num = np.bincount(self.graph.end_node, weights=k * ue, minlength=nodes)
        den = np.bincount(self.graph.end_node, weights=k, minlength=nodes)
        out = np.where(
            den[self.graph.end_node] > 0,
            num[self.graph.end_node] / np.where(den > 0, den, 1.0)[self.graph.end_node],
            ue,
        )
        out = np.where(vv["inflow"], ue, out)
        if vv["dirichlet"].any():
            out[vv["dirichlet"]] = self._end_values(i, t, "dirichlet")
        return out

    def _end_faces(self, i: int, t: float, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per end: the ghost value beyond the vertex ``max(0, 2u_v − u_e)`` and the limited face
        value of the end cell at the vertex."""
        ue, ui = u[self.graph.end_cell], u[self.graph.end_inner]
        ghost = np.maximum(0.0, 2.0 * self.vertex_values(i, t, u) - ue)
        slopes = limited_slopes(np.stack([ghost, ue, ui], axis=1), 1, False, self.limiter)[:, 1]
        return ghost, ue - 0.5 * slopes

    def _taxis(self, t: float, U: np.ndarray, i: int, rate: np.ndarray) -> None:
        """``rate −= (taxis mass rates) / (A h)`` of species ``i``: every edge's interior faces
        by the compiled kernel, the vertex faces upwinded (module docstring)."""
        net = self.network
        N = net.size
        E = len(net.edges)
        u_pad, w_pad, chi_pad, tmp = self._pad
        cells = self._cell_pos
        lo, hi = self._ghost_lo, self._ghost_hi
        ghost, face_u = self._end_faces(i, t, U[i])
        for k, (j, chi_kernel) in enumerate(self.compiled.species[i].taxis):
            if len(self._groups) == 1:
                chi = chi_kernel(t, self.coords, U)
            else:
                chi = self._cellwise(i, "taxis", t, U, k)
            const = np.ndim(chi) == 0
            u_pad[cells] = U[i]
            u_pad[lo] = ghost[0::2]
            u_pad[hi] = ghost[1::2]
            w_pad[cells] = U[j] if self._uniform else U[j] / self.graph.h_cell
            w_pad[lo] = w_pad[cells[self.graph.end_cell[0::2]]]
            w_pad[hi] = w_pad[cells[self.graph.end_cell[1::2]]]
            if not const:
                chi_cells = np.broadcast_to(np.asarray(chi, dtype=float), (N,))
                chi_pad[cells] = chi_cells
                chi_pad[lo] = chi_cells[self.graph.end_cell[0::2]]
                chi_pad[hi] = chi_cells[self.graph.end_cell[1::2]]
            tmp.fill(0.0)
            taxis_divergence(
                axis_view(u_pad, 0),
                axis_view(w_pad, 0),
                _DUMMY if const else axis_view(chi_pad, 0),
                float(chi) if const else 0.0,
                const,
                self._uniform or 1.0,
                False,
                self._theta,
                axis_view(tmp, 0),
                1.0,
            )
            rate += tmp[cells] if self._uniform else tmp[cells] / self.graph.h_cell
            # the vertex faces
            chi_end = np.full(2 * E, float(chi)) if const else chi_cells[self.graph.end_cell]
            wv = self.vertex_values(j, t, U[j])
            w_end = U[j][self.graph.end_cell]
            vv = self._vertex_values[i]
            a_, b_ = self.graph.pair_first, self.graph.pair_second
            speed = np.where(
                vv["pairs"],
                0.5 * (chi_end[a_] + chi_end[b_]) * (w_end[b_] - w_end[a_]) * self.graph.pair_geometric,
                0.0,
            )
            Q = np.maximum(speed, 0.0) * face_u[a_] + np.minimum(speed, 0.0) * face_u[b_]
            np.subtract.at(rate, self.graph.end_cell[a_], Q / self.graph.measure[self.graph.end_cell[a_]])
            np.add.at(rate, self.graph.end_cell[b_], Q / self.graph.measure[self.graph.end_cell[b_]])
            if vv["dirichlet"].any():  # out of the edge into the vertex, upwinded with g
                ends = np.flatnonzero(vv["dirichlet"])
                g = self._end_values(i, t, "dirichlet")
                a = chi_end[ends] * (wv[ends] - w_end[ends]) * self.graph.end_area[ends] / self.graph.end_half[ends]
                Qd = np.maximum(a, 0.0) * face_u[ends] + np.minimum(a, 0.0) * g
                np.subtract.at(rate, self.graph.end_cell[ends], Qd / self.graph.measure[self.graph.end_cell[ends]])

    def _advect_edges(self, t: float, U: np.ndarray, i: int, rate: np.ndarray) -> None:
        """``rate −= ∂_s(u v_e)``: each edge's interior faces by the compiled upwind kernel
        (:func:`~crossdiff.fv.upwind_divergence`) on the padded line; at a vertex the outflow of
        the edges that run into it, ``Σ q_e⁺ u_e*`` (``q_e = A_e v_e`` toward the vertex, ``u*``
        the limited face value), is mixed and leaves by the edges that run out of it in
        proportion to their ``|q_e⁻|``; at a leaf the flow leaves the network, or enters with the
        species' Dirichlet value there (0 without one)."""
        assert isinstance(self.flow, _EdgeFlow)
        net, graph = self.network, self.graph
        v = self.flow.edge_velocities(t)
        u_pad, _, _, tmp = self._pad
        cells = self._cell_pos
        ghost, face_u = self._end_faces(i, t, U[i])
        u_pad[cells] = U[i]
        u_pad[self._ghost_lo] = ghost[0::2]
        u_pad[self._ghost_hi] = ghost[1::2]
        faces = self._flow_faces
        faces[self._interior_faces] = v[net.edge_of_cell[graph.face_left]]
        tmp.fill(0.0)
        upwind_divergence(
            axis_view(u_pad, 0),
            faces[None, :, None],
            self._uniform or 1.0,
            axis_view(tmp, 0),
            limiter=self.limiter,
        )
        rate += tmp[cells] if self._uniform else tmp[cells] / graph.h_cell
        # the vertices: q > 0 runs from the edge into the vertex (its b end for v > 0)
        q = graph.end_area * np.repeat(v, 2) * np.tile([-1.0, 1.0], len(net.edges))
        out = np.maximum(q, 0.0) * face_u
        nodes = len(net.nodes)
        arriving = np.bincount(graph.end_node, weights=out, minlength=nodes)
        leaving = np.bincount(graph.end_node, weights=np.maximum(-q, 0.0), minlength=nodes)
        value = np.where(leaving > 0, arriving / np.where(leaving > 0, leaving, 1.0), 0.0)[graph.end_node]
        vv = self._vertex_values[i]
        if vv["dirichlet"].any():  # what enters at a Dirichlet vertex carries its value
            value[vv["dirichlet"]] = self._end_values(i, t, "dirichlet")
        inflow = np.maximum(-q, 0.0) * value
        np.add.at(rate, graph.end_cell, (inflow - out) / graph.measure[graph.end_cell])

    @cached_property
    def _flow_faces(self) -> np.ndarray:
        """Face velocities of the padded line (0 on the faces next to ghost cells)."""
        return np.zeros(self.network.size + 2 * len(self.network.edges) + 1)

    @cached_property
    def _interior_faces(self) -> np.ndarray:
        """The padded line's face between each interior face's cells (its right cell's left face)."""
        return self._cell_pos[self.graph.face_right]

    @cached_property
    def _uniform(self) -> float:
        """The cell width when every edge has the same one (the kernel then takes it as the box
        does: the same rounding as an interval), else 0 (the signal is divided by each edge's)."""
        h = self.network.edge_spacing
        return float(h[0]) if np.all(h == h[0]) else 0.0

    @cached_property
    def _cell_pos(self) -> np.ndarray:
        """Positions of the cells on the padded line (each edge between two ghost cells)."""
        net = self.network
        return np.arange(net.size) + 2 * net.edge_of_cell + 1

    @cached_property
    def _ghost_lo(self) -> np.ndarray:
        net = self.network
        return net.offsets[:-1] + 2 * np.arange(len(net.edges))

    @cached_property
    def _ghost_hi(self) -> np.ndarray:
        net = self.network
        return net.offsets[1:] + 2 * np.arange(len(net.edges)) + 1

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``E(t, U)``: reactions, taxis, vertex sources and the explicit rest of nonlinear
        diffusion, divided by ``τ``."""
        self.counters.nfev += 1
        if out is None:
            out = np.empty_like(U)
        U = np.ascontiguousarray(U)
        fused = self._fused is not None
        if self._fused is not None:
            self._fused(np.float64(t), U, out)
        for i, s in enumerate(self.compiled.species):
            rate = out[i]
            if not self.parabolic[i]:
                rate.fill(0.0)
                continue
            if not fused:
                if len(self._groups) == 1:
                    rate[...] = s.reaction(t, self.coords, U)
                else:
                    rate[...] = self._cellwise(i, "reaction", t, U)
            if s.taxis:
                self._taxis(t, U, i, rate)
            if i in self._advected:
                self._advect_edges(t, U, i, rate)
            if s.diffusion_kind is not DiffusionKind.NONE:
                if i not in self._d_cells:
                    self.refresh(t, U)
                if s.diffusion_kind is DiffusionKind.NONLINEAR:  # the rest K(D(U)) − K(D(Uⁿ)), and g at D(U)
                    d = np.asarray(self._cellwise(i, "diffusion", t, U))
                    face, pair, ends, dirichlet = self._conductances(i, d)
                    now = self.graph.laplacian(face, pair, ends, dirichlet)
                    rate += ((now @ U[i]) - (self._stiffness(i) @ U[i]) / self.inv_tau[i]) / self.graph.measure
                    self._vertex_sources(i, t, d, rate)
                else:
                    self._vertex_sources(i, t, self._d_cells[i], rate)
            if self.inv_tau[i] != 1.0:
                rate *= self.inv_tau[i]
        return out

    # ------------------------------------------------------------------ step limits
    def _rates(self, t: float, U: np.ndarray, i: int) -> tuple[float, float]:
        """The largest outflow rate of a cell by taxis (1/time) and the largest taxis speed."""
        rate = np.zeros(self.network.size)
        speed = 0.0
        for k, (j, _) in enumerate(self.compiled.species[i].taxis):
            chi = np.abs(np.broadcast_to(np.asarray(self._cellwise(i, "taxis", t, U, k), dtype=float), rate.shape))
            w = U[j]
            a = (
                0.5
                * (chi[self.graph.face_left] + chi[self.graph.face_right])
                * np.abs(w[self.graph.face_right] - w[self.graph.face_left])
            )
            a = a / self.graph.h_cell[self.graph.face_left]
            np.maximum.at(rate, self.graph.face_left, a / self.graph.h_cell[self.graph.face_left])
            np.maximum.at(rate, self.graph.face_right, a / self.graph.h_cell[self.graph.face_left])
            speed = max(speed, float(np.max(a, initial=0.0)))
            ca, cb = self.graph.end_cell[self.graph.pair_first], self.graph.end_cell[self.graph.pair_second]
            q = 0.5 * (chi[ca] + chi[cb]) * np.abs(w[cb] - w[ca]) * self.graph.pair_geometric
            out = np.zeros_like(rate)
            np.add.at(out, ca, q / self.graph.measure[ca])
            np.add.at(out, cb, q / self.graph.measure[cb])
            rate = np.maximum(rate, out)
            if q.size:
                speed = max(speed, float(np.max(q / self.graph.end_area[self.graph.pair_first])))
        if i in self._advected and isinstance(self.flow, _EdgeFlow):
            v = np.abs(self.flow.edge_velocities(t))
            rate = rate + (v / self.network.edge_spacing)[self.network.edge_of_cell]
            speed = max(speed, float(np.max(v)))
        return float(np.max(rate, initial=0.0)) * self.inv_tau[i], speed * self.inv_tau[i]

    def taxis_rate(self, t: float, U: np.ndarray) -> float:
        return max((self._rates(t, U, i)[0] for i in self._taxis_species()), default=0.0)

    def transport_limit(self, t: float, U: np.ndarray, cfl: float) -> float:
        """The box's bound (:meth:`Discretisation.transport_limit`) with the cells' outflow rates
        through interior and vertex faces."""
        limit = math.inf
        for i in self._taxis_species():
            hyperbolic, speed = self._rates(t, U, i)
            if hyperbolic <= 0:
                continue
            bound = 1.0 / hyperbolic
            d = self._d_cells.get(i)
            d_min = float(np.min(d)) * self.inv_tau[i] if d is not None else 0.0
            if d_min > 0 and speed > 0:
                bound = max(bound, 2.0 * d_min / speed**2)
            limit = min(limit, cfl * bound)
        return limit

    def diffusion_rate(self, t: float, U: np.ndarray) -> float:
        """``max_i max_c |K_cc| / (A h)``: the explicit diffusion rate (the box's ``2D/h²``)."""
        rate = 0.0
        for i in range(self.n):
            if self._has_diffusion(i):
                if i not in self._d_cells:
                    self.refresh(t, U)
                diag = np.abs(self._stiffness(i).diagonal())
                rate = max(rate, float(np.max(diag / self.graph.measure)))
        return rate

    # ------------------------------------------------------------------ data
    def initial_state(self, frame: Mapping[str, np.ndarray] | np.ndarray, t: float = 0.0) -> np.ndarray:
        """The state from the species' fields on the cells (as :meth:`Discretisation.initial_state`)."""
        return super().initial_state(frame, t)
