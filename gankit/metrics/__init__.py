"""Metrics of generated samples."""

from gankit.metrics.digits import (
    DigitClassifier,
    DigitClassifierError,
    classifier_info,
    classifier_names,
    heldout_data,
    load_digit_classifier,
)
from gankit.metrics.frechet import feature_statistics, frechet_distance, frechet_distance_features
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kernel_inception_distance
from gankit.metrics.manifold import density_coverage, precision_recall
from gankit.metrics.memorisation import Memorisation, memorisation
from gankit.metrics.modes import (
    PROTOCOL_SAMPLES,
    PROTOCOL_THRESHOLD,
    ClassCoverage,
    ModeCoverage,
    class_coverage,
    mode_coverage,
    reverse_kl_to_uniform,
)

__all__ = [
    "PROTOCOL_SAMPLES",
    "PROTOCOL_THRESHOLD",
    "ClassCoverage",
    "DigitClassifier",
    "DigitClassifierError",
    "Memorisation",
    "ModeCoverage",
    "class_coverage",
    "classifier_info",
    "classifier_names",
    "density_coverage",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_features",
    "heldout_data",
    "inception_score",
    "kernel_inception_distance",
    "load_digit_classifier",
    "memorisation",
    "mode_coverage",
    "precision_recall",
    "reverse_kl_to_uniform",
]
