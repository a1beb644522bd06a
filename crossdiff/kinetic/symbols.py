"""The names a kinetic expression may use, and how they are resolved.

Kinetic files are parsed by the safe expression parser (:func:`crossdiff.expressions.to_expr`),
which turns every free name into a plain :class:`sympy.Symbol`. This module gives those names
their meaning. With ``s`` a species name and ``v`` the post-turn, ``v*`` the pre-turn velocity
(``T(v, v*)`` is the rate of turning FROM ``v*`` TO ``v``, ``docs/theory.md`` §2):

=====================  =================================================================
name                   meaning
=====================  =================================================================
``vx, vy, vz``         components of ``v`` (as many as the velocity dimension)
``vsx, vsy, vsz``      components of ``v*``
``R``, ``d``, ``absV``  radius of the sphere or ball, dimension, measure ``|V|`` (not on R^d)
``s``                  the density ``u_s`` (= ``f_s/M_s`` at leading order, any velocity)
``M_s``, ``Ms_s``      the equilibrium ``M_s(v)``, ``M_s(v*)``
``f_s``, ``fs_s``      ``f_s(v) = M_s(v) u_s``, ``f_s(v*) = M_s(v*) u_s`` (leading order, (27))
``dx_s, dy_s, dz_s``   components of ``∇u_s``
``v_grad_s``           ``v·∇u_s``;  ``vs_grad_s``: ``v*·∇u_s``
``v_grad_f_s``         ``v·∇f_s(v)``; ``vs_grad_fs_s``: ``v*·∇f_s(v*)``
``sigma_s``            in a bias: the relaxation rate ``σ_s`` of species ``s``
=====================  =================================================================
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "AXES",
    "V",
    "VS",
    "RADIUS",
    "DIM",
    "MEASURE",
    "sigma_symbol",
    "KINETIC_NAMES",
    "RESERVED_PREFIXES",
    "grad",
    "grad_symbols",
    "velocity",
    "velocity_star",
    "m_symbol",
    "ms_symbol",
    "f_symbol",
    "fs_symbol",
]

AXES = ("x", "y", "z")
#: Components of v and of v*.
V = tuple(sp.Symbol(f"v{a}") for a in AXES)
VS = tuple(sp.Symbol(f"vs{a}") for a in AXES)
RADIUS = sp.Symbol("R")
DIM = sp.Symbol("d")
MEASURE = sp.Symbol("absV")

#: Names reserved by the kinetic layer (species, parameters and definitions cannot use them).
KINETIC_NAMES = frozenset({*(str(s) for s in V + VS), "d", "absV"})
#: Prefixes of generated names; species, parameter and definition names cannot start with them.
RESERVED_PREFIXES = ("M_", "Ms_", "f_", "fs_", "dx_", "dy_", "dz_", "v_grad_", "vs_grad_")


def velocity(dim: int) -> tuple[sp.Symbol, ...]:
    """The components of ``v`` in dimension ``dim``."""
    return V[:dim]


def velocity_star(dim: int) -> tuple[sp.Symbol, ...]:
    """The components of ``v*`` in dimension ``dim``."""
    return VS[:dim]


def grad(species: str, axis: int) -> sp.Symbol:
    """The symbol of ``∂u_species/∂x_axis`` (``dx_u``, ``dy_u``, ``dz_u``)."""
    return sp.Symbol(f"d{AXES[axis]}_{species}")


def grad_symbols(species: str, dim: int) -> tuple[sp.Symbol, ...]:
    """``∇u_species`` as a tuple of symbols."""
    return tuple(grad(species, a) for a in range(dim))


def m_symbol(species: str) -> sp.Symbol:
    """``M_s`` (the equilibrium at ``v``)."""
    return sp.Symbol(f"M_{species}")


def ms_symbol(species: str) -> sp.Symbol:
    """``Ms_s`` (the equilibrium at ``v*``)."""
    return sp.Symbol(f"Ms_{species}")


def f_symbol(species: str) -> sp.Symbol:
    """``f_s`` (the distribution at ``v``)."""
    return sp.Symbol(f"f_{species}")


def sigma_symbol(species: str) -> sp.Symbol:
    """``sigma_s`` (the relaxation rate of species ``s``)."""
    return sp.Symbol(f"sigma_{species}")


def fs_symbol(species: str) -> sp.Symbol:
    """``fs_s`` (the distribution at ``v*``)."""
    return sp.Symbol(f"fs_{species}")


def shorthand(species: str, dim: int, m_v: sp.Expr, m_vs: sp.Expr) -> dict[sp.Symbol, sp.Expr]:
    """The velocity-dependent names of one species, resolved at leading order.

    Parameters
    ----------
    species : str
        Species name ``s``.
    dim : int
        Velocity dimension.
    m_v, m_vs : sympy.Expr
        ``M_s(v)`` and ``M_s(v*)`` (expressions of the velocity symbols, or numbers on a
        discrete set).

    Returns
    -------
    dict
        ``{Symbol: value}`` for ``M_s, Ms_s, f_s, fs_s, v_grad_s, vs_grad_s, v_grad_f_s,
        vs_grad_fs_s`` with ``f_s = M_s u_s`` (the leading order term (27) of the expansion).
    """
    u = sp.Symbol(species)
    g = grad_symbols(species, dim)
    v_grad = sum((a * b for a, b in zip(velocity(dim), g)), sp.Integer(0))
    vs_grad = sum((a * b for a, b in zip(velocity_star(dim), g)), sp.Integer(0))
    return {
        m_symbol(species): m_v,
        ms_symbol(species): m_vs,
        f_symbol(species): m_v * u,
        fs_symbol(species): m_vs * u,
        sp.Symbol(f"v_grad_{species}"): v_grad,
        sp.Symbol(f"vs_grad_{species}"): vs_grad,
        sp.Symbol(f"v_grad_f_{species}"): m_v * v_grad,
        sp.Symbol(f"vs_grad_fs_{species}"): m_vs * vs_grad,
    }
