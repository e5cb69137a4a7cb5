"""The registry of data sources and ``build_source``.

Kept in its own module so that ``toy`` and ``images`` can register into ``SOURCES``
without importing the package ``__init__`` that imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gankit.data.base import DataSource, SourceOptions
from gankit.registry import Registry

SOURCES: Registry[Callable[[Any], DataSource]] = Registry("data source")


def build_source(options: SourceOptions) -> DataSource:
    """Build the data source named by ``options.name`` from its validated options."""
    entry = SOURCES.entry(getattr(options, "name", ""))
    if entry.options is not None and not isinstance(options, entry.options):
        raise TypeError(
            f"data source '{entry.name}' takes {entry.options.__name__}, "
            f"got {type(options).__name__}"
        )
    return entry.obj(options)
