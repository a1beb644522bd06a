"""Finite-volume operators: fluxes, divergence, the semi-discrete right-hand side, fast solvers."""

from ._discretise import Discretisation
from ._faces import LIMITERS, divergence, face_difference, face_mean, limited_slopes, upwind_flux
from ._sparsity import jacobian_sparsity
from ._spectral import SpectralLaplacian

__all__ = [
    "Discretisation",
    "SpectralLaplacian",
    "LIMITERS",
    "divergence",
    "face_difference",
    "face_mean",
    "limited_slopes",
    "upwind_flux",
    "jacobian_sparsity",
]
