"""Named choices (steppers, limiters, boundary conditions): one registry per kind.

A registry is the single source of truth for a choice: the library looks names up in it, the
command line takes its ``choices`` and help text from it, and an unknown name gets an error that
lists the valid ones (instead of a bare ``KeyError``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import InputError

__all__ = ["Registry", "Entry"]

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered choice: its name, the object, and a one-line summary for help texts."""

    name: str
    value: T
    summary: str


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

    def register(self, name: str, value: T, summary: str = "") -> T:
        """Add ``value`` under ``name`` (names are lower case and unique); returns ``value``."""
        if name != name.lower() or not name:
            raise ValueError(f"{self.kind} names are non-empty lower case, got {name!r}")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, value, summary)
        return value

    def __getitem__(self, name: str) -> T:
        return self.entry(name).value

    def entry(self, name: str) -> Entry[T]:
        """The entry called ``name`` (case-insensitive); :class:`InputError` listing the names."""
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
