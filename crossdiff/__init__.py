"""crossdiff: cross-diffusion models of living systems, from kinetic to macroscopic scale.

Quick start::

    import crossdiff as cd
    model = cd.catalogue.load("keller-segel-logistic")
    sol = cd.solve(model, cd.Grid((64, 64), ((0, 20), (0, 20))), t_end=5)
    ds = sol.to_xarray()
"""

from .version import __version__  # noqa: E402

from . import catalogue  # noqa: E402
from .errors import CrossdiffError, InputError, ModelError, NumericalError  # noqa: E402
from .grid import Grid  # noqa: E402
from .model import Model, RunDefaults, Species, Taxis, read_model_file, save_model  # noqa: E402
from .solve import Solution, default_grid, solve  # noqa: E402
from .time import BDF, IMEX, SSPRK3, Monitor, Status  # noqa: E402

__all__ = [
    "__version__",
    "Model",
    "Species",
    "Taxis",
    "RunDefaults",
    "Grid",
    "solve",
    "Solution",
    "default_grid",
    "IMEX",
    "SSPRK3",
    "BDF",
    "Monitor",
    "Status",
    "read_model_file",
    "save_model",
    "catalogue",
    "CrossdiffError",
    "InputError",
    "ModelError",
    "NumericalError",
]
