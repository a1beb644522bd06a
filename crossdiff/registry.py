"""Named choices (steppers, limiters, boundary conditions): one registry per kind.

A registry is the single source of truth for a choice: the library looks names up in it, the
command line takes its ``choices`` and help text from it, and an unknown name gets an error that
lists the valid ones (instead of a bare ``KeyError``). A choice that takes options (a stepper's
tolerances) lists them on its entry, each with a one-line help: what a name accepts, the
command line's option help and the error for an option the choice does not take all come from it.

A choice whose object lives in a heavy module (a stepper and its compiled kernels) is registered
by its import path (:class:`Deferred`): the names, summaries and options, which the command line
needs to build its parser, cost nothing to import; the object is imported when first looked up.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from .errors import InputError

__all__ = ["Registry", "Entry", "Deferred"]

T = TypeVar("T")


@dataclass(frozen=True)
class Deferred:
    """A registered object named by its import path, ``"package.module:attribute"``: imported
    when the registry first looks it up (:meth:`Registry.entry`), not when it is registered."""

    path: str

    def load(self) -> Any:
        """The object the path names (importing its module)."""
        module, _, attribute = self.path.partition(":")
        return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered choice: its name, the object, a one-line summary for help texts, and the
    options it takes (option name -> one-line help, in order; None: not declared, any taken)."""

    name: str
    value: T
    summary: str
    options: Mapping[str, str] | None = None


class Registry(Generic[T]):
    """Choices of one kind, by name, in registration order.

    Parameters
    ----------
    kind : str
        What the choices are (``"stepper"``), used in error messages.

    Examples
    --------
    >>> r = Registry[int]("number")
    >>> r.register("one", 1, "the first")
    1
    >>> r["one"]
    1
    >>> r["two"]
    Traceback (most recent call last):
    ...
    crossdiff.errors.InputError: unknown number 'two'; choose one of: one
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self, name: str, value: T | Deferred, summary: str = "", options: Mapping[str, str] | None = None
    ) -> T | Deferred:
        """Add ``value`` under ``name`` (names are lower case and unique); returns ``value``.
        ``options``: the options the choice takes, each with a one-line help, in a stable order.
        A :class:`Deferred` value is imported when the entry is first looked up."""
        if name != name.lower() or not name:
            raise ValueError(f"{self.kind} names are non-empty lower case, got {name!r}")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, value, summary, None if options is None else dict(options))  # type: ignore[arg-type]
        return value

    def options(self, name: str) -> dict[str, str]:
        """The options the choice ``name`` takes, option name -> one-line help (empty if it
        declares none)."""
        return dict(self._find(name).options or {})

    def check_options(self, name: str, given: Iterable[str]) -> None:
        """:class:`InputError` naming the first of ``given`` that the choice ``name`` does not take.

        >>> r = Registry[int]("number")
        >>> r.register("one", 1, options={"base": "the base"})
        1
        >>> r.check_options("one", ["digits"])
        Traceback (most recent call last):
        ...
        crossdiff.errors.InputError: the one number takes no option 'digits' (it takes base)
        """
        entry = self._find(name)
        if entry.options is None:
            return
        for key in given:
            if key not in entry.options:
                takes = ", ".join(entry.options) or "no options"
                raise InputError(f"the {entry.name} {self.kind} takes no option {key!r} (it takes {takes})")

    def __getitem__(self, name: str) -> T:
        return self.entry(name).value

    def entry(self, name: str) -> Entry[T]:
        """The entry called ``name`` (case-insensitive); :class:`InputError` listing the names."""
        entry = self._find(name)
        if isinstance(entry.value, Deferred):  # imported on first use, then kept
            entry = self._entries[entry.name] = replace(entry, value=entry.value.load())
        return entry

    def _find(self, name: str) -> Entry[T]:
        """The entry called ``name`` as registered (a :class:`Deferred` value not imported)."""
        key = name.lower() if isinstance(name, str) else name
        try:
            return self._entries[key]
        except (KeyError, TypeError):
            raise InputError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._entries)}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._entries)

    def help(self) -> str:
        """``"a (summary), b (summary)"`` for command-line help texts."""
        return ", ".join(f"{e.name} ({e.summary})" if e.summary else e.name for e in self._entries.values())
