"""An on-disk cache of what compiling a model produces (issue 24, start-up).

Compiling a model turns SymPy expressions into code: :func:`~crossdiff.model.compile_kernel`
prints each expression as the source of a vectorised NumPy function (``sympy.lambdify`` with
common-subexpression elimination) and decides where it is singular (``sympy.simplify``), and
:func:`~crossdiff.model.fused_reactions` prints every reaction into one Numba cell loop. A
second run of the same model repeats that work to obtain the same text. This module keeps the
text, and the metadata computed with it, in small JSON entries::

    <kernel cache dir>/compiled/<kind>-<key>.json

next to the Numba cache (:func:`~crossdiff.model.kernel_cache_dir`). ``key`` is the SHA-256 of
everything the entry is a function of: the entry's kind and its inputs (the expression's
structure ``sympy.srepr`` and the argument names), crossdiff's version, the source of the
compile path (this package's ``_compile.py``, ``_codegen.py`` and this file: a changed printer
is a different key) and the versions of SymPy and NumPy. Nothing is ever looked up by a name
that could hold something else, so an entry is never used for a different model, parameter
value or version.

An entry is read defensively: unreadable, truncated, not JSON, of another format or with a key
that is not its own, it is ignored (and overwritten by the fresh result), never an error.
Entries are written atomically (a temporary file and ``os.replace``), so concurrent runs (a
sweep's workers) never see half an entry. ``CROSSDIFF_NO_COMPILE_CACHE=1`` turns the cache off
(nothing read, nothing written); so does a machine without a writable cache directory. The
cached source is executed, as the Numba kernels written to the same directory are imported: the
directory is the user's own.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

from ..version import __version__

__all__ = ["DISABLE", "cache_enabled", "cache_key", "load_entry", "store_entry", "entry_path"]

#: environment variable that turns the compile cache off (any value but "", "0")
DISABLE = "CROSSDIFF_NO_COMPILE_CACHE"
#: layout of an entry; a change makes every old entry stale
FORMAT = 1
_HERE = Path(__file__).resolve().parent
_SOURCES = ("_cache.py", "_compile.py", "_codegen.py")


def cache_enabled() -> bool:
    """Whether the compile cache is in use (``$CROSSDIFF_NO_COMPILE_CACHE`` unset, empty or 0)."""
    return os.environ.get(DISABLE, "").strip() in ("", "0")


@cache
def _salt() -> str:
    """What every key depends on besides its inputs: versions and the compile path's source."""
    import numpy
    import sympy

    h = hashlib.sha256()
    h.update(f"crossdiff {__version__} format {FORMAT} sympy {sympy.__version__} numpy {numpy.__version__}".encode())
    for name in _SOURCES:
        try:
            h.update((_HERE / name).read_bytes())
        except OSError:  # pragma: no cover - an installed package has its sources
            h.update(f"missing {name}".encode())
    return h.hexdigest()


def cache_key(kind: str, *parts: str) -> str:
    """The key of an entry of ``kind`` computed from the texts ``parts``."""
    h = hashlib.sha256(_salt().encode())
    for part in (kind, *parts):
        data = part.encode()
        h.update(len(data).to_bytes(8, "little"))  # unambiguous concatenation
        h.update(data)
    return h.hexdigest()[:32]


def entry_path(kind: str, key: str) -> Path | None:
    """Where the entry ``kind``/``key`` lives, or None when no cache directory is writable."""
    from ._codegen import kernel_cache_dir

    directory = kernel_cache_dir()
    return None if directory is None else directory / "compiled" / f"{kind}-{key}.json"


def load_entry(kind: str, key: str) -> dict[str, Any] | None:
    """The payload stored under ``kind``/``key``, or None (absent, disabled, corrupt, stale)."""
    if not cache_enabled():
        return None
    path = entry_path(kind, key)
    if path is None:
        return None
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):  # absent, unreadable, truncated, not JSON
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        return None
    payload = entry.get("payload")
    return payload if isinstance(payload, dict) else None


def store_entry(kind: str, key: str, payload: dict[str, Any]) -> None:
    """Store ``payload`` (JSON-serialisable) under ``kind``/``key``; failures are ignored."""
    if not cache_enabled():
        return
    path = entry_path(kind, key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")  # per writer
        tmp.write_text(json.dumps({"format": FORMAT, "key": key, "version": __version__, "payload": payload}))
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old entry or the new one
    except (OSError, TypeError, ValueError):
        return
