"""Every metric ``gankit eval`` and the in-training evaluator report, in one table.

A :class:`Metric` is what ``--metrics`` and ``eval.metrics`` name: a summary, the values it
reports and which way each is better (``"lower"``, ``"higher"`` or ``None`` for a
diagnostic with no better side), the run tasks it measures, what its inputs need, and the
function that computes it. Everything else is derived from :data:`REGISTRY`: the names
each task offers, the defaults, the conditional metrics, the values each metric reports
(:data:`VALUES_OF`) and the direction of a value (:func:`direction`) that ``eval.best``
keeps the best checkpoint by.

Sample-quality metrics (tasks ``unconditional`` and ``conditional``) are computed by their
``compute`` from the features of real and generated images in a fixed network
(:class:`Scored`, built by :class:`gankit.metrics.reference.FeatureReference`):

* ``fid``: Fréchet distance between Gaussian fits of the feature sets (Heusel et al. 2017;
  "digits-FID" with a digit classifier in place of Inception-v3);
* ``kid``: the unbiased polynomial-kernel MMD² over subsets (Bińkowski et al. 2018);
* ``pr``: precision and recall of k-NN manifolds (Kynkäänniemi et al. 2019);
* ``dc``: density and coverage (Naeem et al. 2020);
* ``is``: the Inception score of the extractor's class predictions (Salimans et al. 2016;
  extractors with class logits);
* ``classes`` (extractors whose classes are the data's: the digit classifiers, the folder
  evaluator of labelled data): classes found among generated samples, the largest class's
  share and the reverse KL of the class histogram to uniform;
* ``cacc`` (conditional runs, such extractors): conditional accuracy;
* ``cfid`` (conditional runs): per-class FID (also ``class_fid_<label>`` per class);
* ``mem``: the memorisation check against held-out images (never a default).

Translation metrics (tasks ``paired`` and ``unpaired``) need the run itself (its
translations, several dropout draws, both directions), so they have no ``compute`` here:
:mod:`gankit.evaluate_translation` computes them; their names, values and directions live
here all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from gankit.errors import GankitError

if TYPE_CHECKING:
    from torch import Tensor

# The measures are imported by the functions that call them, so that the table (names,
# values, directions) is read without loading torch: the dashboard and config validation
# need only the table. ``inception_score`` and ``memorisation`` are taken from the package,
# whose lazy names they are, since their modules share their names.

Direction = Literal["lower", "higher"]

SAMPLE_TASKS = ("unconditional", "conditional")
"""Tasks whose generator maps noise to samples: measured by sample-quality metrics."""

NEEDS = {
    "data_classes": "an extractor whose class logits are the data's classes (a digit "
    "classifier, or the folder evaluator of labelled data)",
    "logits": "an extractor with class logits (not the self-supervised folder evaluator)",
    "labels": "the labels a conditional generator was asked for (a conditional run)",
    "real_labels": "the labels of the real reference images",
    "train_features": "the run's training images, never the held-out ones (data.split=train)",
    "digit_judge": "a shipped digit classifier for the task's outputs (the digit tasks)",
    "input_labels": "the labels of the inputs (the digit tasks)",
}
"""What a metric's inputs may need, beyond real and generated images."""


class EvaluationError(GankitError, ValueError):
    """A run or a metric that cannot be evaluated as asked."""


@dataclass(frozen=True)
class Scored:
    """What a sample-quality metric is computed from."""

    real: Tensor
    """(N, F) features of the real reference images."""
    fake: Tensor
    """(M, F) features of the generated images."""
    logits: Tensor
    """(M, K) the extractor's class logits of the generated images."""
    seed: int = 0
    """Seeds the random subsets (KID)."""
    labels: Tensor | None = None
    """(M,) the classes a conditional generator was asked for."""
    real_labels: Tensor | None = None
    """(N,) the classes of the real images."""
    train: Tensor | None = None
    """Features of the run's training images."""


@dataclass(frozen=True)
class Metric:
    """One metric as ``--metrics`` and ``eval.metrics`` name it."""

    name: str
    summary: str
    values: Mapping[str, Direction | None]
    """The values it reports, each with the side that is better (None: neither)."""
    tasks: tuple[str, ...]
    """The run tasks it measures."""
    needs: frozenset[str] = field(default_factory=frozenset)
    """Keys of :data:`NEEDS`."""
    default: bool = True
    """Computed when no metrics are named (conditional ones for conditional runs only)."""
    compute: Callable[[Scored], dict[str, float]] | None = None
    """The values from features; None for metrics computed from the run itself."""

    @property
    def conditional(self) -> bool:
        """It measures conditional runs only."""
        return "labels" in self.needs


# -- the sample-quality metrics --------------------------------------------------------------


def _fid(s: Scored) -> dict[str, float]:
    from gankit.metrics.frechet import frechet_distance_features

    return {"fid": frechet_distance_features(s.real, s.fake)}


def _kid(s: Scored) -> dict[str, float]:
    from gankit.metrics.kid import kernel_inception_distance

    return {"kid": kernel_inception_distance(s.real, s.fake, seed=s.seed)[0]}


def _pr(s: Scored) -> dict[str, float]:
    from gankit.metrics.manifold import precision_recall

    precision, recall = precision_recall(s.real, s.fake)
    return {"precision": precision, "recall": recall}


def _dc(s: Scored) -> dict[str, float]:
    from gankit.metrics.manifold import density_coverage

    density, coverage = density_coverage(s.real, s.fake)
    return {"density": density, "coverage": coverage}


def _is(s: Scored) -> dict[str, float]:
    from gankit.metrics import inception_score

    return {"is": inception_score(s.logits)[0]}


def _classes(s: Scored) -> dict[str, float]:
    from gankit.metrics.modes import class_coverage

    coverage = class_coverage(s.logits.argmax(dim=1).cpu(), s.logits.shape[1])
    return {
        "classes_covered": float(coverage.classes_covered),
        "largest_class_share": coverage.largest_share,
        "class_reverse_kl": coverage.reverse_kl,
    }


def _cacc(s: Scored) -> dict[str, float]:
    assert s.labels is not None  # FeatureReference.check refused otherwise
    hits = s.logits.argmax(dim=1).cpu() == s.labels.cpu()
    return {"conditional_accuracy": float(hits.double().mean())}


def _cfid(s: Scored) -> dict[str, float]:
    """FID of each class's generated features against its real ones, and their mean."""
    from gankit.metrics.frechet import frechet_distance_features

    assert s.labels is not None and s.real_labels is not None
    labels, real_labels = s.labels.to(s.fake.device), s.real_labels.to(s.fake.device)
    values = {}
    for label in labels.unique().tolist():
        generated = s.fake[labels == label]
        real = s.real[real_labels == label]
        if len(generated) < 2 or len(real) < 2:
            raise EvaluationError(
                f"per-class FID needs ≥ 2 generated and real images of class {label}; got "
                f"{len(generated)} and {len(real)} (ask for more samples)"
            )
        values[f"class_fid_{label}"] = frechet_distance_features(real, generated)
    values["class_fid_mean"] = sum(values.values()) / len(values)
    return values


def _mem(s: Scored) -> dict[str, float]:
    from gankit.metrics import memorisation

    assert s.train is not None  # FeatureReference.check refused otherwise
    copies = memorisation(s.fake, s.train, s.real)
    return {"memorisation_ratio": copies.ratio, "copy_rate": copies.copy_rate}


REGISTRY: tuple[Metric, ...] = (
    Metric(
        "fid",
        "Fréchet distance between Gaussian fits of real and generated features "
        "(Heusel et al. 2017)",
        {"fid": "lower"},
        SAMPLE_TASKS,
        compute=_fid,
    ),
    Metric(
        "kid",
        "kernel distance: unbiased polynomial-kernel MMD² over subsets (Bińkowski et al. 2018)",
        {"kid": "lower"},
        SAMPLE_TASKS,
        compute=_kid,
    ),
    Metric(
        "pr",
        "precision and recall of k-NN manifolds (Kynkäänniemi et al. 2019)",
        {"precision": "higher", "recall": "higher"},
        SAMPLE_TASKS,
        compute=_pr,
    ),
    Metric(
        "dc",
        "density and coverage (Naeem et al. 2020)",
        {"density": "higher", "coverage": "higher"},
        SAMPLE_TASKS,
        compute=_dc,
    ),
    Metric(
        "is",
        "Inception score of the extractor's class predictions (Salimans et al. 2016)",
        {"is": "higher"},
        SAMPLE_TASKS,
        needs=frozenset({"logits"}),
        compute=_is,
    ),
    Metric(
        "classes",
        "classes found among generated samples, the largest class's share, the reverse "
        "KL of the class histogram to uniform",
        {"classes_covered": "higher", "largest_class_share": "lower", "class_reverse_kl": "lower"},
        SAMPLE_TASKS,
        needs=frozenset({"data_classes"}),
        compute=_classes,
    ),
    Metric(
        "cacc",
        "conditional accuracy: the share of generated images read as the label asked for",
        {"conditional_accuracy": "higher"},
        ("conditional",),
        needs=frozenset({"data_classes", "labels"}),
        compute=_cacc,
    ),
    Metric(
        "cfid",
        "per-class FID, each class's generated images against its real images (also "
        "class_fid_<label>; biased upwards with few real images per class)",
        {"class_fid_mean": "lower"},
        ("conditional",),
        needs=frozenset({"labels", "real_labels"}),
        compute=_cfid,
    ),
    Metric(
        "mem",
        "memorisation check: nearest-training-neighbour distances of generated against "
        "held-out images (ratio of medians, about 1 unless G copies; copy rate)",
        {"memorisation_ratio": None, "copy_rate": "lower"},
        SAMPLE_TASKS,
        needs=frozenset({"train_features"}),
        default=False,
        compute=_mem,
    ),
    # -- translation: computed by gankit.evaluate_translation from the run ------------------
    Metric("l1", "L1 distance of outputs to targets", {"l1": "lower"}, ("paired",)),
    Metric(
        "psnr", "peak signal-to-noise ratio against the targets", {"psnr": "higher"}, ("paired",)
    ),
    Metric(
        "ssim",
        "structural similarity to the targets (scikit-image, 7×7 window)",
        {"ssim": "higher"},
        ("paired",),
    ),
    Metric(
        "sharpness",
        "variance of the Laplacian of the outputs, the targets' as reference",
        {"sharpness": None, "target_sharpness": None},
        ("paired",),
    ),
    Metric(
        "diversity",
        "mean L1 between outputs of one input under different dropout noise",
        {"diversity": None},
        ("paired",),
    ),
    Metric(
        "fid",
        "FID of the outputs against the held-out targets in a digit classifier's features",
        {"fid": "lower"},
        ("paired",),
        needs=frozenset({"digit_judge"}),
    ),
    Metric(
        "labels",
        "share of outputs the digit classifier reads as the input's digit",
        {"label_accuracy": "higher"},
        ("paired",),
        needs=frozenset({"digit_judge", "input_labels"}),
    ),
    Metric(
        "cycle",
        "cycle error ‖F(G(a)) − a‖₁ and ‖G(F(b)) − b‖₁",
        {"cycle_a": "lower", "cycle_b": "lower"},
        ("unpaired",),
    ),
    Metric(
        "fid",
        "FID of each direction's outputs against the other domain's held-out images",
        {"fid_ab": "lower", "fid_ba": "lower"},
        ("unpaired",),
        needs=frozenset({"digit_judge"}),
    ),
    Metric(
        "labels",
        "share of each direction's outputs read as the input's digit, and of the untranslated "
        "inputs (the baseline)",
        {
            "label_accuracy_ab": "higher",
            "label_accuracy_ba": "higher",
            "label_accuracy_ab_unchanged": None,
            "label_accuracy_ba_unchanged": None,
        },
        ("unpaired",),
        needs=frozenset({"digit_judge", "input_labels"}),
    ),
)
"""Every metric, in the order their values are reported."""


def metrics_for(task: str) -> dict[str, Metric]:
    """The metrics that measure runs of ``task``, by name, in :data:`REGISTRY` order."""
    return {metric.name: metric for metric in REGISTRY if task in metric.tasks}


SAMPLE_METRICS: dict[str, Metric] = {m.name: m for m in REGISTRY if m.compute is not None}
"""The sample-quality metrics, computed from features."""
METRICS = tuple(SAMPLE_METRICS)
"""Their names."""
DEFAULT_METRICS = tuple(n for n, m in SAMPLE_METRICS.items() if m.default and not m.conditional)
"""The metrics every run allows: ``cacc`` and ``cfid`` need a conditional run, ``mem`` a run
trained on ``data.split: train``."""
CONDITIONAL_METRICS = tuple(n for n, m in SAMPLE_METRICS.items() if m.conditional)
VALUES_OF = {name: tuple(metric.values) for name, metric in SAMPLE_METRICS.items()}
"""The values each sample-quality metric reports."""
TRANSLATION_METRICS = {task: tuple(metrics_for(task)) for task in ("paired", "unpaired")}
"""The metrics each translation task offers."""


def direction(value: str, task: str = "unconditional") -> Direction | None:
    """Which side of ``value`` (a key a metric of ``task`` reports) is better; None for a
    diagnostic or a value no metric of ``task`` reports."""
    for metric in metrics_for(task).values():
        if value in metric.values:
            return metric.values[value]
    if value.startswith("class_fid_") and task in SAMPLE_TASKS:
        return "lower"  # per-class FID
    return None
