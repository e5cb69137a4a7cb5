"""The in-training evaluator: eval/<metric> records, the best checkpoint, exact resume."""

import json

import pytest
import torch

import gankit
from gankit.config import ConfigError, resolve

EVAL_DIGITS = {
    "data.name": "digits8x8",
    "generator.width": 16,
    "discriminator.width": 16,
    "train.batch_size": 32,
    "train.steps": 12,
    "log.every": 4,
    "samples.every": 0,
    "checkpoint.every": 6,
    "log.tensorboard": False,
    "device": "cpu",
    "eval.every": 4,
    "eval.samples": 100,
    "eval.metrics": ["fid", "classes"],
}


def _eval_records(run):
    return [r for r in run.metrics() if "eval/fid" in r]


def test_metrics_are_logged_and_the_best_checkpoint_is_kept(tmp_path):
    run = gankit.train("dcgan-digits8x8", EVAL_DIGITS, run_dir=tmp_path / "run", progress=False)
    records = _eval_records(run)
    assert [r["step"] for r in records] == [4, 8, 12]
    assert all(r["eval/fid"] > 0 and 1 <= r["eval/classes_covered"] <= 10 for r in records)
    best = json.loads((run.path / "best.json").read_text())
    fids = {r["step"]: r["eval/fid"] for r in records}
    assert best["metric"] == "fid" and best["value"] == min(fids.values())
    assert best["step"] == min(fids, key=fids.get)
    loaded = gankit.load(run.path, checkpoint=run.path / "checkpoints" / "best")
    assert loaded.step == best["step"]


def test_resumed_run_logs_the_same_evaluations(tmp_path):
    whole = gankit.train("dcgan-digits8x8", EVAL_DIGITS, run_dir=tmp_path / "a", progress=False)
    part = gankit.train(
        "dcgan-digits8x8", EVAL_DIGITS, run_dir=tmp_path / "b", progress=False, until_step=6
    )
    resumed = gankit.resume(part.path, progress=False)
    assert _eval_records(resumed) == _eval_records(whole)
    for name, value in whole.generator.state_dict().items():
        assert torch.equal(value, resumed.generator.state_dict()[name]), name


def test_evaluation_of_data_without_a_classifier_is_refused_at_config_time():
    with pytest.raises(ConfigError, match="no feature extractor for data 'ring'"):
        resolve("ring-2d", ["eval.every=5"])
    with pytest.raises(ConfigError, match="best='recall' is not among the values computed"):
        resolve("dcgan-digits8x8", ["eval.every=5", "eval.best=recall"])


def test_summary_keeps_the_last_training_and_evaluation_records_apart(tmp_path):
    run = gankit.train("dcgan-digits8x8", EVAL_DIGITS, run_dir=tmp_path / "run", progress=False)
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["last_metrics"]["step"] == 12 and "d_loss" in summary["last_metrics"]
    assert summary["last_evaluation"]["step"] == 12 and "eval/fid" in summary["last_evaluation"]
