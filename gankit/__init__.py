"""gankit: train, measure and understand generative adversarial networks.

import gankit
run = gankit.train("ring-2d", {"train.steps": 2000})
samples = run.sample(512)

The public names are imported on first use (PEP 562), so ``import gankit`` and the command
line start without loading torch; a Ctrl-C during start-up then reaches the command line's
handler instead of a half-finished import.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "Callback": "gankit.train.callbacks",
    "Config": "gankit.config",
    "ConfigError": "gankit.config",
    "GankitError": "gankit.errors",
    "Run": "gankit.api",
    "Trainer": "gankit.train.trainer",
    "TrainingDiverged": "gankit.train.trainer",
    "list_presets": "gankit.config",
    "load": "gankit.api",
    "resolve": "gankit.config",
    "resume": "gankit.api",
}

# The subpackage gankit.train is imported first so that the name ``train`` below, the
# function, is not replaced by the subpackage when it loads.
importlib.import_module("gankit.train")


def train(*args: Any, **kwargs: Any) -> Any:
    """Train a GAN from a preset name, YAML path, dict or Config: :func:`gankit.api.train`."""
    from gankit.api import train as train_run

    return train_run(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'gankit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = sorted([*_PUBLIC, "train"])
