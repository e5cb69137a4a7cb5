"""Metrics of generated samples.

The names below are imported on first use (PEP 562), so a submodule that needs no torch
(:mod:`gankit.metrics.registry`, the table of metrics and their directions) can be imported
without loading the measures, and torch with them. ``inception_score`` and ``memorisation``
share their modules' names: import them from this package, which binds every name of a
module it loads (a direct import of such a module first would leave the module bound here).
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "DigitClassifier": "gankit.metrics.digits",
    "DigitClassifierError": "gankit.metrics.digits",
    "classifier_info": "gankit.metrics.digits",
    "classifier_names": "gankit.metrics.digits",
    "heldout_data": "gankit.metrics.digits",
    "load_digit_classifier": "gankit.metrics.digits",
    "feature_statistics": "gankit.metrics.frechet",
    "frechet_distance": "gankit.metrics.frechet",
    "frechet_distance_features": "gankit.metrics.frechet",
    "inception_score": "gankit.metrics.inception_score",
    "kernel_inception_distance": "gankit.metrics.kid",
    "density_coverage": "gankit.metrics.manifold",
    "precision_recall": "gankit.metrics.manifold",
    "Memorisation": "gankit.metrics.memorisation",
    "memorisation": "gankit.metrics.memorisation",
    "PROTOCOL_SAMPLES": "gankit.metrics.modes",
    "PROTOCOL_THRESHOLD": "gankit.metrics.modes",
    "ClassCoverage": "gankit.metrics.modes",
    "ModeCoverage": "gankit.metrics.modes",
    "class_coverage": "gankit.metrics.modes",
    "mode_coverage": "gankit.metrics.modes",
    "reverse_kl_to_uniform": "gankit.metrics.modes",
}


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'gankit.metrics' has no attribute {name!r}")
    module = importlib.import_module(_PUBLIC[name])
    for public, home in _PUBLIC.items():
        if home == module.__name__:
            globals()[public] = getattr(module, public)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = sorted(_PUBLIC)
