"""The result directory of a sweep: one NetCDF file and one record per run, a manifest, a summary.

Layout of ``OUT/``::

    sweep.json          the manifest: what the sweep is (model, grid, settings, parameter grid)
                        and its identity hash; written once, when the directory is created
    runs/KEY.nc         the run's frames (crossdiff's NetCDF layout, :func:`crossdiff.io.open_run`)
    runs/KEY.json       the run's record: parameters, status, message, classification, timings
    summary.parquet     one row per finished run (rewritten as runs finish)

``KEY`` is a hash of everything that determines the run (the model with the run's parameters,
grid, end time, save interval, stepper, seed, limiter). A run is written to ``runs/KEY.partial.nc``
and renamed when complete; its record is written to a temporary file and renamed after that
(``os.replace`` is atomic on POSIX file systems), so a record exists exactly for the finished runs
and a killed sweep loses only the runs in progress.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import OutputError

__all__ = ["SweepStore", "stable_hash", "MANIFEST"]

MANIFEST = "sweep.json"
SUMMARY = "summary.parquet"
FORMAT = "crossdiff-sweep-1"


def stable_hash(data: object, length: int = 16) -> str:
    """SHA-256 (hex, first ``length`` digits) of ``data`` as canonical JSON (sorted keys; floats by
    ``repr``, which round-trips exactly), the same in every process and Python session."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _jsonable(value: object) -> object:
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class SweepStore:
    """The result directory ``root`` of one sweep (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs = self.root / "runs"

    # ------------------------------------------------------------------ paths
    def output(self, key: str) -> Path:
        return self.runs / f"{key}.nc"

    def partial(self, key: str) -> Path:
        return self.runs / f"{key}.partial.nc"

    def record_path(self, key: str) -> Path:
        return self.runs / f"{key}.json"

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def summary_path(self) -> Path:
        return self.root / SUMMARY

    # ------------------------------------------------------------------ manifest
    def open(self, manifest: Mapping[str, Any]) -> bool:
        """Create the directory for the sweep ``manifest``, or check that it holds this sweep.

        Returns True if the directory already held this sweep (a restart).

        Raises
        ------
        OutputError
            ``root`` is a file, a non-empty directory that is not a sweep, or holds another sweep
            (the message names the first difference).
        """
        root = self.root
        if root.exists() and not root.is_dir():
            raise OutputError(f"sweep output {str(root)!r} is a file, not a directory")
        if self.manifest_path.is_file():
            old = self.read_manifest()
            if old.get("identity") != manifest["identity"]:
                raise OutputError(
                    f"{str(root)!r} holds another sweep ({_difference(old, manifest)}); "
                    "give this sweep its own --out directory"
                )
            self.runs.mkdir(exist_ok=True)
            return True
        if root.is_dir() and any(root.iterdir()):
            raise OutputError(f"{str(root)!r} exists and is not a crossdiff sweep directory; refusing to write into it")
        try:
            self.runs.mkdir(parents=True, exist_ok=True)
            write_atomic(self.manifest_path, json.dumps(manifest, indent=1, default=_jsonable))
        except OSError as err:
            raise OutputError(f"cannot create sweep directory {str(root)!r}: {err.strerror or err}") from None
        return False

    def read_manifest(self) -> dict[str, Any]:
        """The manifest (:class:`OutputError` if ``root`` is not a sweep directory)."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OutputError(f"{str(self.root)!r} is not a crossdiff sweep directory (no {MANIFEST})") from None
        except (OSError, ValueError) as err:
            raise OutputError(f"cannot read {str(self.manifest_path)!r}: {err}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise OutputError(f"{str(self.manifest_path)!r} is not a crossdiff sweep manifest")
        return data

    # ------------------------------------------------------------------ records
    def finished(self, key: str) -> bool:
        """Whether the run ``key`` has finished (its record is written)."""
        return self.record_path(key).is_file()

    def write_record(self, key: str, record: Mapping[str, Any]) -> None:
        write_atomic(self.record_path(key), json.dumps(dict(record), default=_jsonable))

    def record(self, key: str) -> dict[str, Any] | None:
        """The record of run ``key``, or None if it has not finished."""
        try:
            return dict(json.loads(self.record_path(key).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise OutputError(f"cannot read run record {str(self.record_path(key))!r}: {err}") from None

    def table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per finished run (of ``keys``, in that order; default the manifest's runs)."""
        if keys is None:
            keys = [run["key"] for run in self.read_manifest()["runs"]]
        rows = [rec for rec in (self.record(k) for k in keys) if rec is not None]
        return _frame(rows)

    def write_summary(self, table: pd.DataFrame) -> Path:
        """Write ``table`` to ``summary.parquet`` atomically."""
        tmp = self.summary_path.with_name(f".{SUMMARY}.{os.getpid()}.tmp")
        table.to_parquet(tmp, index=False)
        os.replace(tmp, self.summary_path)
        return self.summary_path


#: Columns of the summary table after the swept parameters, in order.
COLUMNS = (
    "behaviour",
    "amplitude",
    "relative_amplitude",
    "wavelength",
    "wavenumber",
    "species",
    "status",
    "message",
    "t_final",
    "steps",
    "wall_time",
    "worker",
    "file",
    "run",
)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The summary table from run records: swept parameters first, then :data:`COLUMNS`."""
    flat = []
    for rec in rows:
        row = dict(rec.get("parameters", {}))
        for col in COLUMNS:
            row[col] = rec.get(col)
        flat.append(row)
    if not flat:
        return pd.DataFrame(columns=list(COLUMNS))
    table = pd.DataFrame(flat)
    for col in ("amplitude", "relative_amplitude", "wavelength", "wavenumber", "t_final", "wall_time"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    table["steps"] = pd.to_numeric(table["steps"], errors="coerce").astype("Int64")
    return table


def _difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    for key, what in (
        ("model", "model"),
        ("parameters", "parameter grid"),
        ("model_toml", "model definition or fixed settings"),
        ("grid", "grid"),
        ("settings", "run settings"),
    ):
        if old.get(key) != json.loads(json.dumps(new.get(key), default=_jsonable)):
            return f"its {what} differs: {_short(old.get(key))}"
    return "its identity differs"


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, default=_jsonable) if not isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
