r"""The kinetic model on a box that grows by a prescribed law (``docs/theory.md`` §7.8).

The particles move with the tissue and their velocities ``v`` are relative to it: in physical
coordinates the kinetic equation of a species on the growing domain is

.. math::

    \varepsilon\big(\partial_t f + \nabla_x\cdot(a f)\big) + v\cdot\nabla_x f
        = \varepsilon^{-p}\big(\mathcal T^0 + \varepsilon^{b}\mathcal T^1[f]\big)(f) + \varepsilon G(f, v),

with ``a`` the growth velocity (``a_b = x_b ℓ_b'/ℓ_b``, on the macroscopic time scale, so that
its density balance is the macroscopic model's on the growing domain). In the reference
coordinates ``X`` (``x_b = ℓ_b(t) X_b``) the material derivative and Reynolds' transport theorem
give, for ``F = J f`` with ``J = Π_b ℓ_b``,

.. math::

    \varepsilon\,\partial_t F + \sum_b \frac{v_b}{\ell_b}\,\partial_{X_b} F
        = J\Big[\varepsilon^{-p}\big(\mathcal T^0 + \varepsilon^{b}\mathcal T^1[f]\big)(f)
          + \varepsilon G(f, v)\Big]_{f = F/J}:

the transport takes the factor ``1/ℓ_b`` per axis, the turning operators and the interactions
are those of the densities ``f = F/J``, and the dilution is the time derivative of ``J f``. The
micro–macro decomposition ``f = Mρ + εg`` of :class:`~crossdiff.kinetic.KineticDiscretisation`
scales with it (``F = M (Jρ) + ε (J g)``): the state of this system is ``J(t) U`` with ``U`` the
fixed box's state, and every part of the box scheme is evaluated on the cells of time ``t``
(spacing ``ℓ_b(t) h_b``) at ``U = W/J(t)`` and multiplied by ``J(t)`` — the pattern of
:class:`crossdiff.fv.GrowingDiscretisation`. The densities' part of every evaluation is a
difference of face fluxes (and ``Σ μΔρ = 0``), so ``Σ_k J ρ_k h^d`` is conserved to round-off
without reactions. The implicit stage solve is exact for the scaled state: ``(I − γΔt J L(·/J)) X
= B`` is ``X = J Y`` with ``(I − γΔt L) Y = B/J`` on the cells of the stage's time
(:class:`~crossdiff.time.TimeDependentImplicit`), ``L`` the box scheme's block-triangular
implicit part — its penalisation ``μΔ`` with the Laplacian's eigenvalues of the cells of time
``t``. As ``ε → 0`` the stages become those of the box scheme's limit on the cells of time
``t``, times ``J``: the macroscopic growing discretisation of the derived model (asymptotic
preservation kept; checked in ``tests/kinetic/test_growing.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..fv import DEFAULT_LIMITER, SpectralLaplacian
from ..grid import Grid, GrowingGrid, Growth
from ..time import FailureReport
from ._discretise import KineticDiscretisation
from ._model import KineticModel

__all__ = ["GrowingKineticDiscretisation"]


class GrowingKineticDiscretisation(KineticDiscretisation):
    """The AP micro–macro scheme of ``model`` on a growing box (module docstring): the state is
    ``J(t) U`` with ``U`` the fixed box's state.

    Offers :class:`~crossdiff.time.TimeDependentImplicit` (the implicit part at each stage's
    time) and :class:`~crossdiff.time.TimeDependentFields` (``fields_at(t, W)`` the densities
    ``ρ = W_ρ / J(t)`` the output writes); :meth:`fields` is the state's own densities, the mass
    per reference volume (what the monitor checks: conserved without reactions).

    Parameters
    ----------
    model : KineticModel
    domain : GrowingGrid
        Periodic or no-flux (specular walls) axes; dimension = velocity dimension.
    eps, velocities, limiter, values
        As :class:`~crossdiff.kinetic.KineticDiscretisation`.

    Examples
    --------
    >>> import crossdiff as cd
    >>> from crossdiff.grid import Grid, GrowingGrid, Growth
    >>> model = cd.catalogue.load_kinetic("cancer-invasion-kinetic").in_dimension(1)
    >>> d = GrowingKineticDiscretisation(model, GrowingGrid(Grid((8,), ((0, 1),)), Growth("exp(t)")), eps=0.1)
    >>> W = d.initial_state({s: 1.0 for s in model.species_names}, t=1.0)
    >>> round(float(d.fields_at(1.0, W)[0, 0]), 12), round(float(d.fields(W)[0, 0]), 9)
    (1.0, 2.718281828)
    """

    def __init__(
        self,
        model: KineticModel,
        domain: GrowingGrid,
        eps: float,
        velocities: int | None = None,
        limiter: str = DEFAULT_LIMITER,
        values: Mapping[str, float] | None = None,
    ):
        if not isinstance(domain, GrowingGrid):
            raise InputError(f"a growing kinetic discretisation needs a GrowingGrid, got {type(domain).__name__}")
        if not isinstance(domain.growth, Growth):  # a tissue velocity: the cells would not follow the tissue
            raise InputError(
                f"kinetic model {model.name!r}: non-uniform growth (a growth velocity) is not supported for kinetic "
                "models; give a growth law of t (--growth)"
            )
        super().__init__(model, domain.box, eps, velocities=velocities, limiter=limiter, values=values)
        self.domain = domain
        self.reference: Grid = domain.box
        self._reference_h = np.asarray(self.reference.spacing, dtype=float)
        self._time: float | None = None
        self._J = 1.0
        self._work: np.ndarray | None = None  # W/J of an evaluation (one state kept: no page faults per stage)
        self._at(0.0)
        # the box's layout on the reference cells, with the growing domain's attributes and its
        # motion (the output writes the physical positions with every frame)
        base = self._layout
        self._layout = replace(base, attrs={**base.attrs, **domain.attributes()}, motion=domain)

    # ------------------------------------------------------------------ the cells at time t
    def _at(self, t: float) -> None:
        """Move the operators to time ``t``: the spacing ``ℓ_b(t) h_b`` every part reads at its
        call, and the Laplacian's eigenvalues of the penalisation."""
        if t == self._time:
            return
        self._time = t
        ell = self.domain.growth.scale(t)
        self._J = float(np.prod(ell))
        self.grid = self.reference.stretched(ell)
        self.h = self.staggered.h = tuple(float(h) for h in self._reference_h * ell)
        self.spectral = SpectralLaplacian(self.grid)
        self.operators.cache.clear()  # face gradients kept for the last densities: of the old spacing

    def volume_scale(self, t: float) -> float:
        """``J(t)``: a cell's volume over its volume at ``t = 0``."""
        return self.domain.volume_scale(t)

    def _unscaled(self, W: np.ndarray) -> np.ndarray:
        """``W/J`` in this system's work state (valid until the next evaluation)."""
        if self._work is None or self._work.shape != W.shape:
            self._work = np.empty_like(W)
        return np.divide(W, self._J, out=self._work)

    # ------------------------------------------------------------------ the contract
    def fields_at(self, t: float, U: np.ndarray) -> np.ndarray:
        """The densities ``ρ = W_ρ / J(t)``."""
        return self.staggered.rho(U) / self.domain.volume_scale(t)

    def extras(self, U: np.ndarray) -> Mapping[str, np.ndarray]:
        """The distributions ``f = F/J`` at the operators' last time: a saved frame's (the steps
        land on the save times, and the last stage of the stiffly accurate stepper is at the
        step's end)."""
        return super().extras(U / self._J)

    def prepare(self, t: float, U: np.ndarray) -> None:
        """The penalisation of the densities ``W/J`` on the cells of time ``t``."""
        self._at(t)
        super().prepare(t, U / self._J)

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``J(t) E(t, W/J(t))`` with the box scheme's explicit part ``E`` on the cells of time ``t``."""
        self._at(t)
        out = super().explicit(t, self._unscaled(U), out)
        out *= self._J
        return out

    def implicit_at(self, t: float, U: np.ndarray) -> np.ndarray:
        """``J(t) L(W/J(t))`` with the box scheme's implicit part on the cells of time ``t``."""
        self._at(t)
        return self._J * super().implicit(U / self._J)

    def solve_implicit_at(self, t: float, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """``X = J Y`` with ``(I − γΔt L) Y = B/J`` on the cells of time ``t`` (exact: ``J`` is
        one number per stage)."""
        self._at(t)
        J = self._J
        X = super().solve_implicit(self._unscaled(B), gamma_dt, out)
        solved = self.staggered.rho(X)
        X *= J
        self._rekey(solved, self.staggered.rho(X) / J)
        return X

    def _rekey(self, solved: np.ndarray, seen: np.ndarray) -> None:
        """Keep the face operators the stage solve computed at the densities ``solved`` for the
        densities ``seen`` that the stage's explicit part will read, ``(J ρ)/J`` (equal up to
        rounding: without this the face gradients and biases are recomputed at every stage)."""
        cache = self.operators.cache
        for a, (rho, value) in list(cache.items()):
            if rho.shape == solved.shape and np.array_equal(rho, solved):
                cache[a] = (seen, value)

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """The implicit part at the time of the last :meth:`prepare` (or stage)."""
        return self._J * super().implicit(U / self._J)

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """:meth:`solve_implicit_at` at the time of the last :meth:`prepare` (or stage)."""
        X = super().solve_implicit(B / self._J, gamma_dt, out)
        X *= self._J
        return X

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        return self.explicit(t, U) + self.implicit_at(t, U)

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        self._at(t)
        return super().imex_step_limit(t, U / self._J)

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        self._at(t)
        return super().explicit_step_limit(t, U / self._J)

    def explain_negative(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        self._at(t)
        return super().explain_negative(t, U / self._J, rate)

    def initial_state(self, frame: Mapping[str, np.ndarray], t: float = 0.0) -> np.ndarray:
        """The state ``J(t) U`` from the densities (or distributions) at time ``t``."""
        self._at(t)
        return self._J * super().initial_state(frame, t)

    def describe(self) -> str:
        return f"kinetic micro-macro AP scheme, eps = {self.eps:g}, {self.m} velocities, grid {self.domain.describe()}"
