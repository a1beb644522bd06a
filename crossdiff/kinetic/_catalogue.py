"""The kinetic catalogue: ``crossdiff/catalogue/kinetic/<name>.toml``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import KineticModelError

__all__ = ["kinetic_names", "kinetic_path", "load_kinetic"]


def _dir() -> Path:
    return Path(str(resources.files("crossdiff.catalogue"))) / "kinetic"


def kinetic_names() -> list[str]:
    """Names of the kinetic catalogue entries, sorted."""
    return sorted(p.stem for p in _dir().glob("*.toml"))


def kinetic_path(name: str) -> Path:
    """Path of kinetic catalogue entry ``name``; the error lists the valid names."""
    p = _dir() / f"{name}.toml"
    if not p.is_file():
        raise KineticModelError(f"unknown kinetic model {name!r}; available: {', '.join(kinetic_names()) or 'none'}")
    return p


def load_kinetic(name_or_path: str | Path):
    """A kinetic catalogue name or the path of a kinetic ``.toml`` file -> :class:`KineticModel`."""
    from ._file import read_kinetic_file

    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return read_kinetic_file(candidate)
    return read_kinetic_file(kinetic_path(str(name_or_path)))
