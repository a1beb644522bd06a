"""Cut cells: the volume fractions and apertures of a :class:`~crossdiff.grid.Shape` as the finite
volumes need them — the small cells merged for the explicit fluxes (κ < :data:`MERGE_BELOW`), the
extension of a field outside the shape, the aperture-weighted Laplacian on the active cells
(:class:`CutCells`); the discretisation that uses them is :class:`~crossdiff.fv.CutCellDiscretisation`
(docs/numerics.md, "Domains of any shape")."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..errors import ModelError
from ..grid import Shape

__all__ = ["CutCells", "MERGE_BELOW"]


#: Cells with a smaller volume fraction are merged with a neighbour (the scheme: :mod:`crossdiff.fv._cut`).
MERGE_BELOW = 0.5


class CutCells:
    """The cut cells of a shape as the finite volumes need them (the scheme: :mod:`crossdiff.fv._cut`).

    Parameters
    ----------
    shape : Shape
    merge_below : float
        Cells with a smaller volume fraction join a neighbour (0 merges none).

    Attributes
    ----------
    kappa : ndarray
        Volume fractions, the box's shape (0 outside).
    apertures : tuple of ndarray
        Per axis, the open fraction of each face (``n_a + 1`` along axis ``a``), 0 on faces of
        inactive cells and on the box's walls.
    cells : ndarray of int
        Flat box indices of the active cells.
    group : ndarray of int
        Per active cell, the index of its group (``0 … n_groups − 1``).
    volume : ndarray
        Per group, the sum of its cells' volume fractions.
    """

    def __init__(self, shape: Shape, merge_below: float = MERGE_BELOW):
        self.shape = shape
        self.box = shape.box
        kappa = np.where(shape.active, shape.volume_fraction, 0.0)
        self.kappa = kappa
        self.active = shape.active
        self.cells = np.flatnonzero(self.active)
        apertures = []
        for a, ap in enumerate(shape.apertures):
            ap = ap.copy()
            inner = [slice(None)] * ap.ndim
            lo, hi = list(inner), list(inner)
            lo[a], hi[a] = slice(0, -1), slice(1, None)
            both = np.zeros(ap.shape, dtype=bool)
            # a face is open only between two active cells; the box's walls are closed
            both[tuple(hi)] = self.active
            both[tuple(lo)] &= self.active
            edge = [slice(None)] * ap.ndim
            edge[a] = slice(1, -1)
            open_ = np.zeros(ap.shape, dtype=bool)
            open_[tuple(edge)] = both[tuple(edge)]
            apertures.append(np.where(open_, ap, 0.0))
        self.apertures = tuple(apertures)
        self.merge_below = float(merge_below)
        self.group, self.n_groups = self._groups()
        ka = kappa.ravel()[self.cells]
        self.volume = np.bincount(self.group, weights=ka, minlength=self.n_groups)
        #: the volume fractions of the active cells
        self.kappa_active = ka
        self._kappa_active = ka
        self.merged = self.n_groups < self.cells.size

    # ------------------------------------------------------------------ merging
    def _groups(self) -> tuple[np.ndarray, int]:
        """Union–find of each small cell with its open neighbour of largest volume fraction."""
        size = self.box.size
        parent = np.arange(size)

        def root(k: int) -> int:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        kappa = self.kappa.ravel()
        shape = self.box.shape
        strides = [int(np.prod(shape[a + 1 :])) for a in range(len(shape))]
        small = self.cells[kappa[self.cells] < self.merge_below]
        for c in small:
            idx = np.unravel_index(c, shape)
            best, best_kappa = -1, -1.0
            for a, ap in enumerate(self.apertures):
                for side in (0, 1):  # face idx[a] (low) and idx[a] + 1 (high)
                    face = list(idx)
                    face[a] = idx[a] + side
                    if ap[tuple(face)] <= 0:
                        continue
                    nb = c + (strides[a] if side else -strides[a])
                    if kappa[nb] > best_kappa:
                        best, best_kappa = nb, kappa[nb]
            if best >= 0:
                ra, rb = root(int(c)), root(best)
                if ra != rb:
                    parent[ra] = rb
        roots = np.array([root(int(c)) for c in self.cells], dtype=np.int64)
        _, group = np.unique(roots, return_inverse=True)
        return group.astype(np.int64), int(group.max()) + 1 if group.size else 0

    @cached_property
    def whole_box(self) -> bool:
        """Whether the shape is the whole box (every volume fraction and inner aperture 1)."""
        return bool(np.all(self.kappa == 1.0)) and all(
            np.all(ap[_inner(a, ap.ndim)] == 1.0) for a, ap in enumerate(self.apertures)
        )

    @cached_property
    def smallest_volume(self) -> float:
        """The smallest volume (fraction of a box cell) of a group that exchanges fluxes: what
        limits the explicit transport's step."""
        touching = np.zeros(self.box.size, dtype=bool)
        for a, ap in enumerate(self.apertures):
            opened = ap > 0
            lo = [slice(None)] * ap.ndim
            hi = list(lo)
            lo[a], hi[a] = slice(0, -1), slice(1, None)
            touching |= (opened[tuple(lo)] | opened[tuple(hi)]).ravel()
        groups = np.unique(self.group[touching[self.cells]])
        return float(np.min(self.volume[groups])) if groups.size else 1.0

    # ------------------------------------------------------------------ the shape's boundary
    @cached_property
    def boundary_pieces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where the cut cells meet the shape's boundary (2D shapes given by a condition).

        Returns, on the box's cells: the length ``|Γ_c|`` of the boundary piece in cell ``c``,
        ``|Σ_a (a_{low} − a_{high}) h_{other} e_a|`` (the divergence theorem over the cut cell; 0
        where there is none); the distance ``d_c = −φ(x_c)/|∇φ(x_c)|`` from the cell's centre
        ``x_c`` to the boundary along the normal (``φ`` bilinear between the corners), at least
        ``h/4``; and the foot points ``x_c + d_c n`` ``(2, *cells)`` where the boundary value is
        read. A cell whose centre lies within ``h/4`` of the boundary or outside it gives its
        piece to its inward neighbour along the normal's main axis (a local redistribution of
        the boundary flux, instead of an O(1) error of it from the clamped distance).

        Raises
        ------
        ModelError
            A shape that is not 2D or is given by a mask.
        """
        phi = self.shape.corner_level_set
        if phi is None or self.box.ndim != 2:
            raise ModelError(
                "a condition on a shape's boundary needs a 2D shape given by a condition (inside = ...), "
                "not a mask or a 1D/3D shape"
            )
        hx, hy = self.box.spacing
        ax, ay = self.shape.apertures
        length = np.hypot((ax[:-1, :] - ax[1:, :]) * hy, (ay[:, :-1] - ay[:, 1:]) * hx)
        length = np.where(self.active & (length > 1e-12 * min(hx, hy)), length, 0.0)
        c00, c10, c01, c11 = phi[:-1, :-1], phi[1:, :-1], phi[:-1, 1:], phi[1:, 1:]
        centre = 0.25 * (c00 + c10 + c01 + c11)
        gx = 0.5 * ((c10 - c00) + (c11 - c01)) / hx
        gy = 0.5 * ((c01 - c00) + (c11 - c10)) / hy
        norm = np.hypot(gx, gy)
        safe = np.where(norm > 0, norm, 1.0)
        d = np.where(norm > 0, -centre / safe, 0.0)
        nx, ny = gx / safe, gy / safe
        # a cell whose centre is within h/4 of the boundary or outside it gives its piece to
        # its inward neighbour along the normal's main axis (if active): the clamped distance
        # would make its flux wrong by O(1) (measured: Dirichlet L1 errors 10x smaller)
        floor = 0.25 * min(hx, hy)
        moved = length.copy()
        for i, j in zip(*np.nonzero((length > 0) & (d < floor))):
            p = (i - int(np.sign(nx[i, j])), j) if abs(nx[i, j]) >= abs(ny[i, j]) else (i, j - int(np.sign(ny[i, j])))
            if 0 <= p[0] < length.shape[0] and 0 <= p[1] < length.shape[1] and self.active[p]:
                moved[p] += moved[i, j]
                moved[i, j] = 0.0
        d = np.maximum(d, floor)
        X, Y = self.box.mesh()
        foot = np.stack([X + d * nx, Y + d * ny])
        return moved, d, foot

    # ------------------------------------------------------------------ fields
    def gather(self, u: np.ndarray) -> np.ndarray:
        """The values of the active cells (last ``ndim`` axes of ``u`` flattened)."""
        return u.reshape(*u.shape[: u.ndim - self.box.ndim], -1)[..., self.cells]

    def scatter(self, values: np.ndarray) -> np.ndarray:
        """A box field from the active cells' values (0 outside the shape)."""
        lead = values.shape[:-1]
        out = np.zeros((*lead, self.box.size))
        out[..., self.cells] = values
        return out.reshape(*lead, *self.box.shape)

    @cached_property
    def _merged(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``1/κ`` on the box's cells that are alone in their group (0 elsewhere), the flat
        indices of the others, their groups renumbered ``0 … m − 1`` and those groups' volumes."""
        sizes = np.bincount(self.group, minlength=self.n_groups)
        alone = sizes[self.group] == 1
        groups, local = np.unique(self.group[~alone], return_inverse=True)
        inverse = np.zeros(self.box.shape)
        inverse.ravel()[self.cells[alone]] = 1.0 / self.kappa_active[alone]
        return inverse, self.cells[~alone], local, self.volume[groups]

    def merged_rates(self, mass_rate: np.ndarray) -> np.ndarray:
        """Rates of the cell values from explicit flux divergences (mass rates per box cell
        volume), in place: each merged group's sum over its volume (0 outside the shape)."""
        lead = mass_rate.shape[: mass_rate.ndim - self.box.ndim]
        inverse, together, local, volume = self._merged
        flat = mass_rate.reshape(*lead, -1)
        m_together = flat[..., together]
        mass_rate *= inverse
        if together.size:
            rows = m_together.reshape(-1, together.size)
            sums = np.stack([np.bincount(local, weights=r, minlength=volume.size) for r in rows]) / volume
            flat[..., together] = sums.reshape(*lead, volume.size)[..., local]
        return mass_rate

    @cached_property
    def _nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """The flat indices of the box cells outside the shape and of their nearest active cells."""
        from scipy import ndimage

        idx = ndimage.distance_transform_edt(~self.active, return_distances=False, return_indices=True)
        nearest = np.ravel_multi_index(tuple(idx), self.box.shape)
        outside = np.flatnonzero(~self.active)
        return outside, nearest.ravel()[outside]

    @property
    def outside(self) -> np.ndarray:
        """The flat indices of the box cells outside the shape."""
        return self._nearest[0]

    def extend(self, u: np.ndarray) -> np.ndarray:
        """``u`` with every outside cell given the value of its nearest inside cell (so that
        reconstructions and reactions next to the boundary see no artificial zeros)."""
        outside, nearest = self._nearest
        out = np.array(u, dtype=float, order="C")
        flat = out.reshape(*u.shape[: u.ndim - self.box.ndim], -1)
        flat[..., outside] = flat[..., nearest]
        return out

    # ------------------------------------------------------------------ diffusion
    def face_weights(self, coefficients: list[np.ndarray | float]) -> list[np.ndarray]:
        """Per axis ``a``, the Laplacian's face weights ``W_f = a_f D_f / h²`` (the box's shape
        with ``n_a + 1`` along ``a``; 0 on closed faces). ``coefficients[a]``: ``D`` on the faces
        of axis ``a`` (a number, or an array of that shape)."""
        return [
            np.broadcast_to(ap * (np.asarray(coefficients[a], dtype=float) / h**2), ap.shape).copy()
            for a, (ap, h) in enumerate(zip(self.apertures, self.box.spacing))
        ]

    def laplacian(self, coefficients: list[np.ndarray | float]):
        """``A``: the aperture-weighted Laplacian on the active cells (sparse, symmetric),
        ``(A u)_c = Σ_f W_f (u_{c'} − u_c)`` with the weights of :meth:`face_weights` (mass
        rate per box cell volume)."""
        import scipy.sparse as sps

        shape = self.box.shape
        index = np.arange(self.box.size).reshape(shape)
        rows, cols, vals = [], [], []
        for a, weight in enumerate(self.face_weights(coefficients)):
            inner = [slice(None)] * len(shape)
            inner[a] = slice(1, -1)
            w = weight[tuple(inner)]
            lo = [slice(None)] * len(shape)
            hi = list(lo)
            lo[a], hi[a] = slice(0, -1), slice(1, None)
            left, right = index[tuple(lo)], index[tuple(hi)]
            keep = w > 0
            left, right, w = left[keep], right[keep], w[keep]
            rows += [left, right, left, right]
            cols += [right, left, left, right]
            vals += [w, w, -w, -w]
        to_active = np.full(self.box.size, -1)
        to_active[self.cells] = np.arange(self.cells.size)
        r = to_active[np.concatenate(rows)] if rows else np.zeros(0, int)
        c = to_active[np.concatenate(cols)] if cols else np.zeros(0, int)
        v = np.concatenate(vals) if vals else np.zeros(0)
        n = self.cells.size
        return sps.csr_matrix((v, (r, c)), shape=(n, n))


def _inner(a: int, ndim: int) -> tuple[slice, ...]:
    """The interior faces of axis ``a`` (not the box's walls)."""
    index = [slice(None)] * ndim
    index[a] = slice(1, -1)
    return tuple(index)


def _pairs(a: int, ndim: int) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    lo, hi = [slice(None)] * ndim, [slice(None)] * ndim
    lo[a], hi[a] = slice(0, -1), slice(1, None)
    return tuple(lo), tuple(hi)
