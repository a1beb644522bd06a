"""The Hilbert expansion of the kinetic model: ``D_i``, ``α_i``, ``ψ_i`` (paper (31)-(36), ``docs/theory.md`` §3).

With ``θ_i = L_i^{-1}(v M_i)``, ``∫θ_i = 0`` (Lemma 1 iii):

.. math::

    D_i = -\\int_V v\\otimes\\theta_i\\,dv \\quad(35), \\qquad
    \\alpha_i(u) = -\\int_V v\\, L_i^{-1}\\big(\\mathcal T_i^1[M_1u_1,\\dots](M_i)\\big)\\,dv, \\qquad
    \\psi_i(u) = \\int_V G_i(M_1u_1, \\dots, v)\\,dv \\quad(34).

The ``α`` form used is the direct one of ``docs/theory.md`` §3; under detailed balance it equals (36), and for
relaxation it is (39), ``α = (1/σ)∫ v 𝒯^1(M) dv``. The limit is (``docs/theory.md`` §3, general rule)

.. math::

    \\partial_t u_i = \\nabla\\cdot\\big([p_i = 1]\\,D_i\\nabla u_i - [b_i = 1]\\,u_i\\,\\alpha_i(u)\\big) + \\psi_i(u),

which is (32) for ``p = 1`` and (33) for species without bias. ``α_i`` is split as
``α_i = Σ_j χ_ij ∇u_j`` (+ a gradient-free drift, normally zero).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..errors import KineticModelError
from ..kinetic import KineticModel
from ..model import Model
from ._checks import check_assumptions
from ._coefficients import alpha_of, split_alpha, tidy
from ._derivation import Derivation, SpeciesLimit
from ._exact import calculus_for
from ._notes import CHECK, LIMIT, WARNING, Note
from ._numeric import QuadratureCalculus
from ._paper import compare_with_paper

__all__ = ["derive"]


def _drop_roundoff(tensor: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
    """Numeric tensors: entries below 1e-12 of the largest one are round-off."""
    numbers = [abs(complex(x)) for x in tensor if x.is_number]
    big = max(numbers, default=0.0)
    return tensor.applyfunc(lambda x: sp.Integer(0) if x.is_number and abs(complex(x)) <= 1e-12 * big else x)


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
        sphere, the ball or ``R^d`` (whose integrals are the spaces' closed-form moments:
        polynomials, and polynomials times centred Gaussians on ``R^d``). ``"numeric"``: the
        quadrature ``model.velocity.quadrature(nodes)`` (the sphere: ``nodes`` points, d = 3 a
        ``nodes × 2 nodes`` product rule; the ball: those directions times ``⌊nodes/2⌋ + 1``
        radii; ``R^d``: ``nodes`` Gauss–Hermite points per axis) and a dense solve; parameters
        take their defaults (overridden by ``values``), densities and gradients stay symbolic.
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
    if not isinstance(model, KineticModel):
        kind = "a macroscopic Model is a limit already" if isinstance(model, Model) else f"got {type(model).__name__}"
        raise KineticModelError(f"derive needs a KineticModel ({kind})")
    if method not in ("symbolic", "numeric"):
        raise KineticModelError(f"unknown derivation method {method!r}; use 'symbolic' or 'numeric'")
    notes = check_assumptions(model, strict=strict)
    calc = calculus_for(model) if method == "symbolic" else QuadratureCalculus(model, nodes, values)
    limits = []
    for sp_ in model.species:
        s = sp_.name
        m = calc.equilibrium(s)
        theta = [calc.invert(s, calc.mul(calc.velocity(b), m)) for b in range(model.dim)]
        D = sp.ImmutableMatrix(
            model.dim, model.dim, lambda a, b: tidy(-calc.integrate(calc.mul(calc.velocity(a), theta[b])))
        )
        if method == "numeric":
            D = _drop_roundoff(D)
        alpha, drift = None, None
        chi: dict[str, sp.ImmutableMatrix] = {}
        if sp_.bias is not None:
            alpha = alpha_of(calc, model, s, sp_.bias).applyfunc(tidy)
            chi, drift = split_alpha(alpha, model)
            if sp_.bias.kernel is not None:
                notes.append(Note(CHECK, "bias given by its kernel: ∫ T1 dv = 0 (13) holds identically", s))
            else:
                notes.append(Note(CHECK, "bias operator: ∫ T1[Mu](M) dv = 0 (13) verified", s))
        psi = tidy(calc.integrate(calc.pointwise(sp_.interaction, s)))
        limits.append(SpeciesLimit(s, D, alpha, chi, drift, psi, sp_.p, sp_.b))
        notes.extend(_switch_notes(sp_))
        notes.extend(_singular_notes(model, s, chi if sp_.b == 1 else {}))
    derivation = Derivation(kinetic=model, species=tuple(limits), notes=tuple(notes), method=method)
    if model.paper is not None and method == "symbolic":
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
                notes.append(
                    Note(
                        WARNING,
                        f"sensitivity towards {signal} ({sp.sstr(entry)}) is singular at "
                        f"{', '.join(b + ' = 0' for b in bad)}: the limit needs "
                        f"{', '.join(b + ' > 0' for b in bad)}",
                        s,
                    )
                )
                break
    return notes


def _switch_notes(species) -> list[Note]:
    s, p, b = species.name, species.p, species.b
    notes = []
    if p >= 2:
        notes.append(
            Note(
                LIMIT,
                f"p = {p} >= 2 (the paper's q): T0 scales as eps^-{p}, the diffusion D drops out "
                "of the limit ([q = 1] in (33))",
                s,
            )
        )
    if species.bias is not None and b >= 2:
        notes.append(
            Note(
                LIMIT,
                f"bias of order eps^{b}, b >= 2: alpha is computed but has no effect in the limit ([b = 1] in (32))",
                s,
            )
        )
    if species.bias is not None and b == 1 and p >= 2:
        notes.append(
            Note(
                LIMIT,
                "b = 1 with p >= 2: taxis without diffusion (a hyperbolic equation; docs/theory.md §3 "
                "general rule, not shown by (32)-(33))",
                s,
            )
        )
    return notes
