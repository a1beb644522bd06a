"""The catalogue: the paper's case studies as model files shipped with crossdiff.

Macroscopic entries are ``<name>.toml`` beside this file; kinetic entries (models of active
particles whose Hilbert limit is a macroscopic entry) are in ``kinetic/<name>.toml``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import ModelError

__all__ = ["names", "path", "load", "resolve_model"]


def _dir() -> Path:
    return Path(str(resources.files(__name__)))


def names() -> list[str]:
    """Names of the macroscopic catalogue entries, sorted."""
    return sorted(p.stem for p in _dir().glob("*.toml"))


def path(name: str) -> Path:
    """Path of catalogue entry ``name``; :class:`ModelError` listing the valid names otherwise."""
    p = _dir() / f"{name}.toml"
    if not p.is_file():
        raise ModelError(f"unknown catalogue model {name!r}; available: {', '.join(names())}")
    return p


def load(name: str):
    """Load catalogue entry ``name`` as a :class:`crossdiff.Model`."""
    from ..model import read_model_file

    return read_model_file(path(name))


def resolve_model(name_or_path: str):
    """A catalogue name or the path of a ``.toml`` model file -> :class:`crossdiff.Model`."""
    from ..model import read_model_file

    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return read_model_file(candidate)
    return load(name_or_path)
