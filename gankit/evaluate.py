"""Evaluate a trained run: the metrics of :mod:`gankit.metrics.digit_metrics` for each z
seed asked for, reported as mean ± std over seeds, written with how they were computed.

The provenance (extractor and the sha256 of its weights, image size and resize, sample
counts, reference split, seeds, checkpoint step, gankit and torch versions) is written
beside the numbers; :func:`provenance_differences` says what differs between two results,
so that numbers computed differently are never compared silently.
"""

from __future__ import annotations

import json
import platform
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from gankit import __version__
from gankit.api import Run, load
from gankit.metrics.digit_metrics import (
    METRICS,
    DigitReference,
    EvaluationError,
    check_metrics,
    classifier_for,
)
from gankit.train.rundir import write_text_atomic

__all__ = ["METRICS", "EvaluationError", "evaluate", "provenance_differences"]

EVAL_FILE = "eval.json"


def evaluate(
    run: Run | str | Path,
    metrics: Iterable[str] = METRICS,
    *,
    samples: int | None = None,
    seeds: Sequence[int] = (0,),
) -> dict[str, Any]:
    """Evaluate ``run`` (a :class:`Run` or a run directory) on ``metrics``.

    ``samples`` generated images per seed (default: as many as the real reference set);
    z is drawn from each of ``seeds``. Returns ``{"metrics": {name: {"mean", "std",
    "values"}}, "provenance": {...}}``."""
    metrics = check_metrics(metrics)
    if not seeds:
        raise EvaluationError("give at least one seed")
    if not isinstance(run, Run):
        run = load(run)
    reference = DigitReference(classifier_for(run.config.data))
    count = samples or reference.real_count
    if count < 10:
        raise EvaluationError(f"samples must be at least 10, got {count}")
    per_seed: dict[str, list[float]] = {}
    for seed in seeds:
        values = reference.measure(run.sample(count, seed), metrics, seed)
        for key, value in values.items():
            per_seed.setdefault(key, []).append(value)
    summary = {
        key: {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values,
        }
        for key, values in per_seed.items()
    }
    provenance = {
        "run": str(run.path),
        "checkpoint_step": run.step,
        **reference.provenance(),
        "image_size": list(run.source.shape),
        "generated": {
            "count_per_seed": count,
            "seeds": list(seeds),
            "sampler": "moving average of G" if run.sampler is not run.generator else "G",
        },
        "metrics": metrics,
        "gankit_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
    }
    return {"metrics": summary, "provenance": provenance}


def write_evaluation(result: dict[str, Any], path: str | Path) -> Path:
    """Write ``result`` as JSON (atomically)."""
    path = Path(path)
    write_text_atomic(path, json.dumps(result, indent=2) + "\n")
    return path


def read_evaluation(path: str | Path) -> dict[str, Any]:
    """An evaluation written by :func:`write_evaluation`, or a clear error."""
    path = Path(path)
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise EvaluationError(f"{path}: cannot read an evaluation ({err})") from None
    if not isinstance(result, dict) or not {"metrics", "provenance"} <= set(result):
        raise EvaluationError(f"{path}: not a gankit evaluation (no metrics/provenance)")
    return result


_RUN_SPECIFIC = ("run", "checkpoint_step", "python_version")


def provenance_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The provenance keys in which two evaluations differ (beyond which run and checkpoint
    they measure), as ``"key: A vs B"`` lines; empty when their numbers are comparable."""
    left, right = a["provenance"], b["provenance"]
    keys = sorted((set(left) | set(right)) - set(_RUN_SPECIFIC))
    return [
        f"{key}: {left.get(key)!r} vs {right.get(key)!r}"
        for key in keys
        if left.get(key) != right.get(key)
    ]
