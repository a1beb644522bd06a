"""Text and LaTeX rendering of a model's equations."""

from __future__ import annotations

import re

import sympy as sp

__all__ = ["equations", "to_latex", "latex_name"]

#: Greek letters that model files abbreviate (``lambda`` is a Python keyword, so files say ``lam``).
_GREEK_ABBREVIATIONS = {"lam": "lambda", "Lam": "Lambda", "eps": "epsilon"}
_HEAD = re.compile(r"^([A-Za-z]+)(.*)$")


def latex_name(name: str) -> str:
    r"""The LaTeX form of a species, parameter or definition name.

    SymPy's rules (Greek names become letters, trailing digits and ``_x`` subscripts), plus:
    the abbreviations ``lam``, ``Lam``, ``eps`` are the Greek letters λ, Λ, ε (``lam1`` is
    ``\lambda_{1}``), and a multi-letter name that is not a Greek letter is set upright
    (``source`` is ``\mathrm{source}``), not as a product of italic letters.

    Examples
    --------
    >>> latex_name("lam"), latex_name("xi1"), latex_name("source"), latex_name("k_u1")
    ('\\lambda', '\\xi_{1}', '\\mathrm{source}', 'k_{u1}')
    """
    match = _HEAD.match(name)
    if match is None:
        return sp.latex(sp.Symbol(name))
    head, tail = match.groups()
    if head in _GREEK_ABBREVIATIONS:
        return sp.latex(sp.Symbol(_GREEK_ABBREVIATIONS[head] + tail))
    text = sp.latex(sp.Symbol(name))
    if len(head) > 1 and sp.latex(sp.Symbol(head)) == head:  # not a Greek letter or accent
        return rf"\mathrm{{{head}}}" + sp.latex(sp.Symbol("x" + tail))[1:]
    return text


def to_latex(expr: object) -> str:
    """``sympy.latex(expr)`` with the names of :func:`latex_name` (λ for ``lam``, upright words)."""
    symbols: set[sp.Basic] = getattr(expr, "free_symbols", set())
    names = {s: latex_name(s.name) for s in symbols if isinstance(s, sp.Symbol)}
    return sp.latex(expr, symbol_names=names)


def _fmt(expr: sp.Expr, latex: bool) -> str:
    return to_latex(expr) if latex else sp.sstr(expr)


def _bare(expr: sp.Expr) -> bool:
    """True for a number or a lone symbol (printed without parentheses)."""
    return expr.is_number or expr.is_Symbol


def equations(model, latex: bool = False) -> list[str]:
    """One equation per species, in the form of ``docs/theory.md`` §1, then the flow's.

    ``tau ∂t u = ∇·(D ∇u) − ∇·(u χ ∇w) + ψ`` (text) or its LaTeX equivalent. Definitions are
    shown by name, not expanded.
    """
    lines = []
    species = {sp.Symbol(n) for n in model.species_names} | {sp.Symbol(k) for k in model.definitions}
    for s in model.species:
        u = latex_name(s.name) if latex else s.name
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
            w = latex_name(term.signal) if latex else term.signal
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
        if s.advected:
            parts.append(rf"- \nabla\cdot\left({u}\,\mathbf{{u}}\right)" if latex else f"- div({u} vel)")
        if s.reaction != 0:
            r = _fmt(s.reaction, latex)
            parts.append(f"+ {r}" if parts else r)
        rhs = " ".join(parts) if parts else "0"
        rhs = rhs.replace("+ - ", "- ").replace("+ -", "- ")
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
    if model.flow is not None:
        lines.extend(model.flow.describe(latex))
    return lines
