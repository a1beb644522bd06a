"""What the machine has: memory available to a new allocation (a neutral module: every layer
that refuses work too large for the machine asks here, before it allocates)."""

from __future__ import annotations

import math
import os

__all__ = ["available_memory", "refuse_if_too_large"]


def available_memory() -> float:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``; else all memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return math.inf


def refuse_if_too_large(need: float, what: str, advice: str, error: type[Exception]) -> None:
    """Raise ``error`` with the estimate when ``need`` bytes exceed the available memory.

    The message reads ``"{what} needs about X GB of memory, more than the Y GB available: {advice}"``.
    """
    available = available_memory()
    if need > available:
        raise error(
            f"{what} needs about {need / 1e9:.3g} GB of memory, more than the {available / 1e9:.3g} GB available: {advice}"
        )
