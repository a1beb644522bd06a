"""Text and LaTeX rendering of a model's equations."""

from __future__ import annotations

import sympy as sp

__all__ = ["equations"]


def _fmt(expr: sp.Expr, latex: bool) -> str:
    return sp.latex(expr) if latex else sp.sstr(expr)


def _bare(expr: sp.Expr) -> bool:
    """True for a number or a lone symbol (printed without parentheses)."""
    return expr.is_number or expr.is_Symbol


def equations(model, latex: bool = False) -> list[str]:
    """One equation per species, in the form of ``docs/theory.md`` §1.

    ``tau ∂t u = ∇·(D ∇u) − ∇·(u χ ∇w) + ψ`` (text) or its LaTeX equivalent. Definitions are
    shown by name, not expanded.
    """
    lines = []
    species = {sp.Symbol(n) for n in model.species_names} | {sp.Symbol(k) for k in model.definitions}
    for s in model.species:
        u = sp.latex(sp.Symbol(s.name)) if latex else s.name
        parts = []
        if s.is_tensor:
            d = _fmt(s.diffusion, latex)
            parts.append(rf"\nabla\cdot\left({d}\,\nabla {u}\right)" if latex else f"div({d} grad {u})")
        elif s.diffusion != 0:
            d = s.diffusion
            if not (d.free_symbols & (species | {sp.Symbol("t"), sp.Symbol("x"), sp.Symbol("y"), sp.Symbol("z")})):
                text = _fmt(d, latex) if _bare(d) else f"({_fmt(d, latex)})"
                coef = "" if d == 1 else (text + (r"\," if latex else "*"))
                parts.append(rf"{coef}\Delta {u}" if latex else f"{coef}lap({u})")
            else:
                parts.append(
                    rf"\nabla\cdot\left(({_fmt(d, latex)})\nabla {u}\right)"
                    if latex
                    else f"div(({_fmt(d, latex)}) grad {u})"
                )
        for term in s.taxis:
            chi = term.sensitivity
            w = sp.latex(sp.Symbol(term.signal)) if latex else term.signal
            if latex:
                inner = (
                    u
                    if chi == 1
                    else (f"{_fmt(chi, latex)} {u}" if _bare(chi) else rf"\left({_fmt(chi, latex)}\right) {u}")
                )
                parts.append(rf"- \nabla\cdot\left({inner}\,\nabla {w}\right)")
            else:
                inner = u if chi == 1 else (f"{_fmt(chi, latex)}*{u}" if _bare(chi) else f"({_fmt(chi, latex)})*{u}")
                parts.append(f"- div({inner} grad {w})")
        if s.reaction != 0:
            r = _fmt(s.reaction, latex)
            parts.append(f"+ {r}" if parts else r)
        rhs = " ".join(parts) if parts else "0"
        rhs = rhs.replace("+ -", "- ")
        tau = s.tau
        if latex:
            if tau == 0:
                lhs = "0"
            elif tau == 1:
                lhs = rf"\partial_t {u}"
            else:
                lhs = rf"{_fmt(tau, latex)}\,\partial_t {u}"
        else:
            lhs = "0" if tau == 0 else (f"d{u}/dt" if tau == 1 else f"{_fmt(tau, latex)}*d{u}/dt")
        lines.append(f"{lhs} = {rhs}")
    return lines
