"""The metric registry: one entry per metric, every other table derived from it."""

import pytest
import torch

from gankit.config import ConfigError, resolve
from gankit.metrics.registry import (
    CONDITIONAL_METRICS,
    DEFAULT_METRICS,
    METRICS,
    NEEDS,
    REGISTRY,
    SAMPLE_METRICS,
    TRANSLATION_METRICS,
    VALUES_OF,
    Scored,
    direction,
    metrics_for,
)


def test_the_derived_tables_are_those_gankit_always_had():
    assert METRICS == ("fid", "kid", "pr", "dc", "is", "classes", "cacc", "cfid", "mem")
    assert DEFAULT_METRICS == ("fid", "kid", "pr", "dc", "is", "classes")
    assert CONDITIONAL_METRICS == ("cacc", "cfid")
    assert VALUES_OF == {
        "fid": ("fid",),
        "kid": ("kid",),
        "pr": ("precision", "recall"),
        "dc": ("density", "coverage"),
        "is": ("is",),
        "classes": ("classes_covered", "largest_class_share", "class_reverse_kl"),
        "cacc": ("conditional_accuracy",),
        "cfid": ("class_fid_mean",),
        "mem": ("memorisation_ratio", "copy_rate"),
    }
    assert TRANSLATION_METRICS == {
        "paired": ("l1", "psnr", "ssim", "sharpness", "diversity", "fid", "labels"),
        "unpaired": ("cycle", "fid", "labels"),
    }
    assert tuple(metrics_for("unconditional")) == ("fid", "kid", "pr", "dc", "is", "classes", "mem")
    assert tuple(metrics_for("conditional")) == METRICS


def test_directions():
    lower = ("fid", "kid", "largest_class_share", "class_reverse_kl", "class_fid_mean", "copy_rate")
    higher = ("precision", "recall", "density", "coverage", "is", "classes_covered")
    assert {direction(v) for v in lower} == {"lower"}
    assert {direction(v) for v in higher} == {"higher"}
    assert direction("conditional_accuracy", "conditional") == "higher"
    assert direction("class_fid_3") == "lower"
    assert direction("memorisation_ratio") is None  # about 1 unless G copies: no better side
    assert direction("no such value") is None
    assert direction("psnr", "paired") == "higher" and direction("cycle_a", "unpaired") == "lower"


def test_entries_are_well_formed():
    for metric in REGISTRY:
        assert metric.values and metric.tasks and metric.summary
        assert set(metric.needs) <= set(NEEDS), metric.name
        assert set(metric.values.values()) <= {"lower", "higher", None}, metric.name
    for task in ("unconditional", "conditional", "paired", "unpaired"):
        names = [m.name for m in REGISTRY if task in m.tasks]
        assert len(names) == len(set(names)), task  # one metric per name and task


def test_each_compute_reports_exactly_its_values():
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(60, 4, generator=generator, dtype=torch.float64)
    fake = torch.randn(50, 4, generator=generator, dtype=torch.float64) + 0.3
    scored = Scored(
        real,
        fake,
        torch.randn(50, 10, generator=generator),
        seed=1,
        labels=torch.arange(50) % 2,
        real_labels=torch.arange(60) % 2,
        train=torch.randn(80, 4, generator=generator, dtype=torch.float64),
    )
    for name, metric in SAMPLE_METRICS.items():
        values = metric.compute(scored)
        extra = {"class_fid_0", "class_fid_1"} if name == "cfid" else set()
        assert set(values) == set(metric.values) | extra, name
        assert all(isinstance(v, float) for v in values.values()), name


def test_best_must_have_a_better_side():
    overrides = {
        "eval.every": 5,
        "eval.metrics": ["fid", "mem"],
        "eval.best": "memorisation_ratio",
        "data.split": "train",
    }
    with pytest.raises(ConfigError, match="best='memorisation_ratio' has no better side"):
        resolve("dcgan-digits8x8", overrides)
    config = resolve("dcgan-digits8x8", {**overrides, "eval.best": "copy_rate"})
    assert config.eval.best == "copy_rate"
