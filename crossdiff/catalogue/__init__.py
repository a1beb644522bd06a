"""The catalogue: the paper's case studies as model files shipped with crossdiff, and their loader.

Macroscopic entries (kind ``"macro"``) are ``<name>.toml`` beside this file; kinetic entries
(kind ``"kinetic"``: models of active particles whose Hilbert limit is a macroscopic entry) are
``kinetic/<name>.toml``. One loader serves both kinds: :func:`names` and :func:`path` take the
kind, :func:`load` / :func:`resolve_model` give a :class:`~crossdiff.model.Model` and
:func:`load_kinetic` a :class:`~crossdiff.kinetic.KineticModel`. An unknown name gets an error
that lists the entries of its kind. :func:`summary` reads what a listing shows of an entry (its
species, description, equation) from the file alone, without building the model (no SymPy):
``crossdiff models`` answers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import KineticModelError, ModelError
from ..registry import Registry

if TYPE_CHECKING:
    from ..kinetic import KineticModel
    from ..model import Model

__all__ = ["KINDS", "Summary", "names", "path", "summary", "load", "load_kinetic", "resolve_model", "resolve_any"]


def _read_macro(file: Path) -> Model:
    from ..model import read_model_file

    return read_model_file(file)


def _read_kinetic(file: Path) -> KineticModel:
    from ..kinetic import read_kinetic_file

    return read_kinetic_file(file)


@dataclass(frozen=True)
class _Kind:
    folder: str  # below this package
    table: str  # the file's header table: [model] or [kinetic]
    label: str  # "unknown {label} 'x'"
    error: type[ModelError]
    read: Callable[[Path], Any]


#: The kinds of catalogue entries.
KINDS = Registry[_Kind]("catalogue kind")
KINDS.register("macro", _Kind("", "model", "catalogue model", ModelError, _read_macro), "macroscopic models")
KINDS.register(
    "kinetic", _Kind("kinetic", "kinetic", "kinetic model", KineticModelError, _read_kinetic), "kinetic models"
)


def _dir(kind: str) -> Path:
    return Path(str(resources.files(__name__))) / KINDS[kind].folder


def names(kind: str = "macro") -> list[str]:
    """Names of the catalogue entries of ``kind`` (``"macro"`` or ``"kinetic"``), sorted."""
    return sorted(p.stem for p in _dir(kind).glob("*.toml"))


def path(name: str, kind: str = "macro") -> Path:
    """Path of catalogue entry ``name`` of ``kind``.

    Raises
    ------
    ModelError
        (:class:`~crossdiff.errors.KineticModelError` for kinetic entries) if there is no such
        entry; the message lists the valid names.
    """
    entry = KINDS[kind]
    file = _dir(kind) / f"{name}.toml"
    if not file.is_file():
        raise entry.error(f"unknown {entry.label} {name!r}; available: {', '.join(names(kind)) or 'none'}")
    return file


@dataclass(frozen=True)
class Summary:
    """What a listing shows of a catalogue entry, read from its file without building the model.

    Attributes
    ----------
    name, description : str
        As the loaded model's.
    species : tuple of str
        The species' names, in order (the loaded model's ``species_names``).
    equation : str
        ``[model] equation`` of a macroscopic entry; ``[paper] equation`` (the paper's equation
        number) of a kinetic entry; empty if the file has none.
    macro : str
        The macroscopic entry of a kinetic entry's limit (empty for macroscopic entries).
    """

    name: str
    description: str
    species: tuple[str, ...]
    equation: str = ""
    macro: str = ""


def summary(name: str, kind: str = "macro") -> Summary:
    """The :class:`Summary` of catalogue entry ``name`` of ``kind``: the file's header tables
    and species names, read with :mod:`tomllib` (the entries are checked when they are loaded,
    and by the test suite)."""
    import tomllib

    with path(name, kind).open("rb") as file:
        data = tomllib.load(file)
    meta = data.get(KINDS[kind].table, {})
    equation = meta.get("equation", "") if kind == "macro" else data.get("paper", {}).get("equation", "")
    return Summary(
        name=str(meta.get("name", name)),
        description=str(meta.get("description", "")),
        species=tuple(str(s["name"]) for s in data.get("species", [])),
        equation=str(equation),
        macro=str(meta.get("macro", "")),
    )


def _resolve(name_or_path: str | Path, kind: str) -> Any:
    """A catalogue name of ``kind`` or the path of a ``.toml`` file, read by that kind's reader."""
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path):
        raise KINDS[kind].error(
            f"a {KINDS[kind].label} is named by a catalogue name or a file path, got {name_or_path!r}"
        )
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return KINDS[kind].read(candidate)
    return KINDS[kind].read(path(str(name_or_path), kind))


def load(name: str) -> Model:
    """Load macroscopic catalogue entry ``name`` as a :class:`crossdiff.Model`."""
    return _read_macro(path(name))


def resolve_model(name_or_path: str | Path) -> Model:
    """A macroscopic catalogue name or the path of a ``.toml`` model file -> :class:`crossdiff.Model`."""
    return _resolve(name_or_path, "macro")


def load_kinetic(name_or_path: str | Path) -> KineticModel:
    """A kinetic catalogue name or the path of a kinetic ``.toml`` file -> :class:`~crossdiff.kinetic.KineticModel`."""
    return _resolve(name_or_path, "kinetic")


def resolve_any(name_or_path: str | Path) -> Model | KineticModel:
    """A catalogue name of either kind, or a model file of either scale (a kinetic file is one
    with a ``[kinetic]`` table) -> :class:`~crossdiff.model.Model` or
    :class:`~crossdiff.kinetic.KineticModel`.

    Raises
    ------
    ModelError, KineticModelError
        One line: an unknown name lists the entries of both kinds; a bad file names the file.
    """
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path):
        raise ModelError(f"a model is named by a catalogue name or a file path, got {name_or_path!r}")
    name = str(name_or_path)
    if name in names("kinetic"):
        return load_kinetic(name)
    candidate = Path(name)
    if candidate.suffix == ".toml" and candidate.is_file():
        from ..parsing import parse_toml

        data = parse_toml(candidate)  # the size limit first, then one line for a malformed file
        if "kinetic" in data:
            try:
                return load_kinetic(candidate)
            except KineticModelError as err:
                raise KineticModelError(f"kinetic model file {err}") from None
    try:
        return resolve_model(name)
    except ModelError as err:
        if candidate.suffix == ".toml" or candidate.exists() or not str(err).startswith("unknown catalogue model"):
            raise
        raise ModelError(f"{err}; kinetic: {', '.join(names('kinetic'))}") from None
