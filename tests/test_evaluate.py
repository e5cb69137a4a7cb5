"""gankit eval: metrics of a run in the shipped classifier's feature space, with provenance."""

import json

import pytest

import gankit
from gankit.evaluate import (
    EvaluationError,
    evaluate,
    provenance_differences,
    read_evaluation,
    write_evaluation,
)

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
