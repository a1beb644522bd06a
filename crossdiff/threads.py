"""How many threads a compiled kernel or a transform uses: the one place that decides.

Every parallel call site (the Numba ``prange`` kernels of ``crossdiff.kinetic``,
``crossdiff.fv`` and ``crossdiff.time``, the ``workers=`` of ``scipy.fft`` in
:class:`crossdiff.fv.SpectralLaplacian`) asks :func:`threads_for` with the size of its work.

The rule (``docs/numerics.md``, "Threads"):

1. An explicit choice wins: :func:`set_threads` (``crossdiff run --threads N``), else the
   environment variable ``CROSSDIFF_THREADS``; every kernel then uses exactly that many threads,
   whatever the size of its work.
2. Otherwise the budget is the cores this process may run on — the affinity mask
   (``os.sched_getaffinity``) bounded by the cgroup CPU quota (v2 ``cpu.max``, v1
   ``cpu.cfs_quota_us / cpu.cfs_period_us``, rounded down, at least one) or by :func:`set_cores`
   (a sweep's workers share the machine), and by the cores other work leaves free: the cores
   less the one-minute load average without this process's own part (:func:`_own_load`),
   rounded, sampled once per process on first use (sampling again during a run would make the
   count follow our own threads; :func:`refresh` samples again).
3. A kernel with ``size`` elements then uses ``min(budget, size // grain)`` threads, at least
   one: each thread gets at least ``grain`` elements (``GRAIN = 2**17``, 1 MiB of float64;
   measured on the 2-core development machine, two threads pay for the Numba kernels from about
   ``2**18`` elements and for ``scipy.fft`` from about ``2**16``, which passes ``grain=FFT_GRAIN``).
4. ``NUMBA_NUM_THREADS`` (the size of Numba's pool) bounds every count.
5. BLAS (its own pool; it splits only large products itself) is limited to the budget when the
   decision is made (``threadpoolctl``, the libraries loaded by then), and to one thread inside
   the Krylov solves (``crossdiff/fv/_krylov.py``).

Why it matters: Numba runs here on the GNU OpenMP threading layer, whose idle threads spin
(busy-wait) after every parallel region. On a loaded machine the spinning thread takes a core from
the thread that has work, and a region of a few microseconds waits a whole scheduler time slice
for its partner: kinetic runs were 6–12× slower with two threads than with one. So besides using
one thread for small work and fewer threads under load, importing this module sets
``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP threads sleep) unless the environment already sets it;
it must happen before OpenMP starts, i.e. before the first parallel kernel of the process.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

__all__ = [
    "ENV",
    "GRAIN",
    "FFT_GRAIN",
    "available_cores",
    "set_threads",
    "set_cores",
    "refresh",
    "using",
    "threads_for",
    "numba_threads",
    "parse_threads",
]

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: the environment variable that fixes the thread count (a positive integer)
ENV = "CROSSDIFF_THREADS"
#: the least number of elements a thread of a compiled kernel gets
GRAIN = 2**17
#: the least number of elements a thread of a fast transform gets
FFT_GRAIN = 2**16
#: where the cgroup files live (a module attribute so that tests can point it elsewhere)
CGROUP_ROOT = Path("/sys/fs/cgroup")

_explicit: int | None = None  # set_threads
_cores: int | None = None  # set_cores
_decision: tuple[bool, int] | None = None  # (exact, count), computed once


def parse_threads(value: object, source: str = "threads") -> int:
    """``value`` as a positive thread count, or an :class:`~crossdiff.errors.InputError` naming
    ``source``."""
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if isinstance(value, bool) or n < 1 or (isinstance(value, float) and value != n):
        raise InputError(f"{source} must be a positive integer, got {value!r}")
    return n


def _cgroup_quota() -> float | None:
    """CPUs allowed by the cgroup's CPU quota (v2, then v1), or None without a quota."""
    try:  # v2: "max 100000" or "150000 100000"
        quota, period = (CGROUP_ROOT / "cpu.max").read_text().split()[:2]
        return float(quota) / float(period) if quota != "max" and float(period) > 0 else None
    except (OSError, ValueError):
        pass
    for folder in (CGROUP_ROOT / "cpu", CGROUP_ROOT / "cpu,cpuacct", CGROUP_ROOT):
        try:
            quota_us = float((folder / "cpu.cfs_quota_us").read_text())
            period_us = float((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota_us > 0 and period_us > 0:
            return quota_us / period_us
        return None
    return None


def available_cores() -> int:
    """Cores this process may run on: its affinity mask, bounded by the cgroup CPU quota (rounded
    down, at least one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return max(1, cores)


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def _own_load() -> float:
    """This process's part of the one-minute load average: its mean CPU use since it started
    (all threads) weighted by how much of the average's window it has run,
    ``u (1 − e^{−age/60 s})`` — a long-lived process (a notebook, a sweep worker) must not count
    its own earlier work as other work; a fresh one has hardly entered the average."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        age = uptime - float(fields[19]) / ticks  # field 22 of stat: start time after boot
        cpu = os.times()
        used = cpu.user + cpu.system
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0
    if age <= 0:
        return 0.0
    return min(used / age, float(_pool())) * (1.0 - math.exp(-age / 60.0))


def _pool() -> int:
    """Numba's pool size (``NUMBA_NUM_THREADS``), read without importing Numba's parallel
    machinery."""
    from numba import config

    return max(1, int(getattr(config, "NUMBA_NUM_THREADS", 1)))


def _limit_blas(n: int) -> None:
    """BLAS (OpenBLAS, MKL: their own thread pools, loaded by NumPy and SciPy) to at most ``n``
    threads, as the kernels; it decides by size itself."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        return
    threadpool_limits(limits=n, user_api="blas")


def _decide() -> tuple[bool, int]:
    if _explicit is not None:
        exact, n = True, min(_explicit, _pool())
    elif os.environ.get(ENV, "").strip():
        exact, n = True, min(parse_threads(os.environ[ENV].strip(), ENV), _pool())
    else:
        cores = available_cores()
        share = min(cores, _cores) if _cores is not None else cores
        free = max(1, cores - round(max(0.0, _load() - _own_load())))  # what other work leaves us
        exact, n = False, max(1, min(share, free, _pool()))
    _limit_blas(n)
    return exact, n


def set_threads(n: int | None) -> None:
    """Fix the thread count of every kernel and transform to ``n`` (None: back to the automatic
    choice). Raises :class:`~crossdiff.errors.InputError` unless ``n`` is a positive integer."""
    global _explicit
    _explicit = None if n is None else parse_threads(n)
    refresh()


def set_cores(n: int | None) -> None:
    """Let the automatic choice use at most ``n`` cores (None: all available); a sweep's worker
    processes share the machine this way."""
    global _cores
    _cores = None if n is None else parse_threads(n, "cores")
    refresh()


@contextmanager
def using(threads: int | None = None, cores: int | None = None) -> Iterator[None]:
    """Within the block, :func:`set_threads` ``(threads)`` if given, else :func:`set_cores`
    ``(cores)`` if given; the previous choice afterwards."""
    global _explicit, _cores
    saved = _explicit, _cores
    try:
        if threads is not None:
            set_threads(threads)
        elif cores is not None:
            set_cores(cores)
        yield
    finally:
        _explicit, _cores = saved
        refresh()


def refresh() -> None:
    """Forget the decision (the explicit choice, the environment, the cores and the load are read
    again on the next call)."""
    global _decision
    _decision = None


def threads_for(size: int, grain: int = GRAIN) -> int:
    """Threads for a kernel over ``size`` elements: the explicit choice if any, else
    ``min(budget, size // grain)``, at least one (see the module docstring)."""
    global _decision
    if _decision is None:
        _decision = _decide()
    exact, n = _decision
    if exact:
        return n
    return max(1, min(n, size // grain))


def numba_threads(size: int, grain: int = GRAIN) -> int:
    """:func:`threads_for` ``(size)``, also made Numba's thread count for the calling thread
    (``numba.set_num_threads``); returns it, for the kernels that split their work by it."""
    import numba

    n = threads_for(size, grain)
    numba.set_num_threads(n)
    return n
