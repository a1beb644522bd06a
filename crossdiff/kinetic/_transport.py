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

__all__ = ["MicroTransport", "ImplicitTransport"]


class MicroTransport:
    """``g^a ↦ −Σ_b ∂_b (v_b g^a)`` on ``staggered`` for the velocity ``nodes`` ``(m, d)``, with
    the slope ``limiter`` of the reconstructions."""

    def __init__(self, staggered: StaggeredGrid, nodes: np.ndarray, limiter: str):
        self.nodes, self.limiter, self.staggered = nodes, limiter, staggered
        self.n_species, self.dim = staggered.n_species, staggered.dim
        self.walls, self.reflect = staggered.walls, staggered.reflect

    @property
    def h(self) -> tuple[float, ...]:
        """The spacing per axis, read from the staggered grid at every call (cells that move)."""
        return self.staggered.h

    def __call__(self, g: np.ndarray, out: np.ndarray, a: int, skip: tuple[bool, ...] = ()) -> None:
        """``out = −Σ_b ∂_b (v_b g^a)``: the limited upwind divergence along every axis
        (:func:`crossdiff.fv.upwind_transport`, one velocity at a time in cache: the micro part is
        read and written once per evaluation, not once per axis, and no state-sized copy of a
        wall axis's strided faces is made), for ``g^a`` ``(ns, m, *faces)`` (any strides;
        ``out`` likewise). At a wall the inflow values are :meth:`inflow_ghosts`. The species
        marked in ``skip`` (their transport is implicit, :class:`ImplicitTransport`) get zero."""
        d = self.dim
        ghosts = [self.inflow_ghosts(g, a, b) for b in range(d)]
        kinds = tuple(BoundaryKind.INFLOW if wall else BoundaryKind.PERIODIC for wall in self.walls)
        for i in range(self.n_species):
            if i < len(skip) and skip[i]:
                out[i] = 0.0
                continue
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


class ImplicitTransport:
    r"""The micro transport of a relaxation species in the implicit part: the stage equation

    .. math::

        D\,g + c\,(I - \Pi)\,A\,g = R, \qquad A_k g = v_k\cdot\nabla_h g \ \text{(Fromm's upwind)},
        \quad \Pi h = M \textstyle\sum_l w_l h_l,

    with ``D = ε^{p+1} + γΔt σ`` (constant rate ``σ``) and ``c = γΔt ε^p``, solved exactly mode by
    mode. ``A`` is the conservative upwind divergence of the unlimited MUSCL reconstruction with
    the centred slope (Fromm's scheme, LeVeque 2002, §6.12: second order, the linear scheme that
    the limited transport of :class:`MicroTransport` is in smooth regions); the differences of a
    constant velocity are circulant, diagonal in the discrete Fourier basis with the symbols
    ``Â_k = Σ_b [v_b^+ (1 − e^{−iθ_b})(1 + i sin θ_b/2) + v_b^− (e^{iθ_b} − 1)(1 − i sin θ_b/2)]/h_b``,
    and the projection couples the velocities of a mode only through the scalar
    ``q = Σ_l w_l Â_l ĝ_l``:

    .. math::

        \hat g_k = \frac{\hat R_k + c M_k q}{D + c\hat A_k}, \qquad
        q = \frac{\sum_l w_l \hat A_l \hat R_l/(D + c\hat A_l)}{D \sum_l w_l M_l/(D + c\hat A_l)}.

    The operator is dissipative (``Re Â_k = |v_k|(1 − cos θ)²/(2h) ≥ 0`` per axis), so the solve exists for every
    step, and as ``ε → 0`` its term ``c (I − Π) A`` vanishes against ``D``: the stage is the
    pointwise relaxation solve of the limit (asymptotic preservation kept). A wall axis is the
    periodic problem on the doubled domain of the even reflection ``x → −x, v → R v`` (period
    ``2n``, the mirror of face ``j`` of the wall axis is ``−j``, of cell ``j`` across it
    ``−1 − j``), whose solution is even and restricted back. ``docs/kinetic.md``, "The ε ≈ h band".
    """

    def __init__(self, staggered: StaggeredGrid, nodes: np.ndarray, weights: np.ndarray):
        self.staggered, self.nodes, self.w = staggered, nodes, weights
        self.dim, self.walls, self.reflect = staggered.dim, staggered.walls, staggered.reflect
        self._symbols: dict[tuple[int, tuple[float, ...]], np.ndarray] = {}
        self._units: dict[int, tuple[np.ndarray, ...]] = {}

    @property
    def h(self) -> tuple[float, ...]:
        """The spacing per axis, read from the staggered grid at every call (cells that move)."""
        return self.staggered.h

    def _periods(self, a: int, faces: tuple[int, ...]) -> tuple[int, ...]:
        """Period of each axis of ``g^a``: ``2n`` along a wall axis (the doubled domain), else ``n``."""
        return tuple(
            (2 * (n - 1) if b == a else 2 * n) if wall else n for b, (n, wall) in enumerate(zip(faces, self.walls))
        )

    def symbols(self, a: int, faces: tuple[int, ...]) -> np.ndarray:
        """``Â_k`` on the real-to-complex frequency grid of ``g^a``'s (doubled) domain, ``(m, *modes)``:
        ``Σ_b Â_{k,b}/h_b`` from the per-axis parts at unit spacing (kept), for the spacing of
        the call (the latest kept: cells that move change it at every stage)."""
        key = (a, tuple(self.h))
        if key not in self._symbols:
            if len(self._symbols) > 2 * self.dim:  # cells that move: keep only the latest spacings
                self._symbols.clear()
            parts = self._unit_symbols(a, faces)
            out: np.ndarray = np.zeros(parts[0].shape, dtype=complex)
            for b, part in enumerate(parts):
                out += part / self.h[b]
            self._symbols[key] = out
        return self._symbols[key]

    def _unit_symbols(self, a: int, faces: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        """Per axis ``b``, ``h_b Â_{k,b}``: the upwind symbol of axis ``b`` at unit spacing."""
        if a not in self._units:
            d, m = self.dim, len(self.w)
            periods = self._periods(a, faces)
            grids = []
            for b, n in enumerate(periods):
                theta = 2 * np.pi * (np.fft.rfftfreq(n) if b == d - 1 else np.fft.fftfreq(n))
                grids.append(theta.reshape([-1 if q == b else 1 for q in range(d)]))
            shape = (m, *(t.shape[b] for b, t in enumerate(grids)))
            parts = []
            for b, theta in enumerate(grids):
                v = self.nodes[:, b].reshape((m,) + (1,) * d)
                half_sin = 0.5j * np.sin(theta)
                back, forward = (1 - np.exp(-1j * theta)) * (1 + half_sin), (np.exp(1j * theta) - 1) * (1 - half_sin)
                parts.append(np.broadcast_to(np.maximum(v, 0.0) * back + np.minimum(v, 0.0) * forward, shape))
            self._units[a] = tuple(parts)
        return self._units[a]

    def _extend(self, g: np.ndarray, a: int) -> np.ndarray:
        """``g^a`` ``(m, *faces)`` on the doubled domain of every wall axis (even reflection)."""
        for b, wall in enumerate(self.walls):
            if not wall:
                continue
            ax = 1 + b
            n = g.shape[ax]
            inner = range(n - 2, 0, -1) if b == a else range(n - 1, -1, -1)  # the mirror images beyond the high wall
            g = np.concatenate([g, np.take(g[self.reflect[b]], list(inner), axis=ax)], axis=ax)
        return g

    def _restrict(self, g: np.ndarray, faces: tuple[int, ...]) -> np.ndarray:
        return g[(slice(None),) + tuple(slice(0, n) for n in faces)]

    def solve(self, R: np.ndarray, a: int, D: float, c: float, M: np.ndarray) -> np.ndarray:
        """``g`` with ``D g + c (I − Π) A g = R`` for ``R`` ``(m, *faces of axis a)`` (see the class)."""
        from scipy import fft

        faces = R.shape[1:]
        axes = tuple(range(1, 1 + self.dim))
        ext = self._extend(R, a)
        A = self.symbols(a, faces)
        Rh = fft.rfftn(ext, axes=axes)
        inv = 1.0 / (D + c * A)
        pad = (-1,) + (1,) * self.dim
        w, Mb = self.w.reshape(pad), M.reshape(pad)
        q = np.sum(w * A * Rh * inv, axis=0) / (D * np.sum(w * Mb * inv, axis=0))
        Rh += c * Mb * q
        Rh *= inv
        return self._restrict(fft.irfftn(Rh, s=ext.shape[1:], axes=axes), faces)

    def apply(self, g: np.ndarray, a: int, M: np.ndarray) -> np.ndarray:
        """``(I − Π) A g`` for ``g`` ``(m, *faces of axis a)`` (the implicit part's transport)."""
        from scipy import fft

        faces = g.shape[1:]
        axes = tuple(range(1, 1 + self.dim))
        ext = self._extend(g, a)
        Ag = fft.irfftn(self.symbols(a, faces) * fft.rfftn(ext, axes=axes), s=ext.shape[1:], axes=axes)
        Ag -= M.reshape((-1,) + (1,) * self.dim) * np.einsum("k,k...->...", self.w, Ag)
        return self._restrict(Ag, faces)
