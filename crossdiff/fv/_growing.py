r"""Finite volumes on a box that grows by a prescribed law (:class:`~crossdiff.grid.GrowingGrid`).

The cells move with the tissue (``docs/theory.md`` §7): cell ``k`` keeps its index and its
content while its width along axis ``b`` is ``ℓ_b(t) h_b``. On every cell, the conservation law
on the moving volume (Reynolds' transport theorem) reads

.. math::

    \frac{d}{dt}\big(J(t)\, u_k\big) = J(t)\,\Big(\frac{1}{|V_k(t)|}\sum_{\text{faces}} F
        + ψ(u_k)\Big), \qquad J = \prod_b ℓ_b,

with the fluxes ``F`` of the fixed grid evaluated on the cells of time ``t`` (spacing
``ℓ_b(t) h_b``): each derivative along axis ``b`` takes the factor ``1/ℓ_b`` — diffusion and
taxis ``1/ℓ_b²``, a flow ``1/ℓ_b`` — and the dilution ``−(Σ_b ℓ_b'/ℓ_b) u`` appears when the left
side is expanded. The state of this system is ``W = J u`` (mass per reference volume), whose
sum is conserved to round-off by every Runge–Kutta stepper when the fluxes are (the dilution is
never a term of its own), and ``W`` is a positive multiple of ``u`` cell by cell, so the
positivity of the fixed grid's scheme carries over. The stiff part is ``L(t) W`` with the
fixed grid's diffusion times ``1/ℓ_b(t)²`` per axis: the same transforms (DCT/FFT) with scaled
eigenvalues, evaluated at every stage's time (:class:`~crossdiff.time.TimeDependentImplicit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..grid import Grid, GrowingGrid
from ..model import Model
from ._discretise import Discretisation, FaceVelocities
from ._kernels import axis_view
from ._limiters import DEFAULT_LIMITER
from ._transport import upwind_divergence

__all__ = ["GrowingDiscretisation"]


class GrowingDiscretisation(Discretisation):
    """Finite volumes of ``model`` on a growing box (module docstring): the state is ``J(t) u``.

    Offers :class:`~crossdiff.time.TimeDependentImplicit` (``L(t)``) and
    :class:`~crossdiff.time.TimeDependentFields` (``fields_at(t, W) = W / J(t)``, the densities
    the output writes); :meth:`fields` is the state itself (what the monitor checks: the mass
    per reference volume, conserved without reactions).

    Parameters
    ----------
    model : Model
    domain : GrowingGrid
    limiter : str
    krylov_rtol : float
    flow : FaceVelocities, optional
        A prescribed flow relative to the tissue, on the reference cells' faces (its speeds are
        physical: the flux takes the factor ``1/ℓ_b``).

    Examples
    --------
    >>> from crossdiff.grid import Grid, GrowingGrid, Growth
    >>> from crossdiff.model import Model, Species
    >>> m = Model([Species("u", diffusion=1.0, initial=1)])
    >>> d = GrowingDiscretisation(m, GrowingGrid(Grid((8,)), Growth("exp(t)")))
    >>> round(float(d.fields_at(1.0, np.full((1, 8), np.e))[0, 0]), 12)
    1.0
    """

    def __init__(
        self,
        model: Model,
        domain: GrowingGrid,
        limiter: str = DEFAULT_LIMITER,
        krylov_rtol: float = 1e-10,
        flow: FaceVelocities | None = None,
    ):
        if not isinstance(domain, GrowingGrid):
            raise InputError(f"a growing discretisation needs a GrowingGrid, got {type(domain).__name__}")
        super().__init__(model, domain.box, limiter=limiter, krylov_rtol=krylov_rtol, flow=flow)
        self.domain = domain
        self.reference: Grid = domain.box
        self._reference_sides = self._sides
        self._time: float | None = None
        self._J = 1.0
        # the fixed grid's layout on the reference cells, with the growing domain's attributes and
        # its motion (the output writes the physical positions with every frame)
        base = self.layout
        self.layout = replace(base, attrs={**base.attrs, **domain.attributes()}, motion=domain)
        #: non-uniform growth: the tissue's velocity, carried relative to the uniformly stretched cells
        self._tissue = domain.tissue
        if self._tissue is not None:
            if flow is not None:
                raise InputError("a flow and a tissue growth velocity together are not supported")
            self._advected = tuple(i for i in range(self.n) if self.parabolic[i])
        self._at(0.0)

    # ------------------------------------------------------------------ the cells at time t
    def _at(self, t: float) -> None:
        """Move the operators to time ``t``: the cells' spacing, centres, walls and the spectral
        eigenvalues' factors ``1/ℓ_b(t)²``."""
        if t == self._time:
            return
        self._time = t
        self._move(self.domain.growth.scale(t))

    def _move(self, ell: np.ndarray) -> None:
        """Put the operators on the reference cells stretched by ``ell`` per axis."""
        self._J = float(np.prod(ell))
        self.grid = self.reference.stretched(ell)
        mesh = np.meshgrid(*self.grid.coordinates, indexing="ij", sparse=True)
        self.coords = tuple(mesh[a] if a < self.grid.ndim else 0.0 for a in range(3))
        if any(self._reference_sides):
            self._sides = tuple(tuple(side.on(self.grid) for side in sides) for sides in self._reference_sides)
        self._metric = 1.0 / ell**2
        self._direct_scales = self._unit_scales * self._metric

    def _refresh_symbols(self) -> None:
        """The base's, remembering the per-axis coefficients before the growth's factors (which
        :meth:`_at` then applies at every time)."""
        super()._refresh_symbols()
        self._unit_scales = self._direct_scales / self._metric

    def _relative_velocities(self, t: float) -> list[np.ndarray]:
        """Per axis, on the faces (physical units): the tissue's velocity relative to the uniformly
        stretched faces, ``a_b(x_f, t) − (x_f − a_b) ℓ_b'/ℓ_b``; zero on both ends (the low end is
        fixed and ``a_b`` vanishes there; the high end moves with the tissue)."""
        assert self._tissue is not None
        ell, slope = self.domain.growth.scale(t), self.domain.growth.derivative(t)
        out = []
        for a, ((lo, _), n, h) in enumerate(zip(self.reference.extent, self.reference.cells, self.grid.spacing)):
            faces = lo + np.arange(n + 1) * h
            v = self._tissue.velocity(a, faces, t, n * h) - (faces - lo) * slope[a] / ell[a]
            v[0] = v[-1] = 0.0
            out.append(v)
        return out

    def _advect(self, t: float, i: int, u: np.ndarray, rate: np.ndarray) -> None:
        """``rate −= ∇·((a − w) u)``: the species carried with the tissue relative to the cells
        (limited upwind, conservative); the grid's motion is part of the time derivative, so the
        flux is not divided by ``τ`` (the base divides the whole rate afterwards)."""
        u = np.ascontiguousarray(u)
        for a, velocity in enumerate(self._relative_velocities(t)):
            upwind_divergence(
                axis_view(u, a),
                velocity.reshape(1, -1, 1),
                self.grid.spacing[a],
                axis_view(rate, a),
                limiter=self.limiter,
                scale=float(self.tau[i]),
            )

    def _face_speeds(self, t: float, U: np.ndarray, i: int) -> list[np.ndarray | float]:
        speeds = super()._face_speeds(t, U, i)
        if self._tissue is not None and i in self._advected:
            for a, velocity in enumerate(self._relative_velocities(t)):
                shape = [1] * self.grid.ndim
                shape[a] = -1
                speeds[a] = speeds[a] + (np.abs(velocity[1:-1]) * self.inv_tau[i]).reshape(shape)
        return speeds

    def volume_scale(self, t: float) -> float:
        """``J(t)``: a cell's volume over its volume at ``t = 0``."""
        return self.domain.volume_scale(t)

    # ------------------------------------------------------------------ the contract
    def fields_at(self, t: float, U: np.ndarray) -> np.ndarray:
        """The densities ``u = W / J(t)``."""
        return U / self.domain.volume_scale(t)

    def prepare(self, t: float, U: np.ndarray) -> None:
        self._at(t)
        super().prepare(t, U / self._J)

    def refresh(self, t: float, U: np.ndarray) -> None:
        """Freeze density-dependent diffusions at the densities ``U`` (not the state)."""
        super().refresh(t, U)

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``J(t) E(t, W/J(t))`` with the fixed grid's ``E`` on the cells of time ``t``."""
        self._at(t)
        J = self._J
        out = super().explicit(t, U / J, out)
        out *= J
        return out

    def implicit_at(self, t: float, U: np.ndarray) -> np.ndarray:
        """``L(t) W``: the fixed grid's diffusion on the cells of time ``t`` (linear, and ``J``
        is the same in every cell, so it acts on ``W`` as on ``u``)."""
        self._at(t)
        return super().implicit(U)

    def solve_implicit_at(self, t: float, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """``(I − γΔt L(t)) X = B``."""
        self._at(t)
        return super().solve_implicit(B, gamma_dt, out)

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        self._at(t)
        if self.has_nonlinear_diffusion and len(self._frozen) == 0:
            self.refresh(t, U / self._J)
        return self.explicit(t, U) + self.implicit_at(t, U)

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        """The quasi-stationary species of the densities at time ``t``, as ``J u``."""
        if not self._elliptic:
            return U
        self._at(t)
        u = U / self._J
        self.solve_elliptic(t, u)
        for e in self._elliptic:
            U[e.index] = self._J * u[e.index]
        return U

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        self._at(t)
        return super().imex_step_limit(t, U / self._J)

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        self._at(t)
        return super().explicit_step_limit(t, U / self._J)

    def initial_state(self, frame: Mapping[str, np.ndarray] | np.ndarray, t: float = 0.0) -> np.ndarray:
        """The state ``J(t) u`` from the densities ``u`` at time ``t`` (quasi-stationary species
        solved on the cells of time ``t``)."""
        self._at(t)
        return self._J * super().initial_state(frame, t)
