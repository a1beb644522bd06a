"""Kinetic models of active particles (``docs/theory.md`` §2): velocity spaces and their
quadratures, equilibria, turning operators and their matrices on quadrature nodes, kinetic
species and models, kinetic files.

The objects are pure data read both by the derivation (:mod:`crossdiff.derive`) and by a
kinetic solver. Velocity spaces give exact integrals and quadratures with one signature,
``space.quadrature(n, values) -> Quadrature(nodes, weights)``; kernels are expressions of
``v``, ``v*``, the densities and their gradients (names in :mod:`crossdiff.kinetic.symbols`);
:class:`NodalModel` evaluates them on the nodes and gives the matrices of the turning operators
(:func:`turning_matrix`, :func:`relaxation_matrix`), with ``T(v, v*)`` the rate of turning FROM
``v*`` TO ``v``. The kinetic catalogue is :mod:`crossdiff.catalogue`'s
(``catalogue.names("kinetic")``, ``catalogue.path(name, "kinetic")``, ``catalogue.load_kinetic``),
which uses this package; this package does not know the catalogue.
"""

from . import symbols
from ._discretise import DEFAULT_DIRECTIONS, KineticDiscretisation, check_eps
from ._file import kinetic_from_dict, kinetic_to_dict, read_kinetic_file
from ._growing import GrowingKineticDiscretisation
from ._model import KineticModel, KineticSpecies, PaperReference, PrintedSpecies
from ._network import NetworkKineticDiscretisation
from ._nodal import NodalModel, relaxation_matrix, turning_matrix
from ._operators import Bias, Equilibrium, LeadingTurning, Relaxation, TurningKernel
from ._velocity import (
    Ball,
    DiscreteVelocities,
    Gaussian,
    Quadrature,
    Sphere,
    VelocitySpace,
    ball_moment,
    gaussian_moment,
    sphere_moment,
)

__all__ = [
    "symbols",
    "Sphere",
    "Ball",
    "Gaussian",
    "DiscreteVelocities",
    "VelocitySpace",
    "Quadrature",
    "sphere_moment",
    "ball_moment",
    "gaussian_moment",
    "Equilibrium",
    "Relaxation",
    "TurningKernel",
    "LeadingTurning",
    "Bias",
    "KineticSpecies",
    "KineticModel",
    "PaperReference",
    "PrintedSpecies",
    "NodalModel",
    "turning_matrix",
    "relaxation_matrix",
    "read_kinetic_file",
    "kinetic_from_dict",
    "kinetic_to_dict",
    "KineticDiscretisation",
    "GrowingKineticDiscretisation",
    "NetworkKineticDiscretisation",
    "DEFAULT_DIRECTIONS",
    "check_eps",
]
