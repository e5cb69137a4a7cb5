"""``train.max_seconds``: a wall-clock budget ends the run as completed, with a checkpoint."""

from __future__ import annotations

import json

import gankit

TINY = {
    "train.steps": 10**6,
    "samples.every": 0,
    "checkpoint.every": 0,
    "log.tensorboard": False,
    "device": "cpu",
}


def test_a_budget_ends_the_run_completed_with_a_checkpoint(tmp_path):
    run = gankit.train(
        "ring-2d", {**TINY, "train.max_seconds": 0.5}, run_dir=tmp_path / "r", progress=False
    )
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert 0 < summary["step"] < 10**6
    assert 0.5 <= summary["wall_seconds"] < 5
    assert run.checkpoint.name == f"step_{summary['step']:08d}"


def test_a_resumed_run_keeps_the_budget_over_all_sessions(tmp_path):
    gankit.train(
        "ring-2d",
        {**TINY, "train.max_seconds": 0.3},
        run_dir=tmp_path / "r",
        progress=False,
        until_step=5,
    )
    first = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert first["status"] == "paused" and first["step"] == 5
    gankit.resume(tmp_path / "r", progress=False)
    second = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert second["status"] == "completed"
    assert 0.3 <= second["wall_seconds"] < 0.3 + 2


def test_a_spent_budget_trains_no_further_step_and_a_larger_one_continues(tmp_path):
    gankit.train(
        "ring-2d", {**TINY, "train.max_seconds": 0.2}, run_dir=tmp_path / "r", progress=False
    )
    spent = json.loads((tmp_path / "r" / "summary.json").read_text())["step"]
    again = gankit.resume(tmp_path / "r", progress=False)
    assert again.step == spent
    longer = gankit.resume(tmp_path / "r", {"train.max_seconds": 0.6}, progress=False)
    assert longer.step > spent
