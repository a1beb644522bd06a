"""The result of a derivation: coefficients, notes, the limit :class:`~crossdiff.model.Model`,
and its text / LaTeX / JSON forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..errors import KineticModelError
from ..kinetic import Ball, Gaussian, Sphere
from ..kinetic import symbols as S
from ..model import Model, Species, Taxis, to_latex
from ._notes import Note

__all__ = ["SpeciesLimit", "Derivation", "scalar_of"]


def scalar_of(tensor: sp.MatrixBase) -> sp.Expr | None:
    """``c`` if ``tensor = c I`` (exactly), else ``None``."""
    n = tensor.rows
    c = tensor[0, 0]
    for a in range(n):
        for b in range(n):
            target = c if a == b else 0
            if sp.simplify(tensor[a, b] - target) != 0:
                return None
    return c


@dataclass(frozen=True)
class SpeciesLimit:
    """The limit coefficients of one species.

    ``D`` (d×d, (35)), ``alpha`` (d×1 in the gradient symbols ``dx_s``…, (36); ``None`` without
    bias), ``chi`` (``{signal: d×d}`` with ``α = Σ_j χ_j ∇u_j + drift``), ``psi`` ((34)), and the
    exponents ``p`` (turning ``ε^-p``) and ``b`` (bias ``ε^b``).
    """

    name: str
    D: sp.ImmutableMatrix
    alpha: sp.ImmutableMatrix | None
    chi: Mapping[str, sp.ImmutableMatrix]
    drift: sp.ImmutableMatrix | None
    psi: sp.Expr
    p: int = 1
    b: int = 1

    @property
    def diffusion_in_limit(self) -> bool:
        """``[p = 1]``: the diffusion survives the limit."""
        return self.p == 1

    @property
    def taxis_in_limit(self) -> bool:
        """``[b = 1]`` and a bias: the taxis term survives the limit."""
        return self.alpha is not None and self.b == 1

    def effective_D(self) -> sp.ImmutableMatrix:
        return self.D if self.diffusion_in_limit else sp.ImmutableMatrix(sp.zeros(*self.D.shape))

    def effective_chi(self) -> dict[str, sp.ImmutableMatrix]:
        return dict(self.chi) if self.taxis_in_limit else {}


def _fmt(expr, latex: bool) -> str:
    return to_latex(expr) if latex else sp.sstr(expr)


def _tensor_text(t: sp.MatrixBase, latex: bool) -> str:
    c = scalar_of(t)
    if c is not None:
        if c == 0 or c == 1:
            return "0" if c == 0 else "I"
        if latex:
            return rf"{_fmt(c, True)}\, I"
        return f"({_fmt(c, False)}) I"
    return _fmt(t, latex) if latex else str(t.tolist())


@dataclass(frozen=True, repr=False)
class Derivation:
    """The parabolic limit of a :class:`~crossdiff.kinetic.KineticModel` (paper (31)-(36)).

    Attributes
    ----------
    D, alpha, chi, psi : dict
        Per species name: ``D_i`` (d×d Matrix), ``α_i`` (d×1, or absent without bias),
        ``χ_ij`` (``{j: d×d}``), ``ψ_i`` — SymPy.
    notes : tuple of Note
        Assumption checks, scaling switches, differences from the paper (``differs=True``).
    model : Model
        The runnable macroscopic model (:class:`KineticModelError` if a coefficient is an
        anisotropic, density-dependent tensor the macroscopic solver cannot take).
    """

    kinetic: Any
    species: tuple[SpeciesLimit, ...]
    notes: tuple[Note, ...] = ()
    method: str = "symbolic"
    paper_equation: str = field(default="")

    # ------------------------------------------------------------------ coefficients
    def __getitem__(self, name: str) -> SpeciesLimit:
        for s in self.species:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def D(self) -> dict[str, sp.ImmutableMatrix]:
        return {s.name: s.D for s in self.species}

    @property
    def alpha(self) -> dict[str, sp.ImmutableMatrix]:
        return {s.name: s.alpha for s in self.species if s.alpha is not None}

    @property
    def chi(self) -> dict[str, dict[str, sp.ImmutableMatrix]]:
        return {s.name: dict(s.chi) for s in self.species}

    @property
    def psi(self) -> dict[str, sp.Expr]:
        return {s.name: s.psi for s in self.species}

    @property
    def differences(self) -> tuple[Note, ...]:
        """The notes that record a difference from the paper's printed formulas."""
        return tuple(n for n in self.notes if n.differs)

    # ------------------------------------------------------------------ the limit model
    @property
    def model(self) -> Model:
        """The limit as a macroscopic :class:`Model` (``τ = 1``, the form of ``docs/theory.md`` §1)."""
        kin = self.kinetic
        species = []
        for lim in self.species:
            D = lim.effective_D()
            diffusion = scalar_of(D)
            if diffusion is None:
                if any(e.free_symbols & _state_symbols(kin) for e in D):
                    raise KineticModelError(
                        f"species {lim.name!r}: the derived diffusion is an anisotropic tensor "
                        "depending on the densities; the macroscopic solver takes constant tensors only"
                    )
                diffusion = D if D.rows > 1 else D[0, 0]
            taxis = []
            for signal, tensor in lim.effective_chi().items():
                c = scalar_of(tensor)
                if c is None:
                    raise KineticModelError(
                        f"species {lim.name!r}: the derived sensitivity towards {signal!r} is the "
                        f"anisotropic tensor {tensor.tolist()}; the macroscopic solver supports "
                        "scalar sensitivities only"
                    )
                taxis.append(Taxis(signal, c))
            if lim.taxis_in_limit and lim.drift is not None and any(x != 0 for x in lim.drift):
                raise KineticModelError(
                    f"species {lim.name!r}: alpha has a gradient-free drift {lim.drift.tolist()}; "
                    "the macroscopic model has no drift term"
                )
            ks = kin[lim.name]
            species.append(
                Species(
                    lim.name,
                    diffusion=diffusion,
                    taxis=tuple(taxis),
                    reaction=lim.psi,
                    initial=ks.initial,
                    long_name=ks.long_name,
                )
            )
        used = set()
        for s in species:
            for e in [*s.diffusion_entries(), *(t.sensitivity for t in s.taxis), s.reaction, s.initial]:
                used |= {str(x) for x in e.free_symbols}
        for e in kin.definitions.values():
            used |= {str(x) for x in e.free_symbols}
        params = {k: v for k, v in kin.parameters.items() if k in used}
        return Model(
            species=tuple(species),
            parameters=params,
            name=kin.macro or f"{kin.name}-limit",
            description=f"Parabolic limit of the kinetic model {kin.name!r} (crossdiff derive). {kin.description}".strip(),
            reference=kin.reference,
            definitions=dict(kin.definitions),
            parameter_info={k: v for k, v in kin.parameter_info.items() if k in params},
            defaults=kin.defaults,
        )

    # ------------------------------------------------------------------ text
    def coefficient_lines(self, latex: bool = False) -> list[str]:
        """``D_i``, ``α_i`` and ``ψ_i`` of every species, one per line: what enters the limit.

        ``D_i`` only where the diffusion survives the limit (``p_i = 1``), ``α_i`` only where the
        taxis does (``b_i = 1``); the others are in :attr:`D`, :attr:`alpha` and :meth:`to_dict`.
        """
        lines = []
        for lim in self.species:
            u = _fmt(sp.Symbol(lim.name), latex)
            if lim.diffusion_in_limit:
                if latex:
                    lines.append(rf"D_{{{u}}} = {_tensor_text(lim.D, True)}")
                else:
                    lines.append(f"D_{lim.name} = {_tensor_text(lim.D, False)}")
            if lim.taxis_in_limit:
                parts = []
                for signal, tensor in lim.chi.items():
                    g = _fmt(sp.Symbol(signal), latex)
                    c = scalar_of(tensor)
                    coef = _fmt(c, latex) if c is not None else _tensor_text(tensor, latex)
                    parts.append(rf"{coef}\,\nabla {g}" if latex else f"({coef}) grad({signal})")
                if lim.drift is not None and any(x != 0 for x in lim.drift):
                    parts.append(_fmt(lim.drift, latex))
                rhs = " + ".join(parts) or "0"
                lines.append(rf"\alpha_{{{u}}} = {rhs}" if latex else f"alpha_{lim.name} = {rhs}")
            lines.append(
                rf"\psi_{{{u}}} = {_fmt(lim.psi, latex)}" if latex else f"psi_{lim.name} = {_fmt(lim.psi, False)}"
            )
        return lines

    def velocity_text(self) -> str:
        """The velocity space in words, with the values of the parameters it depends on.

        ``sphere R S^1 in d = 2, R = 1`` (a radius given by an expression shows both:
        ``R = 2*s = 1``), ``ball |v| <= R in d = 2, R = 1``, ``R^2 with the Maxwellian of
        temperature T = 1``; a discrete set lists its points and then the parameter values they use.
        """
        vel = self.kinetic.velocity
        values = {sp.Symbol(k): sp.sympify(v) for k, v in self.kinetic.parameters.items()}

        def shown(expr: sp.Expr) -> str:
            expr = sp.sympify(expr)
            value = expr.xreplace(values)
            text = f"{float(value):g}" if value.is_number else sp.sstr(value)
            return text if expr.is_Symbol or expr.is_number else f"{sp.sstr(expr)} = {text}"

        if isinstance(vel, Sphere):
            sphere = "R S^0 = {-R, R}" if vel.dim == 1 else f"R S^{vel.dim - 1}"
            return f"sphere {sphere} in d = {vel.dim}, R = {shown(vel.radius)}"
        if isinstance(vel, Ball):
            ball = "[-R, R]" if vel.dim == 1 else "|v| <= R"
            return f"ball {ball} in d = {vel.dim}, R = {shown(vel.radius)}"
        if isinstance(vel, Gaussian):
            return f"R^{vel.dim} with the Maxwellian of temperature T = {shown(vel.temperature)}"
        text = vel.describe()
        used: set[sp.Basic] = set()
        for entry in [*(c for p in vel.points for c in p), *vel.weights]:
            used |= sp.sympify(entry).free_symbols & set(values)
        if used:
            text += " with " + ", ".join(f"{s} = {float(values[s]):g}" for s in sorted(used, key=str))
        return text

    def equations(self, latex: bool = False) -> list[str]:
        """The limit system, as ``crossdiff`` prints macroscopic models."""
        return self.model.equations(latex=latex)

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.species)
        return f"Derivation({self.kinetic.name!r} -> its limit: species {names}; {len(self.differences)} differences from the paper)"

    def _repr_html_(self) -> str:
        """Notebook display: the coefficients and the limit system in LaTeX."""
        from html import escape

        return (
            f"<div><b>Limit of {escape(self.kinetic.name)}</b> (Hilbert expansion, docs/theory.md)"
            f"<div>$${self.latex()}$$</div></div>"
        )

    def latex(self) -> str:
        """``D_i``, ``α_i``, ``ψ_i`` and the full system as a LaTeX ``aligned`` block."""
        coeffs = r" \\" + "\n"
        eqs = r" \\" + "\n"
        body = coeffs.join(self.coefficient_lines(latex=True))
        system = eqs.join(line.replace(" = ", " &= ", 1) for line in self.equations(latex=True))
        return "\\begin{gathered}\n" + body + "\n\\end{gathered}\n\n\\begin{aligned}\n" + system + "\n\\end{aligned}"

    def to_dict(self) -> dict[str, Any]:
        """Coefficients as strings (SymPy syntax) and the notes: the ``--json`` output."""
        out: dict[str, Any] = {
            "name": self.kinetic.name,
            "dimension": self.kinetic.dim,
            "method": self.method,
            "velocity": self.velocity_text(),
            "species": {},
        }
        for lim in self.species:
            out["species"][lim.name] = {
                "p": lim.p,
                "b": lim.b,
                "D": [[sp.sstr(x) for x in row] for row in lim.D.tolist()],
                "alpha": None if lim.alpha is None else [sp.sstr(x) for x in lim.alpha],
                "chi": {k: [[sp.sstr(x) for x in row] for row in t.tolist()] for k, t in lim.chi.items()},
                "psi": sp.sstr(lim.psi),
                "diffusion_in_limit": lim.diffusion_in_limit,
                "taxis_in_limit": lim.taxis_in_limit,
            }
        out["notes"] = [
            {"kind": n.kind, "species": n.species, "text": n.text, "differs_from_paper": n.differs} for n in self.notes
        ]
        out["differences_from_paper"] = [n.text for n in self.differences]
        return out


def _state_symbols(kin) -> set[sp.Symbol]:
    return {sp.Symbol(n) for n in kin.species_names} | {sp.Symbol(k) for k in kin.definitions} | set(S.V)
