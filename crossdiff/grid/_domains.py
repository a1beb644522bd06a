"""Domain kinds: how the run layer builds, writes and reads back the domains of each kind.

A grid on a box is the kind ``"box"``; a shape cut out of a box (:class:`~crossdiff.grid.Shape`,
cut cells) the kind ``"shape"``. A domain kind says how its domains are built from a model's
default domain, written to a run file and read back from one; how a model is discretised on it is
registered with the run layer's scales (:data:`crossdiff.solve.SCALES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import GridError
from ..registry import Registry
from ._box import Grid, default_grid

__all__ = ["DomainKind", "DOMAINS", "domain_kind"]


@dataclass(frozen=True)
class DomainKind:
    """How the run layer builds, writes and reads back the domains of one kind.

    Attributes
    ----------
    name : str
        The kind's name, stored in run files (attribute ``domain``).
    type : type
        The class of its domains.
    default : callable
        ``default(model, cells=None, boundary=None)``: the domain of a model's default domain.
    from_attributes : callable
        ``from_attributes(attrs)``: the domain a run file's attributes describe (the inverse of
        the domain's ``attributes()``).
    check : callable, optional
        ``check(domain, t_end)``: refuse (one line, :class:`~crossdiff.errors.GridError`) a
        domain that cannot serve a run to ``t_end`` (a growth law that is not positive there).
    """

    name: str
    type: type
    default: Callable[..., Any]
    from_attributes: Callable[[Mapping[str, object]], Any]
    check: Callable[[Any, float], None] | None = None


#: Domain kinds by name (today the box; shapes, growing domains and networks register here).
DOMAINS: Registry[DomainKind] = Registry("domain kind")
DOMAINS.register("box", DomainKind("box", Grid, default_grid, Grid.from_attributes), "a uniform grid on a box")


def domain_kind(domain: object) -> DomainKind:
    """The registered kind of ``domain``.

    Raises
    ------
    GridError
        If ``domain`` is of no registered kind.
    """
    for name in DOMAINS:
        kind = DOMAINS[name]
        if isinstance(domain, kind.type):
            return kind
    kinds = ", ".join(f"{DOMAINS[n].type.__name__} ({n})" for n in DOMAINS)
    raise GridError(f"grid must be a {kinds}: a registered domain kind, got {type(domain).__name__}")
