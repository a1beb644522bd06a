"""Progress of a study made of several runs (``converge``, ``blowup``, ``sweep``).

One run shows its own progress in model time (:class:`crossdiff.time.ProgressBar` on a terminal,
:class:`crossdiff.time.ProgressLog` elsewhere, through ``solve(progress=...)``); a study of many
runs shows, in the same two forms, how many of its runs are done and about how long the rest will
take (:class:`StudyProgress`):

* ``"bar"``: a tqdm bar over the runs on standard error (a terminal), with each run's own bar
  below it;
* ``"log"``: plain lines for logs and batch jobs, one when a run starts and one when it ends
  (``blowup: run 2 of 3 done (128x128: blowup at t = 0.0181) in 4.2 s; 6 s so far, about 14 s
  left``) and, while runs go on, one at least every ``interval`` seconds (each run's own
  :class:`~crossdiff.time.ProgressLog` lines, or a line of the study when its runs are elsewhere,
  on a Dask cluster).

The estimate of the time left is the work left times the wall time per unit of work since the first
run finished (so that start-up and compilation, paid by the first run, do not count; after the
first run, the time so far over the work done), the work of each run given by the caller (the same
for every run by default).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from .errors import InputError

__all__ = ["PROGRESS_MODES", "progress_mode", "StudyProgress"]

#: The forms progress takes: a bar (a terminal) or lines (logs, batch jobs).
PROGRESS_MODES = ("bar", "log")


def progress_mode(progress: bool | str | None) -> str | None:
    """The form of progress that ``progress`` asks for: ``None`` for none (``False``, ``None``),
    ``"bar"`` or ``"log"`` as given, and for ``True`` a bar where standard error is a terminal and
    lines elsewhere (as ``solve(progress=True)``).

    Raises
    ------
    InputError
        Anything else.
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        isatty = getattr(sys.stderr, "isatty", None)
        return "bar" if isatty is not None and isatty() else "log"
    if isinstance(progress, str) and progress in PROGRESS_MODES:
        return progress
    raise InputError(f"progress must be True, False, 'bar' or 'log', got {progress!r}")


class StudyProgress:
    """Progress over the ``total`` runs of a study, as a bar or as lines (module docstring).

    Parameters
    ----------
    what : str
        The study's name at the start of each line (``"converge"``).
    total : int
        Runs in the study.
    mode : {"bar", "log"} or None
        As given by :func:`progress_mode`; ``None``: nothing is shown.
    done : int
        Runs already finished before this session (a resumed sweep).
    work : sequence of float, optional
        The work of each run still to do, in any unit (default 1 each): the estimate of the time
        left is the time so far times the work left over the work done.
    interval : float
        Seconds of wall time between lines of :meth:`heartbeat` (``"log"`` only).
    stream : file, optional
        Where lines go (default standard error).

    Use as a context manager: ``started(label)`` before a run, ``finished(label)`` after it.
    """

    def __init__(
        self,
        what: str,
        total: int,
        mode: str | None,
        *,
        done: int = 0,
        work: Sequence[float] | None = None,
        interval: float = 10.0,
        stream: TextIO | None = None,
    ):
        if mode is not None and mode not in PROGRESS_MODES:
            raise InputError(f"progress mode must be one of {', '.join(PROGRESS_MODES)} or None, got {mode!r}")
        self.what, self.total, self.mode = what, int(total), mode
        self.done = int(done)
        self.interval = float(interval)
        self.stream = stream
        self._work = [float(w) for w in work] if work is not None else None
        self._work_done = 0.0
        self._first: tuple[float, float] | None = None  # (wall time, work done) at the first finish
        self._finished = 0  # in this session
        self._wall0 = time.perf_counter()
        self._run0: float | None = None  # when the run now going started (started())
        self._last_line = self._wall0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, unit="run", desc=what, file=sys.stderr, leave=False)

    @property
    def run_progress(self) -> str | bool:
        """What each run of the study passes as ``solve(progress=...)``: its own bar below the
        study's, its own lines, or nothing."""
        return self.mode if self.mode is not None else False

    def started(self, label: str) -> None:
        """Run ``label`` starts (a line in ``"log"`` mode)."""
        self._run0 = time.perf_counter()
        self._line(f"run {self.done + 1} of {self.total} ({label}) started")

    def finished(self, label: str) -> None:
        """Run ``label`` has finished (its result in ``label``)."""
        now = time.perf_counter()
        with self._lock:
            self._work_done += self._work[self._finished] if self._work and self._finished < len(self._work) else 1.0
            self._finished += 1
            self.done += 1
            if self._first is None:
                self._first = (now, self._work_done)
        if self._bar is not None:
            self._bar.update(1)
        took = f" in {now - self._run0:.1f} s" if self._run0 is not None else ""
        self._run0 = None
        self._line(f"run {self.done} of {self.total} done ({label}){took}")

    def left(self) -> float | None:
        """Estimated wall time left, seconds (``None`` before the first run finishes)."""
        if self._first is None:
            return None
        now = time.perf_counter()
        if self._work:
            work_left = sum(self._work[self._finished :])
        else:
            work_left = float(self.total - self.done)
        wall, work = self._first
        if self._work_done > work:  # the rate since the first run finished
            return (now - wall) * work_left / (self._work_done - work)
        return (now - self._wall0) * work_left / max(self._work_done, 1e-300)

    def heartbeat(self) -> None:
        """In ``"log"`` mode, a line at least every ``interval`` seconds until :meth:`close`, from a
        thread (for runs that show no progress here: a sweep's runs on a cluster)."""
        if self.mode != "log" or self._thread is not None:
            return

        def beat() -> None:
            while not self._stop.wait(min(self.interval, 1.0)):
                if time.perf_counter() - self._last_line >= self.interval:
                    self._line(f"{self.done} of {self.total} runs done, running")

        self._thread = threading.Thread(target=beat, name=f"{self.what}-progress", daemon=True)
        self._thread.start()

    def _line(self, text: str) -> None:
        if self.mode != "log":
            return
        now = time.perf_counter()
        left = self.left()
        tail = f"; {now - self._wall0:.0f} s so far" + (f", about {left:.0f} s left" if left is not None else "")
        with self._lock:
            self._last_line = now
            print(f"{self.what}: {text}{tail}", file=self.stream or sys.stderr, flush=True)

    def close(self) -> None:
        """Stop the heartbeat and remove the bar."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> StudyProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
