r"""Densities coupled to a computed 2D incompressible flow: the vorticity–stream-function system.

For the flow of :class:`~crossdiff.model.Flow` (``kind = "unsteady-stokes"`` or
``"navier-stokes"``), the curl of the momentum equation divided by ``ρ`` gives, with
``ν = η/ρ``, ``Φ = y``,

.. math::

    \partial_t\omega + [\nabla\cdot(\omega\mathbf{u})] = \nu\,\Delta\omega
        - \frac{1}{\rho}\sum_i g_i\,\partial_x u_i, \qquad
    \Delta\psi = \omega, \qquad \mathbf{u} = (-\partial_y\psi,\ \partial_x\psi),

the bracket for Navier–Stokes only (``∇·(ω𝐮) = 𝐮·∇ω`` as ``∇·𝐮 = 0``). Steady (creeping)
Stokes (``kind = "stokes"``) drops ``∂tω``: the vorticity is then algebraic too, solved from the
densities in :meth:`FlowSystem.constrain` (``ν Δω = Σ g_i ∂_x u_i / ρ``, a biharmonic problem for ψ). The vorticity–stream
function formulation (Peyret & Taylor, *Computational Methods for Fluid Flow*, 1983, ch. 6;
Quartapelle, *Numerical Solution of the Incompressible Navier–Stokes Equations*, 1993) needs no
pressure and gives a velocity that is divergence-free on the grid exactly. Cell-centred, like
the densities:

* ``ψ = 0`` on every wall (no flow through it), solved by a DST (Dirichlet walls) or FFT
  (periodic axes): the algebraic component, re-imposed by :meth:`FlowSystem.constrain`. The
  ghost cell of ``ψ`` is ``−ψ_0`` on a free-slip wall (where ``ψ_ss = ω = 0``) and the
  quadratic through the wall and the first two cells, ``ψ_g = −2ψ_0 + ψ_1/3``, on a no-slip wall
  (LeVeque 2007, §2.12): there ``ψ_ss = ω_w ≠ 0`` and the antisymmetric ghost would leave the
  error ``ω_w/4`` in the wall cell's ``Δ_h ψ``, which made the no-slip walls first order (the
  Rayleigh–Bénard onset, the decay of Stokes modes). Its difference to the DST's ghost is a
  rank-``m`` correction (``m`` wall cells), solved with the capacitance matrices below.
* Face velocities: differences of ``ψ`` at the cell corners (zero on walls), as for a
  prescribed stream function (:class:`PrescribedFlow`): exactly divergence-free, carried into
  :func:`crossdiff.fv.upwind_divergence` for the densities and the vorticity. The corners are
  the mean of the four neighbouring cells; across an axis with a no-slip wall the cubic
  interpolation ``(−ψ_{j−2} + 9ψ_{j−1} + 9ψ_j − ψ_{j+1})/16`` (Fornberg 1988), whose no-slip
  ghost cell is the cubic with ``ψ = 0`` and ``∂_s ψ = c`` on the wall: the mean's error
  ``ψ_ss h²/8`` does not vanish on such a wall and left the error ``ω_w h/8`` in the velocity
  of the wall cells.
* The vorticity on a wall: zero on a free-slip wall; on a no-slip wall moving tangentially with
  ``∂_s ψ = c`` (``s`` the distance from the wall) the second-order formula of Woods (1954) on
  the cell centres at ``s = h/2, 3h/2`` (Peyret & Taylor 1983, §6.2.2),

  .. math:: \omega_w = \frac{4\,(27\psi_0 - \psi_1 - 12\,c\,h)}{9h^2},

  enters the viscous term through the ghost cell ``ω_g = 2ω_w − ω_0``. Its part in ``ψ`` (hence
  in ``ω``) belongs to the implicit operator ``L``: viscosity, no-slip coupling included, is
  implicit (a capacitance-matrix solve, exact at the step it was built for and the preconditioner
  of GMRES at nearby steps, or block circulant and exact at every step for walls along a
  periodic axis; a direct DST/FFT solve without no-slip walls), so the step is not bounded by
  ``h²/ν``.
* Implicit too: the buoyancy of the (differential) densities, ``−Σ g_i ∂_x u_i / ρ`` (central
  differences), linear in them, so that ``L`` is block lower triangular (species, then ``ω``) and
  each stage's vorticity balances its own densities: at a large Schmidt number the vorticity
  relaxes within ``1/(ν k²)``, far below the step, and an explicit force left it balancing the
  force of earlier stages. The error estimate of ``ω`` is filtered by ``(I − γΔt L)^{-1}``
  (:meth:`FlowSystem.filter_error`).
* Explicit: the densities' own terms (:class:`crossdiff.fv.Discretisation` with this flow),
  vorticity transport (Navier–Stokes), the buoyancy of quasi-stationary species and the moving
  walls.

State: the species, then ``ω`` (differential) and ``ψ`` (algebraic). It is a
:class:`~crossdiff.time.SemiDiscrete`: steppers, loop, writer, resume and monitor are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from ..errors import InputError, ModelError, NumericalError
from ..fv import (
    DEFAULT_LIMITER,
    BoundaryKind,
    Discretisation,
    SpectralLaplacian,
    axis_view,
    krylov_solve,
    upwind_divergence,
)
from ..grid import Grid
from ..model import NOISE, SPACE, Model
from ..time import Counters, Layout, Variable

__all__ = ["FlowSystem"]


@dataclass(frozen=True)
class _Wall:
    """A no-slip wall: axis, side, cell width across it, and ``c = ∂_s ψ`` (its motion)."""

    axis: int
    high: bool
    h: float
    c: float


def _along(a: np.ndarray, axis: int, k: int) -> np.ndarray:
    """The layer ``k`` of ``a`` along ``axis`` as a view with that axis kept (length 1)."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(k, k + 1) if k >= 0 else slice(a.shape[axis] + k, a.shape[axis] + k + 1)
    return a[tuple(index)]


class FlowSystem:
    """The species of ``model`` coupled to its computed flow on a 2D ``grid`` (module docstring).

    Parameters
    ----------
    model : Model
        A model whose ``flow`` is ``stokes``, ``unsteady-stokes`` or ``navier-stokes``.
    grid : Grid
        Two-dimensional; periodic axes have no walls.
    limiter : str
        Slope limiter of the upwind fluxes (densities and vorticity).
    krylov_rtol : float
        Relative tolerance of the Krylov solves (no-slip viscous solve, non-constant diffusion).

    Raises
    ------
    ModelError
        A model without a computed flow, a grid that is not 2D, walls named on periodic axes.
    """

    def __init__(self, model: Model, grid: Grid, limiter: str = DEFAULT_LIMITER, krylov_rtol: float = 1e-10):
        flow = model.flow
        if flow is None or not flow.computed:
            raise ModelError(f"model {model.name!r} has no computed flow (stokes or navier-stokes)")
        if grid.ndim != 2:
            raise ModelError(f"a {flow.kind} flow is two-dimensional; the grid has {grid.ndim} axis(es)")
        self.model = model
        self.grid = grid
        self.limiter = limiter
        self.krylov_rtol = krylov_rtol
        self.flow_spec = flow
        values = model.parameter_symbols()

        def number(expr: sp.Expr) -> float:
            return float(model.expand(expr).xreplace(values))

        rho = number(flow.density)
        self.nu = number(flow.viscosity) / rho
        self.navier_stokes = flow.kind == "navier-stokes"
        #: steady (creeping) Stokes: the vorticity is algebraic, solved from the densities
        self.steady = flow.kind == "stokes"
        self.buoyancy = tuple((model.index(name), number(g) / rho) for name, g in flow.buoyancy)
        lids = {side: number(v) for side, v in flow.lid}
        walls: list[_Wall] = []
        for side, _ in (*flow.walls, *flow.lid):
            a = "xyz".index(side[0])
            if a >= 2 or grid.periodic[a]:
                raise ModelError(f"flow wall {side}: the grid has no such wall (periodic or missing axis)")
        for a in range(2):
            if grid.periodic[a]:
                continue
            for high, name in ((False, "low"), (True, "high")):
                side = f"{'xy'[a]}_{name}"
                if flow.wall(side) != "no-slip":
                    continue
                # ∂_s ψ with s the distance from the wall: u_x = −∂_y ψ, u_y = ∂_x ψ; a lid moves
                # along +x (y walls) or +y (x walls)
                speed = lids.get(side, 0.0)
                c = (speed if high else -speed) if a == 1 else (-speed if high else speed)
                walls.append(_Wall(a, high, grid.spacing[a], c))
        self._noslip = tuple(walls)
        # ψ = 0 and (for the DST) ω's homogeneous part vanish on every wall: one Dirichlet solver
        self.spectral = SpectralLaplacian(grid, walls=(("dirichlet", "dirichlet"),) * 2)
        self._laplace = self.spectral.symbol([1.0, 1.0])
        self.n_species = model.n_species
        self.n = self.n_species + 2
        self.species = Discretisation(model, grid, limiter=limiter, krylov_rtol=krylov_rtol, flow=self)
        self.counters: Counters = self.species.counters
        self.differential = np.concatenate([self.species.differential, [not self.steady, False]])
        self.nonnegative = np.concatenate([self.species.nonnegative, [False, False]])
        self.positive = self.species.positive
        self._psi: np.ndarray = np.zeros(grid.shape)
        #: transform pairs spent in GMRES since the no-slip capacitance matrix was built
        self._krylov_work = 0
        self._walls = tuple(BoundaryKind.PERIODIC if p else BoundaryKind.NOFLUX for p in grid.periodic)
        self._lid_source = self._moving_walls()

    # ------------------------------------------------------------------ the flow
    @property
    def omega(self) -> int:
        """Index of the vorticity component."""
        return self.n_species

    @property
    def psi(self) -> int:
        """Index of the stream-function component."""
        return self.n_species + 1

    def stream_function(self, omega: np.ndarray) -> np.ndarray:
        """``ψ`` with ``Δ_h ψ = ω`` and ``ψ = 0`` on the walls (mean zero on a periodic box).

        The ghost cell of ``ψ`` is ``−ψ_0`` (the DST) on free-slip walls and the quadratic
        extrapolation through the wall ``ψ_g = −2ψ_0 + ψ_1/3`` on no-slip walls (module
        docstring): there ``ψ`` grows like ``s²``, and the antisymmetric ghost would leave an
        error ``ω_w/4`` in the wall cell's Laplacian. The wall corrections ``q = ψ_g + ψ_0`` solve
        ``(I + ½ Q Δ^{-1} α S) q = Q Δ^{-1} ω`` (:meth:`_wall_poisson`), then
        ``ψ = Δ^{-1}(ω − ½ α S q)``: two DST solves."""
        psi = -self.spectral.solve(omega, self._laplace, 0.0)
        if self._noslip:
            _, mq_inv = self._wall_poisson
            q = self._apply_wall(mq_inv, self._gather(psi, self._Q))
            psi += self.spectral.solve(0.5 * self._scatter(q), self._laplace, 0.0)
        if all(self.grid.periodic):
            psi -= psi.mean()
        return psi

    def _corners(self, psi: np.ndarray) -> np.ndarray:
        """``ψ`` at the cell corners, ``(nx + 1, ny + 1)``, zero on walls.

        Without no-slip walls: the mean of the four cells around a corner, with antisymmetric
        ghost cells at walls and wrap-around on periodic axes. Across an axis with a no-slip
        wall, the mean's error ``ψ_ss h²/8`` does not vanish at the wall (``ψ_ss = ω_w``) and
        would leave an error ``ω_w h/8`` in the velocity of the wall cells: along such an axis
        the corners interpolate with the cubic ``(−ψ_{j−2} + 9ψ_{j−1} + 9ψ_j − ψ_{j+1})/16``
        (Fornberg 1988), the ghost cell of a no-slip wall from the cubic with ``ψ = 0`` and
        ``∂_s ψ = c`` on the wall, ``ψ_g = 2ψ_0 − ψ_1/9 − 4ch/3``."""
        if not self._noslip:
            padded = psi
            for a in range(2):
                if self.grid.periodic[a]:
                    low, high = _along(padded, a, -1), _along(padded, a, 0)
                else:
                    low, high = -_along(padded, a, 0), -_along(padded, a, -1)
                padded = np.concatenate([low, padded, high], axis=a)
            return 0.25 * (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:])
        out = psi
        for a in range(2):
            if self.grid.periodic[a]:
                v = np.moveaxis(np.concatenate([_along(out, a, -1), out, _along(out, a, 0)], axis=a), a, 0)
                out = np.moveaxis(0.5 * (v[:-1] + v[1:]), 0, a)
                continue
            ghosts = []
            for upper in (False, True):
                wall = next((w for w in self._noslip if w.axis == a and w.high == upper), None)
                p0, p1 = _along(out, a, -1 if upper else 0), _along(out, a, -2 if upper else 1)
                if wall is None:
                    ghosts.append(-p0)
                else:
                    ghosts.append(2.0 * p0 - p1 / 9.0 - 4.0 / 3.0 * wall.c * wall.h)
            v = np.moveaxis(np.concatenate([ghosts[0], out, ghosts[1]], axis=a), a, 0)
            if any(w.axis == a for w in self._noslip):
                inner = (-v[:-3] + 9.0 * v[1:-2] + 9.0 * v[2:-1] - v[3:]) / 16.0
            else:
                inner = 0.5 * (v[1:-2] + v[2:-1])
            zero = np.zeros_like(inner[:1])
            out = np.moveaxis(np.concatenate([zero, inner, zero]), 0, a)
        return out

    def velocities(self, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face-normal velocities ``(u_x (nx+1, ny), u_y (nx, ny+1))`` of the stream function."""
        corners = self._corners(psi)
        hx, hy = self.grid.spacing
        return (
            np.ascontiguousarray(-np.diff(corners, axis=1) / hy),
            np.ascontiguousarray(np.diff(corners, axis=0) / hx),
        )

    def face_velocities(self, t: float) -> tuple[np.ndarray, ...]:
        """The flow of the current stage (:class:`crossdiff.fv.FaceVelocities`), from the stream
        function last handed to the system."""
        return self.velocities(self._psi)

    def _moving_walls(self) -> np.ndarray | None:
        """``ν·2ω_w/h²`` of the walls' motion alone (the ``c`` term), in the wall cells."""
        if not any(w.c for w in self._noslip):
            return None
        out = np.zeros(self.grid.shape)
        for w in self._noslip:
            if w.c:
                _along(out, w.axis, -1 if w.high else 0)[...] += self.nu * 2.0 / w.h**2 * (-16.0 * w.c / (3.0 * w.h))
        return out

    def viscous(self, omega: np.ndarray) -> np.ndarray:
        """``ν Δ_h ω`` with the walls' homogeneous vorticity: ghost ``−ω_0`` (free-slip) or
        ``2ω_w(ψ(ω)) − ω_0`` (no-slip, without the walls' motion): the implicit operator ``L``."""
        out = self.nu * self.spectral.inverse(self.spectral.forward(omega) * self._laplace)
        if self._noslip:
            y = -self.spectral.solve(omega, self._laplace, 0.0)
            out += self.nu * self._scatter(self._wall_vorticity(y))
        return out

    # ------------------------------------------------------------------ SemiDiscrete
    @cached_property
    def layout(self) -> Layout:
        """The species' fields, then ``vorticity``, ``stream`` and the velocity ``u_x``, ``u_y``
        (:data:`crossdiff.model.FLOW_FIELDS`)."""
        inner = self.species.layout
        axes = self.grid.axes
        extra = (
            Variable("vorticity", axes, "flow vorticity"),
            Variable("stream", axes, "stream function"),
            Variable("u_x", axes, "x velocity"),
            Variable("u_y", axes, "y velocity"),
        )
        attrs = {**inner.attrs, "flow": self.flow_spec.kind}
        return Layout(inner.fields + extra, inner.coordinates, inner.space, inner.cell_volume, attrs)

    def cell_velocity(self, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(u_x, u_y)`` at the cell centres: the mean of the face-normal velocities of
        :meth:`velocities` on the two faces of each cell across that axis (second order)."""
        ux, uy = self.velocities(psi)
        return 0.5 * (ux[1:] + ux[:-1]), 0.5 * (uy[:, 1:] + uy[:, :-1])

    def fields(self, U: np.ndarray) -> np.ndarray:
        """The state (species, ``ω``, ``ψ``) and the cell-centred velocity of its ``ψ``: what
        is written and recorded (the velocity is not a state component)."""
        return np.concatenate([U, np.stack(self.cell_velocity(U[self.psi]))])

    def extras(self, U: np.ndarray) -> Mapping[str, np.ndarray]:
        """No variables beyond the fields."""
        return {}

    def _set(self, U: np.ndarray) -> None:
        self._psi = U[self.psi]

    def prepare(self, t: float, U: np.ndarray) -> None:
        self._set(U)
        self.species.prepare(t, U[: self.n_species])

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The species' explicit part with this flow; for ``ω``: transport (Navier–Stokes), the
        moving walls, and the buoyancy of quasi-stationary species (that of differential species
        is implicit, :meth:`implicit`); zero for ``ψ``."""
        if out is None:
            out = np.empty_like(U)
        self._set(U)
        ns = self.n_species
        self.species.explicit(t, U[:ns], out[:ns])
        rate = out[self.omega]
        rate.fill(0.0)
        out[self.psi] = 0.0
        if self.steady:
            return out
        if self.navier_stokes:
            omega = np.ascontiguousarray(U[self.omega])
            for a, vel in enumerate(self.face_velocities(t)):
                upwind_divergence(
                    axis_view(omega, a),
                    axis_view(vel, a),
                    self.grid.spacing[a],
                    axis_view(rate, a),
                    limiter=self.limiter,
                    boundary=self._walls[a],
                )
        rate += self._buoyancy(U, self._explicit_buoyancy)
        if self._lid_source is not None:
            rate += self._lid_source
        return out

    @cached_property
    def _implicit_buoyancy(self) -> tuple[tuple[int, float], ...]:
        """The buoyant differential species: their force is part of the implicit operator."""
        return tuple((i, g) for i, g in self.buoyancy if self.species.differential[i])

    @cached_property
    def _explicit_buoyancy(self) -> tuple[tuple[int, float], ...]:
        """The buoyant quasi-stationary species (solved in ``constrain``, after the implicit
        solve): their force stays explicit."""
        return tuple((i, g) for i, g in self.buoyancy if not self.species.differential[i])

    def _buoyancy(self, U: np.ndarray, terms: tuple[tuple[int, float], ...]) -> np.ndarray:
        """``−Σ g_i ∂_x u_i / ρ`` over ``terms`` (pairs of species index and ``g_i/ρ``)."""
        out = np.zeros(self.grid.shape)
        for i, g in terms:
            out -= g * self._dx(U[i])
        return out

    def _forcing(self, U: np.ndarray) -> np.ndarray:
        """The vorticity's sources: buoyancy ``−Σ g_i ∂_x u_i / ρ`` and the moving walls."""
        out = self._buoyancy(U, self.buoyancy)
        if self._lid_source is not None:
            out += self._lid_source
        return out

    def _dx(self, u: np.ndarray) -> np.ndarray:
        """Central ``∂_x u`` (reflected ghost cells at walls, wrap-around if periodic)."""
        h = self.grid.spacing[0]
        if self.grid.periodic[0]:
            return (np.roll(u, -1, axis=0) - np.roll(u, 1, axis=0)) / (2 * h)
        padded = np.concatenate([u[:1], u, u[-1:]], axis=0)
        return (padded[2:] - padded[:-2]) / (2 * h)

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """``L U``: the species' diffusion; for ``ω`` the viscosity (no-slip walls included) and
        the buoyancy of differential species, ``L_ωω ω + L_ωn n`` with ``L_ωn n = −Σ g_i ∂_x u_i/ρ``
        (linear in the densities: ``L`` is block lower triangular, :meth:`solve_implicit`)."""
        out = np.zeros_like(U)
        out[: self.n_species] = self.species.implicit(U[: self.n_species])
        if not self.steady:
            out[self.omega] = self.viscous(U[self.omega]) + self._buoyancy(U, self._implicit_buoyancy)
        return out

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        return self.explicit(t, U) + self.implicit(U)

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """``(I − γΔt L) X = B`` by blocks (``L`` is lower triangular, :meth:`implicit`): the
        species' solve, then ``(I − γΔt L_ωω) ω = b_ω + γΔt L_ωn n`` with the species just
        solved, one DST/FFT solve without no-slip walls, else :meth:`_noslip_solve`; ``ψ``
        passes through.

        The buoyancy is implicit because at a large Schmidt number (``ν ≫`` the species'
        diffusion) the vorticity relaxes to the force of the densities within ``1/(ν k²)``: with
        the force explicit, each stage's vorticity balances the force of earlier stages, and the
        embedded error estimate of the vorticity is of the size of the force's change over the
        step times ``ν k²`` (on ``keller-segel-fluid``, Sc = 500, 64×32, it held steps of 3e-6).
        Implicit, every stage's vorticity balances its own densities."""
        if out is None:
            out = np.empty_like(B)
        ns = self.n_species
        out[:ns] = self.species.solve_implicit(B[:ns], gamma_dt)
        out[self.psi] = B[self.psi]
        if self.steady:
            out[self.omega] = B[self.omega]
            return out
        b = B[self.omega]
        if self._implicit_buoyancy:
            b = b + gamma_dt * self._buoyancy(out, self._implicit_buoyancy)
        out[self.omega] = self._vorticity_solve(b, gamma_dt)
        return out

    def _vorticity_solve(self, b: np.ndarray, gamma_dt: float) -> np.ndarray:
        """``(I − γΔt L_ωω) ω = b``: one DST/FFT solve without no-slip walls, else
        :meth:`_noslip_solve`."""
        if not self._noslip:
            scale = gamma_dt * self.nu
            return self.spectral.solve_diagonal(b[None], np.array([[scale, scale]]))[0]
        return self._noslip_solve(b, gamma_dt)

    def filter_error(self, error: np.ndarray, gamma_dt: float) -> np.ndarray:
        r"""The embedded error estimate with its vorticity part filtered,
        ``e_ω ← (I − γΔt L_ωω)^{-1} (e_ω + γΔt L_ωn e_n)`` (the vorticity rows of
        ``(I − γΔt L)^{-1} e``): the estimator of Shampine for stiff problems (Hairer & Wanner
        1996, §IV.8, (8.19)–(8.20)), called by :class:`~crossdiff.time.IMEX` after each step.

        The embedded solution of the ARK pair is not stiffly accurate: where ``Δt ν k² ≫ 1`` the
        vorticity follows its force at once, the main solution (stiffly accurate, L-stable)
        with it, but the embedded one does not, and the raw difference measures the force's
        change over the step times ``ν k²``, not an error of the solution. The filter divides
        each mode by ``1 + γΔt ν k²``: unchanged where the viscous time is resolved, removed
        where it is not; the densities' error ``e_n`` reaches the vorticity through the
        buoyancy as it would in the solution. On ``keller-segel-fluid`` (Sc = 500, 64×32) the
        raw estimate held steps of 3e-6 with the buoyancy implicit too; filtered, the steps
        are set by the densities' error and the transport CFL. The species' estimates are
        unchanged, as for models without a flow."""
        if self.steady:
            return error
        b = error[self.omega]
        if self._implicit_buoyancy:
            b = b + gamma_dt * self._buoyancy(error, self._implicit_buoyancy)
        error[self.omega] = self._vorticity_solve(b, gamma_dt)
        return error

    #: A capacitance matrix built at ``γΔt`` serves steps within this factor of it as the
    #: preconditioner of GMRES (a few iterations); farther, it is rebuilt.
    CAPACITANCE_REUSE = 1.25
    #: Implicit solves of one step at one ``γΔt`` (the five implicit stages of ARK4(3)6L[2]SA
    #: and the error filter), for the choice between GMRES and a rebuilt capacitance matrix.
    STAGE_SOLVES = 6

    def _noslip_solve(self, b: np.ndarray, gamma_dt: float) -> np.ndarray:
        r"""``(I − γΔt L_ω) ω = b`` with no-slip walls.

        With ``A = I − sνΔ_h`` (``s = γΔt``; a DST/FFT division) and the wall values ``z``:
        ``(I − sν W Ψ A^{-1} αS) z = W Ψ A^{-1} b``, ``ω = A^{-1}(b + sν αS z)`` (``Ψ`` the
        stream function of :meth:`stream_function`, applied through :meth:`_wall_vorticity`)
        (the capacitance form of :meth:`creeping_vorticity`; Buzbee et al. 1971). The ``m × m``
        matrix is built for one ``s`` (``m`` batched transforms) and solves that ``s`` exactly;
        for an ``s`` within :attr:`CAPACITANCE_REUSE` of it, the exact solve at the built ``s``
        preconditions GMRES (to ``krylov_rtol``). The stages of a step share ``s = γΔt``: a new
        ``s`` rebuilds the matrix when the last GMRES solve, repeated for the
        :attr:`STAGE_SOLVES` solves of a step, cost at least as many transform pairs as a build
        (``m``; about 4 pairs an iteration). Where GMRES needs many iterations
        (keller-segel-fluid: about 12) the matrix is then built once a step and every stage is
        exact (64×32 to t = 0.3: 8.4 s against 17.1 s with GMRES throughout); where it needs few
        against a large ``m`` (the 128² cavity, ``m = 512``, 2–3 iterations) it is kept.
        Walls along a periodic axis (keller-segel-fluid, Rayleigh–Bénard) have a block-circulant
        matrix, built from one transform per wall (:meth:`_capacitance_factors`): it is built
        for every new ``s`` and every solve is exact, with no GMRES (256×128: a step's flow
        solves 295 ms with the dense matrix built per step, 25 ms circulant).
        """
        cached = getattr(self, "_capacitance", None)
        m = sum(self.grid.cells[1 - w.axis] for w in self._noslip)
        if (
            cached is None
            or not (1 / self.CAPACITANCE_REUSE <= gamma_dt / cached[0] <= self.CAPACITANCE_REUSE)
            or (cached[0] != gamma_dt and (self._translation_invariant or self.STAGE_SOLVES * self._krylov_work >= m))
        ):
            cached = (gamma_dt, self._unsteady_capacitance(gamma_dt))
            self._capacitance = cached
        s_ref, lu = cached
        exact = self._capacitance_solve(b, s_ref, lu)
        if s_ref == gamma_dt:
            return exact
        shape = b.shape

        self._krylov_work = 0

        def matvec(x: np.ndarray) -> np.ndarray:
            # one GMRES iteration: this and the preconditioner, about 4 transform pairs
            self._krylov_work += 4
            w = x.reshape(shape)
            return (w - gamma_dt * self.viscous(w)).ravel()

        def precond(r: np.ndarray) -> np.ndarray:
            return self._capacitance_solve(r.reshape(shape), s_ref, lu).ravel()

        x, converged = krylov_solve(matvec, precond, b.ravel(), exact.ravel(), self.krylov_rtol, symmetric=False)
        self.counters.n_krylov_solves += 1
        if not converged:
            raise NumericalError("the implicit viscous solve of the vorticity did not converge")
        return x.reshape(shape)

    def _unsteady_capacitance(self, s: float):
        """Factors of ``I − sν W Ψ A^{-1} αS`` (:meth:`_noslip_solve`)."""
        return self._capacitance_factors(1.0 / (self._laplace * (1.0 - s * self.nu * self._laplace)), -s * self.nu)

    def _capacitance_solve(self, b: np.ndarray, s: float, factors) -> np.ndarray:
        """The exact solve of :meth:`_noslip_solve` at ``s`` with its ``factors``."""
        inverse_a = 1.0 / (1.0 - s * self.nu * self._laplace)
        spectrum = self.spectral.forward(b)
        y = self.spectral.inverse(spectrum * (inverse_a / self._laplace))
        z = self._apply_wall(factors, self._wall_vorticity(y))
        return self.spectral.inverse(self.spectral.forward(b + s * self.nu * self._scatter(z)) * inverse_a)

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        """The species' constraints; for steady Stokes ``ω`` from the densities; ``ψ`` from ``ω``."""
        self.species.constrain(t, U[: self.n_species])
        if self.steady:
            U[self.omega] = self.creeping_vorticity(U)
        U[self.psi] = self.stream_function(U[self.omega])
        return U

    def creeping_vorticity(self, U: np.ndarray) -> np.ndarray:
        r"""Steady Stokes: ``ν Δ_h ω = r`` (``r`` minus the sources) with the walls' vorticity.

        Between free-slip walls one DST solve. With no-slip walls, the wall values ``z`` (Woods'
        formula, one per wall cell) solve the capacitance system (Buzbee, Dorr, George & Golub,
        SIAM J. Numer. Anal. 8, 1971)

        .. math::

            (I + W \Psi \Delta_h^{-1} \alpha S)\, z = W \Psi \Delta_h^{-1} r/\nu, \qquad
            \omega = \Delta_h^{-1}(r/\nu - \alpha S z),

        ``S`` placing wall values in the wall cells, ``α = 2/h²``, ``W`` Woods' formula, ``Ψ`` the
        stream function with the no-slip ghost cells (:meth:`stream_function`); the ``m × m``
        matrix (``m`` wall cells) is built once from ``m`` batched transforms and inverted, so
        each solve is exact and costs two transform pairs.
        """
        rhs = -self._forcing(U) / self.nu
        if not self._noslip:
            return -self.spectral.solve(rhs, self._laplace, 0.0)
        inv_lap = 1.0 / self._laplace
        psi0 = self.spectral.inverse(self.spectral.forward(rhs) * inv_lap**2)  # Δ⁻² r/ν
        z = self._apply_wall(self._creeping_capacitance, self._wall_vorticity(psi0))
        return self.spectral.inverse(self.spectral.forward(rhs - self._scatter(z)) * inv_lap)

    #: Woods' homogeneous wall vorticity ``ω_w = 4(27ψ_0 − ψ_1)/(9h²)``: the coefficients of
    #: ``ψ_0, ψ_1`` and the power of ``h`` dividing them (:meth:`_gather`)
    _W = (12.0, -4.0 / 9.0, 2)
    #: The no-slip wall's correction of the stream function's ghost cell, ``q = ψ_g + ψ_0 =
    #: −ψ_0 + ψ_1/3`` (:meth:`stream_function`)
    _Q = (-1.0, 1.0 / 3.0, 0)

    def _gather(self, psi: np.ndarray, stencil: tuple[float, float, int]) -> np.ndarray:
        """``(c_0 ψ_0 + c_1 ψ_1)/h^p`` in the wall cells of every no-slip wall, one vector (batch
        axes kept in front), for ``stencil = (c_0, c_1, p)`` (:attr:`_W`, :attr:`_Q`)."""
        c0, c1, power = stencil
        parts = []
        for w in self._noslip:
            k0, k1 = (-1, -2) if w.high else (0, 1)
            a = psi.ndim - 2 + w.axis
            p0 = np.take(psi, psi.shape[a] + k0 if k0 < 0 else k0, axis=a)
            p1 = np.take(psi, psi.shape[a] + k1 if k1 < 0 else k1, axis=a)
            parts.append((c0 * p0 + c1 * p1) / w.h**power)
        return np.concatenate(parts, axis=-1)

    def _wall_vorticity(self, y: np.ndarray) -> np.ndarray:
        """Woods' homogeneous wall vorticity ``z = W ψ`` of the stream function ``ψ = Ψ ω`` of
        :meth:`stream_function`, from ``y = Δ_h^{-1} ω`` (the DST solve, antisymmetric ghosts):
        ``ψ = y − ½ Δ_h^{-1} α S q`` with ``q = M_q^{-1} Q y``, so ``z = W y − C M_q^{-1} Q y``
        (:meth:`_wall_poisson`) with no further transform."""
        cmq, _ = self._wall_poisson
        return self._gather(y, self._W) - self._apply_wall(cmq, self._gather(y, self._Q))

    def _scatter(self, z: np.ndarray) -> np.ndarray:
        """``α S z``: the values ``2 z / h²`` in the wall cells (summed at corners)."""
        out = np.zeros(self.grid.shape)
        start = 0
        for w in self._noslip:
            n = self.grid.cells[1 - w.axis]
            layer = _along(out, w.axis, -1 if w.high else 0)
            layer += (2.0 / w.h**2 * z[start : start + n]).reshape(layer.shape)
            start += n
        return out

    @cached_property
    def _wall_poisson(self):
        """``(C M_q^{-1}, M_q^{-1})`` with ``M_q = I + ½ Q Δ_h^{-1} α S`` and ``C = ½ W Δ_h^{-1} α
        S``: the no-slip ghost cells of the stream function (:meth:`stream_function`,
        :meth:`_wall_vorticity`), built once."""
        wp, qp = self._wall_operators(1.0 / self._laplace)
        kind, identity = self._wall_identity()
        mq_inv = np.linalg.inv(identity + 0.5 * qp)
        return (kind, 0.5 * wp @ mq_inv), (kind, mq_inv)

    @cached_property
    def _creeping_capacitance(self):
        """Factors of ``I + W Ψ Δ⁻¹ α S`` (:meth:`creeping_vorticity`)."""
        return self._capacitance_factors(1.0 / self._laplace**2, 1.0)

    @cached_property
    def _translation_invariant(self) -> bool:
        """Whether every no-slip wall lies across one axis and the other axis is periodic (the
        plume layer, Rayleigh–Bénard): the capacitance matrix is then block circulant."""
        axes = {w.axis for w in self._noslip}
        return len(axes) == 1 and self.grid.periodic[1 - axes.pop()]

    def _wall_identity(self) -> tuple[str, np.ndarray]:
        """The identity on the wall values, in the representation of :meth:`_wall_operators`."""
        if self._translation_invariant:
            n = self.grid.cells[1 - self._noslip[0].axis]
            walls = len(self._noslip)
            return "circulant", np.broadcast_to(np.eye(walls), (n, walls, walls)).copy()
        m = sum(self.grid.cells[1 - w.axis] for w in self._noslip)
        return "dense", np.eye(m)

    def _wall_operators(self, multiplier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""``W P α S`` and ``Q P α S`` (``P`` the spectral multiplier ``multiplier``; column
        ``k``: the wall values of the response to the ``k``-th wall source).

        In general ``m × m`` matrices (``m`` wall cells), built from ``m`` batched transforms.
        When the walls lie across one axis and the other is periodic
        (:attr:`_translation_invariant`) the operators commute with translations along the
        walls: each ``n × n`` block (wall ``p`` from wall ``q``) is circulant, determined by its
        first column, the response to one source cell of wall ``q``; the discrete Fourier
        transform along the walls diagonalises it (Davis, *Circulant Matrices*, 1979, ch. 3),
        leaving one ``w × w`` matrix per wavenumber (``w`` the walls, 1 or 2), stacked
        ``(n, w, w)``: products and inverses of these symbols are those of the block-circulant
        matrices, and the build is ``w`` transforms instead of ``m``.
        """
        walls = len(self._noslip)
        if self._translation_invariant:
            n = self.grid.cells[1 - self._noslip[0].axis]
            sources: list[int] | range = [q * n for q in range(walls)]
        else:
            sources = range(sum(self.grid.cells[1 - w.axis] for w in self._noslip))
        m = sum(self.grid.cells[1 - w.axis] for w in self._noslip)
        sources = list(sources)
        columns = np.zeros((len(sources), *self.grid.shape))
        for j, k in enumerate(sources):
            unit = np.zeros(m)
            unit[k] = 1.0
            columns[j] = self._scatter(unit)
        psi = self.spectral.inverse(self.spectral.forward(columns) * multiplier)
        out = []
        for stencil in (self._W, self._Q):
            responses = self._gather(psi, stencil).T  # (m, len(sources))
            if self._translation_invariant:
                # symbol[k, p, q]: the Fourier coefficient k of block (p, q)'s first column
                responses = np.fft.fft(responses.reshape(walls, n, walls), axis=1).transpose(1, 0, 2)
            out.append(responses)
        return out[0], out[1]

    def _capacitance_factors(self, multiplier: np.ndarray, scale: float):
        r"""The inverse of the capacitance matrix ``I + scale · W Ψ P α S`` (``P`` the spectral
        multiplier ``multiplier``, ``Ψ`` the no-slip stream function's correction:
        ``W Ψ P α S = W P α S − C M_q^{-1} Q P α S``, :meth:`_wall_poisson`), for
        :meth:`_apply_wall`: dense, or one ``w × w`` inverse per wavenumber along the walls
        (:meth:`_wall_operators`); exact either way."""
        wp, qp = self._wall_operators(multiplier)
        (kind, cmq), _ = self._wall_poisson
        _, identity = self._wall_identity()
        return kind, np.linalg.inv(identity + scale * (wp - cmq @ qp))

    def _apply_wall(self, operator, g: np.ndarray) -> np.ndarray:
        """The wall operator ``operator`` (:meth:`_wall_operators`' representation) applied to
        the wall values ``g``."""
        kind, f = operator
        if kind == "circulant":
            walls = f.shape[1]
            spectrum = np.fft.fft(g.reshape(walls, -1), axis=1)  # (walls, n)
            return np.fft.ifft(np.einsum("kpq,qk->pk", f, spectrum), axis=1).real.ravel()
        return f @ g

    def _flow_rate(self) -> float:
        """``Σ_a max|u_a|/h_a`` of the current flow (1/time)."""
        return sum(float(np.max(np.abs(v))) / h for v, h in zip(self.face_velocities(0.0), self.grid.spacing))

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        """The species' limit with this flow, and the vorticity's transport CFL (Navier–Stokes)."""
        self._set(U)
        limit = self.species.imex_step_limit(t, U[: self.n_species])
        rate = self._flow_rate() if self.navier_stokes else 0.0
        return min(limit, 1.0 / rate) if rate > 0 else limit

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        """Forward Euler: the species' limit, and ``1/(ν Σ_a 4/h_a² + 2·CFL rate)`` for ``ω``
        (a no-slip wall cell has up to ``1 + 2 + 27·8/9`` on its diagonal: the bound takes 4·… as
        a conservative round figure for the interior and the walls' coupling)."""
        self._set(U)
        limit = self.species.explicit_step_limit(t, U[: self.n_species])
        if self.steady:
            return limit
        rate = self.nu * sum(4.0 / h**2 for h in self.grid.spacing)
        if self._noslip:
            rate += self.nu * 2.0 * 4.0 * 27.0 / 9.0 / min(self.grid.spacing) ** 2
        if self.navier_stokes:
            rate += 2.0 * self._flow_rate()
        return min(limit, 1.0 / rate) if rate > 0 else limit

    def initial_state(self, frame: Mapping[str, np.ndarray] | np.ndarray, t: float = 0.0) -> np.ndarray:
        """The state from the species' fields and the vorticity (``frame["vorticity"]``, else
        the flow's ``initial`` expression), with ``ψ`` and quasi-stationary species solved."""
        g = self.grid
        names = self.model.species_names
        if isinstance(frame, Mapping):
            species = {n: frame[n] for n in names}
            omega = frame.get("vorticity")
        else:
            frame = np.asarray(frame, dtype=float)
            if frame.shape not in ((self.n + 2, *g.shape), (self.n, *g.shape), (self.n_species, *g.shape)):
                raise InputError(f"the state has shape {frame.shape}, expected {(self.n, *g.shape)}")
            frame = frame[: self.n]  # the fields of a run file end with the velocity (not state)
            species = {n: frame[i] for i, n in enumerate(names)}
            omega = frame[self.omega] if frame.shape[0] == self.n else None
        U = np.zeros((self.n, *g.shape))
        U[: self.n_species] = self.species.initial_state(species, t)
        if omega is None:
            omega = self._initial_vorticity()
        U[self.omega] = np.broadcast_to(np.asarray(omega, dtype=float), g.shape)
        if not np.all(np.isfinite(U[self.omega])):
            raise InputError("the initial vorticity is not finite")
        self._set(self.constrain(t, U))
        return U

    def _initial_vorticity(self) -> np.ndarray:
        expr = self.model.expand(self.flow_spec.initial).xreplace(self.model.parameter_symbols())
        if expr.is_number:
            return np.full(self.grid.shape, float(expr))
        mesh = self.grid.mesh()
        noise = np.random.default_rng([self.model.defaults.seed, self.n]).uniform(-1.0, 1.0, self.grid.shape)
        func = sp.lambdify([*SPACE[:2], NOISE], expr, modules="numpy")
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(func(mesh[0], mesh[1], noise), dtype=float), self.grid.shape)

    # ------------------------------------------------------------------ diagnostics
    def kinetic_energy(self, U: np.ndarray) -> float:
        """``½ ∫ |𝐮|² dx`` from the face velocities (each face's ``u²`` shared by its cells)."""
        ux, uy = self.velocities(U[self.psi])
        e = 0.25 * (ux[1:] ** 2 + ux[:-1] ** 2) + 0.25 * (uy[:, 1:] ** 2 + uy[:, :-1] ** 2)
        return float(0.5 * 2 * e.sum() * self.grid.cell_volume) if math.isfinite(e.sum()) else math.inf
