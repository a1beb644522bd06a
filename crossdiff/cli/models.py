"""``crossdiff models``: list the catalogue (name, species, paper equation, one line)."""

from __future__ import annotations

from .. import catalogue
from ..model import model_from_dict, parse_toml


def run(args) -> int:
    rows = []
    for name in catalogue.names():
        data = parse_toml(catalogue.path(name))
        model = model_from_dict(data, source=name)
        equation = str(data.get("model", {}).get("equation", ""))
        paper = equation if equation.startswith("paper") else "-"
        rows.append((name, ", ".join(model.species_names), paper, model.description))
    widths = [max(len(r[k]) for r in rows + [("model", "species", "paper", "")]) for k in range(3)]
    header = ("model", "species", "paper", "description")
    for row in [header, *rows]:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(row[:3], widths)) + "  " + row[3])
    return 0


def register(sub) -> None:
    p = sub.add_parser("models", help="list the catalogue models")
    p.set_defaults(func=run)
