"""``crossdiff derive NAME|FILE``: the macroscopic limit of a kinetic model.

Prints ``D_i``, ``α_i``, ``ψ_i`` (those that enter the limit: ``D_i`` where ``p_i = 1``, ``α_i``
where ``b_i = 1``), the limit system and the notes, the differences from the paper first; ``--latex`` the same in LaTeX, ``--json`` the coefficients as strings;
``--save-model PATH`` writes the limit as a macroscopic model file for ``crossdiff run``.
"""

from __future__ import annotations

import argparse
import json

from ..errors import KineticModelError

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="derive the macroscopic limit of a kinetic model",
        description="Derive the parabolic (Hilbert) limit of a kinetic model: D_i, alpha_i, psi_i and the "
        "macroscopic system (paper (31)-(36)), with the assumption checks and every difference "
        "from the paper's printed formulas.",
    )
    parser.add_argument("model", metavar="NAME|FILE", help="kinetic catalogue name or kinetic .toml file")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print D_i, alpha_i, psi_i and the system in LaTeX")
    fmt.add_argument("--json", action="store_true", help="print the coefficients as strings (JSON)")
    parser.add_argument("--save-model", metavar="PATH", help="write the limit as a macroscopic model file")
    parser.add_argument("--overwrite", action="store_true", help="replace a model file crossdiff wrote before")
    parser.add_argument(
        "--numeric",
        action="store_true",
        help="numerical derivation (quadrature, default parameters) for kernels with no closed form",
    )
    parser.add_argument(
        "--nodes", type=int, default=64, help="quadrature nodes on the sphere for --numeric (default 64)"
    )
    parser.set_defaults(func=run)


def _model_or_reason(derivation):
    try:
        return derivation.model, ""
    except KineticModelError as err:
        return None, str(err)


def _plain(derivation, model, reason: str) -> str:
    kin = derivation.kinetic
    out = [
        f"kinetic model: {kin.name}" + (f" -> {kin.macro}" if kin.macro else ""),
        f"velocity space: {derivation.velocity_text()}",
        f"method: {derivation.method}" + (f"; paper: {derivation.paper_equation}" if derivation.paper_equation else ""),
    ]
    diffs = derivation.differences
    if diffs:
        out += ["", f"DIFFERENCES FROM THE PAPER ({len(diffs)}):"]
        out += [f"  * {n.text}" for n in diffs]
    elif kin.paper is not None:
        out += ["", "Differences from the paper: none found."]
    out += ["", "Coefficients that enter the limit (D_i (35) where p_i = 1, alpha_i (36) where b_i = 1, psi_i (34)):"]
    out += [f"  {line}" for line in derivation.coefficient_lines()]
    out += ["", f"Macroscopic system (d = {kin.dim}):"]
    if model is not None:
        out += [f"  {line}" for line in model.equations()]
    else:
        out.append(f"  not runnable by the macroscopic solver: {reason}")
    out += ["", "Notes:"]
    out += [f"  {n}" for n in derivation.notes if not n.differs]
    return "\n".join(out)


def _latex(derivation) -> str:
    lines = [f"% crossdiff derive {derivation.kinetic.name}"]
    lines += [f"% DIFFERENCE FROM THE PAPER: {n.text}" for n in derivation.differences]
    lines.append(derivation.latex())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..catalogue import load_kinetic
    from ..derive import derive
    from ..model import save_model
    from ..output import claim_output

    if args.save_model:  # before the derivation: a path that would be refused costs nothing
        claim_output(args.save_model, overwrite=args.overwrite, what="model file")
    kinetic = load_kinetic(args.model)
    if args.nodes < 2:
        raise KineticModelError(f"--nodes must be at least 2, got {args.nodes}")
    derivation = derive(kinetic, method="numeric" if args.numeric else "symbolic", nodes=args.nodes)
    model, reason = _model_or_reason(derivation)
    if args.json:
        data = derivation.to_dict()
        data["model_runnable"] = model is not None
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif args.latex:
        if model is None:
            raise KineticModelError(reason)
        print(_latex(derivation))
    else:
        print(_plain(derivation, model, reason))
    if args.save_model:
        if model is None:
            raise KineticModelError(reason)
        path = save_model(model, args.save_model, overwrite=args.overwrite)
        if not args.json:
            print(f"\nwrote the limit model to {path} (run it with: crossdiff run {path})")
    return 0
