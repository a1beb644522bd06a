"""The macroscopic model: n species with diffusion, taxis and reaction (``docs/theory.md`` §1).

.. math::

    \\tau_i\\,\\partial_t u_i = \\nabla\\cdot\\Big( D_i(u)\\nabla u_i
        - \\sum_j u_i\\,\\chi_{ij}(u)\\,\\nabla u_j - [u_i \\mathbf{u}] \\Big) + \\psi_i(u, t, x)

with the bracket for the species advected by an incompressible flow ``𝐮`` (:class:`Flow`).
``tau_i = 1`` is the usual parabolic equation, ``tau_i > 0`` a relaxation time (the σ of the
paper's (5)), ``tau_i = 0`` a quasi-stationary (elliptic) species. ``D_i = 0`` with no taxis is a
species with no motion (an ODE at each point). ``D_i`` is a scalar expression of the densities
or a constant d×d tensor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from ..base import ModelBase, RunDefaults
from ..errors import ModelError, ParameterError
from ..expressions import to_expr
from ..parsing import check_name
from ._boundary import SideCondition, side_conditions
from ._flow import FLOW_FIELDS, Flow

__all__ = ["Taxis", "Species", "Model", "RunDefaults", "SPACE", "TIME", "NOISE", "species_symbols"]

#: Space coordinates as symbols (x, y, z).
SPACE = (sp.Symbol("x"), sp.Symbol("y"), sp.Symbol("z"))
#: Time as a symbol.
TIME = sp.Symbol("t")
#: Seeded uniform noise in [-1, 1], allowed in initial data only.
NOISE = sp.Symbol("noise")


@dataclass(frozen=True)
class Taxis:
    """A taxis term ``-∇·(u_i χ(u) ∇u_signal)`` of the species that owns it.

    Parameters
    ----------
    signal : str
        Name of the species whose gradient is followed (may be the species itself).
    sensitivity : str, number or sympy.Expr
        ``χ(u)``; positive means attraction up the gradient. May be singular
        (e.g. ``1/u2``); the solver then checks that the signal stays positive.
    """

    signal: str
    sensitivity: sp.Expr

    def __post_init__(self) -> None:
        object.__setattr__(self, "signal", check_name(self.signal, "taxis signal"))
        object.__setattr__(self, "sensitivity", to_expr(self.sensitivity, f"sensitivity towards {self.signal!r}"))


def _to_diffusion(value: object, what: str) -> sp.Expr | sp.ImmutableMatrix:
    if isinstance(value, sp.MatrixBase):
        matrix = sp.ImmutableMatrix(value)
    elif isinstance(value, (list, tuple)):
        rows = list(value)
        if not rows or not all(isinstance(r, (list, tuple)) and len(r) == len(rows) for r in rows):
            raise ModelError(f"{what}: a tensor must be a square list of lists, got {value!r}")
        matrix = sp.ImmutableMatrix([[to_expr(v, what) for v in r] for r in rows])
    else:
        return to_expr(value, what)
    if matrix.rows != matrix.cols or matrix.rows not in (1, 2, 3):
        raise ModelError(f"{what}: a tensor must be 1x1, 2x2 or 3x3, got {matrix.rows}x{matrix.cols}")
    if matrix != matrix.T:
        raise ModelError(f"{what}: a diffusion tensor must be symmetric")
    if matrix.rows == 1:
        return matrix[0, 0]
    return matrix


@dataclass(frozen=True)
class Species:
    """One species of a macroscopic model.

    Parameters
    ----------
    name : str
        Symbol used in expressions (``u1``, ``v``...).
    diffusion : str, number, sympy.Expr or square list of lists
        ``D_i``: a scalar expression of the densities and parameters, or a constant symmetric
        tensor (``[[D11, D12], [D12, D22]]``). Default 0 (no diffusion).
    taxis : sequence of Taxis
        Taxis / cross-diffusion terms.
    reaction : str, number or sympy.Expr
        ``ψ_i(u, t, x)``. Default 0.
    tau : str, number or sympy.Expr
        Time scale in front of ``∂t u_i``: 1 (default), a relaxation time, or 0 for a
        quasi-stationary (elliptic) species. A constant (parameters allowed).
    initial : str, number or sympy.Expr
        Initial density, an expression in ``x, y, z``, the parameters and ``noise``
        (independent uniform numbers in [-1, 1] per cell, seeded).
    long_name : str
        Human-readable name, written to output files.
    boundary : mapping of side name to SideCondition (or its table)
        Conditions on the sides (``x_low``, ``y_high``, …): ``noflux`` (default), Dirichlet or
        Robin (:class:`~crossdiff.model.SideCondition`). Stored as a tuple of
        ``(side, condition)`` pairs of the non-default sides (hashable, picklable); read it with
        :attr:`sides`.
    advected : bool
        The species is carried by the model's flow: the term ``−∇·(u_i 𝐮)`` joins the right-hand
        side (:class:`~crossdiff.model.Flow`; with ``τ_i = 1`` it is ``∂t u_i + ∇·(u_i 𝐮) = …``).
    positive : bool
        The species must stay strictly positive (a singular sensitivity divides by it); set
        automatically by :class:`Model` when a sensitivity is singular at zero.
    """

    name: str
    diffusion: sp.Expr | sp.ImmutableMatrix = sp.Integer(0)
    taxis: tuple[Taxis, ...] = ()
    reaction: sp.Expr = sp.Integer(0)
    tau: sp.Expr = sp.Integer(1)
    initial: sp.Expr = sp.Integer(0)
    long_name: str = ""
    positive: bool = False
    advected: bool = False
    boundary: Any = ()

    def __post_init__(self) -> None:
        name = check_name(self.name, "species")
        object.__setattr__(self, "diffusion", _to_diffusion(self.diffusion, f"diffusion of species {name!r}"))
        taxis: Any = self.taxis
        if isinstance(taxis, (Taxis, Mapping)):
            taxis = (taxis,)
        if isinstance(taxis, str) or not isinstance(taxis, Iterable):
            raise ModelError(f"taxis of species {name!r} must be Taxis terms, got {taxis!r}")
        terms = []
        for term in taxis:
            if isinstance(term, Mapping):
                unknown = set(term) - {"signal", "sensitivity"}
                if unknown:
                    raise ModelError(f"taxis of species {name!r}: unknown key(s) {sorted(unknown)}")
                if "signal" not in term:
                    raise ModelError(f"taxis of species {name!r}: missing 'signal'")
                term = Taxis(term["signal"], term.get("sensitivity", 1))
            if not isinstance(term, Taxis):
                raise ModelError(f"taxis of species {name!r}: expected Taxis terms, got {type(term).__name__}")
            terms.append(term)
        object.__setattr__(self, "taxis", tuple(terms))
        object.__setattr__(self, "reaction", to_expr(self.reaction, f"reaction of species {name!r}"))
        object.__setattr__(self, "tau", to_expr(self.tau, f"tau of species {name!r}"))
        object.__setattr__(self, "initial", to_expr(self.initial, f"initial data of species {name!r}"))
        object.__setattr__(self, "long_name", str(self.long_name or name))
        given = dict(self.boundary) if isinstance(self.boundary, tuple) else self.boundary
        object.__setattr__(self, "boundary", tuple(side_conditions(given, name).items()))
        if not isinstance(self.advected, bool):
            raise ModelError(f"advected of species {name!r} must be true or false, got {self.advected!r}")

    @property
    def sides(self) -> dict[str, SideCondition]:
        """The non-default side conditions by side name."""
        return dict(self.boundary)

    @property
    def is_tensor(self) -> bool:
        """Whether the diffusion is given as a tensor."""
        return isinstance(self.diffusion, sp.MatrixBase)

    def diffusion_entries(self) -> list[sp.Expr]:
        """All scalar expressions of the diffusion (one, or the tensor entries)."""
        return list(self.diffusion) if self.is_tensor else [self.diffusion]

    def expressions(self) -> dict[str, sp.Expr]:
        """Every expression of the species, keyed by what it is (for validation)."""
        out = {f"diffusion of species {self.name!r}": e for e in self.diffusion_entries()}
        for term in self.taxis:
            out[f"sensitivity of species {self.name!r} towards {term.signal!r}"] = term.sensitivity
        out[f"reaction of species {self.name!r}"] = self.reaction
        out[f"tau of species {self.name!r}"] = self.tau
        return out


@dataclass(frozen=True, repr=False)
class Model(ModelBase[Species]):
    """An n-species cross-diffusion-reaction model (``docs/theory.md`` §1).

    Parameters
    ----------
    species : sequence of Species
        The species, in order.
    parameters : mapping of str to float
        Parameter values; every free name in the expressions must be a species, a parameter,
        a definition, ``t`` or ``x, y, z``.
    name, description, reference : str
        Identification; ``reference`` cites the source (paper equation, literature).
    definitions : mapping of str to expression
        Named sub-expressions (e.g. ``f`` in the forager-scrounger model) substituted into the
        species' expressions; users may replace them without rewriting the reactions.
    parameter_info : mapping of str to str
        One-line description of each parameter.
    defaults : RunDefaults
        Default domain, grid and end time (default :class:`RunDefaults`).
    flow : Flow or None
        The incompressible flow that carries the species with ``advected=True``
        (:class:`~crossdiff.model.Flow`); ``None``: no flow.

    Every argument but ``species`` is keyword-only. The parameter and definition tables and
    the copies with some of them changed (:meth:`with_parameters`, :meth:`with_definitions`,
    :meth:`with_settings`, :meth:`with_defaults`) come from :class:`crossdiff.base.ModelBase`.

    Raises
    ------
    ModelError
        On duplicated or unknown species, unknown symbols, missing parameters, negative or
        non-constant tensor diffusion, non-constant or negative ``tau``, bad initial data.
    """

    species: tuple[Species, ...]
    defaults: RunDefaults = field(default_factory=RunDefaults, kw_only=True)
    flow: Flow | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if isinstance(self.species, (str, Species)) or not isinstance(self.species, Iterable):
            raise ModelError(f"species must be a sequence of Species, got {self.species!r}")
        species = tuple(self.species)
        if not species:
            raise ModelError("a model needs at least one species")
        for s in species:
            if not isinstance(s, Species):
                raise ModelError(f"species must be Species objects, got {type(s).__name__}")
        names = [s.name for s in species]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ModelError(f"species {sorted(dup)[0]!r} is defined twice")
        object.__setattr__(self, "species", species)
        self._check_common()
        self._validate()

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        names = set(self.species_names)
        params = set(self.parameters)
        # definitions may use species, parameters, t, x and other definitions (no cycles: ModelBase)
        allowed = {sp.Symbol(n) for n in names | params} | set(SPACE) | {TIME}
        for key, expr in self._expanded.items():
            self._check_symbols(expr, allowed, f"definition {str(key)!r}")
        for s in self.species:
            for term in s.taxis:
                if term.signal not in names:
                    raise ModelError(
                        f"species {s.name!r}: taxis towards unknown species {term.signal!r}; "
                        f"known species: {', '.join(self.species_names)}"
                    )
            for what, expr in s.expressions().items():
                self._check_symbols(self.expand(expr), allowed, what)
            # initial data: parameters, x, y, z, noise (no species, no t)
            init_allowed = {sp.Symbol(n) for n in params} | set(SPACE) | {NOISE}
            self._check_symbols(
                self.expand(s.initial), init_allowed, f"initial data of species {s.name!r}", initial=True
            )
            self._check_constant_parts(s)
        self._validate_flow()
        self._validate_boundaries()

    def _validate_flow(self) -> None:
        """The flow: expressions of ``x, y, z, t`` and the parameters only; advected species need it."""
        advected = [s.name for s in self.species if s.advected]
        if self.flow is None:
            if advected:
                raise ModelError(f"species {advected[0]!r} is advected but the model has no [flow]")
            return
        if not isinstance(self.flow, Flow):
            raise ModelError(f"flow must be a crossdiff Flow, got {type(self.flow).__name__}")
        flow = self.flow
        flow_allowed = {sp.Symbol(n) for n in self.parameters} | set(SPACE) | {TIME}
        if flow.computed:
            flow_allowed = {sp.Symbol(n) for n in self.parameters}
        for what, expr in flow.expressions().items():
            expr = self.expand(expr)
            species = sorted(str(s) for s in expr.free_symbols if str(s) in self.species_names)
            if species:
                raise ModelError(f"{what}: the flow's coefficients cannot depend on species {species[0]!r}")
            self._check_symbols(expr, flow_allowed, what)
        if flow.computed:
            self._validate_computed_flow(flow)
        if self.flow.stream is not None and sp.Symbol("z") in self.expand(self.flow.stream).free_symbols:
            raise ModelError("flow stream function: a stream function is two-dimensional (x, y, t), got z")
        for s in self.species:
            if s.advected and self.tau_value(s.name) == 0:
                raise ModelError(f"quasi-stationary species {s.name!r} (tau = 0) cannot be advected")

    def _validate_computed_flow(self, flow: Flow) -> None:
        """Positive density and viscosity, buoyancy of known species, no species named like a
        flow field, initial vorticity of ``x, y`` and the parameters."""
        values = self.parameter_symbols()
        for key in ("density", "viscosity"):
            value = self.expand(getattr(flow, key)).xreplace(values)
            if not (value.is_number and value.is_real and float(value) > 0):
                raise ModelError(f"flow {key} must be a constant > 0, got {getattr(flow, key)}")
        for name, _ in flow.buoyancy:
            if name not in self.species_names:
                raise ModelError(
                    f"flow buoyancy of unknown species {name!r}; known species: {', '.join(self.species_names)}"
                )
        for name in FLOW_FIELDS:
            if name in self.species_names:
                raise ModelError(f"species {name!r} has the name of a flow field ({', '.join(FLOW_FIELDS)})")
        init_allowed = {sp.Symbol(n) for n in self.parameters} | set(SPACE) | {NOISE}
        self._check_symbols(self.expand(flow.initial), init_allowed, "flow initial vorticity", initial=True)

    def _validate_boundaries(self) -> None:
        """Side values: expressions of ``x, y, z, t`` and the parameters; ``α`` a constant ≥ 0."""
        values = self.parameter_symbols()
        allowed = {sp.Symbol(n) for n in self.parameters} | set(SPACE) | {TIME}
        for s in self.species:
            for side, cond in s.sides.items():
                what = f"boundary {side} of species {s.name!r}"
                self._check_symbols(self.expand(cond.value), allowed, what)
                alpha = self.expand(cond.alpha).xreplace(values)
                if cond.kind == "robin" and not (alpha.is_number and alpha.is_real and float(alpha) >= 0):
                    raise ModelError(f"{what}: alpha must be a constant >= 0, got {cond.alpha}")
                if s.is_tensor or not self.expand(s.diffusion).xreplace(values).is_number:
                    raise ModelError(f"{what}: {cond.kind} sides need a constant scalar diffusion")
                if cond.kind == "robin" and self.tau_value(s.name) == 0:
                    raise ModelError(f"{what}: a quasi-stationary species cannot have robin sides (yet)")

    def _check_symbols(self, expr: sp.Expr, allowed: set, what: str, initial: bool = False) -> None:
        unknown = sorted(str(s) for s in expr.free_symbols - allowed)
        if not unknown:
            return
        name = unknown[0]
        if name in self.species_names and initial:
            raise ModelError(f"{what}: initial data cannot depend on species {name!r}")
        if name == "t" and initial:
            raise ModelError(f"{what}: initial data cannot depend on t")
        if name == "noise":
            raise ModelError(f"{what}: 'noise' is only allowed in initial data")
        raise ParameterError(
            f"{what}: unknown symbol {name!r} (not a species, parameter or definition); "
            f"species: {', '.join(self.species_names)}; parameters: {', '.join(sorted(self.parameters)) or 'none'}"
        )

    def _check_constant_parts(self, s: Species) -> None:
        values = self.parameter_symbols()
        tau = self.expand(s.tau).xreplace(values)
        if not tau.is_number:
            raise ModelError(f"tau of species {s.name!r} must be a constant, got {s.tau}")
        tau_value = float(tau)
        if not math.isfinite(tau_value) or tau_value < 0:
            raise ModelError(f"tau of species {s.name!r} must be >= 0, got {tau_value}")
        if tau_value == 0:
            if s.taxis:
                raise ModelError(f"quasi-stationary species {s.name!r} (tau = 0) cannot have taxis terms")
            if s.is_tensor or not self.expand(s.diffusion).xreplace(values).is_number:
                raise ModelError(f"quasi-stationary species {s.name!r} (tau = 0) needs a constant scalar diffusion")
        if s.is_tensor:
            matrix = s.diffusion.applyfunc(lambda e: self.expand(e).xreplace(values))
            if not all(e.is_number for e in matrix):
                raise ModelError(f"diffusion tensor of species {s.name!r} must be constant")
            import numpy as np

            eig = np.linalg.eigvalsh(np.array(matrix.tolist(), dtype=float))
            if eig.min() < 0:
                raise ModelError(
                    f"diffusion tensor of species {s.name!r} is not positive semi-definite (eigenvalue {eig.min():g})"
                )
        else:
            diff = self.expand(s.diffusion).xreplace(values)
            if diff.is_number:
                if not diff.is_real or float(diff) < 0:
                    raise ModelError(f"negative diffusion for species {s.name!r}: D = {diff}")

    # ------------------------------------------------------------------ accessors
    def tau_value(self, name: str) -> float:
        """Numerical value of ``tau`` of species ``name``."""
        return float(self.expand(self[name].tau).xreplace(self.parameter_symbols()))

    # ------------------------------------------------------------------ derived models
    def with_species(self, name: str, **changes: Any) -> Model:
        """A copy with species ``name`` changed (e.g. ``initial="1 + 0.1*noise"``)."""
        i = self.index(name)
        species = list(self.species)
        species[i] = replace(species[i], **changes)
        return replace(self, species=tuple(species))

    # ------------------------------------------------------------------ text
    def equations(self, latex: bool = False) -> list[str]:
        """The model's equations as text (or LaTeX), one per species."""
        from ._show import equations

        return equations(self, latex=latex)

    def _kind(self) -> str:
        return "macroscopic model"

    def _display_lines(self) -> list[str]:
        """The equations in LaTeX (rendered by Jupyter's MathJax)."""
        return [f"$${eq}$$" for eq in self.equations(latex=True)]


def species_symbols(model: Model) -> list[sp.Symbol]:
    """The species as SymPy symbols, in order."""
    return [sp.Symbol(n) for n in model.species_names]
