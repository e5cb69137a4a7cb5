"""Name → component registries with checked names.

Every pluggable piece (data source, network, objective, optimiser) is registered under a
name, together with the pydantic model of its options. Looking up a wrong name fails with
the list of valid ones, so a typo in a config never falls back silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that no registry entry carries; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered component: the object, its options model and a one-line summary."""

    name: str
    obj: T
    options: type | None
    summary: str


class Registry(Generic[T]):
    """A named collection of components of one kind (e.g. ``"data source"``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self, name: str, *, options: type | None = None, summary: str = ""
    ) -> Callable[[T], T]:
        """Decorator that files ``obj`` under ``name``; names must be unique."""

        def decorate(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            doc_lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
            line = summary or (doc_lines[0] if doc_lines else "")
            self._entries[name] = Entry(name, obj, options, line)
            return obj

        return decorate

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}"
            ) from None

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: Any) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries[n] for n in self.names())
