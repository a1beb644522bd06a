"""The one policy for every file crossdiff writes: nothing overwrites a file it did not write.

Every writer (run files, pictures, movies, model files) claims its path first
(:func:`claim_output`): a directory or a missing parent directory is refused; an existing file is
replaced only when the caller asked to (``--overwrite``, ``overwrite=True``) **and** crossdiff
wrote it. crossdiff marks what it writes: NetCDF runs carry the attribute ``crossdiff_version``,
pictures and movies their metadata (PNG text chunk ``Software``, PDF and SVG ``Creator``, GIF
comment, MP4 ``comment``), model files a first comment line; :func:`written_by_crossdiff` looks
for the mark.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import OutputError
from .version import __version__

__all__ = ["MARK", "claim_output", "written_by_crossdiff"]

#: The mark crossdiff writes into the metadata of every picture, movie and model file it makes.
MARK = f"written by crossdiff {__version__}"

#: Bytes read from each end of a file when looking for the mark (metadata sits near one end).
_SCAN = 1 << 16


def written_by_crossdiff(path: str | Path) -> bool:
    """Whether the file ``path`` carries crossdiff's mark (:data:`MARK`) near its start or end."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(_SCAN)
            size = f.seek(0, 2)
            f.seek(max(0, size - _SCAN))
            tail = f.read(_SCAN)
    except OSError:
        return False
    return b"written by crossdiff" in head or b"written by crossdiff" in tail


def claim_output(
    path: str | Path,
    *,
    overwrite: bool = False,
    what: str = "output file",
    recognise: Callable[[Path], bool] = written_by_crossdiff,
    hint: str = "",
    foreign: str = "was not written by crossdiff",
    existing: str = "already exists",
) -> Path:
    """The path a writer may write, or a one-line refusal.

    Parameters
    ----------
    path : path-like
    overwrite : bool
        Replace an existing file that crossdiff wrote (never another file).
    what : str
        What the file is, for messages (``"picture"``, ``"model file"``, ``"crossdiff run"``).
    recognise : callable
        Whether an existing file is one crossdiff wrote (default: its mark).
    hint : str
        What else the user may do with an existing file of crossdiff's (e.g. continue a run).
    foreign, existing : str
        How messages say that a file is not crossdiff's, or is.

    Raises
    ------
    OutputError
        A directory, a missing parent directory, a file crossdiff did not write, or one it did
        without ``overwrite``.
    """
    if not isinstance(path, (str, Path)) or not str(path):
        raise OutputError(f"{what} must be a file path, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {what} {str(path)!r}: it is a directory")
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {what} {str(path)!r}: directory {str(path.parent)!r} does not exist")
    if not path.exists():
        return path
    if not recognise(path):
        raise OutputError(f"{what} {str(path)!r} exists and {foreign}; refusing to overwrite it")
    if not overwrite:
        raise OutputError(f"{what} {str(path)!r} {existing}; overwrite it with --overwrite (overwrite=True){hint}")
    return path
