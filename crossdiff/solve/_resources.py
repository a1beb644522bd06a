"""What a run needs before it starts: memory and disk for its frames, and an output file it may write."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..io import is_run
from ..output import claim_output
from ..resources import available_memory
from ..time import SemiDiscrete, Stepper

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["check_resources", "check_run_size", "check_output"]


#: Bytes the loop keeps per saved frame besides the frame itself (the time in a Python list).
_PER_FRAME = 40


def check_run_size(run: Run) -> tuple[float, float]:
    """:func:`check_resources` from the sizes the run's scale would build
    (:meth:`~crossdiff.solve.Scale.sizes`), before anything is allocated: a grid of 10⁸ cells or
    10⁷ velocities is refused at once with the estimate, not after gigabytes were allocated.

    Returns
    -------
    (memory, disk) : tuple of float
        The estimates in bytes.
    """
    state, fields = run.sizes()
    keep = (run.output is None) if run.keep_frames is None else run.keep_frames
    n_frames = int(math.floor(run.t_end / run.save_every)) + 2
    advice = "save fewer frames, or use a coarser grid" + (" or fewer velocities" if run.kinetic is not None else "")
    return _check_bytes(8.0 * fields, 8.0 * state, run.stepper.work_states, n_frames, keep, run.output, advice)


def check_resources(
    system: SemiDiscrete,
    stepper: Stepper,
    U0: np.ndarray,
    n_frames: int,
    keep_frames: bool,
    output: Path | None,
) -> tuple[float, float]:
    """Estimate the memory and disk a run needs and refuse it if the machine does not have them.

    Memory: the stepper's working states (:attr:`~crossdiff.time.Stepper.work_states` copies of
    the state), plus the kept frames; disk: the frames written to ``output``. ``n_frames`` is the
    number of saved frames, computed from ``t_end/save_every`` without materialising them.

    Returns
    -------
    (memory, disk) : tuple of float
        The estimates in bytes.

    Raises
    ------
    InputError
        With the estimate, when it exceeds the available memory or the free disk space.
    """
    return _check_bytes(
        float(system.fields(U0).nbytes), float(U0.nbytes), stepper.work_states, n_frames, keep_frames, output
    )


def _check_bytes(
    field_bytes: float,
    state_bytes: float,
    work_states: int,
    n_frames: int,
    keep_frames: bool,
    output: Path | None,
    advice: str = "save fewer frames or use a coarser grid",
) -> tuple[float, float]:
    """The arithmetic of :func:`check_resources`: memory and disk from the sizes."""
    frames = float(n_frames) * (field_bytes if keep_frames else 0.0) + float(n_frames) * _PER_FRAME
    memory = work_states * state_bytes + frames
    available = available_memory()
    if memory > available:
        raise InputError(
            f"the run needs about {memory / 1e9:.3g} GB of memory ({n_frames:.3g} frames of "
            f"{field_bytes / 1e6:.3g} MB{' kept in memory' if keep_frames else ''}, {work_states} working states), "
            f"more than the {available / 1e9:.3g} GB available: {advice}"
        )
    disk = 0.0
    if output is not None:
        disk = float(n_frames) * (field_bytes + 64.0)
        free = float(shutil.disk_usage(output.parent if output.parent.is_dir() else Path.cwd()).free)
        if disk > free:
            raise InputError(
                f"the run would write about {disk / 1e9:.3g} GB ({n_frames:.3g} frames of {field_bytes / 1e6:.3g} MB) "
                f"to {str(output)!r}, more than the {free / 1e9:.3g} GB free there: save fewer frames"
            )
    return memory, disk


def check_output(path: Path | None, mode: str) -> None:
    """Refuse an output file the run must not write (:class:`~crossdiff.solve.Run`'s ``mode``;
    the policy of every writer, :func:`crossdiff.output.claim_output`): a directory, a file that
    is not a crossdiff run, or a crossdiff run unless it is to be replaced (``"overwrite"``) or
    continued (``"resume"``).

    Raises
    ------
    OutputError
        One line naming the file and what to do.
    """
    if path is None or mode == "resume":
        return
    claim_output(
        path,
        overwrite=mode == "overwrite",
        recognise=is_run,
        foreign="is not a crossdiff run",
        existing="already holds a crossdiff run",
        hint=" or continue it with --resume (resume=True)",
    )
