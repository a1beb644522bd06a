"""Finite-volume operators: fluxes, divergence, the semi-discrete right-hand side, fast solvers."""

from typing import TYPE_CHECKING

from ..lazy import attach

if TYPE_CHECKING:
    from ._cut import CutCellDiscretisation
    from ._cut_cells import CutCells
    from ._discretise import Discretisation, FaceVelocities
    from ._faces import divergence, face_difference, face_mean, limited_slopes, upwind_flux
    from ._front import FrontDiscretisation
    from ._graph import GraphSolve, NetworkCells
    from ._growing import GrowingDiscretisation
    from ._kernels import axis_view
    from ._krylov import krylov_solve
    from ._limiters import DEFAULT_LIMITER, LIMITERS
    from ._multigrid import CutCellMultigrid
    from ._network import NetworkDiscretisation
    from ._sparsity import jacobian_sparsity
    from ._spectral import SpectralLaplacian
    from ._transport import BoundaryKind, upwind_divergence, upwind_transport

__all__ = [
    "Discretisation",
    "CutCellDiscretisation",
    "CutCells",
    "GrowingDiscretisation",
    "FrontDiscretisation",
    "NetworkCells",
    "GraphSolve",
    "NetworkDiscretisation",
    "CutCellMultigrid",
    "FaceVelocities",
    "SpectralLaplacian",
    "LIMITERS",
    "DEFAULT_LIMITER",
    "BoundaryKind",
    "axis_view",
    "divergence",
    "face_difference",
    "face_mean",
    "jacobian_sparsity",
    "krylov_solve",
    "limited_slopes",
    "upwind_divergence",
    "upwind_transport",
    "upwind_flux",
]

# Imported when first used (docs/architecture.md, "Start-up"): the registry of limiters
# (LIMITERS) without SciPy, SymPy or the compiled kernels.
__getattr__, __dir__ = attach(
    __name__,
    {
        "._cut": ["CutCellDiscretisation"],
        "._cut_cells": ["CutCells"],
        "._discretise": ["Discretisation", "FaceVelocities"],
        "._front": ["FrontDiscretisation"],
        "._growing": ["GrowingDiscretisation"],
        "._faces": ["divergence", "face_difference", "face_mean", "limited_slopes", "upwind_flux"],
        "._kernels": ["axis_view"],
        "._krylov": ["krylov_solve"],
        "._multigrid": ["CutCellMultigrid"],
        "._limiters": ["DEFAULT_LIMITER", "LIMITERS"],
        "._graph": ["GraphSolve", "NetworkCells"],
        "._network": ["NetworkDiscretisation"],
        "._sparsity": ["jacobian_sparsity"],
        "._spectral": ["SpectralLaplacian"],
        "._transport": ["BoundaryKind", "upwind_divergence", "upwind_transport"],
    },
)
