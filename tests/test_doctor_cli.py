"""Diagnosis of real runs made to fail by configuration alone, and of healthy presets:
the verdicts the training process writes to metrics.jsonl, and ``gankit doctor RUN``."""

import json

import pytest

import gankit
from gankit.cli import main
from gankit.train.rundir import RunDir
from gankit.train.trainer import TrainingDiverged
from tests.train.tiny import TINY_RING

RING = {**TINY_RING, "checkpoint.every": 0}
DIGITS = {
    "generator.width": 16,
    "discriminator.width": 16,
    "log.every": 10,
    "samples.every": 0,
    "log.tensorboard": False,
    "device": "cpu",
    "checkpoint.every": 0,
}


def verdicts(run_dir):
    events = RunDir(run_dir).read_metrics(kinds=("event",))
    return [(e["code"], e["severity"], e["step"]) for e in events if e["event"] == "diagnosis"]


def first_step(found, code):
    return next(step for c, _, step in found if c == code)


def test_minimax_with_a_10x_faster_d_is_named_d_overpowers_g_within_150_steps(tmp_path, capsys):
    overrides = {**RING, "train.steps": 150, "objective.name": "minimax"}
    overrides["train.d_optimizer.lr"] = 0.002  # 10× G's 2e-4
    gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False)
    assert first_step(verdicts(tmp_path / "run"), "d_overpowers_g") <= 150
    assert main(["doctor", str(tmp_path / "run")]) == 1
    assert "d_overpowers_g" in capsys.readouterr().out


def test_a_huge_learning_rate_is_named_divergence_at_once(tmp_path, capsys):
    overrides = {**RING, "train.steps": 100}
    overrides |= {"train.g_optimizer.lr": 1000.0, "train.d_optimizer.lr": 1000.0}
    with pytest.raises(TrainingDiverged):
        gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False)
    assert verdicts(tmp_path / "run") == [("divergence", "failed", 5)]
    assert main(["doctor", str(tmp_path / "run"), "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert report["severity"] == "failed"
    assert report["verdicts"][0]["code"] == "divergence"


def test_wgan_without_a_lipschitz_constraint_is_named_within_100_steps(tmp_path):
    overrides = {**RING, "train.steps": 100, "objective.name": "wasserstein"}
    overrides |= {"train.d_steps": 5, "train.d_optimizer.lr": 0.001, "discriminator.width": 64}
    gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False)
    assert first_step(verdicts(tmp_path / "run"), "critic_not_lipschitz") <= 100
    assert main(["doctor", str(tmp_path / "run")]) == 3


HEALTHY = [
    ("ring-2d", {**RING, "train.steps": 400}),
    ("dcgan-digits8x8", {**DIGITS, "train.steps": 300}),
]


@pytest.mark.parametrize(("preset", "overrides"), HEALTHY, ids=[p for p, _ in HEALTHY])
def test_healthy_presets_give_no_warnings(tmp_path, preset, overrides, capsys):
    gankit.train(preset, {**overrides, "seed": 0}, run_dir=tmp_path / "run", progress=False)
    assert verdicts(tmp_path / "run") == []
    assert main(["doctor", str(tmp_path / "run")]) == 0
    assert "healthy" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("preset", "overrides"), HEALTHY, ids=[p for p, _ in HEALTHY])
def test_healthy_presets_give_no_warnings_on_other_seeds(tmp_path, preset, overrides, seed):
    gankit.train(preset, {**overrides, "seed": seed}, run_dir=tmp_path / "run", progress=False)
    assert verdicts(tmp_path / "run") == []


def test_the_diversity_statistic_is_logged(tmp_path):
    gankit.train("ring-2d", {**RING, "train.steps": 40}, run_dir=tmp_path / "run", progress=False)
    training = RunDir(tmp_path / "run").read_metrics(kinds=("train",))
    assert [r["step"] for r in training if "sample_diversity" in r] == [5, 25]


def test_diagnosis_can_be_switched_off(tmp_path):
    overrides = {**RING, "train.steps": 10, "log.diagnosis": False}
    gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False)
    training = RunDir(tmp_path / "run").read_metrics(kinds=("train",))
    assert not any("sample_diversity" in r for r in training)


def test_bad_input_is_one_error_line_and_status_2(tmp_path, capsys):
    assert main(["doctor", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.yaml").write_text("seed: 0\n")
    assert main(["doctor", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
