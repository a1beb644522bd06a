"""Automatic comparison of a derivation with what the paper prints.

A kinetic model may carry a :class:`~crossdiff.kinetic.PaperReference`: the paper's printed
limit (diffusion, taxis sensitivities, reaction; in the normalised form ``∂t u = …``) and the
paper's printed kinetic ingredients where the entry had to correct them (bias kernel,
interaction term). Every printed item is compared exactly (``simplify(a - b) == 0``, definitions
expanded) with what the mathematics gives; each difference becomes a note with
``differs=True``, worded so that a reader sees both results.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..kinetic import KineticModel
from ._coefficients import alpha_of, split_alpha
from ._derivation import Derivation, scalar_of
from ._notes import PAPER, Note

__all__ = ["compare_with_paper"]


def _printed(model: KineticModel, expr: sp.Expr) -> sp.Expr:
    sigmas = {sp.Symbol(f"sigma_{s.name}"): s.sigma for s in model.species if s.sigma is not None}
    return expr.xreplace(sigmas).xreplace(model.constants())


def _same(model: KineticModel, a: sp.Expr, b: sp.Expr) -> bool:
    return sp.simplify(model.expand(a) - model.expand(b)) == 0


def _vec(model: KineticModel, alpha) -> str:
    return sp.sstr(list(alpha)) if alpha is not None else "0"


def compare_with_paper(derivation: Derivation, calc) -> Derivation:
    """Append the comparison notes to ``derivation`` (see the module docstring)."""

    model = derivation.kinetic
    paper = model.paper
    eq = paper.equation or "the paper"
    notes = [Note(PAPER, f"paper: {text}", differs=True) for text in paper.notes]
    for name, printed in paper.printed.items():
        lim = derivation[name]
        diffs = []
        if printed.diffusion is not None:
            c = _printed(model, printed.diffusion)
            got = scalar_of(lim.effective_D())
            shown = sp.sstr(printed.diffusion) + ("" if c == printed.diffusion else f" = {sp.sstr(c)}")
            if got is None or not _same(model, got, c):
                diffs.append(
                    f"diffusion: {eq} prints {shown}, the derivation gives "
                    f"{sp.sstr(got) if got is not None else lim.effective_D().tolist()}"
                )
        if printed.taxis is not None:
            chi = lim.effective_chi()
            for signal in sorted(set(printed.taxis) | set(chi)):
                want = _printed(model, printed.taxis.get(signal, sp.Integer(0)))
                tensor = chi.get(signal)
                got = scalar_of(tensor) if tensor is not None else sp.Integer(0)
                if got is None or not _same(model, got, want):
                    diffs.append(
                        f"sensitivity towards {signal}: {eq} prints {sp.sstr(want)}, the derivation gives "
                        f"{sp.sstr(got) if got is not None or tensor is None else tensor.tolist()}"
                    )
        if printed.reaction is not None:
            want = _printed(model, printed.reaction)
            if not _same(model, lim.psi, want):
                diffs.append(f"reaction: {eq} prints {sp.sstr(want)}, the derivation gives {sp.sstr(lim.psi)}")
        if printed.bias is not None:
            alpha_p = alpha_of(calc, model, name, printed.bias).applyfunc(sp.simplify)
            if lim.alpha is None or any(not _same(model, a, b) for a, b in zip(alpha_p, lim.alpha)):
                chi_p, _ = split_alpha(alpha_p, model)
                shown = {k: (scalar_of(t) if scalar_of(t) is not None else t.tolist()) for k, t in chi_p.items()}
                notes.append(
                    Note(
                        PAPER,
                        f"bias kernel as printed, {printed.bias.describe()}, gives alpha_{name} = "
                        f"{_vec(model, alpha_p)} (sensitivities {shown}); this entry uses "
                        f"{model[name].bias.describe()}, giving alpha_{name} = {_vec(model, lim.alpha)}",
                        name,
                        differs=True,
                    )
                )
        if printed.interaction is not None:
            psi_p = sp.simplify(calc.integrate(calc.pointwise(printed.interaction, name)))
            if not _same(model, psi_p, lim.psi):
                notes.append(
                    Note(
                        PAPER,
                        f"interaction as printed, G = {sp.sstr(printed.interaction)}, gives psi_{name} = "
                        f"{sp.sstr(psi_p)}; this entry uses G = {sp.sstr(model[name].interaction)}, "
                        f"giving psi_{name} = {sp.sstr(lim.psi)}",
                        name,
                        differs=True,
                    )
                )
        for text in diffs:
            notes.append(Note(PAPER, f"species {name}: {text}", name, differs=True))
        if not diffs:
            notes.append(Note(PAPER, f"species {name}: the limit equation agrees with {eq}", name))
    return replace(derivation, notes=derivation.notes + tuple(notes), paper_equation=paper.equation)
