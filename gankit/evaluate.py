"""Evaluate a trained run: sample-quality metrics in a classifier's feature space, each value
written with how it was computed.

For runs on the embedded digits (``mnist5k`` at 28×28, ``digits8x8`` at 8×8) the features
are those of gankit's shipped digit classifier (:mod:`gankit.metrics.digits`), and the real
reference set is that classifier's held-out split, which it never trained on:

* ``fid``: Fréchet distance between Gaussian fits of the two feature sets ("digits-FID";
  Heusel et al. 2017 with a digit classifier in place of Inception-v3);
* ``kid``: the unbiased polynomial-kernel MMD² over subsets (Bińkowski et al. 2018);
* ``pr``: precision and recall of k-NN manifolds (Kynkäänniemi et al. 2019);
* ``dc``: density and coverage (Naeem et al. 2020);
* ``is``: the Inception-style score of the classifier's predictions (Salimans et al. 2016);
* ``classes``: how many digit classes the classifier finds among generated samples, the
  largest class's share and the reverse KL of the class histogram to uniform.

Each metric is computed for every z seed asked for and reported as mean ± std over seeds.
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
from torch import Tensor

from gankit import __version__
from gankit.api import Run, load
from gankit.errors import GankitError
from gankit.metrics.digits import (
    classifier_info,
    heldout_data,
    load_digit_classifier,
    scale_images,
)
from gankit.metrics.frechet import frechet_distance_features
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kernel_inception_distance
from gankit.metrics.manifold import density_coverage, precision_recall
from gankit.metrics.modes import class_coverage
from gankit.train.rundir import write_text_atomic

METRICS = ("fid", "kid", "pr", "dc", "is", "classes")
EVAL_FILE = "eval.json"
_DIGIT_SOURCES = {"mnist5k": 28, "digits8x8": 8}
_BATCH = 500


class EvaluationError(GankitError, ValueError):
    """A run or a metric that cannot be evaluated as asked."""


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
    metrics = _check_metrics(metrics)
    if not seeds:
        raise EvaluationError("give at least one seed")
    if not isinstance(run, Run):
        run = load(run)
    name = _digit_source_name(run)
    classifier = load_digit_classifier(name)
    info = classifier_info(name)
    real = scale_images(heldout_data(name)[0])  # real digits the classifier never saw
    count = samples or len(real)
    if count < 10:
        raise EvaluationError(f"samples must be at least 10, got {count}")
    real_features, _ = _features_and_logits(classifier, real)
    per_seed: dict[str, list[float]] = {}
    for seed in seeds:
        fake_features, fake_logits = _features_and_logits(classifier, run.sample(count, seed))
        values = _metric_values(metrics, real_features, fake_features, fake_logits, seed)
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
        "extractor": f"gankit digit classifier '{name}'",
        "extractor_sha256": info["sha256"],
        "feature_dim": int(real_features.shape[1]),
        "image_size": list(run.source.shape),
        "resize": "none",
        "real": {
            "source": name,
            "split": f"held-out split of the classifier (seed {info['split']['seed']})",
            "count": len(real),
        },
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


def _metric_values(
    metrics: list[str], real: Tensor, fake: Tensor, fake_logits: Tensor, seed: int
) -> dict[str, float]:
    values: dict[str, float] = {}
    if "fid" in metrics:
        values["fid"] = frechet_distance_features(real, fake)
    if "kid" in metrics:
        values["kid"] = kernel_inception_distance(real, fake, seed=seed)[0]
    if "pr" in metrics:
        values["precision"], values["recall"] = precision_recall(real, fake)
    if "dc" in metrics:
        values["density"], values["coverage"] = density_coverage(real, fake)
    if "is" in metrics:
        values["is"] = inception_score(fake_logits)[0]
    if "classes" in metrics:
        coverage = class_coverage(fake_logits.argmax(dim=1), fake_logits.shape[1])
        values["classes_covered"] = float(coverage.classes_covered)
        values["largest_class_share"] = float(coverage.largest_share)
        values["class_reverse_kl"] = float(coverage.reverse_kl)
    return values


@torch.no_grad()
def _features_and_logits(classifier: torch.nn.Module, images: Tensor) -> tuple[Tensor, Tensor]:
    """Penultimate features and logits, in batches, on the CPU."""
    batches = images.float().split(_BATCH)
    features = torch.cat([classifier.features(batch) for batch in batches])
    logits = torch.cat([classifier(batch) for batch in batches])
    return features, logits


def _digit_source_name(run: Run) -> str:
    data = run.config.data
    name = getattr(data, "name", "")
    if name not in _DIGIT_SOURCES:
        raise EvaluationError(
            f"no feature extractor for data '{name}': gankit eval measures runs on the "
            f"embedded digits ({', '.join(_DIGIT_SOURCES)}) with its shipped classifiers"
        )
    size = getattr(data, "size", None)
    if size not in (None, _DIGIT_SOURCES[name]) or getattr(data, "classes", None) is not None:
        raise EvaluationError(
            f"the shipped '{name}' classifier sees all ten digits at "
            f"{_DIGIT_SOURCES[name]}×{_DIGIT_SOURCES[name]}; this run uses "
            f"size={size}, classes={getattr(data, 'classes', None)}"
        )
    return name


def _check_metrics(metrics: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(metrics))
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise EvaluationError(
            f"unknown metric(s) {', '.join(unknown) or '(none given)'}; choose from "
            f"{', '.join(METRICS)}"
        )
    return chosen
