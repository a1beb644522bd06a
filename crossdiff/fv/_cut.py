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

**Dirichlet and Robin conditions on the shape's boundary** (side ``shape`` of a species; 2D
shapes given by a condition) add the flux ``D |Γ_c| β_c (g − u_c)`` through the boundary piece
``Γ_c`` of each cut cell (:meth:`CutCells.boundary_pieces`), ``β = 1/d`` (Dirichlet) or
``α/(1 + α d)`` (Robin), ``d`` the distance from the cell's centre to the boundary: the linear
profile between ``u_c`` and ``g`` (Johansen & Colella 1998, [JC98], use a quadratic one). Its
part in ``u_c`` is diagonal, so the implicit operator stays symmetric and an M-matrix (the CG +
V-cycle solve as it is; densities stay ≥ 0 for ``g ≥ 0``); its part in ``g`` is a source. First
order in space (measured: docs/numerics.md "Conditions on the curved boundary").

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
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InputError, ModelError, NumericalError
from ..grid import Shape
from ..model import DiffusionKind, Model
from ._cut_cells import MERGE_BELOW, CutCells, _inner, _pairs
from ._discretise import Discretisation, model_attributes
from ._faces import face_mean
from ._kernels import axis_view
from ._krylov import krylov_solve
from ._limiters import DEFAULT_LIMITER
from ._multigrid import CutCellMultigrid
from ._transport import BoundaryKind, upwind_divergence

__all__ = ["CutCells", "CutCellDiscretisation", "MERGE_BELOW"]

_NO_DENSITIES = np.zeros((0, 1))  #: boundary values read no species
#: Shapes of at most this many active cells (2D; a tenth in 3D) solve their quasi-stationary
#: species by a sparse LU factorisation; larger ones by conjugate gradients.
DIRECT_MAX_CELLS = 300_000


@dataclass(frozen=True)
class _ShapeSide:
    """A Dirichlet or Robin condition of one species on the shape's boundary: the boundary
    flux into active cell ``rows[k]`` is ``weight[k] (g(foot_k, t) − u)`` (mass rate per box
    cell volume, before ``1/τ``)."""

    kind: str
    rows: np.ndarray  #: active-cell indices of the cells with a boundary piece
    weight: np.ndarray  #: ``D β |Γ_c| / h^d``
    value: Any  #: the compiled kernel of ``g``
    coords: tuple  #: the foot points ``(x, y, 0)``

    def values(self, t: float) -> np.ndarray:
        """``g`` at the foot points."""
        return np.broadcast_to(np.asarray(self.value(t, self.coords, _NO_DENSITIES), dtype=float), self.rows.shape)

    def diagonal(self, n: int) -> np.ndarray:
        """``B``: the weights on the ``n`` active cells (0 where no boundary piece)."""
        return np.bincount(self.rows, weights=self.weight, minlength=n)

    def source(self, t: float, n: int) -> np.ndarray:
        """``B g`` on the ``n`` active cells."""
        return np.bincount(self.rows, weights=self.weight * self.values(t), minlength=n)


class CutCellDiscretisation(Discretisation):
    """Finite volumes of ``model`` on a :class:`~crossdiff.grid.Shape` (module docstring).

    The state is the box's array (``(n, *box.shape)``): the cut cells' averages, 0 outside the
    shape; :meth:`rhs`, :meth:`implicit`, :meth:`solve_implicit` and the step limits
    are those of the cut cells. The shape's boundary is no-flux, or Dirichlet or Robin for a
    species with a condition on side ``shape`` (:attr:`shape_sides`, constant diffusion).
    Supported: constant, diagonal and density-dependent diffusion, taxis, reactions,
    quasi-stationary species. Not on shapes (refused with
    :class:`~crossdiff.errors.ModelError`): flows (they need box walls), conditions on the box's
    sides, diffusion tensors with cross terms.

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
                for side, _ in s.boundary:
                    if side != "shape":
                        raise ModelError(
                            f"species {s.name!r} has a condition on side {side} of the box: on a shape the box's "
                            "sides are outside; give it on the shape's boundary (boundary = {{ shape = ... }})"
                        )
        super().__init__(model, shape.box, limiter=limiter, krylov_rtol=krylov_rtol)
        for cs in self.compiled.species:
            if cs.diffusion_kind is DiffusionKind.TENSOR and np.any(
                cs.diffusion_tensor - np.diag(np.diag(cs.diffusion_tensor))
            ):
                raise ModelError(f"species {cs.name!r}: diffusion tensors with cross terms do not run on a shape yet")
        self.shape = shape
        self.cut = CutCells(shape, merge_below)
        #: per species, its Dirichlet/Robin condition on the shape's boundary (None: no flux)
        self.shape_sides = tuple(self._make_shape_side(i) for i in range(self.n))
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

    def _make_sides(self, i: int) -> tuple:
        """No box sides on a shape (its condition is :attr:`shape_sides`)."""
        return ()

    def _make_shape_side(self, i: int) -> _ShapeSide | None:
        """The condition of species ``i`` on the shape's boundary, if it has one: weights
        ``D β |Γ_c| / h^d`` with ``β = 1/d_c`` (Dirichlet) or ``α/(1 + α d_c)`` (Robin)."""
        from ..model import compile_kernel

        model = self.model
        s = model.species[i]
        cond = dict(s.boundary).get("shape")
        if cond is None or cond.kind == "noflux":
            return None
        d = self.compiled.species[i].diffusion
        if d is None or not d.constant:
            raise ModelError(
                f"boundary shape of species {s.name!r}: a {cond.kind} condition needs a constant diffusion"
            )
        length, distance, foot = self.cut.boundary_pieces
        values = model.parameter_symbols()
        if cond.kind == "dirichlet":
            beta = 1.0 / distance
        else:
            alpha = float(model.expand(cond.alpha).xreplace(values))
            if not alpha >= 0:
                raise ModelError(f"boundary shape of species {s.name!r}: robin alpha must be >= 0, got {alpha:g}")
            beta = alpha / (1.0 + alpha * distance)
        to_active = np.full(self.grid.size, -1)
        to_active[self.cut.cells] = np.arange(self.cut.cells.size)
        where = np.flatnonzero(length.ravel())
        weight = (
            float(np.mean(np.asarray(d.value, dtype=float))) * (length * beta).ravel()[where] / self.grid.cell_volume
        )
        kernel = compile_kernel(model.expand(cond.value).xreplace(values), [], f"boundary shape of {s.name!r}")
        coords = (foot[0].ravel()[where], foot[1].ravel()[where], 0.0)
        side = _ShapeSide(cond.kind, to_active[where], weight, kernel, coords)
        low = float(np.min(side.values(0.0), initial=0.0))
        if self.nonnegative[i] and low < 0:
            raise ModelError(
                f"the {cond.kind} value of species {s.name!r} on the shape's boundary is negative (min {low:.3g}); "
                "a density's boundary value must be >= 0"
            )
        return side

    def _mean_free(self, e) -> bool:
        """Mean-free only without a condition on the shape's boundary."""
        cond = dict(self.model.species[e.index].boundary).get("shape")
        return super()._mean_free(e) and (cond is None or cond.kind == "noflux")

    def _laplacian(self, i: int):
        """``Ã`` of species ``i`` divided by ``τ_i`` (made once; again after :meth:`refresh`)."""
        if i not in self._laplacians:
            A = self.cut.laplacian(self._face_coefficients(i))
            side = self.shape_sides[i]
            if side is not None:  # the boundary flux's part in u: −B (diagonal, symmetric)
                import scipy.sparse as sps

                A = (A - sps.diags(side.diagonal(self.cut.cells.size) * self.inv_tau[i])).tocsr()
            self._laplacians[i] = A
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
            side, boundary = self.shape_sides[i], None
            if side is not None:
                boundary = self.cut.scatter(side.diagonal(self.cut.cells.size) * self.inv_tau[i])
            faces = self.cut.face_weights(self._face_coefficients(i))
            self._multigrids[key] = CutCellMultigrid(self.cut.kappa, faces, boundary)
        return self._multigrids[key]

    def _operator_key(self, i: int) -> tuple:
        """What identifies species ``i``'s diffusion operator: its per-axis coefficients over
        ``τ`` when constant (species with equal ones share a factorisation), else the species."""
        if self.compiled.species[i].diffusion_kind is DiffusionKind.NONLINEAR or self.shape_sides[i] is not None:
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
            side = self.shape_sides[i]
            if side is not None:  # the boundary flux's part in g, cell by cell: B g / κ
                out[i] += cut.scatter(side.source(t, cut.cells.size) / cut.kappa_active)
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
        self,
        A,
        shift: float,
        rhs: np.ndarray,
        scale: np.ndarray,
        what: str,
        key: tuple | None = None,
        mean_free: bool = False,
    ) -> np.ndarray:
        """Solve ``(shift K − A) u = rhs`` on the active cells (``mean_free``: ``A`` singular,
        ``Σ κ u = 0``).

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
                if mean_free:  # the singular mean-free problem: pin the mean by a bordered row
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
            if self.shape_sides[i] is None:  # Σ κ u = Σ κ b (1ᵀA = 0 without a boundary flux)
                u = x[cut.cells]
                u += (np.sum(f) - np.sum(K * u)) / np.sum(K)
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
            side = self.shape_sides[e.index]
            if side is not None:  # −D A u + B u = K r + B g
                import scipy.sparse as sps

                A = (A - sps.diags(side.diagonal(K.size))).tocsr()
                r = r + side.source(t, K.size) / K
            # scaled by the decay rate, or (mean-free) by the box's lowest rate: the preconditioner
            # of the singular problem keeps the box's zero mode invertible
            c = -e.linear if e.linear else e.diffusion * min(1.0 / (hi - lo) ** 2 for lo, hi in self.grid.extent)
            scale = np.full(self.grid.ndim, e.diffusion / c)
            name = f"species {self.model.species_names[e.index]!r}"
            shift = 1.0 if e.linear else 0.0  # no decay: mean-free, or pinned by the shape's boundary
            key = ("elliptic", e.index)
            u = self._solve_cells(A / c, shift, K * r / c, scale, name, key=key, mean_free=mean_free)
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
