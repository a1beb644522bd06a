"""Text and LaTeX rendering of a model's equations."""

from __future__ import annotations

import sympy as sp

__all__ = ["equations"]


def _fmt(expr: sp.Expr, latex: bool) -> str:
    return sp.latex(expr) if latex else sp.sstr(expr)


def equations(model, latex: bool = False) -> list[str]:
    """One equation per species, in the form of SPEC §1.

    ``tau ∂t u = ∇·(D ∇u) − ∇·(u χ ∇w) + ψ`` (text) or its LaTeX equivalent. Definitions are
    shown by name, not expanded.
    """
    lines = []
    for s in model.species:
        u = s.name
        parts = []
        if s.is_tensor:
            d = _fmt(s.diffusion, latex)
            parts.append(rf"\nabla\cdot\left({d}\,\nabla {u}\right)" if latex else f"div({d} grad {u})")
        elif s.diffusion != 0:
            d = s.diffusion
            if d.is_number:
                coef = "" if d == 1 else (_fmt(d, latex) + (r"\," if latex else "*"))
                parts.append(rf"{coef}\Delta {u}" if latex else f"{coef}lap({u})")
            else:
                parts.append(
                    rf"\nabla\cdot\left(({_fmt(d, latex)})\nabla {u}\right)" if latex else f"div(({_fmt(d, latex)}) grad {u})"
                )
        for term in s.taxis:
            chi = term.sensitivity
            if latex:
                inner = u if chi == 1 else rf"\left({_fmt(chi, latex)}\right) {u}"
                parts.append(rf"- \nabla\cdot\left({inner}\,\nabla {term.signal}\right)")
            else:
                inner = u if chi == 1 else f"({_fmt(chi, latex)})*{u}"
                parts.append(f"- div({inner} grad {term.signal})")
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
