r"""The semi-discrete right-hand side of a :class:`~crossdiff.model.Model` on a :class:`~crossdiff.grid.Grid`.

Cell-centred finite volumes. For species ``i`` with state ``U[i]`` (cell averages),

.. math::

    \tau_i \frac{dU_i}{dt} = \underbrace{\nabla_h\cdot\big(D_i(U^n)\nabla_h U_i\big)}_{\text{implicit } L_i U_i}
      + \underbrace{\nabla_h\cdot\big((D_i(U)-D_i(U^n))\nabla_h U_i\big)
      - \nabla_h\cdot F^{\text{taxis}}_i + \psi_i(U, t, x)}_{\text{explicit } E_i(t, U)}

* Diffusion is implicit. Constant scalar or diagonal-tensor diffusion gives the 3-point second
  difference per axis with reflected ghost cells (no-flux) or wrap-around (periodic), diagonalised
  by the DCT/DFT (:class:`SpectralLaplacian`): a direct solve. A density-dependent ``D_i(u)`` is
  frozen at the start of each step (``U^n``, :meth:`Discretisation.refresh`; face values are the
  mean of the adjacent cells) and a full constant tensor includes its cross terms (the face
  gradient across the face is the mean of the adjacent central differences); these are solved by
  conjugate gradients / GMRES preconditioned with the constant-coefficient spectral solve. The
  explicit remainder ``D(U) - D(U^n)`` is O(Δt): a linearly implicit IMEX splitting.
* Taxis: ``F = a⁺ u⁻ + a⁻ u⁺`` with face velocity ``a = χ̄ δ u_j / h`` (``χ̄`` the mean of the two
  adjacent cell values) and limited linear reconstruction (:func:`upwind_flux`).
* Advection by an incompressible flow (species with ``advected``): the same limited upwind flux
  with the face-normal flow velocities (:func:`~crossdiff.fv.upwind_divergence`,
  :class:`FaceVelocities`); its speeds join the taxis speeds in the step limits.
* Dirichlet and Robin sides of a species (:class:`~crossdiff.model.SideCondition`): a ghost
  cell beyond the side, ``u_g = 2g − u_0`` (Dirichlet: the face value is ``g``) or
  ``(u_g − u_0)/h = α(g − (u_g + u_0)/2)`` (Robin), gives the wall cell the diffusive flux
  ``D β (g − u_0)/h`` with ``β = 2`` (Dirichlet) or ``β = 2αh/(2 + αh)`` (Robin). The part in
  ``u_0`` joins ``L`` (still diagonalised by a DST/DCT for Dirichlet/Neumann walls, a
  preconditioned conjugate-gradient solve for Robin), the part in ``g`` is a source in ``E``.
  Second order: the ghost cell extrapolates linear profiles exactly (LeVeque, *Finite Difference
  Methods for Ordinary and Partial Differential Equations*, 2007, §2.12).
* Quasi-stationary species (``τ = 0``): ``0 = D Δ_h u + c u + r(U)`` with ``c`` constant, solved
  exactly by :meth:`Discretisation.solve_elliptic`; ``c = 0`` gives the mean-free
  (Jäger–Luckhaus) form.

All fluxes vanish on no-flux walls, so without reactions ``Σ_k U_i h^d`` is conserved to round-off.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import sympy as sp

from ..errors import InputError, ModelError, NumericalError
from ..grid import Grid
from ..model import (
    CompiledModel,
    DiffusionKind,
    Kernel,
    Model,
    compile_kernel,
    compile_model,
    fused_reactions,
    model_to_dict,
    species_symbols,
)
from ..time import Coordinate, Counters, Layout, Variable
from ._faces import divergence, face_difference, face_mean
from ._kernels import axis_view, second_difference
from ._krylov import krylov_solve
from ._limiters import DEFAULT_LIMITER, LIMITERS
from ._sparsity import jacobian_sparsity
from ._spectral import SpectralLaplacian
from ._transport import BoundaryKind, taxis_divergence, upwind_divergence
from ._walls import _Side, _wall_beta, _wall_coords

__all__ = ["Discretisation", "FaceVelocities"]


class FaceVelocities(Protocol):
    """A flow on the grid, as the upwind fluxes need it (e.g. :class:`crossdiff.flow.PrescribedFlow`)."""

    def face_velocities(self, t: float) -> tuple[np.ndarray, ...]:
        """Normal velocity on the faces of each axis ``a``: the grid shape with ``n_a + 1``
        entries along axis ``a`` (faces ``0`` and ``n_a`` are the walls)."""
        ...


@dataclass(frozen=True)
class _Elliptic:
    index: int
    diffusion: float
    linear: float  # c in 0 = D Δu + c u + r(U)
    rest: Kernel  # r(U)


def _central(u: np.ndarray, axis: int, periodic: bool, h: float) -> np.ndarray:
    """Central difference ``(u_{k+1} - u_{k-1}) / 2h`` (reflected ghost cells on walls)."""
    if periodic:
        return (np.roll(u, -1, axis=axis) - np.roll(u, 1, axis=axis)) / (2 * h)
    n = u.shape[axis]
    idx_p = np.minimum(np.arange(n) + 1, n - 1)
    idx_m = np.maximum(np.arange(n) - 1, 0)
    return (np.take(u, idx_p, axis=axis) - np.take(u, idx_m, axis=axis)) / (2 * h)


_DUMMY = np.zeros((1, 1, 1))
_NO_DENSITIES = np.zeros((0, 1))  #: boundary values read no species

#: Grids with at least this many cells evaluate the reactions with one fused compiled kernel
#: (:func:`~crossdiff.model._codegen.fused_reactions`); smaller ones with the NumPy kernels.
FUSED_MIN_CELLS = 4096


def model_attributes(model: Model) -> dict[str, object]:
    """Global output attributes describing ``model``: name, description, reference, parameters
    (JSON), the full model file (``model_toml``, so a run can be resumed or reproduced) and the
    equations in text form."""
    import tomli_w

    return {
        "model": model.name,
        "description": model.description,
        "reference": model.reference,
        "parameters": json.dumps(dict(model.parameters)),
        "model_toml": tomli_w.dumps(model_to_dict(model)),
        "equations": "\n".join(model.equations()),
    }


class Discretisation:
    """Finite-volume operators of ``model`` on ``grid`` (see the module docstring for the scheme).

    Implements the :class:`~crossdiff.time.SemiDiscrete` contract: the state is
    ``U[i] = `` cell averages of species ``i``, ``L`` the implicit diffusion, ``E`` taxis,
    reactions and the explicit rest of nonlinear diffusion, the algebraic components the
    quasi-stationary species.

    Parameters
    ----------
    model : Model
    grid : Grid
    limiter : str
        Slope limiter of the taxis reconstruction: ``"mc"`` (default), ``"gminmod"``, ``"minmod"``.
    krylov_rtol : float
        Relative tolerance of the preconditioned Krylov solves (non-constant diffusion).
    flow : FaceVelocities, optional
        The flow that carries the advected species: required when the model has a flow (for a
        prescribed one :class:`crossdiff.flow.PrescribedFlow`; :func:`crossdiff.flow.discretise`
        builds the system of any model). This package never imports :mod:`crossdiff.flow`.
    """

    def __init__(
        self,
        model: Model,
        grid: Grid,
        limiter: str = DEFAULT_LIMITER,
        krylov_rtol: float = 1e-10,
        flow: FaceVelocities | None = None,
    ):
        if not isinstance(model, Model):
            raise InputError(f"model must be a crossdiff Model, got {type(model).__name__}")
        if not isinstance(grid, Grid):
            raise InputError(f"grid must be a Grid, got {type(grid).__name__}")
        self.model = model
        self.grid = grid
        self.limiter = limiter
        self._theta = LIMITERS[limiter]
        self.krylov_rtol = krylov_rtol
        self.compiled: CompiledModel = compile_model(model, grid.ndim)
        if flow is None and model.flow is not None:
            if model.flow.computed:
                raise ModelError(
                    f"model {model.name!r} has a computed {model.flow.kind} flow: its system is "
                    "crossdiff.flow.FlowSystem (crossdiff.flow.discretise picks it)"
                )
            raise ModelError(
                f"model {model.name!r} has a prescribed flow: pass flow=crossdiff.flow.PrescribedFlow(model, grid) "
                "(or build the system with crossdiff.flow.discretise)"
            )
        self.flow = flow
        #: species carried by the flow
        self._advected = tuple(i for i, s in enumerate(model.species) if s.advected) if flow is not None else ()
        self._walls = tuple(BoundaryKind.PERIODIC if p else BoundaryKind.NOFLUX for p in grid.periodic)
        cm = self.compiled
        self.n = cm.n
        self.spectral = SpectralLaplacian(grid)
        #: per axis, the factor of the spectral operators' eigenvalues: 1 on a fixed grid; a
        #: growing domain's ``1/ℓ_b(t)²`` (its cells stretched, the transforms those of ``t = 0``)
        self._metric = np.ones(grid.ndim)
        self._spectral_cache: dict[tuple[tuple[str, str], ...], SpectralLaplacian] = {}
        # cell centres as broadcastable (sparse) arrays: an expression of x alone costs one line
        mesh = np.meshgrid(*grid.coordinates, indexing="ij", sparse=True)
        self.coords = tuple(mesh[a] if a < grid.ndim else 0.0 for a in range(3))
        self.tau = np.array([s.tau for s in cm.species])
        self.elliptic_indices = cm.elliptic
        self.parabolic = np.array([i not in cm.elliptic for i in range(self.n)])
        self.inv_tau = np.where(self.parabolic, 1.0 / np.where(self.tau == 0, 1.0, self.tau), 0.0)
        # per-axis constant coefficients of the spectral operator: exact for constant/diagonal
        # diffusion, the preconditioner otherwise
        self._coef = np.zeros((self.n, grid.ndim))
        self._frozen: dict[int, list[np.ndarray]] = {}  # nonlinear D: face coefficients at U^n
        for i, s in enumerate(cm.species):
            if s.diffusion_kind is DiffusionKind.CONSTANT:
                self._coef[i, :] = s.scalar_diffusion.value
            elif s.diffusion_kind is DiffusionKind.TENSOR:
                self._coef[i, :] = np.diag(s.diffusion_tensor)
        self._sides = tuple(self._make_sides(i) for i in range(self.n))
        self._krylov = tuple(
            i
            for i, s in enumerate(cm.species)
            if self.parabolic[i]
            and (
                any(side.kind == "robin" for side in self._sides[i])
                or s.diffusion_kind is DiffusionKind.NONLINEAR
                or (
                    s.diffusion_kind is DiffusionKind.TENSOR
                    and np.any(s.diffusion_tensor - np.diag(np.diag(s.diffusion_tensor)))
                )
            )
        )
        self._elliptic = tuple(self._make_elliptic(i) for i in cm.elliptic)
        # all parabolic reactions in one compiled cell loop on grids where the NumPy temporaries
        # cost more than compiling once (the code is cached on disk by its hash)
        self._fused = None
        if grid.size >= FUSED_MIN_CELLS:
            self._fused = fused_reactions(cm, [i for i in range(self.n) if self.parabolic[i]])
        self.counters = Counters()
        self.differential = self.parabolic
        # densities; a mean-free potential (quasi-stationary species without decay) may be negative
        mean_free = {e.index for e in self._elliptic if self._mean_free(e)}
        self.nonnegative = np.array([i not in mean_free for i in range(self.n)])
        self._check_wall_values()
        self.positive = tuple(cm.positive)
        self._refresh_symbols()

    @property
    def nfev(self) -> int:
        """Evaluations of the explicit part so far."""
        return self.counters.nfev

    @cached_property
    def layout(self) -> Layout:
        """The species as fields on the cell centres, with the model's and grid's attributes."""
        g = self.grid
        return Layout(
            fields=tuple(Variable(s.name, g.axes, s.long_name) for s in self.model.species),
            coordinates=tuple(Coordinate(a, c, f"{a} (cell centre)") for a, c in zip(g.axes, g.coordinates)),
            space=g.axes,
            cell_volume=g.cell_volume,
            attrs={**model_attributes(self.model), **g.attributes()},
        )

    def fields(self, U: np.ndarray) -> np.ndarray:
        """The state is the species' cell averages itself."""
        return U

    def extras(self, U: np.ndarray) -> Mapping[str, np.ndarray]:
        """Finite volumes have no variables beyond the fields."""
        return {}

    def jacobian_sparsity(self):
        """Sparsity pattern of ``d rhs/dU`` (:func:`~crossdiff.fv.jacobian_sparsity`), cached."""
        if getattr(self, "_sparsity", None) is None:
            self._sparsity = jacobian_sparsity(self.grid, self.n)
        return self._sparsity

    # ------------------------------------------------------------------ set-up
    def _make_sides(self, i: int) -> tuple[_Side, ...]:
        """The Dirichlet and Robin sides of species ``i`` on this grid."""
        g = self.grid
        model = self.model
        s = model.species[i]
        values = model.parameter_symbols()
        out = []
        for side, cond in s.boundary:
            if side == "shape":
                raise ModelError(
                    f"boundary shape of species {s.name!r} is a condition on a shape's boundary, and this domain "
                    "is a box: cut a shape out of it ([domain] inside, --inside)"
                )
            a = "xyz".index(side[0])
            if a >= g.ndim:
                raise ModelError(f"boundary {side} of species {s.name!r}: the grid has {g.ndim} axis(es)")
            if g.periodic[a]:
                raise ModelError(
                    f"boundary {side} of species {s.name!r}: the {g.axes[a]} axis is periodic; a {cond.kind} side "
                    "needs walls (boundary noflux on that axis)"
                )
            h = g.spacing[a]
            d = self.compiled.species[i].diffusion
            coef = d.value if d is not None and d.constant else 0.0
            alpha = float(model.expand(cond.alpha).xreplace(values)) if cond.kind != "dirichlet" else 0.0
            beta = _wall_beta(cond.kind, alpha, h)
            high = side.endswith("high")
            coords = _wall_coords(g, a, high)
            index = tuple(
                (slice(g.cells[b] - 1, g.cells[b]) if high else slice(0, 1)) if b == a else slice(None)
                for b in range(g.ndim)
            )
            kernel = compile_kernel(model.expand(cond.value).xreplace(values), [], f"boundary {side} of {s.name!r}")
            out.append(_Side(a, high, cond.kind, coef * beta / h**2, kernel, coords, index, coef, alpha))
        return tuple(out)

    def _check_wall_values(self) -> None:
        """Refuse a negative Dirichlet or Robin value of a density at ``t = 0`` (it would drive the
        density negative, and the run would fail later blaming its reaction)."""
        for i, sides in enumerate(self._sides):
            if not self.nonnegative[i]:
                continue
            for side in sides:
                low = float(np.min(self._wall_values(side, 0.0)))
                if low < 0:
                    name = self.model.species[i].name
                    where = f"{self.grid.axes[side.axis]}_{'high' if side.high else 'low'}"
                    raise ModelError(
                        f"the {side.kind} value of species {name!r} on side {where} is negative "
                        f"(min {low:.3g}); a density's boundary value must be >= 0"
                    )

    def _walls_of(self, i: int) -> tuple[tuple[str, str], ...]:
        """The spectral walls of species ``i``: Dirichlet where it has a Dirichlet side (a Robin
        side counts as Neumann: the spectral solve is then its preconditioner)."""
        walls = [["neumann", "neumann"] for _ in range(self.grid.ndim)]
        for side in self._sides[i]:
            if side.kind == "dirichlet":
                walls[side.axis][int(side.high)] = "dirichlet"
        return tuple((w[0], w[1]) for w in walls)

    def _spectral_for(self, walls: tuple[tuple[str, str], ...]) -> SpectralLaplacian:
        """The spectral solver of a set of walls (made once)."""
        if walls == self.spectral.walls:
            return self.spectral
        if walls not in self._spectral_cache:
            self._spectral_cache[walls] = SpectralLaplacian(self.spectral.grid, walls=walls)
        return self._spectral_cache[walls]

    def _wall_values(self, side: _Side, t: float) -> np.ndarray:
        """``g`` on the wall's faces, shaped as the wall cells (1 along the side's axis)."""
        shape = tuple(1 if b == side.axis else n for b, n in enumerate(self.grid.cells))
        return np.broadcast_to(np.asarray(side.value(t, side.coords, _NO_DENSITIES), dtype=float), shape)

    def _boundary_sources(self, i: int, t: float, rate: np.ndarray) -> None:
        """``rate += D β g / h²`` in the wall cells of the Dirichlet and Robin sides of ``i``."""
        for side in self._sides[i]:
            if side.weight:
                rate[side.index] += side.weight * self._wall_values(side, t)

    def _mean_free(self, e: _Elliptic) -> bool:
        """A quasi-stationary species without decay and without Dirichlet sides is determined up
        to a constant: the mean-free (Jäger–Luckhaus) form."""
        return e.linear == 0 and not self._sides[e.index]

    def _make_elliptic(self, i: int) -> _Elliptic:
        s = self.compiled.species[i]
        syms = species_symbols(self.model)
        expr = s.reaction.expr
        c = sp.diff(expr, syms[i])
        if c.free_symbols:
            raise ModelError(
                f"quasi-stationary species {s.name!r}: its reaction must be linear in {s.name} with a "
                f"constant coefficient (got d/d{s.name} = {c})"
            )
        rest = sp.expand(expr - c * syms[i])
        if syms[i] in rest.free_symbols:  # pragma: no cover - guarded by the linearity check
            raise ModelError(f"quasi-stationary species {s.name!r}: reaction is not linear in {s.name}")
        c = float(c)
        d = s.diffusion.value if s.diffusion is not None else 0.0
        if d == 0 and c == 0:
            raise ModelError(f"quasi-stationary species {s.name!r} has neither diffusion nor a linear decay term")
        if c > 0:
            raise ModelError(f"quasi-stationary species {s.name!r}: 0 = DΔu + c u + ... needs c <= 0, got c = {c:g}")
        return _Elliptic(i, d, c, compile_kernel(rest, syms, f"reaction of {s.name!r}"))

    def _refresh_symbols(self) -> None:
        """The directly (spectrally) solved species and their per-axis coefficients ``D_{i,a}/τ_i``
        (the Krylov preconditioners use ``_symbol(i)``)."""
        self._direct = [i for i in range(self.n) if self.parabolic[i] and self._coef[i].any() and i not in self._krylov]
        self._direct_scales = np.array([self._coef[i] * self.inv_tau[i] * self._metric for i in self._direct]).reshape(
            -1, self.grid.ndim
        )
        groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
        for k, i in enumerate(self._direct):
            groups.setdefault(self._walls_of(i), []).append(k)
        #: the directly solved species by spectral walls: (solver, species indices, their rows of scales)
        self._direct_groups = [
            (self._spectral_for(w), np.array([self._direct[k] for k in ks]), np.array(ks)) for w, ks in groups.items()
        ]

    def _symbol(self, i: int) -> np.ndarray:
        """Eigenvalues of species ``i``'s constant-coefficient operator ``Σ_a D̄_{i,a} δ_a²``
        (with its Dirichlet walls; the Krylov preconditioner's)."""
        return self._spectral_for(self._walls_of(i)).symbol(self._coef[i] * self._metric)

    @property
    def has_nonlinear_diffusion(self) -> bool:
        return any(s.diffusion_kind is DiffusionKind.NONLINEAR for s in self.compiled.species)

    def prepare(self, t: float, U: np.ndarray) -> None:
        """Start of a step: :meth:`refresh` the frozen nonlinear diffusions."""
        self.refresh(t, U)

    def refresh(self, t: float, U: np.ndarray) -> None:
        """Freeze density-dependent diffusions at ``U`` (the start of a step).

        Sets the implicit face coefficients ``D_i(U)`` and the preconditioner's constant
        ``sqrt(min D · max D)``. Raises :class:`NumericalError` if a diffusion became negative.
        """
        changed = False
        for i, s in enumerate(self.compiled.species):
            if s.diffusion_kind is not DiffusionKind.NONLINEAR:
                continue
            d = s.scalar_diffusion.evaluate_array(t, self.coords, U)
            dmin, dmax = float(np.min(d)), float(np.max(d))
            if not (np.isfinite(dmin) and np.isfinite(dmax)):
                continue  # the failure monitor reports the non-finite state
            if dmin < 0:
                raise NumericalError(f"diffusion of species {s.name!r} became negative ({dmin:g})")
            g = self.grid
            self._frozen[i] = [face_mean(d, a, g.periodic[a]) for a in range(g.ndim)]
            ref = float(np.sqrt(max(dmin, 1e-12 * dmax) * dmax)) if dmax > 0 else 0.0
            if self._coef[i, 0] != ref:
                self._coef[i, :] = ref
                changed = True
        if changed:
            self._refresh_symbols()

    # ------------------------------------------------------------------ operators
    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``E(t, U)``: taxis, reactions and ``∇·((D(U) - D(U^n))∇U)``, divided by ``τ``.

        Written into ``out`` (C-contiguous, the shape of ``U``, not ``U`` itself) when given."""
        self.counters.nfev += 1
        g = self.grid
        if out is None:
            out = np.empty_like(U)
        fused = self._fused is not None
        if self._fused is not None:
            self._fused(np.float64(t), np.ascontiguousarray(U).reshape(self.n, -1), out.reshape(self.n, -1))
        for i, s in enumerate(self.compiled.species):
            rate = out[i]
            if not self.parabolic[i]:
                rate.fill(0.0)
                continue
            if not fused:
                rate[...] = s.reaction(t, self.coords, U)  # the first term initialises the rate
            for j, chi in s.taxis:
                chi_cells = chi(t, self.coords, U)
                const = np.isscalar(chi_cells) or np.ndim(chi_cells) == 0
                chi_arr = _DUMMY if const else np.ascontiguousarray(np.broadcast_to(chi_cells, g.shape))
                for a in range(g.ndim):
                    taxis_divergence(
                        axis_view(U[i], a),
                        axis_view(U[j], a),
                        _DUMMY if const else axis_view(chi_arr, a),
                        float(chi_cells) if const else 0.0,
                        const,
                        g.spacing[a],
                        g.periodic[a],
                        self._theta,
                        axis_view(rate, a),
                        1.0,
                    )
            if self._sides[i]:
                self._boundary_sources(i, t, rate)
            if i in self._advected:
                self._advect(t, i, U[i], rate)
            if s.diffusion_kind is DiffusionKind.NONLINEAR:
                if i not in self._frozen:
                    self.refresh(t, U)
                d_cells = s.scalar_diffusion.evaluate_array(t, self.coords, U)
                for a in range(g.ndim):
                    per, h = g.periodic[a], g.spacing[a]
                    flux = (face_mean(d_cells, a, per) - self._frozen[i][a]) * face_difference(U[i], a, per) / h
                    divergence(flux, a, per, h, out=rate)
            if self.inv_tau[i] != 1.0:
                rate *= self.inv_tau[i]
        return out

    def _advect(self, t: float, i: int, u: np.ndarray, rate: np.ndarray) -> None:
        """``rate −= ∇_h·(u 𝐮)``: the limited upwind divergence with the flow's face velocities;
        a Dirichlet side is an inflow wall carrying the boundary value."""
        assert self.flow is not None  # advected species exist only with a flow
        u = np.ascontiguousarray(u)
        for a, vel in enumerate(self.flow.face_velocities(t)):
            kinds = [self._walls[a], self._walls[a]]
            ghosts: list[np.ndarray | None] = [None, None]
            for side in self._sides[i]:
                if side.axis == a and side.kind == "dirichlet":
                    kinds[int(side.high)] = BoundaryKind.INFLOW
                    ghosts[int(side.high)] = axis_view(np.ascontiguousarray(self._wall_values(side, t)), a)[:, 0, :]
            upwind_divergence(
                axis_view(u, a),
                axis_view(vel, a),
                self.grid.spacing[a],
                axis_view(rate, a),
                limiter=self.limiter,
                boundary=(kinds[0], kinds[1]),
                low=ghosts[0],
                high=ghosts[1],
            )

    def _diffusion_operator(self, i: int, u: np.ndarray) -> np.ndarray:
        """``∇_h·(D ∇_h u)`` of species ``i`` (frozen coefficients; full tensor; or constant)."""
        g = self.grid
        s = self.compiled.species[i]
        out = np.zeros_like(u)
        if s.diffusion_kind is DiffusionKind.NONLINEAR:
            if i not in self._frozen:
                raise RuntimeError("refresh() must be called before the implicit operator")  # pragma: no cover
            for a in range(g.ndim):
                per, h = g.periodic[a], g.spacing[a]
                divergence(self._frozen[i][a] * face_difference(u, a, per) / h, a, per, h, out=out)
            return out
        cross = s.diffusion_kind is DiffusionKind.TENSOR and bool(
            np.any(s.diffusion_tensor - np.diag(np.diag(s.diffusion_tensor)))
        )
        if not cross:  # constant coefficient per axis: the compiled 3-point second difference
            u = np.ascontiguousarray(u)
            for a in range(g.ndim):
                second_difference(
                    axis_view(u, a), self._coef[i, a] / g.spacing[a] ** 2, g.periodic[a], axis_view(out, a)
                )
            for side in self._sides[i]:  # Dirichlet/Robin walls: the part of the wall flux in u_0
                out[side.index] -= side.weight * u[side.index]
            return out
        for a in range(g.ndim):
            per, h = g.periodic[a], g.spacing[a]
            flux = self._coef[i, a] * face_difference(u, a, per) / h
            if s.diffusion_kind is DiffusionKind.TENSOR:
                for b in range(g.ndim):
                    if b != a and s.diffusion_tensor[a, b] != 0:
                        grad_b = _central(u, b, g.periodic[b], g.spacing[b])
                        flux = flux + s.diffusion_tensor[a, b] * face_mean(grad_b, a, per)
            divergence(flux, a, per, h, out=out)
        return out

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """``L U``: the diffusion of every parabolic species divided by ``τ_i`` (zero otherwise)."""
        out = np.zeros_like(U)
        for i, s in enumerate(self.compiled.species):
            if not self.parabolic[i] or s.diffusion_kind is DiffusionKind.NONE:
                continue
            out[i] = self._diffusion_operator(i, U[i]) * self.inv_tau[i]
        return out

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        """The full semi-discrete right-hand side ``E(t, U) + L U``."""
        if self.has_nonlinear_diffusion and len(self._frozen) == 0:
            self.refresh(t, U)
        return self.explicit(t, U) + self.implicit(U)

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """Solve ``(I - γΔt L) U = B`` species by species (into ``out`` when given).

        Constant (diagonal) diffusion: all such species in one batched DCT/FFT solve
        (:meth:`SpectralLaplacian.solve_diagonal`). Density-dependent diffusion (frozen):
        conjugate gradients; tensor with cross terms: GMRES; both preconditioned by the spectral
        solve with constant coefficients, to relative residual ``krylov_rtol``.
        """
        self.counters.n_implicit_solves += 1
        if len(self._direct) == self.n and len(self._direct_groups) == 1:
            # every species solved spectrally with the same walls: transform B as a whole
            X = self._direct_groups[0][0].solve_diagonal(B, gamma_dt * self._direct_scales)
            if out is None:
                return X
            out[...] = X
            return out
        if out is None:
            out = B.copy()
        else:
            out[...] = B
        for spectral, species, rows in self._direct_groups:
            out[species] = spectral.solve_diagonal(out[species], gamma_dt * self._direct_scales[rows], overwrite=True)
        for i in self._krylov:
            out[i] = self._krylov_solve(i, B[i], gamma_dt * self.inv_tau[i])
        return out

    def _krylov_solve(self, i: int, b: np.ndarray, scale: float) -> np.ndarray:
        shape = b.shape
        symbol = scale * self._symbol(i)
        spectral = self._spectral_for(self._walls_of(i))

        def matvec(x):
            u = x.reshape(shape)
            return (u - scale * self._diffusion_operator(i, u)).ravel()

        def precond(r):
            return spectral.solve(r.reshape(shape), symbol, 1.0).ravel()

        symmetric = self.compiled.species[i].diffusion_kind in (DiffusionKind.NONLINEAR, DiffusionKind.CONSTANT)
        x, converged = krylov_solve(matvec, precond, b.ravel(), precond(b.ravel()), self.krylov_rtol, symmetric)
        self.counters.n_krylov_solves += 1
        if not converged:
            raise NumericalError(
                f"implicit diffusion solve of species {self.compiled.species[i].name!r} did not converge"
            )
        return x.reshape(shape)

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        """The algebraic constraints: :meth:`solve_elliptic`."""
        return self.solve_elliptic(t, U) if self._elliptic else U

    def solve_elliptic(self, t: float, U: np.ndarray) -> np.ndarray:
        """Overwrite the quasi-stationary species of ``U`` with the solution of their equation."""
        for e in self._elliptic:
            r = e.rest.evaluate_array(t, self.coords, U)
            mean_free = self._mean_free(e)
            if mean_free:  # mean-free form: D Δu = -(r - mean r), mean(u) = 0
                r = r - r.mean()
            if self._sides[e.index]:  # Dirichlet data: D β g / h² in the wall cells
                r = np.array(r, dtype=float)
                self._boundary_sources(e.index, t, r)
            spectral = self._spectral_for(self._walls_of(e.index))
            sol = spectral.solve(r, e.diffusion * spectral.symbol(self._metric), -e.linear)
            if mean_free:
                sol -= sol.mean()
            U[e.index] = sol
        return U

    # ------------------------------------------------------------------ step-size information
    def _face_speeds(self, t: float, U: np.ndarray, i: int) -> list[np.ndarray | float]:
        """Per axis, ``Σ_j |a_j|`` on every face: the taxis face speeds of species ``i``
        (``a_j = χ̄_ij δ u_j / h`` up the gradient of each signal ``j``), divided by ``τ_i``.

        The upwind fluxes of the signals are added separately, so ``Σ_j |a_j|`` is what bounds
        the outflow of a cell."""
        g = self.grid
        speeds: list[np.ndarray | float] = []
        chis: list[tuple[int, Any]] = []
        for j, chi in self.compiled.species[i].taxis:
            chi_cells = np.abs(chi(t, self.coords, U))
            if not np.isscalar(chi_cells):
                chi_cells = np.broadcast_to(chi_cells, g.shape)
            chis.append((j, chi_cells))
        flow = self.flow.face_velocities(t) if i in self._advected and self.flow is not None else None
        for a in range(g.ndim):
            per, h = g.periodic[a], g.spacing[a]
            speed: np.ndarray | float = 0.0
            for j, chi_cells in chis:
                chi_face = chi_cells if np.isscalar(chi_cells) else face_mean(chi_cells, a, per)
                speed = speed + chi_face * np.abs(face_difference(U[j], a, per)) / h
            if flow is not None:  # interior faces (walls carry no flux unless periodic)
                vel = np.abs(flow[a])
                inner = np.take(vel, np.arange(0 if per else 1, g.cells[a]), axis=a)
                speed = speed + inner
            speeds.append(speed * self.inv_tau[i])
        return speeds

    def _taxis_species(self):
        """Species with transport in the explicit part: taxis or advection."""
        return [
            i for i, s in enumerate(self.compiled.species) if self.parabolic[i] and (s.taxis or i in self._advected)
        ]

    def taxis_rate(self, t: float, U: np.ndarray) -> float:
        """``max_i Σ_a max|a_a|/h_a``: the explicit transport CFL rate (1/time), with the face
        speeds of :meth:`_face_speeds`."""
        rate = 0.0
        for i in self._taxis_species():
            speeds = self._face_speeds(t, U, i)
            total = sum(float(np.max(sp_a, initial=0.0)) / h for sp_a, h in zip(speeds, self.grid.spacing))
            rate = max(rate, total)
        return rate

    def transport_limit(self, t: float, U: np.ndarray, cfl: float) -> float:
        r"""Largest stable step of explicit taxis next to implicit diffusion (``inf`` if no taxis).

        For each parabolic species with taxis, with face speeds ``a_a`` (:meth:`_face_speeds`)
        and its smallest diffusion coefficient ``D`` (both divided by ``τ``),

        .. math::

            Δt \le \mathrm{cfl}\,\max\Big(\frac{1}{\sum_a \max|a_a|/h_a},\;
                    \frac{2 D}{\sum_a \max a_a^2}\Big).

        The first bound is the hyperbolic CFL condition of the upwind scheme (positivity of
        forward Euler). The second is the von Neumann bound of explicit transport with implicit
        diffusion: with ``g = (1 − iΔt a sin θ/h)/(1 + 4Δt D sin²(θ/2)/h²)``, ``|g| <= 1`` for
        every θ when ``Δt a² <= 2D``, whatever ``h``. Where the cell Péclet number ``|a| h/D`` is
        below 2 (resolved aggregates) the diffusive bound is the larger one, so the step does not
        shrink like ``h`` under grid refinement; the embedded error estimate and the rejection of
        negative states still guard accuracy and positivity.
        """
        limit = math.inf
        for i in self._taxis_species():
            hyperbolic = 0.0
            speed_sq = 0.0
            for speed, h in zip(self._face_speeds(t, U, i), self.grid.spacing):
                peak = float(np.max(speed, initial=0.0))
                hyperbolic += peak / h
                speed_sq += peak * peak
            if hyperbolic <= 0:
                continue
            bound = 1.0 / hyperbolic
            d_min = self._min_diffusion(i) * self.inv_tau[i]
            if d_min > 0 and speed_sq > 0:
                bound = max(bound, 2.0 * d_min / speed_sq)
            limit = min(limit, cfl * bound)
        return limit

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        """:meth:`transport_limit` at Courant number one."""
        return self.transport_limit(t, U, 1.0)

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        """``1/(ρ_diff + 2 ρ_taxis)`` (:meth:`diffusion_rate`, :meth:`taxis_rate`): the
        forward-Euler positivity limit of the whole right-hand side with the MUSCL taxis flux."""
        rate = self.diffusion_rate(t, U) + 2.0 * self.taxis_rate(t, U)
        return 1.0 / rate if rate > 0 else math.inf

    def _min_diffusion(self, i: int) -> float:
        """Smallest diffusion coefficient of species ``i`` now (frozen face values if nonlinear)."""
        s = self.compiled.species[i]
        if s.diffusion_kind is DiffusionKind.NONLINEAR:
            frozen = self._frozen.get(i)
            return min(float(np.min(f)) for f in frozen) if frozen else 0.0
        if s.diffusion_kind is DiffusionKind.TENSOR:
            return max(float(np.min(np.linalg.eigvalsh(np.asarray(s.tensor, float)))), 0.0)
        if s.diffusion_kind is DiffusionKind.CONSTANT:
            return float(np.min(self._coef[i]))
        return 0.0

    def diffusion_rate(self, t: float, U: np.ndarray) -> float:
        """``max_i 2 Σ_a D_i / h_a² / τ_i``: the explicit diffusion stability rate (1/time)."""
        rate = 0.0
        for i, s in enumerate(self.compiled.species):
            if not self.parabolic[i]:
                continue
            if s.diffusion_kind is DiffusionKind.NONLINEAR:
                d = np.full(self.grid.ndim, float(np.max(s.scalar_diffusion.evaluate_array(t, self.coords, U))))
            elif s.diffusion_kind is DiffusionKind.TENSOR:
                d = np.abs(s.diffusion_tensor).sum(axis=1)
            else:
                d = self._coef[i]
            # a Dirichlet/Robin wall cell has 1 + β ≤ 3 on the diagonal instead of 2
            diag = np.full(self.grid.ndim, 2.0)
            for side in self._sides[i]:
                diag[side.axis] = 3.0
            rate = max(rate, float(np.sum(diag * d / np.square(self.grid.spacing))) * self.inv_tau[i])
        return rate

    def initial_state(self, frame: Mapping[str, np.ndarray] | np.ndarray, t: float = 0.0) -> np.ndarray:
        """The state from the species' fields (an array ``(n, *grid.shape)`` or a mapping of
        species names to arrays), with the quasi-stationary species solved (consistent data).

        Raises
        ------
        InputError
            If a species that must stay positive is not, or a density-dependent diffusion is
            negative or not finite on the data.
        """
        if isinstance(frame, Mapping):
            frame = np.stack([np.asarray(frame[name], dtype=float) for name in self.model.species_names])
        U = np.array(frame, dtype=float, copy=True)
        names = self.model.species_names
        if U.shape != (self.n, *self.grid.shape):
            raise InputError(f"the state has shape {U.shape}, expected {(self.n, *self.grid.shape)}")
        for i, reason in self.positive:
            if np.min(U[i]) <= 0:
                raise InputError(f"initial data of species {names[i]!r} must be > 0: {reason}")
        for s in self.compiled.species:
            if s.diffusion is not None and not s.diffusion.constant:
                with np.errstate(all="ignore"):
                    d0 = s.diffusion.evaluate_array(t, self.coords, U)
                if not np.all(np.isfinite(d0)) or np.min(d0) < 0:
                    raise InputError(
                        f"diffusion of species {s.name!r} ({s.diffusion.expr}) is negative or not finite on the "
                        f"initial data (min {np.nanmin(d0):.3g})"
                    )
        return self.solve_elliptic(t, U) if self._elliptic else U
