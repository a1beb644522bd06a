"""crossdiff: cross-diffusion models of living systems, from kinetic to macroscopic scale.

Quick start::

    import crossdiff as cd
    model = cd.catalogue.load("keller-segel-logistic")
    sol = cd.solve(model, cd.Grid((64, 64), ((0, 20), (0, 20))), t_end=5)
    ds = sol.to_xarray()

    run = cd.Run(model, cd.Grid((64, 64), ((0, 20), (0, 20))), t_end=5, output="ks.nc")
    sol = cd.solve(run)                       # the same, written to ks.nc
    cd.solve(cd.Run.from_file("ks.nc").replace(t_end=10))   # continue it to t = 10
"""

from . import catalogue
from .errors import CrossdiffError, InputError, ModelError, NumericalError
from .grid import Grid, default_grid
from .model import Model, RunDefaults, Species, Taxis, read_model_file, save_model
from .solve import Run, Solution, solve
from .time import BDF, IMEX, SSPRK3, Monitor, Status
from .version import __version__

__all__ = [
    "__version__",
    "Model",
    "Species",
    "Taxis",
    "RunDefaults",
    "Grid",
    "Run",
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
