"""Manufactured solutions for the convergence tests.

The exact solution (u, v) is chosen with zero normal derivative on the walls of [0, 1]^d, the
source that makes it exact is derived with SymPy and added to the reactions (the model layer
accepts reactions depending on t and x), so the test exercises the real parsing/compilation path.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

import crossdiff as cd

t, x, y = sp.symbols("t x y")
U, V = sp.symbols("u v")


def exact(ndim: int) -> tuple[sp.Expr, sp.Expr]:
    """Smooth, positive, no-flux compatible (u, v)."""
    if ndim == 1:
        u = 1 + sp.Rational(1, 2) * sp.cos(sp.pi * x) * sp.exp(-t)
        v = 1 + sp.Rational(3, 10) * sp.cos(sp.pi * x) * (1 + t)
    else:
        u = 1 + sp.Rational(1, 2) * sp.cos(sp.pi * x) * sp.cos(sp.pi * y) * sp.exp(-t)
        v = 1 + sp.Rational(3, 10) * sp.cos(sp.pi * x) * sp.cos(2 * sp.pi * y) * (1 + t)
    return u, v


def mms_model(ndim: int, chi: float = 1.0, nonlinear: bool = False) -> tuple[cd.Model, sp.Expr, sp.Expr]:
    """u_t = ∇·(D(u)∇u) − χ∇·(u∇v) + u(1−u) + S_u,  v_t = Δv + u − v + S_v."""
    ue, ve = exact(ndim)
    coords = [x, y][:ndim]
    d_u = 1 + U / 2 if nonlinear else sp.Integer(1)
    d_e = d_u.subs(U, ue)

    def div(vec):
        return sum(sp.diff(c, s) for c, s in zip(vec, coords))

    def grad(f):
        return [sp.diff(f, s) for s in coords]

    op_u = div([d_e * g for g in grad(ue)]) - chi * div([ue * g for g in grad(ve)]) + ue * (1 - ue)
    op_v = div(grad(ve)) + ue - ve
    s_u = sp.simplify(sp.diff(ue, t) - op_u)
    s_v = sp.simplify(sp.diff(ve, t) - op_v)
    model = cd.Model(
        species=[
            cd.Species(
                "u", diffusion=d_u, taxis=[cd.Taxis("v", "chi")], reaction=U * (1 - U) + s_u, initial=ue.subs(t, 0)
            ),
            cd.Species("v", diffusion=1, reaction=U - V + s_v, initial=ve.subs(t, 0)),
        ],
        parameters={"chi": chi},
        name=f"mms-{ndim}d",
    )
    return model, ue, ve


def exact_on(grid: cd.Grid, expr: sp.Expr, time: float) -> np.ndarray:
    f = sp.lambdify([x, y], expr.subs(t, time), "numpy")
    mesh = grid.mesh()
    args = list(mesh) + [0.0] * (2 - grid.ndim)
    return np.broadcast_to(np.asarray(f(*args), dtype=float), grid.shape)


def slope(hs, errors) -> float:
    """Least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])
