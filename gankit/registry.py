"""Name → component registries with checked names.

Every pluggable piece (data source, network, objective, optimiser) is registered under a
name, together with the pydantic model of its options. Looking up a wrong name fails with
the list of valid ones (and the closest, for a typo), so a typo in a config never falls
back silently. Registered options models refuse non-finite numbers (inf, nan) in every
float field, their nested models' included.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel

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
        self._listeners: list[Callable[[], None]] = []

    def on_register(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every later registration (e.g. to widen a config union)."""
        self._listeners.append(listener)

    def register(
        self, name: str, *, options: type | None = None, summary: str = ""
    ) -> Callable[[T], T]:
        """Decorator that files ``obj`` under ``name``; names must be unique."""

        def decorate(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            doc_lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
            line = summary or (doc_lines[0] if doc_lines else "")
            if isinstance(options, type) and issubclass(options, BaseModel):
                refuse_non_finite(options)
            self._entries[name] = Entry(name, obj, options, line)
            for listener in self._listeners:
                listener()
            return obj

        return decorate

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}"
                f"{did_you_mean(name, self.names())}"
            ) from None

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: Any) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries[n] for n in self.names())


def did_you_mean(given: Any, choices: Iterable[str], prefix: str = "") -> str:
    """``"; did you mean X?"`` naming the choice closest to a typo ``given``, else ``""``."""
    close = difflib.get_close_matches(str(given), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {prefix}{close[0]}?" if close else ""


def refuse_non_finite(model: type[BaseModel]) -> None:
    """Make ``model`` and the models nested in its fields refuse inf and nan in float
    fields (pydantic's ``allow_inf_nan=False``), whatever base class declared them."""
    for nested in _nested_models(model, set()):
        if nested.model_config.get("allow_inf_nan") is not False:
            nested.model_config["allow_inf_nan"] = False
            nested.model_rebuild(force=True)


def _nested_models(model: type[BaseModel], seen: set) -> list[type[BaseModel]]:
    """``model`` after every model its fields contain, innermost first."""
    if model in seen:
        return []
    seen.add(model)
    out: list[type[BaseModel]] = []
    for field in model.model_fields.values():
        for inner in _models_in(field.annotation):
            out += _nested_models(inner, seen)
    return [*out, model]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]
