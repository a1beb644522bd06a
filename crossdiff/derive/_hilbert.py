"""The Hilbert expansion of the kinetic model: ``D_i``, ``α_i``, ``ψ_i`` (paper (31)-(36), SPEC §3).

With ``θ_i = L_i^{-1}(v M_i)``, ``∫θ_i = 0`` (Lemma 1 iii):

.. math::

    D_i = -\\int_V v\\otimes\\theta_i\\,dv \\quad(35), \\qquad
    \\alpha_i(u) = -\\int_V v\\, L_i^{-1}\\big(\\mathcal T_i^1[M_1u_1,\\dots](M_i)\\big)\\,dv, \\qquad
    \\psi_i(u) = \\int_V G_i(M_1u_1, \\dots, v)\\,dv \\quad(34).

The ``α`` form used is the direct one of SPEC §3; under detailed balance it equals (36), and for
relaxation it is (39), ``α = (1/σ)∫ v 𝒯^1(M) dv``. The limit is (SPEC §3, general rule)

.. math::

    \\partial_t u_i = \\nabla\\cdot\\big([p_i = 1]\\,D_i\\nabla u_i - [b_i = 1]\\,u_i\\,\\alpha_i(u)\\big) + \\psi_i(u),

which is (32) for ``p = 1`` and (33) for species without bias. ``α_i`` is split as
``α_i = Σ_j χ_ij ∇u_j`` (+ a gradient-free drift, normally zero).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..errors import AssumptionError, KineticModelError
from ..kinetic import _symbols as S
from ..kinetic._model import KineticModel
from ..kinetic._operators import Bias
from ._checks import check_assumptions
from ._derivation import Derivation, SpeciesLimit
from ._exact import calculus_for
from ._notes import CHECK, LIMIT, WARNING, Note
from ._numeric import QuadratureCalculus

__all__ = ["derive", "bias_source", "alpha_of"]


def _tidy(expr: sp.Expr) -> sp.Expr:
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
            raise AssumptionError(f"species {s!r}: the bias operator violates (13): ∫ T1[Mu](M) dv = {sp.sstr(total)} != 0")
    y = calc.invert(s, h)
    return sp.ImmutableMatrix([-calc.integrate(calc.mul(calc.velocity(a), y)) for a in range(model.dim)])


def _drop_roundoff(tensor: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
    """Numeric tensors: entries below 1e-12 of the largest one are round-off."""
    numbers = [abs(complex(x)) for x in tensor if x.is_number]
    big = max(numbers, default=0.0)
    return tensor.applyfunc(lambda x: sp.Integer(0) if x.is_number and abs(complex(x)) <= 1e-12 * big else x)


def _small(expr: sp.Expr) -> bool:
    """A numeric residual (numerical path) is zero up to round-off."""
    floats = [abs(float(c)) for c in sp.Add.make_args(sp.expand(expr)) for c in [c.as_coeff_Mul()[0]]]
    return all(f < 1e-9 for f in floats)


def split_alpha(alpha: sp.ImmutableMatrix, model: KineticModel) -> tuple[dict[str, sp.ImmutableMatrix], sp.ImmutableMatrix]:
    """``α = Σ_j χ_j ∇u_j + drift``: the sensitivity tensors ``χ_j[a, b] = ∂α_a/∂(∂_b u_j)``."""
    d = model.dim
    grads = {n: S.grad_symbols(n, d) for n in model.species_names}
    every = [g for gs in grads.values() for g in gs]
    chi = {}
    for n, gs in grads.items():
        tensor = sp.ImmutableMatrix(d, d, lambda a, b: _tidy(sp.diff(alpha[a], gs[b])))
        if any(sp.diff(x, g) != 0 for x in tensor for g in every):
            raise KineticModelError(f"alpha is not linear in the gradient of {n!r}: not a taxis term ({sp.sstr(alpha)})")
        if tensor != sp.zeros(d, d):
            chi[n] = tensor
    drift = sp.ImmutableMatrix([_tidy(x.xreplace({g: 0 for g in every})) for x in alpha])
    return chi, drift


def derive(
    model: KineticModel,
    method: str = "symbolic",
    nodes: int = 64,
    values: Mapping[str, float] | None = None,
    strict: bool = True,
) -> Derivation:
    """The parabolic (ε → 0) limit of a kinetic model.

    Parameters
    ----------
    model : KineticModel
    method : {"symbolic", "numeric"}
        ``"symbolic"``: exact (SymPy) — closed form ``θ = -vM/σ`` for relaxation, the linear
        system on discrete velocity sets, eigenfunction ``vM`` for suitable kernels on the
        sphere. ``"numeric"``: quadrature with ``nodes`` points on the sphere (d = 3: a
        ``nodes × 2 nodes`` product rule) and a dense solve; parameters take their defaults
        (overridden by ``values``), densities and gradients stay symbolic.
    strict : bool
        If False, a ``T^0`` without detailed balance is accepted (``α`` from the direct form).

    Returns
    -------
    Derivation

    Raises
    ------
    AssumptionError
        An assumption (13)-(17) fails (message names it and the species).
    KineticModelError
        No closed form (symbolic) or a kernel that does not separate (numeric).
    """
    if method not in ("symbolic", "numeric"):
        raise KineticModelError(f"unknown derivation method {method!r}; use 'symbolic' or 'numeric'")
    notes = check_assumptions(model, strict=strict)
    calc = calculus_for(model) if method == "symbolic" else QuadratureCalculus(model, nodes, values)
    limits = []
    for sp_ in model.species:
        s = sp_.name
        m = calc.equilibrium(s)
        theta = [calc.invert(s, calc.mul(calc.velocity(b), m)) for b in range(model.dim)]
        D = sp.ImmutableMatrix(model.dim, model.dim,
                               lambda a, b: _tidy(-calc.integrate(calc.mul(calc.velocity(a), theta[b]))))
        if method == "numeric":
            D = _drop_roundoff(D)
        alpha, chi, drift = None, {}, None
        if sp_.bias is not None:
            alpha = alpha_of(calc, model, s, sp_.bias).applyfunc(_tidy)
            chi, drift = split_alpha(alpha, model)
            if sp_.bias.kernel is not None:
                notes.append(Note(CHECK, "bias given by its kernel: ∫ T1 dv = 0 (13) holds identically", s))
            else:
                notes.append(Note(CHECK, "bias operator: ∫ T1[Mu](M) dv = 0 (13) verified", s))
        psi = _tidy(calc.integrate(calc.pointwise(sp_.interaction, s)))
        limits.append(SpeciesLimit(s, D, alpha, chi, drift, psi, sp_.p, sp_.b))
        notes.extend(_switch_notes(sp_))
        notes.extend(_singular_notes(model, s, chi if sp_.b == 1 else {}))
    derivation = Derivation(kinetic=model, species=tuple(limits), notes=tuple(notes), method=method)
    if model.paper is not None and method == "symbolic":
        from ._paper import compare_with_paper

        derivation = compare_with_paper(derivation, calc)
    return derivation


def _singular_notes(model: KineticModel, s: str, chi: dict) -> list[Note]:
    """A sensitivity singular at a zero density needs that density positive (e.g. (62): 1/u2)."""
    dens = {sp.Symbol(n) for n in model.species_names}
    notes = []
    for signal, tensor in chi.items():
        for entry in set(tensor):
            bad = sorted(str(x) for x in sp.denom(sp.together(model.expand(entry))).free_symbols & dens)
            if bad:
                notes.append(Note(WARNING, f"sensitivity towards {signal} ({sp.sstr(entry)}) is singular at "
                                           f"{', '.join(b + ' = 0' for b in bad)}: the limit needs "
                                           f"{', '.join(b + ' > 0' for b in bad)}", s))
                break
    return notes


def _switch_notes(species) -> list[Note]:
    s, p, b = species.name, species.p, species.b
    notes = []
    if p >= 2:
        notes.append(Note(LIMIT, f"p = {p} >= 2 (the paper's q): T0 scales as eps^-{p}, the diffusion D drops out "
                                 "of the limit ([q = 1] in (33))", s))
    if species.bias is not None and b >= 2:
        notes.append(Note(LIMIT, f"bias of order eps^{b}, b >= 2: alpha is computed but has no effect in the limit "
                                 "([b = 1] in (32))", s))
    if species.bias is not None and b == 1 and p >= 2:
        notes.append(Note(LIMIT, "b = 1 with p >= 2: taxis without diffusion (a hyperbolic equation; SPEC §3 general "
                                 "rule, not shown by (32)-(33))", s))
    return notes
