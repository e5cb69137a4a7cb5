"""gankit eval: metrics of a run in the shipped classifier's feature space, with provenance."""

import json

import pytest
import torch
from safetensors.torch import save_file

import gankit
from gankit.data import build_source
from gankit.data.images import Digits8x8Options
from gankit.data.splits import HELDOUT_PER_CLASS
from gankit.evaluate import (
    EvaluationError,
    evaluate,
    provenance_differences,
    read_evaluation,
    write_evaluation,
)
from gankit.metrics.digits import classifier_info, heldout_data, scale_images
from gankit.metrics.inception import synthetic_weights

TINY_DIGITS = {
    "data.name": "digits8x8",
    "generator.width": 16,
    "discriminator.width": 16,
    "train.batch_size": 32,
    "train.steps": 20,
    "log.every": 10,
    "samples.every": 0,
    "log.tensorboard": False,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "digits"
    return gankit.train("dcgan-digits8x8", TINY_DIGITS, run_dir=path, progress=False)


def test_same_run_evaluated_twice_gives_identical_numbers(digits_run):
    first = evaluate(digits_run.path, samples=200, seeds=(0, 1))
    second = evaluate(digits_run.path, samples=200, seeds=(0, 1))
    assert first["metrics"] == second["metrics"]
    metrics = first["metrics"]
    assert {"fid", "kid", "precision", "recall", "density", "coverage", "is"} <= set(metrics)
    assert metrics["fid"]["mean"] > 0 and len(metrics["fid"]["values"]) == 2
    assert 1 <= metrics["classes_covered"]["mean"] <= 10
    assert 1.0 <= metrics["is"]["mean"] <= 10.0


def test_provenance_is_written_and_differences_are_named(digits_run, tmp_path):
    result = evaluate(digits_run.path, ["fid"], samples=100)
    provenance = result["provenance"]
    assert len(provenance["extractor_sha256"]) == 64
    assert provenance["real"]["count"] > 0 and provenance["generated"]["count_per_seed"] == 100
    assert provenance["torch_version"] and provenance["gankit_version"] == gankit.__version__
    path = write_evaluation(result, tmp_path / "eval.json")
    assert read_evaluation(path) == json.loads(path.read_text())
    other = evaluate(digits_run.path, ["fid"], samples=150)
    assert provenance_differences(result, result) == []
    differences = provenance_differences(result, other)
    assert len(differences) == 1 and differences[0].startswith("generated:")


def test_bad_requests_are_refused(digits_run, tmp_path):
    with pytest.raises(EvaluationError, match="unknown metric"):
        evaluate(digits_run.path, ["fid", "nope"])
    ring = gankit.train(
        "ring-2d",
        {"train.steps": 2, "device": "cpu", "samples.every": 0},
        run_dir=tmp_path / "r",
        progress=False,
    )
    with pytest.raises(EvaluationError, match="no feature extractor for data 'ring'"):
        evaluate(ring.path)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(EvaluationError, match="cannot read an evaluation"):
        read_evaluation(tmp_path / "bad.json")


@pytest.fixture(scope="module")
def train_split_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "train-split"
    overrides = {**TINY_DIGITS, "data.split": "train", "train.steps": 2}
    return gankit.train("dcgan-digits8x8", overrides, run_dir=path, progress=False)


def _sampler_of(images):
    """A stand-in for G that returns ``images`` (uint8) scaled to [−1, 1], first n of them."""
    return lambda n, seed=0, label=None: scale_images(images[:n])


def test_memorisation_tells_a_copier_from_a_generator_of_new_digits(train_split_run):
    run = gankit.load(train_split_run.path)
    run.sample = _sampler_of(run.source.images)  # copies its training set
    copier = evaluate(run, ["mem"], samples=300)["metrics"]
    assert copier["memorisation_ratio"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert copier["copy_rate"]["mean"] == 1.0
    run.sample = _sampler_of(build_source(Digits8x8Options(split="heldout")).images)
    fresh = evaluate(run, ["mem"], samples=300)["metrics"]
    # the held-out digits themselves: by construction the ratio is 1 and 1 % fall below
    # the 1st percentile of their own distances
    assert fresh["memorisation_ratio"]["mean"] == pytest.approx(1.0, abs=0.05)
    assert fresh["copy_rate"]["mean"] == pytest.approx(0.01, abs=0.01)


def test_memorisation_needs_a_run_that_never_saw_the_heldout_digits(digits_run, tmp_path):
    with pytest.raises(EvaluationError, match="data.split=train"):
        evaluate(digits_run.path, ["fid", "mem"])
    with pytest.raises(ValueError, match="data.split=train"):
        gankit.train(
            "dcgan-digits8x8",
            {**TINY_DIGITS, "eval.metrics": ["mem"], "eval.best": None},
            run_dir=tmp_path / "refused",
            progress=False,
        )


@pytest.mark.slow
def test_the_inception_extractor_measures_against_the_heldout_split(tmp_path):
    overrides = {**TINY_DIGITS, "data.split": "train", "data.classes": [0], "train.steps": 2}
    run = gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "r", progress=False)
    weights = tmp_path / "synthetic.safetensors"
    save_file(synthetic_weights(0), str(weights))
    result = evaluate(run.path, samples=10, extractor="inception", inception_weights=weights)
    provenance = result["provenance"]
    assert provenance["real"] == {
        "source": "digits8x8",
        "split": "held-out split (data.split=heldout)",
        "count": HELDOUT_PER_CLASS["digits8x8"],
    }
    assert provenance["feature_dim"] == 2048 and not provenance["extractor_standard_weights"]
    assert set(result["metrics"]) == {
        "fid",
        "kid",
        "precision",
        "recall",
        "density",
        "coverage",
        "is",
    }
    assert result["metrics"]["fid"]["mean"] > 0
    with pytest.raises(EvaluationError, match="needs a digit classifier"):
        evaluate(run.path, ["classes"], extractor="inception", inception_weights=weights)
    with pytest.raises(EvaluationError, match="unknown extractor 'vgg'"):
        evaluate(run.path, extractor="vgg")


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "conditional"
    overrides = {**TINY_DIGITS, "task": "conditional", "train.steps": 2}
    return gankit.train("dcgan-digits8x8", overrides, run_dir=path, progress=False)


def test_conditional_accuracy_of_a_perfect_conditional_generator_is_the_classifiers(
    conditional_run,
):
    run = gankit.load(conditional_run.path)
    images, labels = heldout_data("digits8x8")
    order = torch.argsort(labels, stable=True)  # 36 of each digit, in label order
    assert torch.equal(run.labels_for(360), labels[order])
    run.sample = lambda n, seed=0, label=None: scale_images(images[order][:n])
    metrics = evaluate(run, samples=360)["metrics"]
    recorded = classifier_info("digits8x8")["heldout_accuracy"]
    assert metrics["conditional_accuracy"]["mean"] == pytest.approx(recorded, abs=1e-12)
    assert metrics["class_fid_mean"]["mean"] == pytest.approx(0.0, abs=1e-6)  # real = real
    assert {f"class_fid_{k}" for k in range(10)} <= set(metrics)


def test_conditional_metrics_need_a_conditional_run(digits_run):
    with pytest.raises(EvaluationError, match="cacc measure a conditional run"):
        evaluate(digits_run.path, ["fid", "cacc"])
