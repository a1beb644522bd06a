r"""Finite volumes on a shape: cut cells with volume fractions, apertures and merged small cells.

On a :class:`~crossdiff.grid.Shape` (an embedded boundary cut out of a box grid, Colella et al.
2006, docs/references.md [CGKM06]) cell ``c`` holds the average ``u_c`` over its part inside the
shape, of volume ``κ_c h^d``, and face ``f`` is open on the fraction ``a_f`` of its area. The
conservative update of every flux term is

.. math::

    κ_c \frac{du_c}{dt} = -\sum_{f \in c} \pm \frac{a_f F_f}{h} + κ_c ψ_c(u),

with the box scheme's face fluxes ``F`` (diffusion ``D δu/h``, the limited upwind taxis flux)
through the open part of each face and no flux through the shape's boundary (no-flux, the
default). Mass ``Σ κ_c u_c h^d`` changes only by the reactions, to round-off, on any shape.

**Small cells: the explicit fluxes are merged** (cell merging as embedded-boundary codes do it,
Colella et al. 2006): a cell with ``κ < 1/2`` joins the open neighbour of largest volume
fraction (and that one its own, when it is small too). The explicit flux divergences (taxis, the
explicit rest of nonlinear diffusion) of a merged group are summed and shared as one rate of its
cells' values, ``Σ_g m_c / Σ_g κ_c``, so the explicit step is limited by the groups' volumes (at
least about half a cell), never by the smallest sliver. The implicit diffusion and the reactions
act on every cell by itself: diffusion is unconditionally stable, and merging the state itself
(one value per group) would make the Laplacian's eigenvalues first-order accurate (measured:
the disc's first Neumann eigenvalue 1.6e-3 off at 128² with merged states, 4.6e-5 without).

**The diffusion solve** of a shape, ``(K − sA) u = K b`` on the active cells (``K`` the volume
fractions, ``A`` the aperture-weighted Laplacian, symmetric negative semi-definite, ``s = γΔt``),
is conjugate gradients preconditioned by one V-cycle of a geometric multigrid on the cut cells
(:class:`~crossdiff.fv.CutCellMultigrid`): its hierarchy depends on the operator only, not on
``s``, so it is made once per run (again after a density-dependent diffusion is refrozen) while
the adaptive step changes ``s`` at every step. The first guess is ``b`` plus the previous
solve's diffusion increment scaled by ``s``, the tolerance ``krylov_rtol`` (``1e-10``) of the
residual relative to ``K b``: 3–4 iterations a solve at 256² (11–12 from zero, on any grid).
A looser 1e-8 changed a 128² run by 9e-6, 40× below its time error, but stalled the step
controller of a run at a time tolerance of 1e-8 (and 1e-6 that of the 128² run at its default
one): the solve must stay far below the time tolerance, which the discretisation does not know,
hence the box's ``krylov_rtol``. ``1ᵀA = 0``,
so the solve keeps the mass ``Σ κ u`` to round-off (a constant removes the part of the
residual that would change it). Measured against the sparse LU factorisation it replaces (made
at every step, since ``s`` changes): docs/numerics.md, bench/README.md "Shapes". A shape that
is the whole box uses the box's fast-transform solve (exact). The quasi-stationary species
keep a sparse LU factorisation (made once: their operator does not change), conjugate
gradients with the box's fast transform beyond :data:`DIRECT_MAX_CELLS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InputError, ModelError, NumericalError
from ..grid import Shape
from ..model import DiffusionKind, Model
from ._discretise import Discretisation, model_attributes
from ._faces import face_mean
from ._kernels import axis_view
from ._krylov import krylov_solve
from ._limiters import DEFAULT_LIMITER
from ._multigrid import CutCellMultigrid
from ._transport import BoundaryKind, upwind_divergence

__all__ = ["CutCells", "CutCellDiscretisation", "MERGE_BELOW"]

#: Cells with a smaller volume fraction are merged with a neighbour (module docstring).
MERGE_BELOW = 0.5

#: Shapes of at most this many active cells (2D; a tenth in 3D) solve their quasi-stationary
#: species by a sparse LU factorisation; larger ones by conjugate gradients.
DIRECT_MAX_CELLS = 300_000


class CutCells:
    """The cut cells of a shape as the finite volumes need them (module docstring).

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


class CutCellDiscretisation(Discretisation):
    """Finite volumes of ``model`` on a :class:`~crossdiff.grid.Shape` (module docstring).

    The state is the box's array (``(n, *box.shape)``): the cut cells' averages, 0 outside the
    shape; :meth:`rhs`, :meth:`implicit`, :meth:`solve_implicit` and the step limits
    are those of the cut cells. The shape's boundary is no-flux. Supported: constant, diagonal
    and density-dependent diffusion, taxis, reactions, quasi-stationary species. Not on shapes
    (refused with :class:`~crossdiff.errors.ModelError`): flows (they need box walls), Dirichlet
    and Robin sides, diffusion tensors with cross terms.

    Parameters
    ----------
    model : Model
    shape : Shape
    limiter, krylov_rtol
        As :class:`Discretisation`.
    merge_below : float
        Volume fraction below which a cell is merged with a neighbour.
    """

    def __init__(
        self,
        model: Model,
        shape: Shape,
        limiter: str = DEFAULT_LIMITER,
        krylov_rtol: float = 1e-10,
        merge_below: float = MERGE_BELOW,
    ):
        if not isinstance(shape, Shape):
            raise InputError(f"a cut-cell discretisation needs a Shape, got {type(shape).__name__}")
        if isinstance(model, Model):
            if model.flow is not None:
                raise ModelError(f"model {model.name!r} has a flow: flows need box walls and do not run on a shape yet")
            for s in model.species:
                if s.boundary:
                    raise ModelError(
                        f"species {s.name!r} has Dirichlet/Robin sides: on a shape the boundary is no-flux "
                        "(conditions on the shape's boundary are not supported yet)"
                    )
        super().__init__(model, shape.box, limiter=limiter, krylov_rtol=krylov_rtol)
        for cs in self.compiled.species:
            if cs.diffusion_kind is DiffusionKind.TENSOR and np.any(
                cs.diffusion_tensor - np.diag(np.diag(cs.diffusion_tensor))
            ):
                raise ModelError(f"species {cs.name!r}: diffusion tensors with cross terms do not run on a shape yet")
        self.shape = shape
        self.cut = CutCells(shape, merge_below)
        self._laplacians: dict[int, object] = {}
        self._factors: dict[tuple, Any] = {}  #: LU factors of the quasi-stationary species' solves
        self._multigrids: dict[tuple, CutCellMultigrid] = {}  #: by operator (:meth:`_operator_key`)
        #: per species, the last implicit solve's solution, right-hand side and γΔt (first guesses)
        self._previous: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
        self.stats = {"krylov_iterations": 0}

    # ------------------------------------------------------------------ description
    @cached_property
    def layout(self):
        from ..time import Layout

        box = super().layout
        attrs = {**model_attributes(self.model), **self.shape.attributes()}
        return Layout(box.fields, box.coordinates, box.space, box.cell_volume, attrs, box.extras, self.cut.kappa)

    def jacobian_sparsity(self):
        """The box's pattern: a superset of the cut cells' (merging couples a group's cells;
        implicit steppers that need the exact pattern are not used on shapes)."""
        return super().jacobian_sparsity()

    # ------------------------------------------------------------------ operators
    def refresh(self, t: float, U: np.ndarray) -> None:
        """Freeze density-dependent diffusions at ``U`` (interior faces of every axis: a shape
        keeps clear of periodic sides) and drop their matrices; the preconditioner's constant is
        ``sqrt(min D · max D)`` over the shape.

        Raises :class:`NumericalError` if a diffusion became negative."""
        V = self.cut.extend(U)
        for i, s in enumerate(self.compiled.species):
            if s.diffusion_kind is not DiffusionKind.NONLINEAR:
                continue
            d = s.scalar_diffusion.evaluate_array(t, self.coords, V)
            inside = d[self.cut.active] if np.ndim(d) else np.atleast_1d(d)
            dmin, dmax = float(np.min(inside)), float(np.max(inside))
            if not (np.isfinite(dmin) and np.isfinite(dmax)):
                continue  # the failure monitor reports the non-finite state
            if dmin < 0:
                raise NumericalError(f"diffusion of species {s.name!r} became negative ({dmin:g})")
            d = np.broadcast_to(d, self.grid.shape)
            self._frozen[i] = [face_mean(d, a, False) for a in range(self.grid.ndim)]
            self._coef[i, :] = float(np.sqrt(max(dmin, 1e-12 * dmax) * dmax)) if dmax > 0 else 0.0
            self._laplacians.pop(i, None)
            self._multigrids.pop(self._operator_key(i), None)

    def _laplacian(self, i: int):
        """``Ã`` of species ``i`` divided by ``τ_i`` (made once; again after :meth:`refresh`)."""
        if i not in self._laplacians:
            self._laplacians[i] = self.cut.laplacian(self._face_coefficients(i))
        return self._laplacians[i]

    def _face_coefficients(self, i: int) -> list:
        """Per axis, ``D/τ`` of species ``i`` on the faces (frozen ones if density-dependent)."""
        s = self.compiled.species[i]
        if s.diffusion_kind is DiffusionKind.NONLINEAR:
            coefs = [self._face_coefficient(self._frozen[i][a], a) for a in range(self.grid.ndim)]
        else:
            coefs = list(self._coef[i])
        return [c * self.inv_tau[i] for c in coefs]

    def _multigrid(self, i: int) -> CutCellMultigrid:
        """The multigrid hierarchy of species ``i``'s diffusion (shared by species with equal
        operators, made once; again after :meth:`refresh`)."""
        key = self._operator_key(i)
        if key not in self._multigrids:
            self._multigrids[key] = CutCellMultigrid(self.cut.kappa, self.cut.face_weights(self._face_coefficients(i)))
        return self._multigrids[key]

    def _operator_key(self, i: int) -> tuple:
        """What identifies species ``i``'s diffusion operator: its per-axis coefficients over
        ``τ`` when constant (species with equal ones share a factorisation), else the species."""
        if self.compiled.species[i].diffusion_kind is DiffusionKind.NONLINEAR:
            return ("species", i)
        return ("constant", *(float(c) * float(self.inv_tau[i]) for c in self._coef[i]))

    def _face_coefficient(self, interior: np.ndarray, a: int) -> np.ndarray:
        """Face values on the ``n − 1`` interior faces padded to ``n + 1`` (walls: closed)."""
        pad = [(1, 1) if b == a else (0, 0) for b in range(self.grid.ndim)]
        return np.pad(interior, pad)

    def _has_diffusion(self, i: int) -> bool:
        return self.parabolic[i] and self.compiled.species[i].diffusion_kind is not DiffusionKind.NONE

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``E(t, U)`` on the cut cells: the reactions of every cell, and the aperture-weighted
        taxis and explicit rest of nonlinear diffusion as merged rates (module docstring), divided
        by ``τ``."""
        self.counters.nfev += 1
        g, cut = self.grid, self.cut
        if out is None:
            out = np.empty_like(U)
        V = cut.extend(U)
        fluxes = np.zeros_like(U)
        if self._fused is not None:  # the box's compiled reactions, on the extended state
            self._fused(np.float64(t), V.reshape(self.n, -1), out.reshape(self.n, -1))
        for i, s in enumerate(self.compiled.species):
            if not self.parabolic[i]:
                out[i].fill(0.0)
                continue
            m = fluxes[i]
            if self._fused is None:
                out[i] = s.reaction(t, self.coords, V)
            for j, chi in s.taxis:
                chi_cells = np.asarray(chi(t, self.coords, V), dtype=float)
                for a in range(g.ndim):
                    h = g.spacing[a]
                    vel = np.zeros(cut.apertures[a].shape)
                    chi_faces = (
                        face_mean(np.broadcast_to(chi_cells, g.shape), a, False) if chi_cells.ndim else chi_cells
                    )
                    vel[_inner(a, g.ndim)] = chi_faces * np.diff(V[j], axis=a)
                    vel *= cut.apertures[a] / h
                    upwind_divergence(
                        axis_view(V[i], a),
                        axis_view(vel, a),
                        h,
                        axis_view(m, a),
                        limiter=self.limiter,
                        boundary=BoundaryKind.NOFLUX,
                    )
            if s.diffusion_kind is DiffusionKind.NONLINEAR:
                if i not in self._frozen:
                    self.refresh(t, U)
                d_cells = np.broadcast_to(s.scalar_diffusion.evaluate_array(t, self.coords, V), g.shape)
                for a in range(g.ndim):
                    h = g.spacing[a]
                    flux = np.zeros(cut.apertures[a].shape)
                    extra = face_mean(d_cells, a, False) - self._frozen[i][a]
                    flux[_inner(a, g.ndim)] = extra * np.diff(V[i], axis=a) / h
                    flux *= cut.apertures[a]
                    lo, hi = _pairs(a, g.ndim)
                    m += (flux[hi] - flux[lo]) / h
        cut.merged_rates(fluxes)
        out += fluxes
        out.reshape(self.n, -1)[:, cut.outside] = 0.0
        for i in range(self.n):
            if self.parabolic[i] and self.inv_tau[i] != 1.0:
                out[i] *= self.inv_tau[i]
        return out

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """``L U``: the cut-cell diffusion of every parabolic species divided by ``τ_i``."""
        out = np.zeros_like(U)
        cut = self.cut
        for i in range(self.n):
            if self._has_diffusion(i):
                out[i] = cut.scatter((self._laplacian(i) @ cut.gather(U[i])) / cut.kappa_active)
        return out

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        if self.has_nonlinear_diffusion and len(self._frozen) == 0:
            self.refresh(t, U)
        return self.explicit(t, U) + self.implicit(U)

    def _solve_cells(
        self, A, shift: float, rhs: np.ndarray, scale: np.ndarray, what: str, key: tuple | None = None
    ) -> np.ndarray:
        """Solve ``(shift K − A) u = rhs`` on the active cells.

        A sparse LU factorisation (SuperLU), kept under ``key`` (the quasi-stationary species'
        operators do not change), where the shape has at most :data:`DIRECT_MAX_CELLS` active cells
        (2D) or a tenth of that (3D, where the fill-in grows faster); otherwise conjugate gradients
        preconditioned by ``(shift − Σ_a scale_a ∂_aa)⁻¹`` of the box (fast transforms).
        """
        cut, spectral = self.cut, self.spectral
        K = cut.kappa_active
        limit = DIRECT_MAX_CELLS if self.grid.ndim < 3 else DIRECT_MAX_CELLS // 10
        if cut.cells.size <= limit:
            import scipy.sparse as sps
            from scipy.sparse.linalg import splu

            lu = self._factors.get(key) if key is not None else None
            if lu is None:
                matrix = (sps.diags(shift * K) - A).tocsc()
                if shift == 0:  # the singular mean-free problem: pin the mean by a bordered row
                    return self._solve_mean_free(matrix, rhs)
                lu = splu(matrix, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
                if key is not None:
                    self._factors[key] = lu
            x = lu.solve(rhs)
            if not np.all(np.isfinite(x)):
                raise NumericalError(f"implicit diffusion solve of {what} on the shape failed")
            return x
        inverse = spectral.inverse_symbol(spectral.symbol(scale), shift)

        def precond(r: np.ndarray) -> np.ndarray:
            return cut.gather(spectral.inverse(spectral.forward(cut.scatter(r)) * inverse))

        def matvec(x: np.ndarray) -> np.ndarray:
            return shift * K * x - A @ x

        x, converged = krylov_solve(matvec, precond, rhs, precond(rhs), self.krylov_rtol, True)
        self.counters.n_krylov_solves += 1
        if not converged:
            raise NumericalError(f"implicit diffusion solve of {what} on the shape did not converge")
        return x

    def _solve_mean_free(self, matrix, rhs: np.ndarray) -> np.ndarray:
        """``−D A u = rhs`` with ``Σ κ u = 0`` (``rhs`` of zero sum): the bordered system
        ``[[−DA, κ], [κᵀ, 0]]`` solved directly."""
        import scipy.sparse as sps
        from scipy.sparse.linalg import spsolve

        K = self.cut.kappa_active[:, None]
        bordered = sps.bmat([[matrix, sps.csc_matrix(K)], [sps.csc_matrix(K.T), None]], format="csc")
        return spsolve(bordered, np.append(rhs, 0.0))[:-1]

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """Solve ``(I − γΔt L) U = B`` on the cut cells: per species ``(K − γΔt A) u = K b`` by
        conjugate gradients with a multigrid V-cycle (:class:`CutCellMultigrid`), from the
        species' previous solution, to a residual of ``krylov_rtol`` relative to ``K b``; mass
        kept to round-off."""
        if self.cut.whole_box:  # the box's operator: its fast-transform solve is exact
            return super().solve_implicit(B, gamma_dt, out)
        self.counters.n_implicit_solves += 1
        cut = self.cut
        K = cut.kappa_active
        if out is None:
            out = np.zeros_like(B)
        for i in range(self.n):
            if not self._has_diffusion(i):
                out[i] = B[i]
                continue
            f = np.zeros(self.grid.size)
            f[cut.cells] = K * cut.gather(B[i])
            mg = self._multigrid(i)
            b = np.zeros(self.grid.size)
            b[cut.cells] = cut.gather(B[i])
            x0 = None
            if i in self._previous:  # b plus the previous solve's diffusion increment, ∝ γΔt
                x_old, b_old, s_old = self._previous[i]
                x0 = b + (gamma_dt / s_old) * (x_old - b_old)
            x, converged = mg.solve(f, 1.0, gamma_dt, self.krylov_rtol, x0=x0)
            self.counters.n_krylov_solves += 1
            self.stats["krylov_iterations"] += mg.iterations
            if not converged or not np.all(np.isfinite(x)):
                name = self.model.species_names[i]
                raise NumericalError(f"implicit diffusion solve of species {name!r} on the shape did not converge")
            u = x[cut.cells]
            u += (np.sum(f) - np.sum(K * u)) / np.sum(K)  # Σ κ u = Σ κ b (1ᵀA = 0)
            x[cut.cells] = u
            self._previous[i] = (x, b, gamma_dt)
            out[i] = x.reshape(self.grid.shape)
        return out

    def solve_elliptic(self, t: float, U: np.ndarray) -> np.ndarray:
        """The quasi-stationary species: ``(|c| K − D A) u = K r`` on the cut cells (mean-free
        when ``c = 0``: ``r`` and ``u`` with zero mean over the shape)."""
        cut = self.cut
        K = cut.kappa_active
        V = cut.extend(U)
        for e in self._elliptic:
            r = cut.gather(np.broadcast_to(e.rest.evaluate_array(t, self.coords, V), self.grid.shape))
            mean_free = self._mean_free(e)
            if mean_free:
                r = r - np.sum(K * r) / np.sum(K)
            A = cut.laplacian([e.diffusion] * self.grid.ndim)
            # scaled by the decay rate, or (mean-free) by the box's lowest rate: the preconditioner
            # of the singular problem keeps the box's zero mode invertible
            c = -e.linear if e.linear else e.diffusion * min(1.0 / (hi - lo) ** 2 for lo, hi in self.grid.extent)
            scale = np.full(self.grid.ndim, e.diffusion / c)
            name = f"species {self.model.species_names[e.index]!r}"
            u = self._solve_cells(A / c, 0.0 if mean_free else 1.0, K * r / c, scale, name, key=("elliptic", e.index))
            if mean_free:
                u -= np.sum(K * u) / np.sum(K)
            U[e.index] = cut.scatter(u)
        return U

    # ------------------------------------------------------------------ step limits
    def _face_speeds(self, t: float, U: np.ndarray, i: int) -> list[np.ndarray | float]:
        """Per axis, the aperture-weighted taxis face speeds of species ``i`` divided by the
        smaller group volume of the two adjacent cells (what bounds a group's outflow)."""
        g, cut = self.grid, self.cut
        V = cut.extend(U)
        group_volume = np.ones(g.size)
        group_volume[cut.cells] = cut.volume[cut.group]
        group_volume = group_volume.reshape(g.shape)
        speeds: list[np.ndarray | float] = []
        for a in range(g.ndim):
            h = g.spacing[a]
            speed = np.zeros(np.diff(V[0], axis=a).shape)
            for j, chi in self.compiled.species[i].taxis:
                chi_cells = np.broadcast_to(np.abs(np.asarray(chi(t, self.coords, V), dtype=float)), g.shape)
                speed = speed + face_mean(chi_cells, a, False) * np.abs(np.diff(V[j], axis=a)) / h
            smaller = np.minimum(*(group_volume[s] for s in _pairs(a, g.ndim)))
            speeds.append(speed * cut.apertures[a][_inner(a, g.ndim)] / smaller * self.inv_tau[i])
        return speeds

    def diffusion_rate(self, t: float, U: np.ndarray) -> float:
        """The box's explicit diffusion rate over the smallest volume fraction (explicit steppers
        on a shape are limited by its smallest cut cell; the IMEX steppers are not)."""
        return super().diffusion_rate(t, self.cut.extend(U)) / float(np.min(self.cut.kappa_active))

    # ------------------------------------------------------------------ data
    def initial_state(self, frame: Mapping[str, np.ndarray] | np.ndarray, t: float = 0.0) -> np.ndarray:
        """The state from the species' fields on the box (values outside the shape, missing or
        not, are ignored), with the quasi-stationary species solved."""
        if isinstance(frame, Mapping):
            frame = np.stack([np.asarray(frame[name], dtype=float) for name in self.model.species_names])
        U = np.array(frame, dtype=float, copy=True)
        if U.shape != (self.n, *self.grid.shape):
            raise InputError(f"the state has shape {U.shape}, expected {(self.n, *self.grid.shape)}")
        U[:, ~self.cut.active] = 0.0
        names = self.model.species_names
        for i, reason in self.positive:
            if np.min(U[i][self.cut.active]) <= 0:
                raise InputError(f"initial data of species {names[i]!r} must be > 0 in the shape: {reason}")
        return self.solve_elliptic(t, U) if self._elliptic else U

    def mass(self, U: np.ndarray) -> np.ndarray:
        """``Σ κ u h^d`` of every species."""
        return np.asarray(self.shape.integrate(U))


def _inner(a: int, ndim: int) -> tuple[slice, ...]:
    """The interior faces of axis ``a`` (not the box's walls)."""
    index = [slice(None)] * ndim
    index[a] = slice(1, -1)
    return tuple(index)


def _pairs(a: int, ndim: int) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    lo, hi = [slice(None)] * ndim, [slice(None)] * ndim
    lo[a], hi[a] = slice(0, -1), slice(1, None)
    return tuple(lo), tuple(hi)
