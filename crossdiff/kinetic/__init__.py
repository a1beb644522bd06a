"""Kinetic models of active particles (SPEC §2): velocity spaces, equilibria, turning operators,
kinetic species and models, kinetic files and the kinetic catalogue.

The objects are pure data read both by the derivation (:mod:`crossdiff.derive`) and by a
kinetic solver: velocity spaces give exact integrals and quadratures (``Sphere.quadrature``,
``DiscreteVelocities.quadrature``); kernels are expressions of ``v``, ``v*``, the densities and
their gradients (names in :mod:`crossdiff.kinetic._symbols`) that evaluate on arrays.
"""

from ._file import kinetic_from_dict, read_kinetic_file
from ._catalogue import kinetic_names, kinetic_path, load_kinetic
from ._model import KineticModel, KineticSpecies, PaperReference, PrintedSpecies
from ._operators import Bias, Equilibrium, Relaxation, TurningKernel
from ._velocity import DiscreteVelocities, Sphere

__all__ = [
    "Sphere",
    "DiscreteVelocities",
    "Equilibrium",
    "Relaxation",
    "TurningKernel",
    "Bias",
    "KineticSpecies",
    "KineticModel",
    "PaperReference",
    "PrintedSpecies",
    "read_kinetic_file",
    "kinetic_from_dict",
    "load_kinetic",
    "kinetic_names",
    "kinetic_path",
]
