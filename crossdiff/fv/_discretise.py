"""The semi-discrete right-hand side of a :class:`~crossdiff.model.Model` on a :class:`~crossdiff.grid.Grid`.

Cell-centred finite volumes. For species ``i`` with state ``U[i]`` (cell averages),

.. math::

    \\tau_i \\frac{dU_i}{dt} = \\underbrace{\\textstyle\\sum_a \\bar D_{i,a}\\,\\delta_a^2 U_i}_{\\text{implicit } L_i U_i}
      + \\underbrace{\\nabla_h\\cdot\\big((D_i(U)-\\bar D_i)\\nabla_h U_i\\big)
      + \\text{cross terms of a tensor } D_i
      - \\nabla_h\\cdot F^{\\text{taxis}}_i + \\psi_i(U, t, x)}_{\\text{explicit } E_i(t, U)}

* ``δ_a²`` is the 3-point second difference with reflected ghost cells (no-flux) or wrap-around
  (periodic); it is diagonalised by the DCT/DFT (:class:`SpectralLaplacian`).
* ``\\bar D_i`` is the constant diffusion, the diagonal of a constant tensor, or, for a
  density-dependent ``D_i(u)``, a reference value ``max D_i(U)`` refreshed by
  :meth:`Discretisation.refresh` (Douglas–Dupont splitting: the explicit remainder
  ``D - \\bar D \\le 0`` is dominated by the implicit part, so IMEX Euler is unconditionally stable).
* Taxis: ``F = a⁺ u⁻ + a⁻ u⁺`` with face velocity ``a = χ̄ δ u_j / h`` (``χ̄`` the mean of the two
  adjacent cell values) and limited linear reconstruction (:func:`upwind_flux`).
* Quasi-stationary species (``τ = 0``): ``0 = D Δ_h u + c u + r(U)`` with ``c`` constant, solved
  exactly by :meth:`solve_elliptic`; ``c = 0`` gives the mean-free (Jäger–Luckhaus) form.

All fluxes vanish on no-flux walls, so without reactions ``Σ_k U_i h^d`` is conserved to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import ModelError
from ..grid import Grid
from ..model import Model
from ..model._compile import CompiledModel, DiffusionKind, Kernel, _kernel, compile_model
from ..model._model import species_symbols
from ._faces import divergence, face_difference, face_mean, upwind_flux
from ._spectral import SpectralLaplacian

__all__ = ["Discretisation"]


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


class Discretisation:
    """Finite-volume operators of ``model`` on ``grid`` (see the module docstring for the scheme).

    Parameters
    ----------
    model : Model
    grid : Grid
    limiter : str
        Slope limiter of the taxis reconstruction: ``"mc"`` (default), ``"gminmod"``, ``"minmod"``.
    """

    def __init__(self, model: Model, grid: Grid, limiter: str = "mc"):
        self.model = model
        self.grid = grid
        self.limiter = limiter
        self.compiled: CompiledModel = compile_model(model, grid.ndim)
        cm = self.compiled
        self.n = cm.n
        self.spectral = SpectralLaplacian(grid)
        mesh = grid.mesh()
        self.coords = tuple(mesh[a] if a < grid.ndim else 0.0 for a in range(3))
        self.tau = np.array([s.tau for s in cm.species])
        self.elliptic_indices = cm.elliptic
        self.parabolic = np.array([i not in cm.elliptic for i in range(self.n)])
        self.inv_tau = np.where(self.parabolic, 1.0 / np.where(self.tau == 0, 1.0, self.tau), 0.0)
        self._coef = np.zeros((self.n, grid.ndim))  # implicit per-axis coefficients  \bar D_{i,a}
        for i, s in enumerate(cm.species):
            if s.diffusion_kind is DiffusionKind.CONSTANT:
                self._coef[i, :] = s.diffusion.value
            elif s.diffusion_kind is DiffusionKind.TENSOR:
                self._coef[i, :] = np.diag(s.tensor)
        self._elliptic = tuple(self._make_elliptic(i) for i in cm.elliptic)
        self._symbols: np.ndarray | None = None
        self.nfev = 0
        self._refresh_symbols()

    # ------------------------------------------------------------------ set-up
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
        return _Elliptic(i, d, c, _kernel(rest, syms, f"reaction of {s.name!r}"))

    def _refresh_symbols(self) -> None:
        symbols = np.zeros((self.n, *self.grid.shape))
        for i in range(self.n):
            symbols[i] = self.spectral.symbol(self._coef[i])
        self._symbols = symbols

    @property
    def has_nonlinear_diffusion(self) -> bool:
        return any(s.diffusion_kind is DiffusionKind.NONLINEAR for s in self.compiled.species)

    def refresh(self, t: float, U: np.ndarray) -> None:
        """Update the reference diffusion ``D̄_i = max D_i(U)`` of density-dependent diffusions."""
        changed = False
        for i, s in enumerate(self.compiled.species):
            if s.diffusion_kind is DiffusionKind.NONLINEAR:
                dmax = float(np.max(s.diffusion.evaluate_array(t, self.coords, U)))
                if not np.isfinite(dmax):
                    continue
                if dmax < 0:
                    raise ModelError(f"diffusion of species {s.name!r} became negative ({dmax:g})")
                if self._coef[i, 0] != dmax:
                    self._coef[i, :] = dmax
                    changed = True
        if changed:
            self._refresh_symbols()

    # ------------------------------------------------------------------ operators
    def explicit(self, t: float, U: np.ndarray) -> np.ndarray:
        """``E(t, U)``: taxis, reactions, the non-constant part of diffusion, divided by ``τ``."""
        self.nfev += 1
        g = self.grid
        out = np.zeros_like(U)
        for i, s in enumerate(self.compiled.species):
            if not self.parabolic[i]:
                continue
            rate = out[i]
            react = s.reaction(t, self.coords, U)
            rate += react
            for j, chi in s.taxis:
                chi_cells = chi(t, self.coords, U)
                for a in range(g.ndim):
                    per, h = g.periodic[a], g.spacing[a]
                    chi_face = chi_cells if np.isscalar(chi_cells) else face_mean(chi_cells, a, per)
                    velocity = chi_face * face_difference(U[j], a, per) / h
                    flux = upwind_flux(U[i], velocity, a, per, self.limiter)
                    rate -= divergence(flux, a, per, h)
            if s.diffusion_kind is DiffusionKind.NONLINEAR:
                d_cells = s.diffusion.evaluate_array(t, self.coords, U)
                for a in range(g.ndim):
                    per, h = g.periodic[a], g.spacing[a]
                    flux = (face_mean(d_cells, a, per) - self._coef[i, a]) * face_difference(U[i], a, per) / h
                    divergence(flux, a, per, h, out=rate)
            elif s.diffusion_kind is DiffusionKind.TENSOR:
                for a in range(g.ndim):
                    flux = 0.0
                    for b in range(g.ndim):
                        if b != a and s.tensor[a, b] != 0:
                            grad_b = _central(U[i], b, g.periodic[b], g.spacing[b])
                            flux = flux + s.tensor[a, b] * face_mean(grad_b, a, g.periodic[a])
                    if not np.isscalar(flux):
                        divergence(flux, a, g.periodic[a], g.spacing[a], out=rate)
            rate *= self.inv_tau[i]
        return out

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """``L U``: ``Σ_a D̄_{i,a} δ_a² U_i / τ_i`` per species (zero for elliptic species)."""
        g = self.grid
        out = np.zeros_like(U)
        for i in range(self.n):
            if not self.parabolic[i] or not self._coef[i].any():
                continue
            for a in range(g.ndim):
                if self._coef[i, a]:
                    per, h = g.periodic[a], g.spacing[a]
                    flux = self._coef[i, a] * face_difference(U[i], a, per) / h
                    divergence(flux, a, per, h, out=out[i])
            out[i] *= self.inv_tau[i]
        return out

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        """The full semi-discrete right-hand side ``E(t, U) + L U``."""
        return self.explicit(t, U) + self.implicit(U)

    def solve_implicit(self, B: np.ndarray, gamma_dt: float) -> np.ndarray:
        """Solve ``(I - γΔt L) U = B`` species by species (DCT/FFT); elliptic rows copy ``B``."""
        out = B.copy()
        active = [i for i in range(self.n) if self.parabolic[i] and self._coef[i].any()]
        if not active:
            return out
        scale = (gamma_dt * self.inv_tau[active]).reshape((-1,) + (1,) * self.grid.ndim)
        out[active] = self.spectral.solve(B[active], scale * self._symbols[active], 1.0)
        return out

    def solve_elliptic(self, t: float, U: np.ndarray) -> np.ndarray:
        """Overwrite the quasi-stationary species of ``U`` with the solution of their equation."""
        for e in self._elliptic:
            r = e.rest.evaluate_array(t, self.coords, U)
            if e.linear == 0:  # mean-free form: D Δu = -(r - mean r), mean(u) = 0
                r = r - r.mean()
            sol = self.spectral.solve(r, e.diffusion * self.spectral.symbol([1.0] * self.grid.ndim), -e.linear)
            if e.linear == 0:
                sol -= sol.mean()
            U[e.index] = sol
        return U

    # ------------------------------------------------------------------ step-size information
    def taxis_rate(self, t: float, U: np.ndarray) -> float:
        """``max Σ_a |a_a| / h_a`` over species: the explicit transport CFL rate (1/time)."""
        g = self.grid
        rate = 0.0
        for i, s in enumerate(self.compiled.species):
            if not self.parabolic[i] or not s.taxis:
                continue
            total = 0.0
            for j, chi in s.taxis:
                chi_cells = np.abs(chi(t, self.coords, U))
                for a in range(g.ndim):
                    per, h = g.periodic[a], g.spacing[a]
                    chi_face = chi_cells if np.isscalar(chi_cells) else face_mean(chi_cells, a, per)
                    total += float(np.max(chi_face * np.abs(face_difference(U[j], a, per)), initial=0.0)) / h**2
            rate = max(rate, total * self.inv_tau[i])
        return rate

    def diffusion_rate(self, t: float, U: np.ndarray) -> float:
        """``max_i 2 Σ_a D_i / h_a² / τ_i``: the explicit diffusion stability rate (1/time)."""
        rate = 0.0
        for i, s in enumerate(self.compiled.species):
            if not self.parabolic[i]:
                continue
            if s.diffusion_kind is DiffusionKind.NONLINEAR:
                d = np.full(self.grid.ndim, float(np.max(s.diffusion.evaluate_array(t, self.coords, U))))
            elif s.diffusion_kind is DiffusionKind.TENSOR:
                d = np.abs(s.tensor).sum(axis=1)
            else:
                d = self._coef[i]
            rate = max(rate, 2.0 * float(np.sum(d / np.square(self.grid.spacing))) * self.inv_tau[i])
        return rate

    def initial_state(self, fields: np.ndarray) -> np.ndarray:
        """Copy of ``fields`` with the elliptic species solved (consistent initial data)."""
        U = np.array(fields, dtype=float, copy=True)
        return self.solve_elliptic(0.0, U) if self._elliptic else U
