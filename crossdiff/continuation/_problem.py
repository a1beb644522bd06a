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
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from ..errors import InputError, ModelError, ParameterError
from ..grid import Grid, default_grid
from ..model import TIME, Model, Species, species_symbols
from ..validation import require
from ._jacobian import ColouredJacobian, block_positions

if TYPE_CHECKING:
    import scipy.sparse as sps

    from ..fv import Discretisation

__all__ = ["SteadyProblem"]

#: Discretisations kept per parameter value (a Newton step evaluates two values of ``p``).
_CACHE = 6


def _parametric(model: Model, parameter: str) -> Model | None:
    """``model`` with ``parameter`` turned into a last species without diffusion or reactions
    (its field is the parameter's value in every cell), so that one discretisation serves every
    value of the parameter; None where the parameter enters what must stay constant (``τ``, a
    diffusion tensor, a boundary condition)."""
    sym = sp.Symbol(parameter)
    taken = set(model.species_names) | set(model.parameters) | set(model.definitions)
    name = f"{parameter}_value"
    while name in taken:
        name += "_"
    field = sp.Symbol(name)

    def sub(e: sp.Expr) -> sp.Expr:
        return model.expand(e).xreplace({sym: field})

    species = []
    for s in model.species:
        fixed = [s.tau, *[e for _, c in s.boundary for e in (c.value, c.alpha)]]
        if s.is_tensor:
            fixed.extend(s.diffusion_entries())
        if any(sym in model.expand(e).free_symbols for e in fixed):
            return None
        species.append(
            replace(
                s,
                diffusion=s.diffusion if s.is_tensor else sub(s.diffusion),
                taxis=tuple(replace(t, sensitivity=sub(t.sensitivity)) for t in s.taxis),
                reaction=sub(s.reaction),
                initial=sp.Integer(0),  # the initial data play no part in the steady problem
                tau=model.expand(s.tau),
            )
        )
    species.append(Species(name))
    try:
        return replace(
            model,
            species=tuple(species),
            parameters={k: v for k, v in model.parameters.items() if k != parameter},
            parameter_info={k: v for k, v in model.parameter_info.items() if k != parameter},
            definitions={},
        )
    except InputError:
        return None


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
        from ..fv import DEFAULT_LIMITER, LIMITERS, Discretisation, jacobian_sparsity

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
        base = self.system(float(model.parameters[parameter]))
        #: per unknown of the state: a density (must stay >= 0)
        self.nonnegative = np.repeat(np.asarray(base.nonnegative, dtype=bool), self.size)
        #: one discretisation for every value of the parameter (the parameter as a field), if possible
        self._shared: Discretisation | None = None
        parametric = _parametric(steady, parameter)
        if parametric is not None:
            try:
                self._shared = Discretisation(parametric, grid, limiter=limiter)
            except InputError:
                self._shared = None
        self._work = np.zeros((self.n + 1, *grid.shape))
        pattern = jacobian_sparsity(grid, self.n)
        self._jacobian = ColouredJacobian(pattern)
        self._bordering = self._make_bordering()
        self._make_structure()
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

    def _make_structure(self) -> None:
        """The CSC structures of ``∂F/∂x`` and of the bordered matrix ``[F_x F_p; r_x r_p]``,
        filled from ``(J_U entries, B, C[, F_p, r])`` by index (:func:`block_positions`)."""
        import scipy.sparse as sps

        jac = self._jacobian
        nJ = jac.indices.size
        B, C = self._bordering
        nB, nC = B.nnz, C.nnz
        tags = sps.csc_matrix((np.arange(1, nJ + 1, dtype=float), jac.indices, jac.indptr), shape=jac.shape)
        Bt = sps.csc_matrix((np.arange(nJ + 1, nJ + nB + 1, dtype=float), B.indices, B.indptr), shape=B.shape)
        C = C.tocoo()
        Ct = sps.csr_matrix((np.arange(nJ + nB + 1, nJ + nB + nC + 1, dtype=float), (C.row, C.col)), shape=C.shape)
        self._fixed_values = np.concatenate([np.ones(nB), np.full(nC, 1.0 / self.size)])
        blocks = [[tags, Bt], [Ct, None]] if self.fixed else [[tags]]
        self._structure_J = block_positions(blocks)
        N = self.n_unknowns
        first = nJ + nB + nC + 1
        column = sps.csc_matrix(np.arange(first, first + N, dtype=float)[:, None])
        row = sps.csr_matrix(np.arange(first + N, first + 2 * N, dtype=float)[None, :])
        corner = sps.csr_matrix([[float(first + 2 * N)]])
        inner = sps.bmat(blocks, format="csc")
        self._structure_A = block_positions([[inner, column], [row, corner]])

    @staticmethod
    def _fill(structure, source: np.ndarray) -> sps.csc_matrix:
        import scipy.sparse as sps

        indptr, indices, perm, shape = structure
        return sps.csc_matrix((source[perm], indices, indptr), shape=shape)

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
        with np.errstate(all="ignore"):
            if self._shared is not None:
                W = self._work
                W[: self.n] = U_flat.reshape(self.n, *self.grid.shape)
                W[self.n] = p
                return np.asarray(self._shared.rhs(0.0, W)[: self.n], dtype=float).ravel()
            U = U_flat.reshape(self.n, *self.grid.shape)
            return np.asarray(self.system(p).rhs(0.0, U), dtype=float).ravel()

    def residual(self, x: np.ndarray, p: float, rates: np.ndarray | None = None) -> np.ndarray:
        """``F(x, p)`` (``rates = R(U; p)`` when known)."""
        out = np.empty(self.n_unknowns)
        R = self._rates(x[: self.n_state], p) if rates is None else rates
        B, C = self._bordering
        out[: self.n_state] = R + B @ x[self.n_state :]
        out[self.n_state :] = C @ x[: self.n_state] - self.targets(p)
        return out

    def _jacobian_data(self, x: np.ndarray, p: float, rates: np.ndarray) -> np.ndarray:
        data = self._jacobian.data(lambda u: self._rates(u, p), x[: self.n_state], rates)
        return np.concatenate([data, self._fixed_values])

    def jacobian(self, x: np.ndarray, p: float) -> sps.csc_matrix:
        """``∂F/∂x`` at ``(x, p)``, sparse (coloured differences of ``R`` plus the exact bordering)."""
        rates = self._rates(x[: self.n_state], p)
        return self._fill(self._structure_J, self._jacobian_data(x, p, rates))

    def parameter_derivative(self, x: np.ndarray, p: float, F0: np.ndarray | None = None) -> np.ndarray:
        """``∂F/∂p`` at ``(x, p)`` by a forward difference with step ``√ε_mach · max(1, |p|)``."""
        step = np.sqrt(np.finfo(float).eps) * max(1.0, abs(p))
        step = (p + step) - p
        F0 = self.residual(x, p) if F0 is None else F0
        return (self.residual(x, p + step) - F0) / step

    def linearise(self, x: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``F``, the entries of ``F_x`` (for :meth:`assemble`) and ``F_p`` at ``(x, p)``."""
        rates = self._rates(x[: self.n_state], p)
        F = self.residual(x, p, rates)
        return F, self._jacobian_data(x, p, rates), self.parameter_derivative(x, p, F)

    def assemble(self, entries: np.ndarray, Fp: np.ndarray | None = None, row: np.ndarray | None = None):
        """``F_x`` from :meth:`linearise`'s entries, or with ``Fp`` and ``row`` (length
        ``n_unknowns + 1``) the bordered matrix ``[F_x F_p; row]``; CSC."""
        if Fp is None or row is None:
            return self._fill(self._structure_J, entries)
        return self._fill(self._structure_A, np.concatenate([entries, Fp, row]))

    # ------------------------------------------------------------------ measures
    def amplitude(self, x: np.ndarray) -> float:
        """The root-mean-square deviation of the fields from their means (0 on a homogeneous state):
        ``(Σ_i mean_k (U_{i,k} − Ū_i)²)^{1/2}``."""
        U = self.state(x).reshape(self.n, -1)
        return float(np.sqrt(np.sum(np.mean((U - U.mean(axis=1, keepdims=True)) ** 2, axis=1))))
