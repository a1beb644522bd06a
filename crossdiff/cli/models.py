"""``crossdiff models``: list the catalogue, macroscopic models then kinetic models.

Macroscopic models: name, species, paper equation, one line (run them with ``crossdiff run``).
Kinetic models: name, species, the macroscopic entry of their limit, paper equation, one line
(derive them with ``crossdiff derive``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import catalogue


def _table(header: Sequence[str], rows: list[tuple[str, ...]]) -> list[str]:
    """Rows aligned in columns; the last column (the description) is not padded."""
    widths = [max(len(r[k]) for r in [tuple(header), *rows]) for k in range(len(header) - 1)]
    return [
        "  ".join(f"{cell:<{w}}" for cell, w in zip(row[:-1], widths)) + "  " + row[-1]
        for row in [tuple(header), *rows]
    ]


def _macro_rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name in catalogue.names():
        entry = catalogue.summary(name)
        paper = entry.equation if entry.equation.startswith("paper") else "-"
        rows.append((name, ", ".join(entry.species), paper, entry.description))
    return rows


def _kinetic_rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name in catalogue.names(kind="kinetic"):
        entry = catalogue.summary(name, "kinetic")
        paper = f"paper {entry.equation}" if entry.equation else "-"
        rows.append((name, ", ".join(entry.species), entry.macro or "-", paper, entry.description))
    return rows


def run(args) -> int:
    lines = _table(("model", "species", "paper", "description"), _macro_rows())
    lines += ["", "kinetic models (crossdiff derive NAME: their macroscopic limit):"]
    lines += _table(("kinetic model", "species", "limit", "paper", "description"), _kinetic_rows())
    print("\n".join(lines))
    return 0


def register(sub) -> None:
    p = sub.add_parser("models", help="list the catalogue: macroscopic models, then kinetic models")
    p.set_defaults(func=run)
