"""``solve(run)``: one path from a :class:`Run` to a :class:`Solution`, for every scale and domain.

The run's scale (:data:`SCALES`) builds the semi-discrete system on the run's domain and its
initial (or resumed) state; the stepper binds to the system; the observers (recorder, file
writer, progress bar, monitor, the caller's) watch the one loop :func:`crossdiff.time.integrate`.
"""

from __future__ import annotations

import inspect
import math
import time as _time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalogue import resolve_any
from ..errors import InputError, NumericalError
from ..grid import Grid
from ..io import FrameWriter, last_checkpoint
from ..time import (
    Integration,
    Monitor,
    Observer,
    ProgressBar,
    ProgressLog,
    Recorder,
    SaveAt,
    SemiDiscrete,
    Stepper,
    field_map,
    integrate,
)
from ._resources import check_output, check_resources, check_run_size
from ._run import Run
from ._solution import Solution

if TYPE_CHECKING:  # the kinetic layer is imported by kinetic runs only
    from ..kinetic import KineticModel
    from ..model import Model

__all__ = ["solve", "as_run"]

#: The keyword options of ``solve(model, grid, t_end, **options)``: those of :class:`Run`
#: (``resume`` and ``overwrite`` are ``as_run``'s own).
_OPTIONS = {p for p in inspect.signature(Run.__init__).parameters if p not in ("self", "model", "domain", "t_end")}
_OPTIONS -= {"mode", "_scale"}
_FLAGS = {"resume", "overwrite", "monitor", "progress", "observers", "throw"}


def solve(
    run: Run | Model | KineticModel | str,
    grid: Grid | None = None,
    t_end: float | None = None,
    *,
    monitor: Monitor | None = None,
    progress: bool | str = False,
    observers: Sequence[Observer] = (),
    throw: bool = True,
    **options: Any,
) -> Solution:
    """Run a simulation: ``solve(run)``, or ``solve(model, grid, t_end, **options)`` which
    builds the :class:`Run` (:func:`as_run`).

    Parameters
    ----------
    run : Run, Model, KineticModel or str
        The run; or a model, catalogue name or model file, with ``grid``, ``t_end`` and the
        keyword ``options`` of :class:`Run` (``stepper``, ``save_every``, ``limiter``,
        ``seed``, ``initial``, ``eps``, ``velocities``, ``save_f``, ``output``,
        ``keep_frames``) and ``overwrite`` / ``resume`` (continue the run in ``output``: what
        the file records is used, and an option given must agree with it).
    monitor : Monitor, optional
        Blow-up and failure criteria (default :class:`~crossdiff.time.Monitor`).
    progress : bool or {"bar", "log"}
        Show progress on standard error: ``True`` a progress bar where standard error is a
        terminal and otherwise a line every 10 s (:class:`~crossdiff.time.ProgressLog`), or
        either one by name.
    observers : sequence of Observer
        Further observers of the integration loop (after the built-in ones).
    throw : bool
        Raise :class:`NumericalError` on failure (default); otherwise return a failed Solution.

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        Bad run settings (:class:`Run`), an output file it must not write, a run needing more
        memory or disk than available (:func:`check_resources`), or options that contradict
        the file of a resumed run.
    NumericalError
        Blow-up, non-finite values, step-size collapse or a singular sensitivity meeting zero
        (frames written before the failure stay in the output file).

    Examples
    --------
    >>> import crossdiff as cd
    >>> sol = cd.solve("keller-segel-logistic", cd.Grid((16, 16), ((0, 20), (0, 20))), 0.5)
    >>> sol.success
    True
    """
    wall0 = _time.perf_counter()
    if not isinstance(run, Run) or grid is not None or t_end is not None or options:
        run = as_run(run, grid, t_end, **options)
    if monitor is not None and not isinstance(monitor, Monitor):
        raise InputError(f"monitor must be a crossdiff Monitor, got {type(monitor).__name__}")
    check_output(run.output, run.mode)
    check_run_size(run)  # before anything is allocated
    scale = run._scale
    system = scale.system(run)
    if run.resume:  # the last frame, and the controller's state there (an exact continuation)
        (t0, U0), checkpoint = scale.resumed_state(run, system), last_checkpoint(run.output)  # type: ignore[arg-type]
    else:
        t0, U0, checkpoint = 0.0, scale.initial_state(run, system), None
    stepper = run.stepper.bind(system)
    keep = (run.output is None) if run.keep_frames is None else run.keep_frames
    extras = scale.save_extras(run)
    check_resources(system, stepper, U0, int(math.floor((run.t_end - t0) / run.save_every)) + 2, keep, run.output)
    recorder = Recorder(keep_frames=keep)
    kept_f = _KeepDistributions() if extras and keep else None
    writer = _writer(run, system, stepper, extras)
    built: list[Observer | None] = [recorder, _progress(progress, run.t_end), writer]
    built += [monitor if monitor is not None else Monitor(), kept_f]
    setup = _time.perf_counter() - wall0
    result = integrate(
        system,
        stepper,
        U0,
        (t0, run.t_end),
        save=SaveAt(run.save_every, initial=not run.resume, origin=0.0 if run.resume else None),
        observers=[o for o in built if o is not None] + list(observers),
        controller_state=checkpoint,
    )
    result.stats.wall_setup = setup
    solution = _solution(run, system, stepper, result, recorder, kept_f)
    if result.report is not None and throw and not result.status.success:
        err = NumericalError(str(result.report), result.report)
        err.solution = solution  # type: ignore[attr-defined]
        raise err
    return solution


def _progress(progress: bool | str, t_end: float) -> Observer | None:
    """The progress observer ``progress`` asks for (:func:`solve`)."""
    if progress is False or progress is None:
        return None
    if progress is True:
        import sys

        progress = "bar" if sys.stderr.isatty() else "log"
    if progress == "bar":
        return ProgressBar(t_end)
    if progress == "log":
        return ProgressLog(t_end)
    raise InputError(f"progress must be True, False, 'bar' or 'log', got {progress!r}")


def _solution(
    run: Run,
    system: SemiDiscrete,
    stepper: Stepper,
    result: Integration,
    recorder: Recorder,
    kept_f: _KeepDistributions | None,
) -> Solution:
    """The :class:`Solution` of ``run`` from what the loop returned and the observers kept."""
    return Solution(
        run.model,
        run.domain,
        system.layout,
        np.array(recorder.times),
        recorder.stacked(),
        field_map(system)(result.t, result.U),
        result.U,
        result.t,
        result.status,
        result.report,
        result.stats,
        stepper.describe(),
        run.output,
        f=kept_f.stacked() if kept_f is not None else None,
        kinetic=run._scale.info(run, system),
        run=run,
    )


def as_run(
    model: Model | KineticModel | str | Run,
    grid: Grid | None = None,
    t_end: float | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    **options: Any,
) -> Run:
    """The :class:`Run` of ``solve(model, grid, t_end, **options)``.

    With ``resume``, the run recorded in ``options["output"]`` (:meth:`Run.from_file`) with the
    options given checked against it (:meth:`Run.agree`); otherwise a new run, replacing an
    existing crossdiff run in ``output`` only with ``overwrite``.
    """
    if isinstance(model, Run):
        raise InputError("give a Run alone, or a model with its grid, end time and options")
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(f"solve() takes no option {unknown[0]!r}; options: {', '.join(sorted(_OPTIONS | _FLAGS))}")
    if not resume:
        return Run(model, grid, t_end, mode="overwrite" if overwrite else "new", **options)
    output = options.pop("output", None)
    if output is None:
        raise InputError("resume needs the output file of the run to continue")
    if isinstance(model, str):
        model = resolve_any(model)
    from ..kinetic import KineticModel

    recorded = Run.from_file(Path(output), model=model if isinstance(model, KineticModel) else None)
    return recorded.agree(model=model, domain=grid, t_end=t_end, **options)


def _writer(run: Run, system: SemiDiscrete, stepper: Stepper, extras: bool) -> FrameWriter | None:
    """The NetCDF writer of ``run``: the layout's attributes, the run's settings (with the stepper
    as bound to the system) and the scale's."""
    if run.output is None:
        return None
    attrs = {**run.attributes(stepper), **run._scale.run_attributes(run, system)}
    return FrameWriter(run.output, system.layout, stepper.describe(), append=run.resume, attrs=attrs, extras=extras)


class _KeepDistributions(Observer):
    """Keeps the distributions of every saved frame (``Solution.f``)."""

    def __init__(self) -> None:
        self.frames: list[Mapping[str, np.ndarray]] = []

    def start(self, system, t0, U0):
        self._system = system

    def save(self, t, U):
        self.frames.append({k: np.array(v, copy=True) for k, v in self._system.extras(U).items()})

    def stacked(self) -> dict[str, np.ndarray]:
        if not self.frames:
            return {}
        return {k: np.stack([f[k] for f in self.frames]) for k in self.frames[0]}
