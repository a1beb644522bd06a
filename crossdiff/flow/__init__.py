"""Flows that carry the species: prescribed velocity fields (:class:`PrescribedFlow`) and 2D
Stokes / Navier–Stokes flows driven by the densities (:class:`FlowSystem`, the
vorticity–stream-function formulation), and :func:`discretise`, the system of any model."""

from ..errors import ModelError
from ..fv import DEFAULT_LIMITER, Discretisation
from ..grid import Grid
from ..model import Model
from ..validation import require
from ._prescribed import PrescribedFlow
from ._vorticity import FlowSystem

__all__ = ["PrescribedFlow", "FlowSystem", "discretise"]


def discretise(model: Model, grid: Grid, limiter: str = DEFAULT_LIMITER) -> Discretisation | FlowSystem:
    """The semi-discrete system of ``model`` on ``grid``: a :class:`FlowSystem` for a computed
    flow, else the finite-volume :class:`~crossdiff.fv.Discretisation`, given the face velocities
    of a prescribed flow (:class:`PrescribedFlow`)."""
    require(model, Model, "model", ModelError)
    if model.flow is None:
        return Discretisation(model, grid, limiter=limiter)
    if model.flow.computed:
        return FlowSystem(model, grid, limiter=limiter)
    return Discretisation(model, grid, limiter=limiter, flow=PrescribedFlow(model, grid))
