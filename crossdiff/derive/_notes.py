"""Notes attached to a derivation: assumption checks, switches, differences from the paper."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Note", "CHECK", "LIMIT", "PAPER", "WARNING"]

#: An assumption of the expansion that was verified.
CHECK = "check"
#: How the scaling exponents shape the limit ([p = 1], [b = 1] switches).
LIMIT = "limit"
#: A difference from (or agreement with) the paper's printed formulas.
PAPER = "paper"
#: Something the user must keep in mind (e.g. a positivity condition not provable symbolically).
WARNING = "warning"


@dataclass(frozen=True)
class Note:
    """One line of the derivation's report.

    Parameters
    ----------
    kind : str
        ``"check"``, ``"limit"``, ``"paper"`` or ``"warning"``.
    text : str
        The note, one line.
    species : str
        The species it concerns ("" for the whole model).
    differs : bool
        For ``"paper"`` notes: the derived result differs from what the paper prints.
    """

    kind: str
    text: str
    species: str = ""
    differs: bool = False

    def __str__(self) -> str:
        tag = "DIFFERS FROM THE PAPER" if self.differs else self.kind
        who = f"{self.species}: " if self.species and not self.text.startswith(f"species {self.species!r}") else ""
        return f"[{tag}] {who}{self.text}"
