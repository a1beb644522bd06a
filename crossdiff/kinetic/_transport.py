r"""The transport of the micro part of :class:`~crossdiff.kinetic.KineticDiscretisation`:
``−v·∇g`` on the staggered grid, with specular reflection at walls (``docs/kinetic.md``).

Each copy ``g_i^a`` (on the faces of axis ``a``) moves with the constant velocity of each node:
the limited upwind divergence of the finite volumes (:func:`crossdiff.fv.upwind_transport`,
limited MUSCL reconstruction, every axis of one velocity in cache). At a wall of axis ``b`` the
inflow ghost is the reflected velocity's value of the mirror point
(:class:`crossdiff.fv.BoundaryKind` ``INFLOW``): the scheme on the doubled periodic domain of
the even reflection ``x → −x, v → R v`` up to the wall cells' own slopes, at half (1D) to an
eighth (3D) of its cost.
"""

from __future__ import annotations

import numpy as np

from ..fv import BoundaryKind, limited_slopes, upwind_transport
from ._staggered import StaggeredGrid

__all__ = ["MicroTransport"]


class MicroTransport:
    """``g^a ↦ −Σ_b ∂_b (v_b g^a)`` on ``staggered`` for the velocity ``nodes`` ``(m, d)``, with
    the slope ``limiter`` of the reconstructions."""

    def __init__(self, staggered: StaggeredGrid, nodes: np.ndarray, limiter: str):
        self.nodes, self.limiter = nodes, limiter
        self.n_species, self.dim = staggered.n_species, staggered.dim
        self.walls, self.reflect, self.h = staggered.walls, staggered.reflect, staggered.h

    def __call__(self, g: np.ndarray, out: np.ndarray, a: int) -> None:
        """``out = −Σ_b ∂_b (v_b g^a)``: the limited upwind divergence along every axis
        (:func:`crossdiff.fv.upwind_transport`, one velocity at a time in cache: the micro part is
        read and written once per evaluation, not once per axis, and no state-sized copy of a
        wall axis's strided faces is made), for ``g^a`` ``(ns, m, *faces)`` (any strides;
        ``out`` likewise). At a wall the inflow values are :meth:`inflow_ghosts`."""
        d = self.dim
        ghosts = [self.inflow_ghosts(g, a, b) for b in range(d)]
        kinds = tuple(BoundaryKind.INFLOW if wall else BoundaryKind.PERIODIC for wall in self.walls)
        for i in range(self.n_species):
            upwind_transport(
                g[i],
                self.nodes,
                tuple(self.h),
                out[i],
                limiter=self.limiter,
                boundary=kinds,
                ghosts=tuple(None if pair is None else (pair[0][i], pair[1][i]) for pair in ghosts),
            )

    def inflow_ghosts(self, g: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The inflow values of ``g^a`` ``(ns, m, *faces)`` beyond the two walls of axis ``b``,
        each ``(ns, m, *faces without b)``; None for a periodic axis.

        Specular reflection ``g(x_wall, v) = g(x_wall, R_b v)``: across the faces of another
        axis (``b ≠ a``, cell positions along ``b``) the wall cell's value of the reflected
        velocity (:class:`crossdiff.fv.BoundaryKind` ``INFLOW``, the documented specular ghost);
        along the faces of ``a`` itself (``b = a``, points ``0 … n`` with the walls at ``0`` and
        ``n``) the reconstructed value of the mirror point (``−1 ↔ 1``, ``n + 1 ↔ n − 1``) with
        the reflected velocity, so that a wall point's ``g`` stays even in ``v_b``.
        """
        if not self.walls[b]:
            return None
        ax = 2 + b
        n = g.shape[ax]
        reflect = self.reflect[b]

        def point(k: int) -> np.ndarray:  # a view: np.take would copy all of a strided g first
            return g[(slice(None),) * ax + (k,)]

        def mirror(k: int) -> np.ndarray:  # g(R_b v) at point k along b
            return point(k)[:, reflect]

        # the ghost beyond each wall is the mirror of the point ``near`` (across: the wall cell;
        # along: the first point inside) with the reflected velocity; its value facing the wall
        # is reconstructed with its slope limited between its neighbours, the point beyond it and
        # the wall point itself, as on the doubled domain of the even reflection
        near_lo, near_hi = (1, n - 2) if b == a else (0, n - 1)
        ghosts = []
        for near, beyond, step in ((near_lo, 0, 1), (near_hi, n - 1, -1)):
            value = mirror(near)
            if n >= 3:
                triple = np.stack([point(beyond), value, mirror(near + step)])
                value = value - 0.5 * limited_slopes(triple, 0, False, self.limiter)[1]
            ghosts.append(np.ascontiguousarray(value))
        return ghosts[0], ghosts[1]
