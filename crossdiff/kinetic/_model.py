"""The kinetic model of active particles in the parabolic scaling (``docs/theory.md`` §2, paper (9)-(10)).

.. math::

    \\varepsilon\\,\\partial_t f_i + v\\cdot\\nabla_x f_i
        = \\varepsilon^{-p_i}\\big(\\mathcal T_i^0 + \\varepsilon^{b_i}\\mathcal T_i^1[f]\\big)(f_i)
          + \\varepsilon\\, G_i(f, v)

A :class:`KineticModel` is pure data: the derivation (:mod:`crossdiff.derive`) and a kinetic
solver read the same objects. Expressions use the names of :mod:`crossdiff.kinetic.symbols`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

import sympy as sp

from ..base import ModelBase, RunDefaults
from ..errors import KineticModelError, ModelError
from ..expressions import to_expr
from ..parsing import check_name
from . import symbols as S
from ._operators import Bias, Equilibrium, Relaxation, TurningKernel
from ._velocity import Ball, DiscreteVelocities, Gaussian, Sphere, VelocitySpace

__all__ = ["KineticSpecies", "KineticModel", "PrintedSpecies", "PaperReference"]


@dataclass(frozen=True)
class KineticSpecies:
    """One population ``f_i(t, x, v)`` of active particles.

    Parameters
    ----------
    name : str
        Name of the density ``u_i = ∫ f_i dv`` (also the species name of the limit model).
    turning : Relaxation or TurningKernel
        The leading turning operator ``𝒯_i^0`` (``𝒯_3`` for the paper's species 3).
    equilibrium : Equilibrium
        ``M_i`` (default: the velocity space's, uniform ``1/|V|`` or the Maxwellian on ``R^d``).
    bias : Bias or None
        ``𝒯_i^1[f]`` (taxis bias), of order ``ε^(b_i)`` in (10).
    interaction : expression
        ``G_i(f, v)``, of the densities ``s`` (= ``f_s/M_s``), ``f_s``, ``M_s`` and ``v``.
    p, b : int
        Exponents: ``𝒯_i`` scales as ``ε^(-p_i)`` (the paper's ``q`` for species 3, ``1`` for
        the others) and the bias as ``ε^(b_i)``. Both ``≥ 1``.
    initial : expression
        Initial density ``u_i(0, x)`` of the limit model (well-prepared data ``f_i = M_i u_i``).
    long_name : str
        Human-readable name.
    """

    name: str
    turning: Relaxation | TurningKernel
    equilibrium: Equilibrium = field(default_factory=Equilibrium)
    bias: Bias | None = None
    interaction: sp.Expr = sp.Integer(0)
    p: int = 1
    b: int = 1
    initial: sp.Expr = sp.Integer(0)
    long_name: str = ""

    def __post_init__(self) -> None:
        name = check_name(self.name, "species", KineticModelError)
        if not isinstance(self.turning, (Relaxation, TurningKernel)):
            raise KineticModelError(f"species {name!r}: turning must be a Relaxation or a TurningKernel")
        if not isinstance(self.equilibrium, Equilibrium):
            raise KineticModelError(f"species {name!r}: equilibrium must be an Equilibrium")
        if self.bias is not None and not isinstance(self.bias, Bias):
            raise KineticModelError(f"species {name!r}: bias must be a Bias or None")
        for key in ("p", "b"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise KineticModelError(f"species {name!r}: exponent {key} must be an integer >= 1, got {value!r}")
        object.__setattr__(self, "interaction", to_expr(self.interaction, f"interaction G of species {name!r}"))
        object.__setattr__(self, "initial", to_expr(self.initial, f"initial data of species {name!r}"))
        object.__setattr__(self, "long_name", str(self.long_name or name))

    @property
    def sigma(self) -> sp.Expr | None:
        """The relaxation rate ``σ_i`` (``None`` for a general kernel)."""
        return self.turning.rate if isinstance(self.turning, Relaxation) else None


@dataclass(frozen=True)
class PrintedSpecies:
    """What the paper prints for one species, for the automatic comparison in the notes.

    ``diffusion`` (a scalar: ``D = diffusion·I``), ``taxis`` (``{signal: χ}``) and ``reaction``
    are the paper's limit equation ``∂t u = ∇·(D∇u − Σ u χ ∇u_j) + ψ``; ``bias`` and
    ``interaction`` are the kinetic ingredients as printed, where the entry uses corrected ones.
    ``sigma_<s>`` names the relaxation rate of species ``s``.
    """

    diffusion: sp.Expr | None = None
    taxis: Mapping[str, sp.Expr] | None = None
    reaction: sp.Expr | None = None
    bias: Bias | None = None
    interaction: sp.Expr | None = None


@dataclass(frozen=True)
class PaperReference:
    """The paper's equation number, notes, and printed results (see :class:`PrintedSpecies`)."""

    equation: str = ""
    notes: tuple[str, ...] = ()
    printed: Mapping[str, PrintedSpecies] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class KineticModel(ModelBase[KineticSpecies]):
    """A kinetic model (9) whose parabolic limit ``crossdiff.derive`` computes.

    Parameters
    ----------
    species : sequence of KineticSpecies
    velocity : Sphere, Ball, Gaussian or DiscreteVelocities
        The velocity space ``V`` (its dimension is the space dimension).
    parameters : mapping of str to float
        Default parameter values (kept symbolic in the derivation).
    name, description, reference : str
    definitions : mapping of str to expression
        Named functions of the densities and parameters (e.g. ``H(u1, u2)``), kept as names in
        the derivation and carried to the limit model.
    parameter_info : mapping of str to str
    defaults : RunDefaults or None
        Domain of the limit model (default: unit box in the velocity dimension).
    macro : str
        Name of the macroscopic catalogue entry the limit reproduces (if any).
    paper : PaperReference or None
        The paper's printed result, compared automatically by the derivation.

    Every argument but ``species`` and ``velocity`` is keyword-only. The parameter and
    definition tables and the copies with some of them changed come from
    :class:`crossdiff.base.ModelBase`.
    """

    _error: ClassVar[type[ModelError]] = KineticModelError

    species: tuple[KineticSpecies, ...]
    velocity: VelocitySpace
    name: str = field(default="kinetic", kw_only=True)
    macro: str = field(default="", kw_only=True)
    paper: PaperReference | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if isinstance(self.species, (str, KineticSpecies)) or not isinstance(self.species, Iterable):
            raise KineticModelError(f"species must be a sequence of KineticSpecies, got {self.species!r}")
        species = tuple(self.species)
        if not species or not all(isinstance(s, KineticSpecies) for s in species):
            raise KineticModelError("a kinetic model needs at least one KineticSpecies")
        if not isinstance(self.velocity, (Sphere, Ball, Gaussian, DiscreteVelocities)):
            raise KineticModelError("velocity must be a Sphere, Ball, Gaussian or DiscreteVelocities")
        names = [s.name for s in species]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise KineticModelError(f"species {sorted(dup)[0]!r} is defined twice")
        object.__setattr__(self, "species", species)
        self._check_common()
        sigmas = {str(S.sigma_symbol(n)) for n in names}
        for what, keys in (("species", names), ("parameter", self.parameters), ("definition", self.definitions)):
            for key in keys:
                if key in S.KINETIC_NAMES or key in sigmas or key.startswith(S.RESERVED_PREFIXES):
                    raise KineticModelError(
                        f"{what} name {key!r} is reserved by kinetic expressions (see crossdiff.kinetic)"
                    )
        if self.defaults is None:
            d = self.velocity.dim
            defaults = RunDefaults(extent=((0.0, 1.0),) * d, cells=((100,) if d == 1 else (64,) * d))
            object.__setattr__(self, "defaults", defaults)
        from ._validate import validate

        validate(self)

    # ------------------------------------------------------------------ accessors
    @property
    def dim(self) -> int:
        """Velocity (= space) dimension ``d``."""
        return self.velocity.dim

    def _kind(self) -> str:
        return "kinetic model"

    def _display_lines(self) -> list[str]:
        from html import escape

        limit = f"; its limit: the catalogue entry <code>{escape(self.macro)}</code>" if self.macro else ""
        return [f"velocity space: {escape(self.velocity.describe())}{limit}"]

    def in_dimension(self, d: int) -> KineticModel:
        """The same model with the velocity space (sphere, ball or ``R^d``) of dimension ``d``
        (the paper's models are written for any ``d``: shorthands such as ``vs_grad_u`` and the
        constants ``d``, ``absV`` follow the space). The default domain keeps its first ``d`` intervals (or
        repeats the first); initial data of coordinates the grid lacks take their section at 0,
        as for macroscopic models. ``self`` when ``d`` is already the dimension.

        Raises
        ------
        KineticModelError
            For a discrete velocity set (its points fix ``d``), or an expression that names a
            velocity component the new dimension lacks (e.g. ``vy`` in 1D).
        """
        if d == self.dim:
            return self
        if isinstance(self.velocity, DiscreteVelocities):
            raise KineticModelError(
                f"kinetic model {self.name!r} has a discrete velocity set of dimension {self.dim}: "
                f"it runs only on a grid of {self.dim} axes, not {d}"
            )
        defaults = self.defaults
        assert defaults is not None
        extent = tuple(defaults.extent[min(a, len(defaults.extent) - 1)] for a in range(d))
        cells = tuple(defaults.cells[min(a, len(defaults.cells) - 1)] for a in range(d))
        walls = defaults.boundary
        if not isinstance(walls, str):
            walls = tuple(walls[min(a, len(walls) - 1)] for a in range(d))
        try:
            return replace(
                self,
                velocity=self.velocity.with_dim(d),
                defaults=replace(defaults, extent=extent, cells=cells, boundary=walls),
            )
        except ModelError as exc:
            raise KineticModelError(f"kinetic model {self.name!r} in dimension {d}: {exc}") from None

    def parameter_symbols(self) -> dict[sp.Symbol, sp.Expr]:
        """``{Symbol(name): value}`` of the default parameters; integers stay exact.

        (Unlike :meth:`crossdiff.model.Model.parameter_symbols`, which gives floats for the
        compiled kernels, the derivation keeps ``R = 1`` or ``d = 2`` exact, so that its
        results simplify.)
        """
        return {
            sp.Symbol(k): sp.nsimplify(v, rational=True) if float(v).is_integer() else sp.Float(v)
            for k, v in self.parameters.items()
        }

    def constants(self) -> dict[sp.Symbol, sp.Expr]:
        """``R``, ``d`` and ``absV`` as their values for this velocity space (``R`` on a sphere
        or a ball; ``absV`` not on ``R^d``, where it is infinite)."""
        out: dict[sp.Symbol, sp.Expr] = {S.DIM: sp.Integer(self.dim)}
        if not isinstance(self.velocity, Gaussian):
            out[S.MEASURE] = self.velocity.measure
        if isinstance(self.velocity, (Sphere, Ball)) and self.velocity.radius != S.RADIUS:
            out[S.RADIUS] = self.velocity.radius
        return out

    def equilibrium_expr(self, name: str) -> sp.Expr:
        """``M_s(v)`` as an expression of ``vx..`` (not for tabulated values)."""
        eq = self[name].equilibrium
        if eq.values is not None:
            raise KineticModelError(f"species {name!r}: a tabulated equilibrium has no expression")
        expr = self.velocity.default_equilibrium if eq.expr is None else eq.expr
        return expr.xreplace(self.constants())

    def equilibrium_values(self, name: str) -> tuple[sp.Expr, ...]:
        """``M_s(v_k)`` on the discrete velocity set, in order."""
        eq = self[name].equilibrium
        if eq.values is not None:
            return tuple(v.xreplace(self.constants()) for v in eq.values)
        space = self.velocity.discrete()
        expr = self.equilibrium_expr(name)
        return tuple(expr.xreplace(dict(zip(S.velocity(self.dim), p))) for p in space.points)

    def resolve(
        self,
        expr: sp.Expr,
        species: str,
        v: tuple[sp.Expr, ...],
        vs: tuple[sp.Expr, ...],
        m_v: Mapping[str, sp.Expr],
        m_vs: Mapping[str, sp.Expr],
    ) -> sp.Expr:
        """Give the kinetic names in ``expr`` their values (see :mod:`crossdiff.kinetic.symbols`).

        ``v``, ``vs``: the velocities (symbols or points); ``m_v``, ``m_vs``: each species'
        ``M(v)``, ``M(v*)``. Definitions stay as names (they depend on densities only).
        """
        d = self.dim
        names: dict[sp.Symbol, sp.Expr] = dict(self.constants())
        for name in self.species_names:
            names.update(S.shorthand(name, d, m_v[name], m_vs[name]))
        for s in self.species:
            if s.sigma is not None:
                names[S.sigma_symbol(s.name)] = s.sigma.xreplace(self.constants())
        out = expr.xreplace(names).xreplace(self.constants())
        return out.xreplace({**dict(zip(S.velocity(d), v)), **dict(zip(S.velocity_star(d), vs))})
