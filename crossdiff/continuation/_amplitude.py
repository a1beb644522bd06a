r"""The direction of a steady bifurcation from a homogeneous state: the weakly nonlinear
(amplitude-equation) coefficient of a pitchfork in one space dimension.

For the 1D form of docs/theory.md (1.1) with no-flux walls,
``N_i(u; p) = ∂_x(D_i(u) ∂_x u_i − Σ_j u_i χ_ij(u) ∂_x u_j) + ψ_i(u)``, a mode ``cos(kx)``
becomes critical at ``p_c``: ``(J − K(k)) φ = 0`` (docs/theory.md (4.3)), with the left null
vector ``ψ``. Expanding a steady state in the amplitude ``ε`` ([Kuz04] ch. 10; Murray 2003
[Mur03] for the Turing setting),

.. math::

    u = u^* + ε φ \cos kx + ε^2 (a_0 + a_2 \cos 2kx) + O(ε^3), \qquad p = p_c + ε^2 p_2 + O(ε^4),

the ``ε²`` terms give ``(J − K(0)) a_0 = −r_0`` and ``(J − K(2k)) a_2 = −r_2`` (``r_0, r_2`` the
projections of the quadratic part of ``N`` on ``1`` and ``cos 2kx``), and solvability at ``ε³``
on ``cos kx`` gives

.. math::

    p_2 = − \frac{ψ · r_3}{ψ · ∂_p (J − K(k)) φ},

``r_3`` the projection on ``cos kx`` of the ``ε³`` part of ``N`` with ``u_2`` in place (the
quadratic terms of ``φ cos kx`` against ``a_0 + a_2 cos 2kx`` and the cubic ones of ``φ cos kx``).
The branch leaves ``p_c`` towards ``p > p_c`` when ``p_2 > 0``. With the norm of
:class:`~crossdiff.continuation.Diagram` (RMS deviation, ``ε²|φ|²/2`` to leading order) the
branch is ``p − p_c ≈ s · norm²`` with the slope ``s = 2 p_2/|φ|²``, independent of how ``φ`` is
scaled: the number a continued branch is checked against (docs/theory.md §6.3).

The expansion is symbolic (SymPy differentiates ``N`` in ``ε``); the projections on
``cos(nkx)`` are exact by the trapezoidal rule on one period (exact for trigonometric polynomials
of degree below the number of nodes, [TW14]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InputError
from ..model import Model

__all__ = ["Pitchfork", "pitchfork"]

#: Quadrature nodes on one period (exact up to degree 63; the expansion reaches degree 3).
_NODES = 64


@dataclass(frozen=True)
class Pitchfork:
    """The weakly nonlinear coefficients of a steady bifurcation of mode ``cos(kx)``.

    Attributes
    ----------
    p2 : float
        ``p − p_c ≈ p_2 ε²`` for the amplitude ``ε`` of ``φ cos kx``.
    slope : float
        ``2 p_2/|φ|²``: ``p − p_c ≈ slope · norm²`` (norm: the RMS deviation from the mean).
    direction : str
        ``"forward"`` (the branch exists for ``p > p_c``) or ``"backward"``.
    phi : ndarray
        The critical vector ``φ``.
    """

    p2: float
    slope: float
    direction: str
    phi: np.ndarray


def pitchfork(model: Model, parameter: str, value: float, k: float, state: np.ndarray) -> Pitchfork:
    """The coefficient ``p_2`` of the steady bifurcation of ``cos(kx)`` from the homogeneous
    ``state`` at ``parameter = value`` (a critical value: ``J − K(k)`` is singular there).

    Raises
    ------
    InputError
        A tensor diffusion, or ``J − K(k)`` not singular at ``value``.
    """
    from ..analysis import Linearisation

    lin = Linearisation(model)
    if any(lin.tensor):
        raise InputError("the amplitude coefficient is computed for scalar diffusions")
    u_star = np.asarray(state, dtype=float)
    n = lin.n
    pvals = lin.values(changes={parameter: value})

    def matrix(kk: float, p=pvals) -> np.ndarray:
        return lin.jacobian(u_star, p) - lin.transport(u_star, p, np.array([[kk]]))[0]

    A = matrix(k)
    U, s, Vt = np.linalg.svd(A)
    if s[-1] > 1e-6 * max(1.0, s[0]):
        raise InputError(f"J - K(k) is not singular at {parameter} = {value:g} (smallest singular value {s[-1]:.3g})")
    phi = Vt[-1]
    psi = U[:, -1]
    # the 1D operator N(u) with parameters at their values, u(x) = u* + ε u1 + ε² u2 + ε³·0
    x, eps = sp.symbols("x epsilon", real=True)
    subs = {sym: sp.Float(float(v)) for sym, v in zip(lin.parameters, pvals)}
    cos = [sp.cos(m * k * x) for m in range(3)]

    def operator(fields: list[sp.Expr]) -> list[sp.Expr]:
        at = dict(zip(lin.species, fields))
        out = []
        for i in range(n):
            D = lin.parts.diffusion[i].xreplace(subs).xreplace(at)
            flux = D * sp.diff(fields[i], x)
            for j in range(n):
                chi = lin.parts.sensitivity[i][j]
                if chi != 0:
                    flux -= fields[i] * chi.xreplace(subs).xreplace(at) * sp.diff(fields[j], x)
            out.append(sp.diff(flux, x) + lin.parts.reactions[i].xreplace(subs).xreplace(at))
        return out

    nodes = np.arange(_NODES) * (2 * math.pi / k) / _NODES

    def project(expr: sp.Expr, m: int) -> float:
        f = sp.lambdify(x, expr, modules="numpy")
        values = np.broadcast_to(np.asarray(f(nodes), dtype=float), nodes.shape)
        weight = 1.0 if m == 0 else 2.0
        return float(weight * np.mean(values * np.cos(m * k * nodes)))

    def coefficient(exprs: list[sp.Expr], order: int) -> list[sp.Expr]:
        return [sp.diff(e, eps, order).subs(eps, 0) / math.factorial(order) for e in exprs]

    first = [float(u_star[i]) + eps * float(phi[i]) * cos[1] for i in range(n)]
    second = coefficient(operator(first), 2)
    r0 = np.array([project(e, 0) for e in second])
    r2 = np.array([project(e, 2) for e in second])
    a0 = np.linalg.lstsq(matrix(0.0), -r0, rcond=None)[0]
    a2 = np.linalg.solve(matrix(2 * k), -r2)
    fields = [first[i] + eps**2 * (float(a0[i]) + float(a2[i]) * cos[2]) for i in range(n)]
    r3 = np.array([project(e, 1) for e in coefficient(operator(fields), 3)])
    step = 1e-6 * max(1.0, abs(value))
    dA = (
        matrix(k, lin.values(changes={parameter: value + step}))
        - matrix(k, lin.values(changes={parameter: value - step}))
    ) / (2 * step)
    denominator = float(psi @ dA @ phi)
    if denominator == 0:
        raise InputError(f"the mode crosses {parameter} = {value:g} without transversality")
    p2 = -float(psi @ r3) / denominator
    return Pitchfork(p2, 2 * p2 / float(phi @ phi), "forward" if p2 > 0 else "backward", phi)
