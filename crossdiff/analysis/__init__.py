"""Analysis of a model before and after simulating it: homogeneous steady states, their
stability, the dispersion relation of taxis-driven instabilities, critical parameter values, and
blow-up studies on grid sequences (docs/analysis.md)."""

from ._steady import SteadyState, select_state, steady_states

__all__ = ["SteadyState", "steady_states", "select_state"]
