"""Evaluate a trained run: the metrics of :mod:`gankit.metrics.registry`, scored by a
:class:`~gankit.metrics.reference.FeatureReference`, for each z seed asked for, reported as
mean ± std over seeds, written with how they were computed.

Without named metrics, a run gets every metric its extractor can compute; those it cannot
are listed, with why, under the provenance's ``skipped_metrics``. The provenance (extractor
and the sha256 of its weights, image size and resize, sample counts, reference split,
seeds, the checkpoint used and its step, the newer checkpoints skipped as unloadable and
why, gankit and torch versions) is written beside the numbers;
:func:`provenance_differences` says what differs between two results, so that numbers
computed differently are never compared silently.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from gankit import __version__
from gankit.api import Run, load
from gankit.data import TensorImageSource, build_source
from gankit.evaluate_translation import evaluate_translation, summarise
from gankit.files import strict_json, write_atomic
from gankit.metrics.digits import scale_images
from gankit.metrics.folder_evaluator import EVALUATOR_DIR, evaluator_for
from gankit.metrics.inception import InceptionExtractor
from gankit.metrics.reference import (
    FeatureReference,
    check_metrics,
    classifier_for,
    digit_reference,
)
from gankit.metrics.registry import (
    CONDITIONAL_METRICS,
    DEFAULT_METRICS,
    METRICS,
    SAMPLE_METRICS,
    EvaluationError,
)
from gankit.tasks import TASKS

__all__ = ["METRICS", "EvaluationError", "evaluate", "provenance_differences"]

EVAL_FILE = "eval.json"
EXTRACTORS = ("digits", "inception", "folder")
"""Feature extractors: the shipped digit classifiers, the standard FID's Inception-v3, and
the folder evaluator trained once on the run's own images (``RUN/evaluator/``)."""


def evaluate(
    run: Run | str | Path,
    metrics: Iterable[str] | None = None,
    *,
    samples: int | None = None,
    seeds: Sequence[int] = (0,),
    extractor: str | None = None,
    inception_weights: str | os.PathLike | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate ``run`` (a :class:`Run` or a run directory) on ``metrics``.

    ``extractor`` is ``"digits"`` (the shipped digit classifier; real set: its held-out
    digits), ``"inception"`` (the standard FID's Inception-v3 from ``inception_weights``,
    ``$GANKIT_INCEPTION_WEIGHTS`` or where ``gankit download inception`` put it; real set:
    the held-out digits of a ``split: train`` run, else the run's training data) or
    ``"folder"`` (:mod:`gankit.metrics.folder_evaluator`, trained on first use into
    ``RUN/evaluator/``; real set: its held-out split); None: ``digits`` for data a shipped
    classifier judges, else ``folder``. ``metrics`` default to every metric but ``mem``
    (with ``cacc`` and ``cfid`` for a conditional run) that the extractor can compute; the
    others are listed under the provenance's ``skipped_metrics``, with why. ``samples``
    generated images per seed (default: as many as the real reference set); z is drawn
    from each of ``seeds``. Returns ``{"metrics": {name: {"mean", "std", "values"}},
    "provenance": {...}}``."""
    if extractor is not None and extractor not in EXTRACTORS:
        raise EvaluationError(
            f"unknown extractor '{extractor}'; choose from {', '.join(EXTRACTORS)}"
        )
    if not isinstance(run, Run):
        run = load(run)
    task = run.config.task.name
    if TASKS.get(task).evaluation == "translation":
        if extractor not in (None, "digits"):
            raise EvaluationError(
                f"--extractor {extractor}: a {task} run is measured by pixel metrics "
                "against its targets (and the shipped digit classifiers on the digit tasks); "
                "give no extractor"
            )
        return _evaluate_translation(run, metrics, samples, seeds)
    named = metrics is not None
    if metrics is None:
        metrics = (*DEFAULT_METRICS, *CONDITIONAL_METRICS) if run.classes else DEFAULT_METRICS
    metrics = check_metrics(metrics)
    if not seeds:
        raise EvaluationError("give at least one seed")
    if samples is not None and samples < 10:
        raise EvaluationError(f"samples must be at least 10, got {samples}")
    extractor = extractor or _default_extractor(run)
    if extractor == "digits":
        name = classifier_for(run.config.data, metrics)
        reference = digit_reference(
            name, train_images=run.source.images if "mem" in metrics else None
        )
    elif extractor == "inception":
        reference = _inception_reference(run, metrics, named, inception_weights, progress)
    else:
        reference = _folder_reference(run, metrics, progress)
    skipped: dict[str, str] = {}
    if not named:
        metrics, skipped = reference.applicable(metrics, labelled=bool(run.classes))
    count = samples or reference.real_count
    per_seed: dict[str, list[float]] = {}
    for seed in seeds:
        labels = run.labels_for(count)
        values = reference.measure(run.sample(count, seed, labels), metrics, seed, labels)
        for key, value in values.items():
            per_seed.setdefault(key, []).append(value)
    summary = summarise(per_seed)
    provenance = {
        "run": str(run.path),
        **_checkpoint_provenance(run),
        **reference.provenance(),
        "image_size": list(run.data_info.get("shape") or run.source.shape),
        "generated": {
            "count_per_seed": count,
            "seeds": list(seeds),
            "sampler": "moving average of G" if run.sampler is not run.generator else "G",
        },
        "metrics": metrics,
        **({"skipped_metrics": skipped} if skipped else {}),
        **_versions(),
    }
    return {"metrics": summary, "provenance": provenance}


def _default_extractor(run: Run) -> str:
    """``digits`` for data a shipped digit classifier judges, else ``folder`` for images; a
    run on points has none."""
    if run.source.kind != "images":
        raise EvaluationError(
            f"no feature extractor for data '{run.config.data.name}': sample-quality metrics "
            "measure images, and this run's samples are points"
        )
    try:
        classifier_for(run.config.data)
    except EvaluationError:
        return "folder"
    return "digits"


def _evaluate_translation(
    run: Run, metrics: Iterable[str] | None, samples: int | None, seeds: Sequence[int]
) -> dict[str, Any]:
    """:func:`evaluate` for a pix2pix or CycleGAN run."""
    per_seed, details, skipped = evaluate_translation(run, metrics, samples, seeds)
    provenance = {
        "run": str(run.path),
        **_checkpoint_provenance(run),
        "task": run.config.task.name,
        **details,
        "image_size": list(run.data_info["shape"]),
        "generated": {"count_per_seed": samples or "all held-out inputs", "seeds": list(seeds)},
        "metrics": sorted(per_seed),
        **({"skipped_metrics": skipped} if skipped else {}),
        **_versions(),
    }
    return {"metrics": summarise(per_seed), "provenance": provenance}


def _checkpoint_provenance(run: Run) -> dict[str, Any]:
    """Which checkpoint was measured: its folder name (None for a Run fresh from training),
    its step, and each newer checkpoint skipped as unloadable, with why."""
    return {
        "checkpoint": run.checkpoint.name if run.checkpoint is not None else None,
        "checkpoint_step": run.step,
        "skipped_checkpoints": [dict(entry) for entry in run.skipped_checkpoints],
    }


def _versions() -> dict[str, str]:
    return {
        "gankit_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
    }


def _inception_reference(
    run: Run,
    metrics: list[str],
    named: bool,
    weights: str | os.PathLike | None,
    progress: bool,
) -> FeatureReference:
    """The FID Inception-v3 and the real images of ``run``: its data's held-out split when
    it trained on ``split: train``, else its own training data (``named``: the metrics were
    asked for by name, so those it cannot compute are refused before it loads)."""
    if run.source.kind != "images":
        raise EvaluationError(
            "the Inception-v3 extractor measures images; this run's data are points"
        )
    digit_only = [m for m in metrics if "data_classes" in SAMPLE_METRICS[m].needs]
    if digit_only and named:
        raise EvaluationError(
            f"the {', '.join(digit_only)} metric needs a digit classifier: use --extractor "
            "digits (or folder, on labelled data)"
        )
    data = run.config.data
    held_out = getattr(data, "split", "all") == "train"
    if "mem" in metrics and not held_out:
        raise EvaluationError(
            "the memorisation check compares generated images with held-out images the "
            "generator never saw: train on data.split=train (the embedded digit sets)"
        )
    extractor = InceptionExtractor(weights, progress=progress)
    if held_out:
        real_source = build_source(data.model_copy(update={"split": "heldout"}))
        split = "held-out split (data.split=heldout)"
    else:
        real_source = run.source
        split = "the run's training data"
    assert isinstance(real_source, TensorImageSource) and isinstance(run.source, TensorImageSource)
    train = scale_images(run.source.images) if "mem" in metrics else None
    return FeatureReference(
        extractor,
        scale_images(real_source.images),
        {"source": data.name, "split": split},
        train,
        real_labels=real_source.labels if run.classes else None,
    )


def _folder_reference(run: Run, metrics: list[str], progress: bool) -> FeatureReference:
    """The folder evaluator of ``run`` (trained into ``RUN/evaluator/`` on first use) and
    the held-out split it never trained on as the real images."""
    if "mem" in metrics:
        raise EvaluationError(
            "the memorisation check needs real images the generator never saw; the folder "
            "evaluator's held-out images were in the run's training data (only the embedded "
            "digit sets have a split the run can leave out: data.split=train)"
        )
    source = run.source
    if not isinstance(source, TensorImageSource):
        raise EvaluationError(
            f"the folder evaluator learns from a set of images; data '{run.config.data.name}' "
            f"gives {source.kind}"
        )
    evaluator = evaluator_for(run.path / EVALUATOR_DIR, source, progress=progress)
    images, labels = evaluator.heldout(source)
    split = evaluator.info["split"]
    return FeatureReference(
        evaluator,
        scale_images(images),
        {
            "source": run.config.data.name,
            "split": f"held-out split of the folder evaluator ({split['fraction']:.0%} per "
            "class, never trained on)",
        },
        data_classes=evaluator.classes > 0,
        real_labels=labels if run.classes and evaluator.classes else None,
    )


def write_evaluation(result: dict[str, Any], path: str | Path) -> Path:
    """Write ``result`` as strict JSON (non-finite numbers as null), atomically; a path
    that cannot be written (a folder, a read-only or uncreatable folder) is an
    :class:`~gankit.files.OutputError` naming it."""
    text = strict_json(result, indent=2) + "\n"
    return write_atomic(path, lambda handle: handle.write(text.encode()))


def read_evaluation(path: str | Path) -> dict[str, Any]:
    """An evaluation written by :func:`write_evaluation`, or a clear error."""
    path = Path(path)
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise EvaluationError(f"{path}: cannot read an evaluation ({err})") from None
    if not isinstance(result, dict) or not {"metrics", "provenance"} <= set(result):
        raise EvaluationError(f"{path}: not a gankit evaluation (no metrics/provenance)")
    return result


_RUN_SPECIFIC = ("run", "checkpoint", "checkpoint_step", "skipped_checkpoints", "python_version")


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
