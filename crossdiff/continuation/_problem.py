r"""The steady problem of a model's finite-volume discretisation, as a function of one parameter.

For the semi-discrete system of :class:`crossdiff.fv.Discretisation` (docs/numerics.md),
``τ_i dU_i/dt = R_i(U; p)`` for the parabolic species and ``0 = R_e(U; p)`` for the
quasi-stationary ones, a steady state solves

.. math::

    F(x, p) = \begin{pmatrix} R(U; p) + \sum_c λ_c\, \mathbb 1_{c} \\
              \big(\tfrac{1}{N}\textstyle\sum_k U_{c,k} - m_c\big)_c \end{pmatrix} = 0,
    \qquad x = (U, λ),

where the species ``c`` are those whose total is fixed: a species without reactions and without
in- or outflow (its mass is conserved, e.g. the cells of the minimal Keller–Segel model; ``m_c``
is the mean of the model's initial data) and a quasi-stationary species in mean-free form (Jäger–
Luckhaus, ``m_c = 0``). Each adds a Lagrange multiplier ``λ_c`` to its equations and a row that
fixes its mean: the bordered system with which pde2path continues its chemotaxis demo at fixed
mass (Uecker, Wetzel & Rademacher 2014, docs/references.md [UWR14]). Summing the equations of
``c`` over the cells gives ``N λ_c = 0`` (no-flux fluxes cancel), so ``λ_c`` vanishes at a steady
state and the Jacobian of the bordered system is regular where the conserved mass would make
``∂R/∂U`` singular.

The Jacobian ``∂F/∂x`` is assembled from coloured forward differences of ``R`` on the finite-volume
stencil's pattern (:func:`crossdiff.fv.jacobian_sparsity`, [CPR74]) plus the exact bordering;
``∂F/∂p`` by one forward difference in ``p``. Time enters as ``t = 0``. The linear stability of a
steady state is that of ``M \dot x = F(x, p)`` with ``M = diag(1 on parabolic rows, 0 on algebraic
rows and constraints)``: the finite eigenvalues of ``J w = λ M w``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from ..errors import InputError, ModelError, ParameterError
from ..grid import Grid, default_grid
from ..model import TIME, Model, species_symbols
from ..validation import require
from ._jacobian import ColouredJacobian

if TYPE_CHECKING:
    import scipy.sparse as sps

    from ..fv import Discretisation

__all__ = ["SteadyProblem"]

#: Discretisations kept per parameter value (a Newton step evaluates two values of ``p``).
_CACHE = 6


class SteadyProblem:
    """``F(x, p) = 0``: the steady states of ``model`` on ``grid`` as ``parameter`` varies.

    Parameters
    ----------
    model : Model
        A macroscopic model without a flow.
    parameter : str
        The parameter ``p`` continued in.
    grid : Grid, optional
        Default: the model's default grid.
    limiter : str, optional
        Slope limiter of the taxis reconstruction (default: the discretisation's).
    masses : mapping of str to float, optional
        Means of the conserved species (default: the means of the model's initial data).

    Raises
    ------
    ParameterError
        ``parameter`` is not a parameter of the model.
    InputError
        A model with a flow, or whose expressions depend on ``t``.
    """

    def __init__(
        self,
        model: Model,
        parameter: str,
        grid: Grid | None = None,
        *,
        limiter: str | None = None,
        masses: dict[str, float] | None = None,
    ):
        from ..analysis import initial_means
        from ..fv import DEFAULT_LIMITER, LIMITERS, jacobian_sparsity

        require(model, Model, "model")
        if not isinstance(parameter, str) or parameter not in model.parameters:
            model.with_settings({str(parameter): 0.0})  # raises the ParameterError listing the names
            raise ParameterError(f"unknown parameter {parameter!r}")  # pragma: no cover
        if model.flow is not None:
            raise InputError(f"model {model.name!r} has a flow: continuation handles models without a flow")
        grid = grid if grid is not None else default_grid(model)
        require(grid, Grid, "grid")
        limiter = limiter or DEFAULT_LIMITER
        LIMITERS.entry(limiter)  # a one-line InputError for an unknown name
        self.model = model
        self.parameter = parameter
        self.grid = grid
        self.limiter = limiter
        self.n = model.n_species
        self.size = grid.size
        self.n_state = self.n * self.size
        syms = species_symbols(model)
        for s in model.species:
            for what, e in s.expressions().items():
                if TIME in model.expand(e).free_symbols:
                    raise InputError(f"the {what} depends on t: the model has no steady states")
        tau = np.array([model.tau_value(s.name) for s in model.species])
        #: parabolic (differential) species; the quasi-stationary ones are algebraic
        self.differential = tau > 0
        steady = model
        for s, t in zip(model.species, tau):
            if t == 0:  # its steady equation is the right-hand side of the species with τ = 1
                steady = steady.with_species(s.name, tau=1)
        self._steady_model = steady
        fixed: list[int] = []
        for i, s in enumerate(model.species):
            psi = sp.expand(model.expand(s.reaction))
            if s.boundary or s.advected:
                continue
            if (tau[i] > 0 and psi == 0) or (tau[i] == 0 and sp.diff(psi, syms[i]) == 0):
                fixed.append(i)
        #: species whose mean is fixed (conserved mass, or a mean-free quasi-stationary species)
        self.fixed = tuple(fixed)
        self.n_unknowns = self.n_state + len(fixed)
        self._means_depend = False
        if masses is not None:
            unknown = set(masses) - {model.species[i].name for i in fixed}
            if unknown:
                raise InputError(f"masses given for species without a conserved mass: {', '.join(sorted(unknown))}")
        self._masses = dict(masses or {})
        if any(tau[i] > 0 for i in fixed):
            inits = [model.expand(model.species[i].initial).free_symbols for i in fixed]
            self._means_depend = any(sp.Symbol(parameter) in f for f in inits) and not self._masses
            self._initial_means = initial_means(model, grid)
        self._targets: OrderedDict[float, np.ndarray] = OrderedDict()
        self._systems: OrderedDict[float, Discretisation] = OrderedDict()
        pattern = jacobian_sparsity(grid, self.n)
        self._jacobian = ColouredJacobian(pattern)
        self._bordering = self._make_bordering()
        self.mass_matrix = self._make_mass_matrix()

    # ------------------------------------------------------------------ layout
    def state(self, x: np.ndarray) -> np.ndarray:
        """The species' fields ``U`` of ``x``, shape ``(n, *grid.shape)`` (a view)."""
        return x[: self.n_state].reshape(self.n, *self.grid.shape)

    def pack(self, U: np.ndarray) -> np.ndarray:
        """``x = (U, λ = 0)``."""
        x = np.zeros(self.n_unknowns)
        x[: self.n_state] = np.asarray(U, dtype=float).ravel()
        return x

    def _make_bordering(self) -> tuple[sps.csc_matrix, sps.csr_matrix]:
        import scipy.sparse as sps

        c = len(self.fixed)
        rows = np.concatenate([np.arange(i * self.size, (i + 1) * self.size) for i in self.fixed] or [np.zeros(0, int)])
        cols = np.repeat(np.arange(c), self.size)
        B = sps.csc_matrix((np.ones(rows.size), (rows, cols)), shape=(self.n_state, c))
        C = sps.csr_matrix((np.full(rows.size, 1.0 / self.size), (cols, rows)), shape=(c, self.n_state))
        return B, C

    def _make_mass_matrix(self) -> sps.dia_matrix:
        import scipy.sparse as sps

        diag = np.zeros(self.n_unknowns)
        diag[: self.n_state] = np.repeat(self.differential.astype(float), self.size)
        return sps.diags(diag)

    # ------------------------------------------------------------------ evaluation
    def system(self, p: float) -> Discretisation:
        """The finite-volume discretisation at ``parameter = p`` (kept for a few values)."""
        from ..fv import Discretisation

        key = float(p)
        if key in self._systems:
            self._systems.move_to_end(key)
            return self._systems[key]
        model = self._steady_model.with_settings({self.parameter: key})
        try:
            system = Discretisation(model, self.grid, limiter=self.limiter)
        except ModelError as err:
            raise InputError(f"{self.parameter} = {key:g}: {err}") from None
        self._systems[key] = system
        if len(self._systems) > _CACHE:
            self._systems.popitem(last=False)
        return system

    def targets(self, p: float) -> np.ndarray:
        """The fixed means ``m_c`` at ``parameter = p``."""
        from ..analysis import initial_means

        key = float(p) if self._means_depend else 0.0
        if key in self._targets:
            return self._targets[key]
        out = np.zeros(len(self.fixed))
        for k, i in enumerate(self.fixed):
            name = self.model.species[i].name
            if not self.differential[i]:
                continue  # mean-free: 0
            if name in self._masses:
                out[k] = float(self._masses[name])
            elif self._means_depend:
                out[k] = initial_means(self.model.with_settings({self.parameter: key}), self.grid)[i]
            else:
                out[k] = self._initial_means[i]
        self._targets[key] = out
        if len(self._targets) > _CACHE:
            self._targets.popitem(last=False)
        return out

    def _rates(self, U_flat: np.ndarray, p: float) -> np.ndarray:
        """``R(U; p)`` flattened (no multipliers)."""
        U = U_flat.reshape(self.n, *self.grid.shape)
        with np.errstate(all="ignore"):
            return np.asarray(self.system(p).rhs(0.0, U), dtype=float).ravel()

    def residual(self, x: np.ndarray, p: float) -> np.ndarray:
        """``F(x, p)``."""
        out = np.empty(self.n_unknowns)
        R = self._rates(x[: self.n_state], p)
        B, C = self._bordering
        out[: self.n_state] = R + B @ x[self.n_state :]
        out[self.n_state :] = C @ x[: self.n_state] - self.targets(p)
        return out

    def jacobian(self, x: np.ndarray, p: float) -> sps.csc_matrix:
        """``∂F/∂x`` at ``(x, p)``, sparse (coloured differences of ``R`` plus the exact bordering)."""
        import scipy.sparse as sps

        J = self._jacobian(lambda u: self._rates(u, p), x[: self.n_state])
        if not self.fixed:
            return J
        B, C = self._bordering
        return sps.bmat([[J, B], [C, None]], format="csc")

    def parameter_derivative(self, x: np.ndarray, p: float, F0: np.ndarray | None = None) -> np.ndarray:
        """``∂F/∂p`` at ``(x, p)`` by a forward difference with step ``√ε_mach · max(1, |p|)``."""
        step = np.sqrt(np.finfo(float).eps) * max(1.0, abs(p))
        step = (p + step) - p
        F0 = self.residual(x, p) if F0 is None else F0
        return (self.residual(x, p + step) - F0) / step

    # ------------------------------------------------------------------ measures
    def amplitude(self, x: np.ndarray) -> float:
        """The root-mean-square deviation of the fields from their means (0 on a homogeneous state):
        ``(Σ_i mean_k (U_{i,k} − Ū_i)²)^{1/2}``."""
        U = self.state(x).reshape(self.n, -1)
        return float(np.sqrt(np.sum(np.mean((U - U.mean(axis=1, keepdims=True)) ** 2, axis=1))))
