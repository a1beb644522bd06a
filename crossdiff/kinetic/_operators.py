"""Equilibria and turning operators of the kinetic model (``docs/theory.md`` §2, paper (8), (10), (37)).

Every turning operator is written with the kernel ``T(v, v*)``, the rate of turning FROM
``v*`` TO ``v``:

.. math::

    \\mathcal T(g)(v) = \\int_V \\big[ T(v, v^*)\\, g(v^*) - T(v^*, v)\\, g(v) \\big]\\, dv^*

(the paper's printed (8), (11), (12) swap the arguments; see ``docs/theory.md`` §5). The operator of species
``i`` is ``𝒯_i = 𝒯_i^0 + ε^(b_i) 𝒯_i^1[f]`` (10): :class:`Relaxation` or
:class:`TurningKernel` for ``𝒯^0`` and :class:`Bias` for ``𝒯^1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import KineticModelError
from ..expressions import to_expr

__all__ = ["Equilibrium", "Relaxation", "TurningKernel", "Bias", "LeadingTurning"]


def _expr(value: object, what: str) -> sp.Expr:
    return to_expr(value, what)  # raises ExpressionError (an InputError) on bad input


@dataclass(frozen=True)
class Equilibrium:
    """The equilibrium velocity distribution ``M_i(v) > 0`` with ``∫M = 1``, ``∫vM = 0`` (16).

    Parameters
    ----------
    expr : expression or None
        ``M`` as an expression of ``vx, vy, vz`` (and parameters, ``R``, ``d``, ``absV``);
        ``None`` (the default) is the uniform distribution ``1/|V|``.
    values : sequence or None
        On a discrete velocity set: ``M(v_k)`` for each velocity, in order (instead of ``expr``).
    """

    expr: sp.Expr | None = None
    values: tuple[sp.Expr, ...] | None = None

    def __post_init__(self) -> None:
        if self.expr is not None and self.values is not None:
            raise KineticModelError("an equilibrium is an expression or a list of values, not both")
        if self.expr is not None:
            object.__setattr__(self, "expr", _expr(self.expr, "equilibrium"))
        if self.values is not None:
            object.__setattr__(self, "values", tuple(_expr(v, "equilibrium value") for v in self.values))

    @property
    def is_uniform(self) -> bool:
        return self.expr is None and self.values is None


@dataclass(frozen=True)
class Relaxation:
    """The relaxation kernel (37) ``T^0(v, v*) = σ M(v)``, i.e. ``𝒯^0(g) = -σ (g - M ∫g)`` (38).

    Parameters
    ----------
    rate : expression
        ``σ_i > 0``: a constant, or an expression of the parameters, densities and
        definitions (model (62) has ``σ_1 = |β_1(u_1)·β_2(u_2)|``).
    """

    rate: sp.Expr

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", _expr(self.rate, "relaxation rate"))

    def describe(self) -> str:
        return f"relaxation T0(v, v*) = sigma*M(v), sigma = {sp.sstr(self.rate)}"


@dataclass(frozen=True)
class TurningKernel:
    """A general leading-order kernel ``T^0(v, v*)`` (rate from ``v*`` to ``v``).

    Parameters
    ----------
    expr : expression or None
        ``T^0`` as an expression of ``vx..`` (``v``), ``vsx..`` (``v*``), the parameters and
        the equilibria ``M_s``, ``Ms_s``.
    matrix : sequence of sequences or None
        On a discrete velocity set: ``matrix[k][l] = T^0(v_k, v_l)``, the rate from velocity
        ``l`` to velocity ``k`` (instead of ``expr``). Diagonal entries do not change the
        operator.
    """

    expr: sp.Expr | None = None
    matrix: tuple[tuple[sp.Expr, ...], ...] | None = None

    def __post_init__(self) -> None:
        if (self.expr is None) == (self.matrix is None):
            raise KineticModelError("a turning kernel needs exactly one of an expression or a matrix")
        if self.expr is not None:
            object.__setattr__(self, "expr", _expr(self.expr, "turning kernel"))
        else:
            rows = self.matrix
            if not rows or any(not isinstance(r, (list, tuple)) or len(r) != len(rows) for r in rows):
                raise KineticModelError("a turning kernel matrix must be square (one row per velocity)")
            object.__setattr__(
                self, "matrix", tuple(tuple(_expr(x, "turning kernel matrix entry") for x in r) for r in rows)
            )

    def describe(self) -> str:
        if self.expr is not None:
            return f"kernel T0(v, v*) = {sp.sstr(self.expr)}"
        return f"kernel matrix T0 = {[[sp.sstr(x) for x in r] for r in self.matrix or ()]}"


LeadingTurning = Relaxation | TurningKernel


@dataclass(frozen=True)
class Bias:
    """The bias ``𝒯_i^1[f]`` of (10), by its kernel or directly by its action on ``M_i``.

    Parameters
    ----------
    kernel : expression or None
        ``T^1(v, v*)`` as an expression of ``v``, ``v*``, the densities, their gradients
        (``dx_s``, ``vs_grad_s``, ...), the distributions ``f_s``/``fs_s``, the equilibria and
        ``sigma_s`` (relaxation rate of species ``s``), e.g. (41) for species ``u1``:
        ``-(xi1*sigma_u1*d/(absV^2*R^2))*vs_grad_u3/Ms_u1``. In this form ``∫𝒯^1 dv = 0`` (13)
        holds identically.
    operator : expression or None
        ``𝒯_i^1[M_1 u_1, …](M_i)(v)`` directly, as an expression of ``v`` and the densities
        and gradients; then (13) is checked.
    """

    kernel: sp.Expr | None = None
    operator: sp.Expr | None = None

    def __post_init__(self) -> None:
        if (self.kernel is None) == (self.operator is None):
            raise KineticModelError("a bias needs exactly one of 'kernel' or 'operator'")
        if self.kernel is not None:
            object.__setattr__(self, "kernel", _expr(self.kernel, "bias kernel"))
        else:
            object.__setattr__(self, "operator", _expr(self.operator, "bias operator"))

    def describe(self) -> str:
        if self.kernel is not None:
            return f"T1(v, v*) = {sp.sstr(self.kernel)}"
        return f"T1[Mu](M)(v) = {sp.sstr(self.operator)}"
