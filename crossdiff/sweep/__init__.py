"""Parameter sweeps: grids of parameter values, runs on Dask, what each run did.

* :class:`ParameterGrid`: ranges ``START:STOP:COUNT``, lists ``V1,V2`` and their product.
* :func:`sweep`: every point a :func:`crossdiff.solve` run as a :mod:`dask.distributed` task,
  written to a restartable result directory (:class:`SweepStore`: NetCDF per run, Parquet summary);
  :func:`load_sweep` reads one back.
* each run classified by :func:`crossdiff.analysis.classify` (decaying, growing, stationary or
  oscillating pattern, blow-up; the pattern's amplitude and dominant wavelength).
* :func:`plot_sweep`, :func:`predicted_threshold`: the report (``crossdiff sweep-report``).

Example
-------
>>> import crossdiff as cd
>>> from crossdiff.sweep import sweep
>>> result = sweep("may-nowak-taxis", {"chi": [4, 8]}, "mn-sweep", grid=cd.Grid((64,), ((0, 20),)),
...                t_end=40, workers=2)                                       # doctest: +SKIP
>>> result.table[["chi", "behaviour", "amplitude", "wavelength"]]             # doctest: +SKIP
"""

from ._grid import MAX_POINTS, ParameterGrid, parse_values
from ._report import plot_sweep, predicted_threshold, report_table
from ._store import SweepStore, stable_hash
from ._sweep import RunSpec, SweepPlan, SweepResult, execute_run, load_sweep, plan_sweep, sweep

__all__ = [
    "ParameterGrid",
    "parse_values",
    "sweep",
    "plan_sweep",
    "SweepPlan",
    "RunSpec",
    "SweepResult",
    "execute_run",
    "load_sweep",
    "SweepStore",
    "stable_hash",
    "MAX_POINTS",
    "plot_sweep",
    "predicted_threshold",
    "report_table",
]
