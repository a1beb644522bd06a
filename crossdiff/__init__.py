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

import importlib
from typing import TYPE_CHECKING

from .lazy import attach
from .version import __version__

if TYPE_CHECKING:
    from . import catalogue
    from .errors import CrossdiffError, InputError, ModelError, NumericalError
    from .grid import Grid, GrowingGrid, Growth, Shape, default_domain, default_grid
    from .model import Model, RunDefaults, Species, Taxis, read_model_file, save_model
    from .solve import Run, Solution, solve
    from .time import BDF, IMEX, SSPRK3, Monitor, Status

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
    "default_domain",
    "Shape",
    "GrowingGrid",
    "Growth",
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

# The names are imported when first used (docs/architecture.md, "Start-up"): `import crossdiff`
# costs NumPy at most, not SymPy, Numba, SciPy or xarray.
__getattr__, __dir__ = attach(
    __name__,
    {
        ".errors": ["CrossdiffError", "InputError", "ModelError", "NumericalError"],
        ".grid": ["Grid", "GrowingGrid", "Growth", "Shape", "default_domain", "default_grid"],
        ".model": ["Model", "RunDefaults", "Species", "Taxis", "read_model_file", "save_model"],
        ".solve": ["Run", "Solution", "solve"],
        ".time": ["BDF", "IMEX", "SSPRK3", "Monitor", "Status"],
    },
    submodules=["catalogue"],
)

# `crossdiff.solve` names both a subpackage and its function: the import system binds the name
# to a subpackage when it is first imported, so import it now (it is light: its names are lazy
# too) and leave the name to `__getattr__`, which gives the function.
importlib.import_module(".solve", __name__)
globals().pop("solve", None)
