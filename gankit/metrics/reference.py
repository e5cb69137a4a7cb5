"""Sample-quality metrics of generated images against a real reference set, in the feature
space of a fixed network.

A :class:`FeatureReference` holds an extractor and the features of real images, and scores
generated images against them; ``gankit eval`` and the in-training evaluator share it, so
both compute the same numbers the same way. Three extractors exist:

* the shipped digit classifiers (:func:`digit_reference`), whose real set is the
  classifier's held-out digits — "digits-FID" and the other metrics on MNIST-like data;
* the FID Inception-v3 (:class:`gankit.metrics.inception.InceptionExtractor`), the
  standard FID's network, from the weights file ``gankit download inception`` fetches;
* the folder evaluator (:mod:`gankit.metrics.folder_evaluator`), trained once on a run's
  own images, whose real set is its held-out split.

What a reference can compute depends on its extractor: :meth:`FeatureReference.applicable`
says which metrics apply and why the others do not.

The metrics themselves — names, values, directions, what they need, how they are computed —
are the sample-quality entries of :mod:`gankit.metrics.registry`. ``cfid``'s mean over
classes is ``class_fid_mean``; with 36–100 real images per class it is biased upwards,
comparable only at equal counts. ``mem`` needs a run trained on ``data.split: train``,
which never saw the held-out digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import torch
from torch import Tensor

from gankit.metrics.digits import (
    DigitClassifier,
    classifier_info,
    heldout_data,
    load_digit_classifier,
    scale_images,
)
from gankit.metrics.registry import (
    METRICS,
    NEEDS,
    SAMPLE_METRICS,
    EvaluationError,
    Scored,
)

DIGIT_SOURCES = {"mnist5k": 28, "digits8x8": 8}
_BATCH = 500


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


def classifier_for(data: Any, metrics: Iterable[str] = ()) -> str:
    """The shipped classifier that can judge samples of the data options ``data`` on
    ``metrics``."""
    name = getattr(data, "name", "")
    if name not in DIGIT_SOURCES:
        raise EvaluationError(
            f"no feature extractor for data '{name}' among the shipped digit classifiers, "
            f"which judge the embedded digits ({', '.join(DIGIT_SOURCES)}); `gankit eval "
            "--extractor folder` (trained on the run's own images) or `inception` measures "
            "other images"
        )
    size, classes = getattr(data, "size", None), getattr(data, "classes", None)
    if size not in (None, DIGIT_SOURCES[name]) or classes is not None:
        side = DIGIT_SOURCES[name]
        raise EvaluationError(
            f"the shipped '{name}' classifier judges all ten digits at {side}×{side}; this run "
            f"uses size={size}, classes={classes}"
        )
    split = getattr(data, "split", "all")
    if split == "heldout":
        raise EvaluationError(
            f"this run trained on the held-out '{name}' digits, the evaluation's reference "
            "set: its metrics would compare G with its own training data"
        )
    if "mem" in metrics and split != "train":
        raise EvaluationError(
            "the memorisation check compares generated digits with held-out digits the "
            f"generator never saw; this run trained on data.split={split}, which includes "
            "them: train with data.split=train"
        )
    return name


class FeatureExtractor(Protocol):
    """What a :class:`FeatureReference` needs of its network."""

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Features (N, F) and class logits (N, K) of images in [−1, 1]."""
        ...

    def provenance(self) -> dict[str, Any]:
        """Extractor name, weights hash, feature dimension and resize method."""
        ...


class DigitExtractor:
    """A shipped digit classifier as a feature extractor: penultimate features and logits."""

    def __init__(self, name: str, device: torch.device | str = "cpu") -> None:
        self.name = name
        self.info = classifier_info(name)
        self.classifier: DigitClassifier = load_digit_classifier(name, device=device)
        self.device = torch.device(device)

    @torch.no_grad()
    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Penultimate features and logits of ``images`` in [−1, 1], in batches."""
        batches = images.float().to(self.device).split(_BATCH)
        features = torch.cat([self.classifier.features(batch) for batch in batches])
        return features, self.classifier.head(features)

    def provenance(self) -> dict[str, Any]:
        return {
            "extractor": f"gankit digit classifier '{self.name}'",
            "extractor_sha256": self.info["sha256"],
            "feature_dim": self.info["architecture"]["feature_dim"],
            "resize": "none",
        }


class FeatureReference:
    """Real images seen through an extractor, ready to score generated images.

    ``real`` describes the real set for the provenance; ``train_images`` (the run's training
    set, in [−1, 1]) are needed by the ``mem`` metric only; ``data_classes`` says whether
    the extractor's logits are the classes of the data (for the ``classes`` and ``cacc``
    metrics); an extractor whose logits are (N, 0) has none (for ``is``)."""

    def __init__(
        self,
        extractor: FeatureExtractor,
        real_images: Tensor,
        real: dict[str, Any],
        train_images: Tensor | None = None,
        data_classes: bool = False,
        real_labels: Tensor | None = None,
    ) -> None:
        self.extractor = extractor
        self.real_labels = real_labels
        self.real = {**real, "count": len(real_images)}
        self.real_count = len(real_images)
        self.real_features, real_logits = extractor.features_and_logits(real_images)
        self.train_features: Tensor | None = None
        if train_images is not None:
            self.train_features = extractor.features_and_logits(train_images)[0]
        self.data_classes = data_classes
        self.logits = real_logits.shape[1] > 0

    def _missing(self, need: str) -> bool:
        """Whether this reference lacks ``need`` (a key of :data:`NEEDS`; the generated
        labels are checked apart)."""
        return {
            "data_classes": not self.data_classes,
            "logits": not self.logits,
            "real_labels": self.real_labels is None,
            "train_features": self.train_features is None,
        }.get(need, False)

    def applicable(
        self, metrics: Iterable[str], labelled: bool = False
    ) -> tuple[list[str], dict[str, str]]:
        """``metrics`` split into those this reference computes and, for each other one,
        why not (``labelled``: the generated images come with the labels they were asked
        for, as a conditional run's do)."""
        kept: list[str] = []
        skipped: dict[str, str] = {}
        for name in metrics:
            metric = SAMPLE_METRICS[name]
            unmet = [need for need in sorted(metric.needs) if self._missing(need)]
            if metric.conditional and not labelled:
                skipped[name] = "it measures a conditional run (task=conditional)"
            elif unmet:
                skipped[name] = f"it needs {NEEDS[unmet[0]]}"
            else:
                kept.append(name)
        return kept, skipped

    def check(self, metrics: Iterable[str], labelled: bool = False) -> None:
        """Refuse metrics this reference cannot compute (``labelled``: the generated images
        come with the labels they were asked for)."""
        chosen = [metric for name, metric in SAMPLE_METRICS.items() if name in metrics]
        for metric in chosen:
            if "data_classes" in metric.needs and not self.data_classes:
                raise EvaluationError(
                    f"the {metric.name} metric needs a digit classifier (or the folder "
                    "evaluator of labelled data) as extractor"
                )
        conditional = [metric.name for metric in chosen if metric.conditional]
        if conditional and not labelled:
            raise EvaluationError(
                f"{', '.join(conditional)} measure a conditional run (task=conditional)"
            )
        for metric in chosen:
            for need in sorted(metric.needs):
                if self._missing(need):
                    raise EvaluationError(f"the {metric.name} metric needs {NEEDS[need]}")

    def measure(
        self, images: Tensor, metrics: list[str], seed: int = 0, labels: Tensor | None = None
    ) -> dict[str, float]:
        """Every value of ``metrics`` for generated ``images`` (KID's subsets from ``seed``;
        ``labels``: the classes a conditional G was asked for)."""
        self.check(metrics, labelled=labels is not None)
        fake, logits = self.extractor.features_and_logits(images)
        scored = Scored(
            self.real_features,
            fake,
            logits,
            seed,
            labels,
            self.real_labels,
            self.train_features,
        )
        values: dict[str, float] = {}
        for name, metric in SAMPLE_METRICS.items():  # in the registry's order
            if name in metrics:
                assert metric.compute is not None
                values.update(metric.compute(scored))
        return values

    def provenance(self) -> dict[str, Any]:
        """How the numbers are computed: extractor, its weights, the real reference."""
        train = {} if self.train_features is None else {"train_count": len(self.train_features)}
        return {**self.extractor.provenance(), "real": self.real, **train}


def digit_reference(
    name: str, device: torch.device | str = "cpu", train_images: Tensor | None = None
) -> FeatureReference:
    """The held-out digits of the shipped classifier ``name`` as reference; ``train_images``
    (uint8) for the ``mem`` metric."""
    extractor = DigitExtractor(name, device)
    split = extractor.info["split"]
    images, labels = heldout_data(name)
    return FeatureReference(
        extractor,
        scale_images(images),
        {
            "source": name,
            "split": f"held-out split of the classifier (seed {split['seed']})",
        },
        None if train_images is None else scale_images(train_images),
        data_classes=True,
        real_labels=labels,
    )
