r"""The state of :class:`~crossdiff.kinetic.KineticDiscretisation` on its staggered grid
(``docs/kinetic.md``, "Space" and "Walls").

The micro–macro decomposition ``f_i = M_i ρ_i + ε g_i`` (Lemou & Mieussens, SIAM J. Sci.
Comput. 31, 2008) is discretised with the densities ``ρ_i`` at the cell centres and the micro
part at the faces of each axis, one copy ``g_i^a`` per axis on the faces normal to it (a
staggered grid, so that ``∇·⟨v g⟩`` of ``g ≈ (𝒯^0)^{-1} v·∇(Mρ)`` is the compact Laplacian).
:class:`StaggeredGrid` holds the layout of the state array (views of the densities and of each
``g^a``, the extra slot of a wall axis) and the finite-volume operations between centres and
faces: face means and differences, centred differences, the divergence of face fluxes, the
compact Laplacian and the gradients at the faces.

No-flux walls are specular reflection ``f(x_wall, v) = f(x_wall, v − 2(v·n)n)`` on the physical
domain: the densities see reflected ghost cells (the ghost repeats the wall cell), the micro
part has unknowns on the wall faces, and no flux passes a wall, so the mass is conserved to
round-off. :func:`reflection` gives the index of the reflected velocity of every node and
checks that the velocity set and the equilibria are symmetric under it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import KineticModelError
from ..fv import divergence, face_difference, face_mean
from ..grid import Grid
from ._nodal import NodalModel

__all__ = ["StaggeredGrid", "reflection"]


def reflection(nodes: np.ndarray, axis: int, weights: np.ndarray, m: Mapping[str, np.ndarray]) -> np.ndarray:
    """Index of the reflection ``v → v − 2 v_a e_a`` of every node, or a KineticModelError."""
    from scipy.spatial import cKDTree

    target = nodes.copy()
    target[:, axis] *= -1
    scale = max(1.0, float(np.max(np.abs(nodes))))
    # the node within 1e-9 scale of each reflected node (max norm), and whether a second one is:
    # a k-d tree, O(m log m) (an all-pairs comparison would hang on a large set)
    k = min(2, len(nodes))
    dist, hit = cKDTree(nodes).query(target, k=k, p=np.inf, distance_upper_bound=1e-9 * scale)
    dist, hit = dist.reshape(len(nodes), k), hit.reshape(len(nodes), k)
    found = np.isfinite(dist[:, 0]) & (np.isinf(dist[:, 1]) if k == 2 else True)
    out = np.where(found, hit[:, 0], 0)
    if not np.all(found) or np.any(np.abs(weights[out] - weights) > 1e-12 * weights):
        raise KineticModelError(
            f"walls need a velocity set closed under reflection along axis {axis} (specular reflection); "
            f"{len(nodes)} velocities are not"
            + (" (use an even number of directions)" if nodes.shape[1] == 2 and len(nodes) % 2 else "")
        )
    for name, eq in m.items():
        if np.max(np.abs(eq[out] - eq)) > 1e-12 * np.max(np.abs(eq)):
            raise KineticModelError(f"walls need an equilibrium of {name!r} symmetric under reflection")
    return out


class StaggeredGrid:
    """The state layout and the centre/face operations of the micro–macro scheme on ``grid``.

    State ``U``: ``(n_species (1 + d m), *shape)`` with ``shape`` the cells, plus one slot along
    every wall axis; components ``0 … n_species − 1`` are the densities at the cell centres
    (``[:n]`` along a wall axis, the extra slot a copy of the wall cell), component
    ``n_species + (i d + a) m + k`` is ``g_i^a(v_k)`` at face ``j`` of axis ``a``, between cells
    ``j − 1`` and ``j`` (the periodic convention of :mod:`crossdiff.fv`; with walls faces
    ``0 … n``, the walls ``0`` and ``n``). The unused slots of the micro parts stay zero.

    Parameters
    ----------
    grid : Grid
        Periodic or no-flux (specular walls) axes.
    n_species : int
    nodal : NodalModel
        The velocity nodes, weights and equilibria (a wall needs them symmetric under reflection).
    """

    def __init__(self, grid: Grid, n_species: int, nodal: NodalModel):
        nodes, w = nodal.nodes, nodal.weights
        d = grid.ndim
        self.grid = grid
        self.n_species, self.dim, self.m = n_species, d, len(w)
        # walls: specular reflection through reflected ghost values (no doubled domain). The
        # state is padded by one slot along every wall axis: the micro part ``g^a`` has the
        # ``n_a + 1`` faces ``0 … n_a`` of a wall axis (faces 0 and n_a are the walls); the
        # densities and the ``g^b`` of the other axes use the first ``n_a`` slots (the last is 0).
        self.walls = tuple(not p for p in grid.periodic)
        self.reflect = [
            reflection(nodes, a, w, nodal.equilibria) if self.walls[a] else np.arange(self.m) for a in range(d)
        ]
        self.shape = tuple(c + 1 if wall else c for c, wall in zip(grid.cells, self.walls))
        self.h = grid.spacing
        self.cells = tuple(slice(0, c) for c in grid.cells)
        self.face_slices = [
            tuple(slice(0, c + 1) if (b == a and self.walls[b]) else slice(0, c) for b, c in enumerate(grid.cells))
            for a in range(d)
        ]

    def g(self, U: np.ndarray, a: int) -> np.ndarray:
        """The micro part ``g^a`` on the faces of axis ``a``: a view ``(ns, m, *faces)``."""
        ns = self.n_species
        return U[ns:].reshape(ns, self.dim, self.m, *U.shape[1:])[(slice(None), a, slice(None)) + self.face_slices[a]]

    def block(self, U: np.ndarray, i: int, a: int) -> np.ndarray:
        """The slots of ``g_i^a`` in ``U``: a view ``(m, *shape)``, C-contiguous when ``U`` is, whose
        leading box ``[:, *faces of axis a]`` is ``g(U, a)[i]`` (the rest: the unused slots of the
        other wall axes, zero). For the compiled kernels (:mod:`._kernels`), whose loops over a
        contiguous array vectorise."""
        start = self.n_species + (i * self.dim + a) * self.m
        return U[start : start + self.m]

    def rho(self, U: np.ndarray) -> np.ndarray:
        """The densities at the cell centres, ``(ns, *cells)`` (contiguous)."""
        return np.ascontiguousarray(U[(slice(None, self.n_species),) + self.cells])

    def zero_pads(self, U: np.ndarray) -> None:
        """Zero the unused slots of the micro parts (along the wall axes other than their own)."""
        ns, d = self.n_species, self.dim
        micro = U[ns:].reshape(ns, d, self.m, *U.shape[1:])
        for a in range(d):
            for b in range(d):
                if b != a and self.walls[b]:
                    micro[(slice(None), a, slice(None)) + (slice(None),) * b + (self.grid.cells[b],)] = 0.0

    def set_rho(self, U: np.ndarray, rho: np.ndarray) -> None:
        """Write densities (or their rates) into ``U``; the extra slot of a wall axis gets the
        wall cell's value (its reflected ghost), so that every stage sum, rate and error is the
        same extension of its densities and the error norms see no artificial zeros."""
        pad = [(0, 0)] + [(0, 1) if wall else (0, 0) for wall in self.walls]
        U[: self.n_species] = np.pad(rho, pad, mode="edge") if any(self.walls) else rho

    def edge(self, x: np.ndarray, ax: int) -> np.ndarray:
        """``x`` with one reflected ghost cell at both ends of array axis ``ax`` (the even
        reflection of a cell-centred field at a wall: the ghost repeats the wall cell)."""
        return np.concatenate([np.take(x, [0], axis=ax), x, np.take(x, [-1], axis=ax)], axis=ax)

    def face_mean(self, x: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """Mean of the two cells at every face of axis ``a`` (with walls: ``n + 1`` faces, the
        wall faces taking the wall cell's value)."""
        ax = lead + a
        return face_mean(self.edge(x, ax), ax, False) if self.walls[a] else face_mean(x, ax, True)

    def face_difference(self, x: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """``x_right − x_left`` at every face of axis ``a`` (zero at walls)."""
        ax = lead + a
        return face_difference(self.edge(x, ax), ax, False) if self.walls[a] else face_difference(x, ax, True)

    def centred(self, x: np.ndarray, b: int, lead: int = 1) -> np.ndarray:
        """Centred difference ``(x_{k+1} − x_{k−1}) / 2h`` along axis ``b`` (reflected at walls)."""
        ax = lead + b
        if self.walls[b]:
            e = self.edge(x, ax)
            n = x.shape[ax]
            return (np.take(e, range(2, n + 2), axis=ax) - np.take(e, range(n), axis=ax)) / (2 * self.h[b])
        return (np.roll(x, -1, axis=ax) - np.roll(x, 1, axis=ax)) / (2 * self.h[b])

    def divergence(self, flux: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """``(F_{k+1/2} − F_{k−1/2}) / h`` of face fluxes on axis ``a``; at walls only the
        interior faces count (no flux through a wall: mass conserved to round-off)."""
        ax = lead + a
        if self.walls[a]:
            n = flux.shape[ax] - 1
            return divergence(np.take(flux, range(1, n), axis=ax), ax, False, self.h[a])
        return divergence(flux, ax, True, self.h[a])

    def laplacian(self, rho: np.ndarray) -> np.ndarray:
        """The compact finite-volume Laplacian (no flux through walls), the operator of
        :class:`crossdiff.fv.SpectralLaplacian`."""
        out = np.zeros_like(rho)
        for a in range(self.dim):
            ax = 1 + a
            if self.walls[a]:  # the interior faces' differences directly: the wall faces' are zero
                out += divergence(np.diff(rho, axis=ax) / self.h[a], ax, False, self.h[a])
            else:
                out += self.divergence(self.face_difference(rho, a) / self.h[a], a)
        return out

    def gradients_at_faces(self, rho: np.ndarray, a: int) -> np.ndarray:
        """``∇ρ`` at the faces of axis ``a``: ``(ns, d, *faces)`` (compact along ``a``, averaged
        centred differences across; zero normal derivative at walls)."""
        faces = self.face_mean(rho, a)
        out = np.empty((rho.shape[0], self.dim, *faces.shape[1:]))
        for b in range(self.dim):
            if b == a:
                out[:, b] = self.face_difference(rho, a) / self.h[a]
            else:
                out[:, b] = self.face_mean(self.centred(rho, b), a)
        return out
