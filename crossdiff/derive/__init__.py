"""The micro-to-macro derivation engine: the Hilbert expansion of a kinetic model (paper §3).

``derive(kinetic_model) -> Derivation`` with ``.D``, ``.alpha``, ``.chi``, ``.psi`` (SymPy),
``.notes`` (assumption checks and differences from the paper), ``.latex()`` and ``.model``
(the runnable macroscopic :class:`~crossdiff.model.Model`).
"""

from ._checks import check_assumptions
from ._derivation import Derivation, SpeciesLimit
from ._hilbert import derive
from ._notes import Note

__all__ = ["derive", "Derivation", "SpeciesLimit", "Note", "check_assumptions"]
