"""Flows that carry the species: prescribed velocity fields (and, to come, Stokes and
Navier–Stokes flows driven by the densities)."""

from ._prescribed import PrescribedFlow

__all__ = ["PrescribedFlow"]
