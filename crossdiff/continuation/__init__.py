"""Numerical continuation of the steady states of a model's finite-volume discretisation and
bifurcation diagrams (docs/continuation.md): :class:`SteadyProblem` (``F(x, p) = 0`` with a
sparse Jacobian by coloured differences and the bordering of conserved masses),
:func:`continuation` (pseudo-arclength continuation, folds, branch points and Hopf points,
branch switching) returning a :class:`Diagram`."""

from typing import TYPE_CHECKING

from ..lazy import attach

if TYPE_CHECKING:
    from ._amplitude import Pitchfork, pitchfork
    from ._continue import ContinuationError, Settings, continuation
    from ._diagram import Diagram, is_diagram, plot_diagram, read_state
    from ._jacobian import ColouredJacobian, column_colouring
    from ._problem import SteadyProblem
    from ._spectrum import leading_eigenvalues

__all__ = [
    "SteadyProblem",
    "continuation",
    "Settings",
    "ContinuationError",
    "Diagram",
    "is_diagram",
    "plot_diagram",
    "read_state",
    "ColouredJacobian",
    "column_colouring",
    "leading_eigenvalues",
    "Pitchfork",
    "pitchfork",
]

__getattr__, __dir__ = attach(
    __name__,
    {
        "._amplitude": ["Pitchfork", "pitchfork"],
        "._continue": ["ContinuationError", "Settings", "continuation"],
        "._diagram": ["Diagram", "is_diagram", "plot_diagram", "read_state"],
        "._jacobian": ["ColouredJacobian", "column_colouring"],
        "._problem": ["SteadyProblem"],
        "._spectrum": ["leading_eigenvalues"],
    },
)
