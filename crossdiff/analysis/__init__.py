"""Analysis of a model before and after simulating it: homogeneous steady states, their
stability, the dispersion relation of taxis-driven instabilities, critical parameter values,
blow-up studies on grid sequences (docs/analysis.md), the convergence of a kinetic model to its
derived limit as ε → 0 (:func:`limit_convergence`, docs/kinetic.md), and what a run did (decaying, pattern,
oscillation, blow-up; :func:`classify`, docs/sweeps.md)."""

from typing import TYPE_CHECKING

from ..lazy import attach

if TYPE_CHECKING:
    from ._blowup import BlowupStudy, blowup_study, extrapolate
    from ._converge import LimitConvergence, fitted_order, limit_convergence
    from ._dispersion import Critical, Dispersion, Mode, critical, dispersion
    from ._linear import Linearisation, growth_eigenvalues
    from ._modes import admissible_modes, network_modes, shape_modes
    from ._patterns import BEHAVIOURS, Classification, classify, classify_frames, dominant_mode, pattern_amplitude
    from ._steady import SteadyState, initial_means, select_state, steady_states

__all__ = [
    "SteadyState",
    "steady_states",
    "select_state",
    "initial_means",
    "Linearisation",
    "growth_eigenvalues",
    "Mode",
    "Dispersion",
    "dispersion",
    "admissible_modes",
    "shape_modes",
    "network_modes",
    "Critical",
    "critical",
    "BlowupStudy",
    "blowup_study",
    "extrapolate",
    "LimitConvergence",
    "limit_convergence",
    "fitted_order",
    "classify",
    "classify_frames",
    "Classification",
    "BEHAVIOURS",
    "pattern_amplitude",
    "dominant_mode",
]

# Imported when first used (docs/architecture.md, "Start-up"): BEHAVIOURS for the command
# line without the analyses.
__getattr__, __dir__ = attach(
    __name__,
    {
        "._blowup": ["BlowupStudy", "blowup_study", "extrapolate"],
        "._converge": ["LimitConvergence", "fitted_order", "limit_convergence"],
        "._dispersion": ["Critical", "Dispersion", "Mode", "critical", "dispersion"],
        "._modes": ["admissible_modes", "network_modes", "shape_modes"],
        "._linear": ["Linearisation", "growth_eigenvalues"],
        "._patterns": [
            "BEHAVIOURS",
            "Classification",
            "classify",
            "classify_frames",
            "dominant_mode",
            "pattern_amplitude",
        ],
        "._steady": ["SteadyState", "initial_means", "select_state", "steady_states"],
    },
)
