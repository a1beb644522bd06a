"""The kinetic catalogue by its historical names; :mod:`crossdiff.catalogue` is the one loader."""

from __future__ import annotations

from pathlib import Path

from .. import catalogue
from ._model import KineticModel

__all__ = ["kinetic_names", "kinetic_path", "load_kinetic"]


def kinetic_names() -> list[str]:
    """Names of the kinetic catalogue entries, sorted (``catalogue.names("kinetic")``)."""
    return catalogue.names("kinetic")


def kinetic_path(name: str) -> Path:
    """Path of kinetic catalogue entry ``name`` (``catalogue.path(name, "kinetic")``)."""
    return catalogue.path(name, "kinetic")


def load_kinetic(name_or_path: str | Path) -> KineticModel:
    """A kinetic catalogue name or a kinetic ``.toml`` path (``catalogue.load_kinetic``)."""
    return catalogue.load_kinetic(name_or_path)
