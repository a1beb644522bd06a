"""What macroscopic and kinetic models share: identification, parameters, definitions, run
defaults, and the copies with some of them changed.

:class:`ModelBase` is the base of :class:`crossdiff.model.Model` (the cross-diffusion system,
``docs/theory.md`` §1) and :class:`crossdiff.kinetic.KineticModel` (the kinetic model of active
particles, ``docs/theory.md`` §2). Each subclass adds its species and the checks of its own
expressions; the parameter and definition tables, their validation and their substitution are
written once, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, Self, TypeVar

import sympy as sp

from .errors import ModelError, ParameterError
from .expressions import to_expr
from .parsing import check_keys, check_name, to_number
from .validation import finite_number, non_negative_integer, positive_number

__all__ = ["RunDefaults", "ModelBase"]


#: The species type of a model (``Species``, ``KineticSpecies``).
class _Named(Protocol):
    @property
    def name(self) -> str: ...


SpeciesT = TypeVar("SpeciesT", bound=_Named)

_DOMAIN_KEYS = {"extent", "cells", "boundary", "t_end", "save_every", "seed"}
#: the keys of a shape cut out of the box (macroscopic models: cut cells)
_SHAPE_KEYS = {"inside", "mask"}
#: the key of a domain that grows (macroscopic models: docs/theory.md §7)
_GROWTH_KEYS = {"growth", "front", "growth_velocity"}
_BOUNDARIES = ("noflux", "periodic")


@dataclass(frozen=True)
class RunDefaults:
    """Default domain, grid and end time that make a model file run meaningfully.

    Plain numbers only: the model layers know nothing of grids or steppers.
    """

    extent: tuple[tuple[float, float], ...] = ((0.0, 1.0),)
    cells: tuple[int, ...] = (100,)
    boundary: str | tuple[str, ...] = "noflux"  #: for all axes, or one per axis
    t_end: float = 1.0
    save_every: float | None = None
    seed: int = 0
    #: a shape cut out of the box: a condition on x, y, z (crossdiff.grid.Shape) ...
    inside: str | None = None
    #: ... or a mask file (a picture, dark = inside, or a NumPy .npy boolean array)
    mask: str | None = None
    #: a box that grows: the length scale L(t)/L(0), one expression of t or one per axis
    growth: str | tuple[str, ...] | None = None
    #: an interval whose high end moves at this speed (a free boundary), e.g. "-mu*u_x"
    front: str | None = None
    #: non-uniform growth: the tissue's velocity along each axis, e.g. "rho*max(0, x - (L - 1))"
    growth_velocity: str | tuple[str, ...] | None = None
    #: a network of 1D edges: the model file's [network] table (crossdiff.grid.Network reads it)
    network: Mapping[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def from_table(
        cls, table: object, error: type[ModelError] = ModelError, shapes: bool = False, growth: bool = False
    ) -> RunDefaults:
        """The ``[domain]`` table of a model file (extent, cells, boundary, t_end, save_every, seed,
        and, with ``shapes``, a shape: ``inside`` or ``mask``, or a growth law: ``growth``,
        ``front``, ``growth_velocity``; with ``growth`` alone, a growth law ``growth``: kinetic
        models).

        Raises ``error`` with a one-line message naming the bad key.
        """
        extra = _SHAPE_KEYS | _GROWTH_KEYS if shapes else ({"growth"} if growth else set())
        table = check_keys(table, _DOMAIN_KEYS | extra, "[domain]", error)
        kwargs: dict[str, Any] = {}
        if "extent" in table:
            kwargs["extent"] = _extent(table["extent"], error)
        if "cells" in table:
            cells = table["cells"]
            cells = [cells] if isinstance(cells, int) else cells
            if not isinstance(cells, list) or not all(
                isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in cells
            ):
                raise error("[domain] cells must be positive integers")
            kwargs["cells"] = tuple(cells)
        if "boundary" in table:
            boundary = table["boundary"]
            entries = boundary if isinstance(boundary, list) else [boundary]
            if not entries or not all(isinstance(b, str) and b in _BOUNDARIES for b in entries):
                raise error(
                    f"[domain] boundary must be 'noflux' or 'periodic', or one of them per axis, got {boundary!r}"
                )
            kwargs["boundary"] = tuple(entries) if isinstance(boundary, list) else boundary
        for key in ("t_end", "save_every"):
            if key in table:
                kwargs[key] = positive_number(table[key], f"[domain] {key}", error)
        if "seed" in table:
            # numpy.random.default_rng refuses negative seeds
            kwargs["seed"] = non_negative_integer(table["seed"], "[domain] seed", error)
        for key in ("inside", "mask"):
            if key in table:
                if not isinstance(table[key], str) or not table[key].strip():
                    what = "a condition such as '(x-10)^2 + (y-10)^2 < 100'" if key == "inside" else "a file name"
                    raise error(f"[domain] {key} must be {what}, got {table[key]!r}")
                kwargs[key] = table[key]
        if "inside" in kwargs and "mask" in kwargs:
            raise error("[domain] takes one of inside and mask, not both")
        if "growth" in table:
            growth = table["growth"]
            laws = growth if isinstance(growth, list) else [growth]
            if not laws or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in laws):
                raise error(
                    f"[domain] growth must be an expression of t such as 'exp(0.01*t)', or one per axis, got {growth!r}"
                )
            kwargs["growth"] = tuple(str(v) for v in laws) if isinstance(growth, list) else str(growth)
            if "inside" in kwargs or "mask" in kwargs:
                raise error("[domain] growth on a shape (inside/mask) is not supported: a growing domain is a box")
        if "front" in table:
            if not isinstance(table["front"], str) or not table["front"].strip():
                raise error(
                    f"[domain] front must be the front's speed, an expression such as '-mu*u_x', got {table['front']!r}"
                )
            if "growth" in kwargs or "inside" in kwargs or "mask" in kwargs:
                raise error("[domain] front moves the end of an interval: it takes no growth, inside or mask")
            kwargs["front"] = table["front"]
        if "growth_velocity" in table:
            value = table["growth_velocity"]
            entries = value if isinstance(value, list) else [value]
            if not entries or not all(isinstance(v, str) and v.strip() for v in entries):
                raise error(
                    "[domain] growth_velocity must be the tissue's velocity, an expression of x, t and L (one per "
                    f"axis, in that axis's coordinate, in 2D/3D), got {value!r}"
                )
            if any(k in kwargs for k in ("growth", "front", "inside", "mask")):
                raise error("[domain] growth_velocity takes no growth, front, inside or mask")
            kwargs["growth_velocity"] = tuple(entries) if isinstance(value, list) else value
        defaults = cls(**kwargs)
        if len(defaults.cells) != len(defaults.extent):
            raise error(f"[domain] cells has {len(defaults.cells)} entries but extent has {len(defaults.extent)}")
        if not isinstance(defaults.boundary, str) and len(defaults.boundary) != len(defaults.extent):
            raise error(f"[domain] boundary has {len(defaults.boundary)} entries but extent has {len(defaults.extent)}")
        return defaults

    def to_table(self) -> dict[str, Any]:
        """The ``[domain]`` table of a model file: the inverse of :meth:`from_table`."""
        table: dict[str, Any] = {
            "extent": [list(p) for p in self.extent],
            "cells": list(self.cells),
            "boundary": self.boundary if isinstance(self.boundary, str) else list(self.boundary),
            "t_end": self.t_end,
            "seed": self.seed,
        }
        if self.save_every is not None:
            table["save_every"] = self.save_every
        for key in ("inside", "mask"):
            if getattr(self, key) is not None:
                table[key] = getattr(self, key)
        if self.growth is not None:
            table["growth"] = self.growth if isinstance(self.growth, str) else list(self.growth)
        if self.front is not None:
            table["front"] = self.front
        if self.growth_velocity is not None:
            v = self.growth_velocity
            table["growth_velocity"] = v if isinstance(v, str) else list(v)
        return table


def _extent(extent: object, error: type[ModelError]) -> tuple[tuple[float, float], ...]:
    if not isinstance(extent, list) or not extent or not all(isinstance(e, list) and len(e) == 2 for e in extent):
        raise error("[domain] extent must be a list of [low, high] pairs, e.g. [[0, 20], [0, 20]]")
    pairs = []
    for lo, hi in extent:
        lo, hi = (finite_number(v, "[domain] extent entry", error) for v in (lo, hi))
        if not hi > lo:
            raise error(f"[domain] extent [{lo:g}, {hi:g}] must have high > low")
        pairs.append((lo, hi))
    return tuple(pairs)


@dataclass(frozen=True, kw_only=True)
class ModelBase(Generic[SpeciesT]):
    """The parts of a model that do not depend on its scale.

    Subclasses are frozen dataclasses with a positional ``species`` field (a tuple of objects
    with a ``name``) and call :meth:`_check_common` from their ``__post_init__``.

    Parameters
    ----------
    parameters : mapping of str to float
        Parameter values (finite numbers); every free name in the expressions must be a
        species, a parameter, a definition or a name the model's scale defines.
    name, description, reference : str
        Identification; ``reference`` cites the source (paper equation, literature).
    definitions : mapping of str to expression
        Named sub-expressions (e.g. ``f`` in the forager-scrounger model) substituted into the
        species' expressions by :meth:`expand`; users may replace them without rewriting the
        reactions (:meth:`with_definitions`, :meth:`with_settings`).
    parameter_info : mapping of str to str
        One-line description of each parameter.
    defaults : RunDefaults or None
        Default domain, grid and end time (``None``: the subclass chooses).
    """

    #: The exception type of the subclass's structural errors.
    _error: ClassVar[type[ModelError]] = ModelError

    parameters: Mapping[str, float] = field(default_factory=dict)
    name: str = "model"
    description: str = ""
    reference: str = ""
    definitions: Mapping[str, sp.Expr] = field(default_factory=dict)
    parameter_info: Mapping[str, str] = field(default_factory=dict)
    defaults: RunDefaults | None = None

    if TYPE_CHECKING:
        species: tuple[SpeciesT, ...]
        _expanded: Mapping[sp.Symbol, sp.Expr] = field(init=False)

    # ------------------------------------------------------------------ construction
    def _check_common(self) -> None:
        """Normalise and check the parameters and definitions (call after ``species`` is set).

        Parameters become finite floats and definitions SymPy expressions, both in read-only
        mappings; names must be valid and distinct from the species' and from each other; no
        definition may refer to itself (directly or through others).
        """
        error = self._error
        names = set(self.species_names)
        for what in ("parameters", "definitions", "parameter_info"):
            if not isinstance(getattr(self, what), Mapping):
                raise error(f"{what} must be a mapping of names to values, got {getattr(self, what)!r}")
        params: dict[str, float] = {}
        for key, value in dict(self.parameters).items():
            check_name(key, "parameter", error)
            if key in names:
                raise error(f"parameter {key!r} has the name of a species")
            params[key] = to_number(value, f"parameter {key!r}")
        definitions: dict[str, sp.Expr] = {}
        for key, value in dict(self.definitions).items():
            check_name(key, "definition", error)
            if key in names or key in params:
                raise error(f"definition {key!r} clashes with a species or parameter name")
            definitions[key] = to_expr(value, f"definition {key!r}")
        object.__setattr__(self, "parameters", MappingProxyType(params))
        object.__setattr__(self, "definitions", MappingProxyType(definitions))
        object.__setattr__(self, "parameter_info", MappingProxyType(dict(self.parameter_info)))
        object.__setattr__(self, "_expanded", MappingProxyType(self._expand_definitions()))

    def _expand_definitions(self) -> dict[sp.Symbol, sp.Expr]:
        """Each definition with the others substituted until none is left; refuses cycles."""
        defs = {sp.Symbol(k): v for k, v in self.definitions.items()}
        out = {}
        for key, expr in defs.items():
            current = expr
            for _ in range(len(defs) + 1):
                nxt = current.xreplace(defs)
                if nxt == current:
                    break
                current = nxt
            else:
                raise self._error(f"definition {str(key)!r} refers to itself")
            out[key] = current
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and deep-copy) by the constructor's arguments: the read-only mappings cannot be
        pickled themselves, and a model sent to another process (a sweep) is checked again."""
        kwargs = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        kwargs = {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in kwargs.items()}
        return (_rebuild, (type(self), kwargs))

    # ------------------------------------------------------------------ accessors
    @property
    def species_names(self) -> tuple[str, ...]:
        """Names of the species, in order."""
        return tuple(s.name for s in self.species)

    @property
    def n_species(self) -> int:
        """Number of species."""
        return len(self.species)

    def index(self, name: str) -> int:
        """Position of species ``name``; an error naming the known species if absent."""
        try:
            return self.species_names.index(name)
        except ValueError:
            raise self._error(f"unknown species {name!r}; known species: {', '.join(self.species_names)}") from None

    def __getitem__(self, name: str) -> SpeciesT:
        return self.species[self.index(name)]

    def parameter_symbols(self) -> dict[sp.Symbol, sp.Expr]:
        """``{Symbol(name): value}`` of the parameters, for substitution."""
        return {sp.Symbol(k): sp.Float(v) for k, v in self.parameters.items()}

    def expand(self, expr: sp.Expr) -> sp.Expr:
        """Substitute the model's definitions into ``expr`` (recursively)."""
        return expr.xreplace(dict(self._expanded)) if self._expanded else expr

    # ------------------------------------------------------------------ derived models
    def with_parameters(self, **values: float) -> Self:
        """A copy with some parameter values replaced.

        Raises
        ------
        ParameterError
            If a name is not a parameter of the model.
        """
        for key in values:
            if key not in self.parameters:
                raise ParameterError(
                    f"unknown parameter {key!r} for model {self.name!r}; "
                    f"parameters: {', '.join(sorted(self.parameters)) or 'none'}"
                )
        return replace(self, parameters={**self.parameters, **values})

    def with_definitions(self, **exprs: object) -> Self:
        """A copy with some definitions replaced by new expressions.

        Raises
        ------
        ParameterError
            If a name is not a definition of the model.
        """
        for key in exprs:
            if key not in self.definitions:
                raise ParameterError(
                    f"unknown definition {key!r} for model {self.name!r}; "
                    f"definitions: {', '.join(sorted(self.definitions)) or 'none'}"
                )
        return replace(self, definitions={**self.definitions, **exprs})

    # ------------------------------------------------------------------ display
    def _kind(self) -> str:
        """A word for the model's scale in displays (subclasses say more)."""
        return type(self).__name__

    def _display_lines(self) -> list[str]:
        """Further lines of the notebook display (a subclass's equations or velocity space)."""
        return []

    def __repr__(self) -> str:
        species = ", ".join(str(s.name) for s in self.species)
        params = ", ".join(f"{k}={v:g}" for k, v in list(self.parameters.items())[:6])
        more = ", …" if len(self.parameters) > 6 else ""
        return f"{type(self).__name__}({self.name!r}: species {species}; {params}{more})"

    def _repr_html_(self) -> str:
        """Notebook display: name, description, species, parameters and what the scale adds."""
        from html import escape

        rows = "".join(
            f"<tr><td><code>{escape(k)}</code></td><td>{v:g}</td><td>{escape(self.parameter_info.get(k, ''))}</td></tr>"
            for k, v in self.parameters.items()
        )
        species = ", ".join(f"<code>{escape(str(s.name))}</code>" for s in self.species)
        extra = "".join(f"<div>{line}</div>" for line in self._display_lines())
        return (
            f"<div><b>{escape(self._kind())} {escape(self.name)}</b>"
            + (f"<div><i>{escape(self.description)}</i></div>" if self.description else "")
            + f"<div>species: {species}</div>{extra}"
            + (f"<table><tr><th>parameter</th><th>value</th><th></th></tr>{rows}</table>" if rows else "")
            + "</div>"
        )

    def parameter_table(self) -> dict[str, Any]:
        """The ``[parameters]`` table of a model file: each value, with its description where
        :attr:`parameter_info` has one (``{value, description}``)."""
        table: dict[str, Any] = {}
        for key, value in self.parameters.items():
            desc = self.parameter_info.get(key, "")
            table[key] = {"value": value, "description": desc} if desc else value
        return table

    def with_defaults(self, **changes: Any) -> Self:
        """A copy with some :class:`RunDefaults` fields replaced."""
        return replace(self, defaults=replace(self.defaults or RunDefaults(), **changes))

    def with_settings(self, settings: Mapping[str, object] | Iterable[str]) -> Self:
        """A copy with parameters and definitions set by name, as a sweep or ``--set`` gives them.

        Parameters
        ----------
        settings : mapping or iterable of str
            ``{name: value}`` or ``["NAME=VALUE", ...]``. A parameter takes a number (a string
            is read as a number); a definition takes an expression, which replaces it.

        Raises
        ------
        ParameterError
            A setting that is not ``NAME=VALUE``, a name that is neither a parameter nor a
            definition (the message lists the known ones), a parameter value that is not a
            finite number.

        Examples
        --------
        >>> from crossdiff import catalogue
        >>> model = catalogue.load("forager-scrounger").with_settings(["xi1=2.5", "f=u1*(1 - u1)"])
        >>> model.parameters["xi1"], str(model.definitions["f"])
        (2.5, 'u1*(1 - u1)')
        """
        params: dict[str, float] = {}
        defs: dict[str, object] = {}
        for key, value in _settings(settings):
            if key in self.definitions:
                defs[key] = value
            elif key in self.parameters:
                params[key] = _setting_number(key, value)
            else:
                known = sorted(self.parameters) + sorted(self.definitions)
                raise ParameterError(
                    f"unknown parameter {key!r} for model {self.name!r}; known: {', '.join(known) or 'none'}"
                )
        model = self.with_parameters(**params) if params else self
        return model.with_definitions(**defs) if defs else model


def _rebuild(cls: type[ModelBase[Any]], kwargs: dict[str, Any]) -> ModelBase[Any]:
    return cls(**kwargs)


def _settings(settings: Mapping[str, object] | Iterable[str]) -> list[tuple[str, object]]:
    """``(name, value)`` pairs from a mapping or from ``NAME=VALUE`` strings."""
    if isinstance(settings, Mapping):
        return [(str(key).strip(), value) for key, value in settings.items()]
    if isinstance(settings, str):
        settings = [settings]
    pairs: list[tuple[str, object]] = []
    for item in settings:
        if not isinstance(item, str) or "=" not in item:
            raise ParameterError(f"a setting must be NAME=VALUE, got {item!r}")
        key, value = (part.strip() for part in item.split("=", 1))
        pairs.append((key, value))
    return pairs


def _setting_number(key: str, value: object) -> float:
    """A parameter's new value: a number, or a string that reads as one; finite."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ParameterError(f"parameter {key!r} needs a number, got {value!r}") from None
    return to_number(value, f"parameter {key!r}")
