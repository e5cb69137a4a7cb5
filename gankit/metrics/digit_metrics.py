"""Sample-quality metrics of generated digits in the shipped classifier's feature space.

A :class:`DigitReference` holds the features of the classifier's held-out digits (real
images it never trained on) and scores generated images against them; ``gankit eval`` and
the in-training evaluator share it, so both compute the same numbers the same way.

* ``fid``: Fréchet distance between Gaussian fits of the feature sets ("digits-FID";
  Heusel et al. 2017 with a digit classifier in place of Inception-v3);
* ``kid``: the unbiased polynomial-kernel MMD² over subsets (Bińkowski et al. 2018);
* ``pr``: precision and recall of k-NN manifolds (Kynkäänniemi et al. 2019);
* ``dc``: density and coverage (Naeem et al. 2020);
* ``is``: the Inception-style score of the classifier's predictions (Salimans et al. 2016);
* ``classes``: digit classes found among generated samples, the largest class's share and
  the reverse KL of the class histogram to uniform.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.metrics.digits import (
    DigitClassifier,
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

METRICS = ("fid", "kid", "pr", "dc", "is", "classes")
VALUES_OF = {
    "fid": ("fid",),
    "kid": ("kid",),
    "pr": ("precision", "recall"),
    "dc": ("density", "coverage"),
    "is": ("is",),
    "classes": ("classes_covered", "largest_class_share", "class_reverse_kl"),
}
"""The values each metric reports."""
DIGIT_SOURCES = {"mnist5k": 28, "digits8x8": 8}
_BATCH = 500


class EvaluationError(GankitError, ValueError):
    """A run or a metric that cannot be evaluated as asked."""


def check_metrics(metrics: Iterable[str]) -> list[str]:
    """The metric names, de-duplicated in order; unknown ones are refused."""
    chosen = list(dict.fromkeys(metrics))
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise EvaluationError(
            f"unknown metric(s) {', '.join(unknown) or '(none given)'}; choose from "
            f"{', '.join(METRICS)}"
        )
    return chosen


def classifier_for(data: Any) -> str:
    """The shipped classifier that can judge samples of the data options ``data``."""
    name = getattr(data, "name", "")
    if name not in DIGIT_SOURCES:
        raise EvaluationError(
            f"no feature extractor for data '{name}': sample-quality metrics measure runs on "
            f"the embedded digits ({', '.join(DIGIT_SOURCES)}) with the shipped classifiers"
        )
    size, classes = getattr(data, "size", None), getattr(data, "classes", None)
    if size not in (None, DIGIT_SOURCES[name]) or classes is not None:
        side = DIGIT_SOURCES[name]
        raise EvaluationError(
            f"the shipped '{name}' classifier judges all ten digits at {side}×{side}; this run "
            f"uses size={size}, classes={classes}"
        )
    return name


class DigitReference:
    """The held-out digits of one shipped classifier, ready to score generated images."""

    def __init__(self, name: str, device: torch.device | str = "cpu") -> None:
        self.name = name
        self.info = classifier_info(name)
        self.classifier: DigitClassifier = load_digit_classifier(name, device=device)
        real = scale_images(heldout_data(name)[0]).to(device)
        self.real_count = len(real)
        self.real_features, _ = self.features_and_logits(real)

    @torch.no_grad()
    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Penultimate features and logits of ``images`` in [−1, 1], in batches."""
        batches = images.float().split(_BATCH)
        features = torch.cat([self.classifier.features(batch) for batch in batches])
        logits = torch.cat([self.classifier(batch) for batch in batches])
        return features, logits

    def measure(self, images: Tensor, metrics: list[str], seed: int = 0) -> dict[str, float]:
        """Every value of ``metrics`` for generated ``images`` (KID's subsets from ``seed``)."""
        fake, logits = self.features_and_logits(images)
        real = self.real_features
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
            values["is"] = inception_score(logits)[0]
        if "classes" in metrics:
            coverage = class_coverage(logits.argmax(dim=1).cpu(), logits.shape[1])
            values["classes_covered"] = float(coverage.classes_covered)
            values["largest_class_share"] = coverage.largest_share
            values["class_reverse_kl"] = coverage.reverse_kl
        return values

    def provenance(self) -> dict[str, Any]:
        """How the numbers are computed: extractor, its weights, the real reference."""
        return {
            "extractor": f"gankit digit classifier '{self.name}'",
            "extractor_sha256": self.info["sha256"],
            "feature_dim": int(self.real_features.shape[1]),
            "resize": "none",
            "real": {
                "source": self.name,
                "split": f"held-out split of the classifier (seed {self.info['split']['seed']})",
                "count": self.real_count,
            },
        }
