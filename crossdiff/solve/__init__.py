"""The run layer: :class:`Run`, one description of a simulation, and :func:`solve`, one path
from a run to a :class:`Solution` for every scale (:data:`SCALES`) and domain kind
(:data:`crossdiff.grid.DOMAINS`).

* :class:`Run` is built from arguments (the model's defaults filled in one place), read back from
  a run file (:meth:`Run.from_file`) and changed with :meth:`Run.replace`; the command line,
  sweeps and analyses build runs.
* :func:`solve` runs one: the scale builds the system and the initial or resumed state, the
  stepper binds to the system, :func:`crossdiff.time.integrate` steps with the observers.
* :func:`check_resources` refuses a run the machine cannot hold; :func:`check_output` a file it
  must not write.
"""

from typing import TYPE_CHECKING

from ..lazy import attach

if TYPE_CHECKING:
    from ._resources import check_output, check_resources, check_run_size
    from ._run import OUTPUT_MODES, KineticOptions, Run
    from ._scales import SCALES, Scale, scale_of
    from ._solution import Solution
    from ._solve import as_run, solve

__all__ = [
    "Run",
    "KineticOptions",
    "OUTPUT_MODES",
    "solve",
    "as_run",
    "Solution",
    "SCALES",
    "Scale",
    "scale_of",
    "check_resources",
    "check_run_size",
    "check_output",
]

# Imported when first used (docs/architecture.md, "Start-up"): the registry of scales
# (SCALES) without the discretisations.
__getattr__, __dir__ = attach(
    __name__,
    {
        "._resources": ["check_output", "check_resources", "check_run_size"],
        "._run": ["OUTPUT_MODES", "KineticOptions", "Run"],
        "._scales": ["SCALES", "Scale", "scale_of"],
        "._solution": ["Solution"],
        "._solve": ["as_run", "solve"],
    },
)
