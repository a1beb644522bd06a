r"""Finite volumes on an interval whose high end moves with the solution (a free boundary,
:class:`~crossdiff.grid.FrontGrid`), by front fixing.

The cells stretch uniformly with the front, ``ℓ = (s − a)/(s(0) − a)`` (Landau's transformation,
[Cra84]), but the material does not move with them: a face at ``x_f = a + ℓ(X_f − a)`` moves with
the grid velocity ``w_f = (X_f − a)/(s(0) − a) · s'``, so the flux through it relative to the
face gains ``−w_f u``. On every cell, the conservation law on the moving volume reads

.. math::

    \frac{d}{dt}\big(ℓ u_k\big) = ℓ \Big(\frac{1}{h ℓ}\big[F - (−w\,u)\big]_{k-1/2}^{k+1/2} + ψ(u_k)\Big)

(``docs/theory.md`` §7.6): the fixed grid's fluxes on the cells of the front's position, plus the
upwind flux of ``u`` carried with ``−w`` (the limited MUSCL flux of advection,
:func:`~crossdiff.fv.upwind_divergence`); at the front the material outside is the boundary value
(a Dirichlet side's, else the extrapolated value). The state is ``(ℓ u, s)``: the species' mass per
reference cell and, as a last row (one value repeated over the cells), the front's position,
whose rate is the speed :class:`~crossdiff.grid.Front` gives from the species' values and
gradients at the front (one-sided, exact for quadratics: ``∂_x u(s) = (6g − 7ū_{N−1} +
ū_{N−2})/(2h)`` with a Dirichlet value ``g``; zero slope on a no-flux front).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ..errors import InputError, ModelError, NumericalError
from ..grid import FrontGrid, Grid
from ..model import Model
from ._discretise import Discretisation
from ._growing import GrowingDiscretisation
from ._kernels import axis_view
from ._limiters import DEFAULT_LIMITER
from ._transport import BoundaryKind, upwind_divergence

__all__ = ["FrontDiscretisation"]


class _FrontMotion:
    """The physical cells of the saved frames (:class:`~crossdiff.time.Motion`): the front's
    position at each saved time, as the system recorded it when the frame's fields were taken."""

    def __init__(self, domain: FrontGrid):
        self.domain = domain
        self.positions: dict[float, float] = {}

    def _s(self, t: float) -> float:
        try:
            return self.positions[float(t)]
        except KeyError:
            raise NumericalError(f"no front position recorded at t = {t:g}") from None

    def centres(self, t: float) -> tuple[np.ndarray, ...]:
        return self.domain.at_position(self._s(t)).coordinates

    def lengths(self, t: float) -> np.ndarray:
        return np.array([self._s(t) - self.domain.origin])

    def volume_scale(self, t: float) -> float:
        return self.domain.scale(self._s(t))


class FrontDiscretisation(GrowingDiscretisation):
    """Finite volumes of ``model`` on ``[a, s(t)]`` with the front ``s`` moved by the solution
    (module docstring). The state is ``(n_species + 1, cells)``: ``ℓ u`` per species, then ``s``.

    Parameters
    ----------
    model : Model
    domain : FrontGrid
    limiter : str

    Raises
    ------
    ModelError
        A model with a flow, or a Robin condition on the front (not supported).
    """

    def __init__(self, model: Model, domain: FrontGrid, limiter: str = DEFAULT_LIMITER, krylov_rtol: float = 1e-10):
        if not isinstance(domain, FrontGrid):
            raise InputError(f"a front discretisation needs a FrontGrid, got {type(domain).__name__}")
        if model.flow is not None:
            raise ModelError(f"model {model.name!r} has a flow: flows with a free boundary are not supported")
        Discretisation.__init__(self, model, domain.box, limiter=limiter, krylov_rtol=krylov_rtol)
        for s in model.species:
            for side, cond in s.boundary:
                if side == "x_high" and cond.kind == "robin":
                    raise ModelError(
                        f"species {s.name!r} has a Robin condition on the free boundary (x_high): not supported "
                        "(Dirichlet or no flux there)"
                    )
        self.domain = domain  # type: ignore[assignment]  # a FrontGrid, not a GrowingGrid
        self.front_domain: FrontGrid = domain
        self._tissue = None  # the material stays: its velocity relative to the cells is −w (_advect)
        self._sources_explicit = False
        self._has_sources = any(side.weight for sides in self._sides for side in sides)
        self.reference: Grid = domain.box
        self._reference_sides = self._sides
        self._time = None
        self._J = 1.0
        self._position: float | None = None
        self._speed = 0.0
        self.motion = _FrontMotion(domain)
        base = self.layout
        self.layout = replace(base, attrs={**base.attrs, **domain.attributes()}, motion=self.motion)
        # every parabolic species is carried relative to the moving cells: the base's explicit
        # part calls _advect for them (no flow object: the velocity is the grid's)
        self._moving = tuple(i for i in range(self.n) if self.parabolic[i])
        self._advected = self._moving
        #: species with a Dirichlet value on the front: the index of that side in their sides
        self._front_dirichlet = {
            i: k for i, sides in enumerate(self._sides) for k, side in enumerate(sides) if side.axis == 0 and side.high
        }
        self.differential = np.append(self.parabolic, True)
        self.nonnegative = np.append(self.nonnegative, True)
        self.jacobian_sparsity = None  # type: ignore[assignment]  # the front couples to every cell
        self._set_position(domain.initial_position)

    # ------------------------------------------------------------------ the front
    def _set_position(self, s: float) -> None:
        if s == self._position:
            return
        if not np.isfinite(s) or s - self.front_domain.origin < self.reference.spacing[0]:
            raise NumericalError(
                f"the free boundary reached s = {s:.6g}: the domain is shorter than one cell "
                f"({self.reference.spacing[0]:.3g}); it vanished"
            )
        self._position = s
        self._move(np.array([self.front_domain.scale(s)]))

    def _at(self, t: float) -> None:  # the cells follow the front, not the time
        return None

    def _front_values(self, t: float, u: np.ndarray) -> tuple[list[float], list[float]]:
        """Per species, the value and the gradient at the front (module docstring)."""
        h = self.grid.spacing[0]
        values, gradients = [], []
        for i in range(self.n):
            last, before = float(u[i, -1]), float(u[i, -2]) if u.shape[1] > 1 else float(u[i, -1])
            k = self._front_dirichlet.get(i)
            if k is not None:
                g = float(np.ravel(self._wall_values(self._sides[i][k], t))[0])
                values.append(g)
                gradients.append(2 * (g - last) / h)
            else:
                values.append((7 * last - before) / 6)
                gradients.append(0.0)
        return values, gradients

    def front_speed(self, t: float, U: np.ndarray) -> float:
        """``s'`` of the state ``U``."""
        self._set_position(float(U[-1, 0]))
        u = U[:-1] / self._J
        values, gradients = self._front_values(t, u)
        return self.front_domain.front(t, values, gradients)

    def _advect(self, t: float, i: int, u: np.ndarray, rate: np.ndarray) -> None:
        """``rate −= ∂_x(−w u)/…``: the flux of ``u`` relative to the moving faces, upwinded; at the
        front the outside value is the boundary value (the module docstring)."""
        n = self.reference.cells[0]
        velocity = self._relative_velocity(t)
        k = self._front_dirichlet.get(i)
        u = np.ascontiguousarray(u)
        if k is not None:
            ghost = float(np.ravel(self._wall_values(self._sides[i][k], t))[0])
        else:
            ghost = (7 * float(u[-1]) - float(u[-2])) / 6 if n > 1 else float(u[-1])
        upwind_divergence(
            axis_view(u, 0),
            axis_view(velocity.reshape(n + 1), 0),
            self.grid.spacing[0],
            axis_view(rate, 0),
            limiter=self.limiter,
            boundary=(BoundaryKind.NOFLUX, BoundaryKind.INFLOW),
            high=np.full((1, 1), max(ghost, 0.0)),
            # the grid's motion is part of the time derivative: not divided by τ, which the base
            # applies to the whole rate afterwards
            scale=float(self.tau[i]),
        )

    def _boundary_sources(self, i: int, t: float, rate: np.ndarray) -> None:
        """The walls' Dirichlet/Robin sources ``D β g/h²`` go with the implicit diffusion (an
        affine part of ``L``, evaluated on the same cells as the ``u_0`` part it balances): in the
        explicit part they depended on the front's position through ``h²`` and made the steps shrink
        like ``h²`` under refinement (measured: 99, 295, 1 166 steps on 16, 32, 64 cells)."""
        if not self._sources_explicit:
            super()._boundary_sources(i, t, rate)

    def _sources(self, t: float) -> np.ndarray:
        """The walls' sources per species (the rates of ``u``), shape of the species' rows."""
        rate = np.zeros((self.n, *self.reference.shape))
        for i in range(self.n):
            if self.parabolic[i] and self._sides[i]:
                Discretisation._boundary_sources(self, i, t, rate[i])
                rate[i] *= self.inv_tau[i]
        return rate

    def _relative_velocity(self, t: float) -> np.ndarray:
        """On the faces, the material's velocity relative to the faces, ``−w_f`` (the material
        stays where it is), physical units."""
        n = self.reference.cells[0]
        return -(np.arange(n + 1) / n) * self._speed

    def _face_speeds(self, t: float, U: np.ndarray, i: int) -> list[np.ndarray | float]:
        speeds = super()._face_speeds(t, U, i)
        if i in self._moving:
            relative = np.abs(self._relative_velocity(t)[1:-1]) * self.inv_tau[i]
            speeds[0] = speeds[0] + relative
        return speeds

    # ------------------------------------------------------------------ the contract
    def fields(self, U: np.ndarray) -> np.ndarray:
        """The species' masses per reference cell (what the monitor checks)."""
        return U[:-1]

    def fields_at(self, t: float, U: np.ndarray) -> np.ndarray:
        """The densities ``u = (ℓ u)/ℓ`` with the front of ``U``; the position is recorded for the
        frame's physical cells (the output's ``x_t``, ``length_x``)."""
        s = float(U[-1, 0])
        self.motion.positions[float(t)] = s
        return U[:-1] / self.front_domain.scale(s)

    def prepare(self, t: float, U: np.ndarray) -> None:
        self._set_position(float(U[-1, 0]))
        Discretisation.prepare(self, t, U[:-1] / self._J)

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(ℓ E(t, u) , s')``: the fixed grid's ``E`` on the cells of the front's position with
        the flux relative to the moving faces, and the front's speed."""
        if out is None:
            out = np.empty_like(U)
        speed = self.front_speed(t, U)
        self._speed = speed
        J = self._J
        self._sources_explicit = True
        try:
            rates = Discretisation.explicit(self, t, U[:-1] / J, out[:-1])
        finally:
            self._sources_explicit = False
        rates *= J
        out[-1] = speed
        return out

    def implicit_at(self, t: float, U: np.ndarray) -> np.ndarray:
        self._set_position(float(U[-1, 0]))
        out = np.zeros_like(U)
        out[:-1] = Discretisation.implicit(self, U[:-1])
        if self._has_sources:
            out[:-1] += self._J * self._sources(t)
        return out

    def implicit(self, U: np.ndarray) -> np.ndarray:
        return self.implicit_at(self._time or 0.0, U)

    def solve_implicit_at(self, t: float, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """The front's row of ``L`` is zero, so the stage's position is ``B``'s: the cells are put
        there first, then the species are solved with the walls' sources (an affine part of ``L``:
        ``(I − γΔt L) X = B + γΔt J c``)."""
        self._set_position(float(B[-1, 0]))
        X = np.empty_like(B) if out is None else out
        rhs = B[:-1] + gamma_dt * self._J * self._sources(t) if self._has_sources else B[:-1]
        X[:-1] = Discretisation.solve_implicit(self, rhs, gamma_dt)
        X[-1] = B[-1]
        return X

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        return self.solve_implicit_at(0.0, B, gamma_dt, out)

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        self._set_position(float(U[-1, 0]))
        if self.has_nonlinear_diffusion and len(self._frozen) == 0:
            Discretisation.refresh(self, t, U[:-1] / self._J)
        return self.explicit(t, U) + self.implicit_at(t, U)

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        if not self._elliptic:
            return U
        self._set_position(float(U[-1, 0]))
        u = U[:-1] / self._J
        self.solve_elliptic(t, u)
        for e in self._elliptic:
            U[e.index] = self._J * u[e.index]
        return U

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        self._speed = self.front_speed(t, U)
        return Discretisation.imex_step_limit(self, t, U[:-1] / self._J)

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        self._speed = self.front_speed(t, U)
        return Discretisation.explicit_step_limit(self, t, U[:-1] / self._J)

    def initial_state(self, frame: Mapping[str, np.ndarray] | np.ndarray, t: float = 0.0) -> np.ndarray:
        """The state from the densities on the cells of the front's position: the box's high end,
        or, in a mapping with ``length_x`` (a resumed run's last frame), ``a + length_x``."""
        position = self.front_domain.initial_position
        if isinstance(frame, Mapping) and "length_x" in frame:
            position = self.front_domain.origin + float(np.ravel(frame["length_x"])[0])
        self._set_position(position)
        u = Discretisation.initial_state(self, frame, t)
        U = np.empty((self.n + 1, *self.reference.shape))
        U[:-1] = self._J * u
        U[-1] = position
        return U
