"""The coefficients of the limit from the velocity calculus: the source ``𝒯^1[Mu](M)`` of a
bias, ``α`` and its split into taxis sensitivities (paper (36), (39)), and the tidying of
numeric results. Shared by the derivation (:mod:`._hilbert`) and the comparison with the
paper's printed formulas (:mod:`._paper`).
"""

from __future__ import annotations

import sympy as sp

from ..errors import AssumptionError, KineticModelError
from ..kinetic import Bias, KineticModel
from ..kinetic import symbols as S

__all__ = ["tidy", "bias_source", "alpha_of", "split_alpha"]


def tidy(expr: sp.Expr) -> sp.Expr:
    """Simplify exact results; for numeric ones drop round-off terms (relative 1e-12)."""
    if not expr.has(sp.Float):
        simple = sp.simplify(expr)
        return simple if sp.count_ops(simple) < sp.count_ops(expr) else expr
    terms = sp.Add.make_args(sp.expand(expr))
    coeffs = [abs(complex(t.as_coeff_Mul()[0])) for t in terms]
    big = max(coeffs, default=0.0)
    return sp.Add(*[t for t, c in zip(terms, coeffs) if c > 1e-12 * big])


def bias_source(calc, model: KineticModel, s: str, bias: Bias):
    """``𝒯_s^1[M_1u_1, …](M_s)(v)`` as a function of ``v`` in the back-end ``calc``."""
    if bias.kernel is not None:
        return calc.apply(calc.kernel(bias.kernel, s), calc.equilibrium(s))
    return calc.pointwise(bias.operator, s)


def alpha_of(calc, model: KineticModel, s: str, bias: Bias, check: bool = True) -> sp.ImmutableMatrix:
    """``α_s = -∫ v L_s^{-1}(𝒯_s^1[Mu](M_s)) dv`` (direct form; (36) under detailed balance)."""
    h = bias_source(calc, model, s, bias)
    if check and bias.operator is not None:
        total = calc.integrate(h)
        if sp.simplify(total) != 0 and not _small(total):
            raise AssumptionError(
                f"species {s!r}: the bias operator violates (13): ∫ T1[Mu](M) dv = {sp.sstr(total)} != 0"
            )
    y = calc.invert(s, h)
    return sp.ImmutableMatrix([-calc.integrate(calc.mul(calc.velocity(a), y)) for a in range(model.dim)])


def _small(expr: sp.Expr) -> bool:
    """A numeric residual (numerical path) is zero up to round-off."""
    floats = [abs(float(c)) for c in sp.Add.make_args(sp.expand(expr)) for c in [c.as_coeff_Mul()[0]]]
    return all(f < 1e-9 for f in floats)


def split_alpha(
    alpha: sp.ImmutableMatrix, model: KineticModel
) -> tuple[dict[str, sp.ImmutableMatrix], sp.ImmutableMatrix]:
    """``α = Σ_j χ_j ∇u_j + drift``: the sensitivity tensors ``χ_j[a, b] = ∂α_a/∂(∂_b u_j)``."""
    d = model.dim
    grads = {n: S.grad_symbols(n, d) for n in model.species_names}
    every = [g for gs in grads.values() for g in gs]
    chi = {}
    for n, gs in grads.items():
        tensor = sp.ImmutableMatrix(d, d, lambda a, b: tidy(sp.diff(alpha[a], gs[b])))
        if any(sp.diff(x, g) != 0 for x in tensor for g in every):
            raise KineticModelError(
                f"alpha is not linear in the gradient of {n!r}: not a taxis term ({sp.sstr(alpha)})"
            )
        if tensor != sp.zeros(d, d):
            chi[n] = tensor
    drift = sp.ImmutableMatrix([tidy(x.xreplace({g: 0 for g in every})) for x in alpha])
    return chi, drift
