"""Checkpoints: atomic writes, integrity checks, pruning, safe loading."""

import json

import pytest
import torch

import gankit
from gankit.train import checkpoint as ckpt_module
from gankit.train.checkpoint import (
    CheckpointError,
    latest_loadable,
    list_checkpoints,
    load_checkpoint,
)
from tests.train.tiny import TINY_RING as TINY


def _run(tmp_path, steps, **extra):
    overrides = {**TINY, "train.steps": steps, "checkpoint.every": 10, **extra}
    return gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False)


def test_checkpoint_holds_models_optimisers_rngs_and_config(tmp_path):
    run = _run(tmp_path, 10)
    checkpoint = load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])
    assert checkpoint.step == 10
    assert checkpoint.state["format_version"] == ckpt_module.FORMAT_VERSION
    assert checkpoint.state["config"]["train"]["steps"] == 10
    assert {"rng.data", "rng.noise", "rng.torch"} <= set(checkpoint.training)
    assert any(k.startswith("generator.") and k.endswith(".exp_avg") for k in checkpoint.training)
    for name, value in run.generator.state_dict().items():
        assert torch.equal(checkpoint.models[f"generator.{name}"], value)


def test_a_write_interrupted_midway_leaves_the_previous_checkpoint_loadable(tmp_path, monkeypatch):
    run = _run(tmp_path, 10)
    real_save = ckpt_module.save_file
    calls = []

    def crash_on_second_file(tensors, path):
        calls.append(path)
        real_save(tensors, path)
        if len(calls) == 2:  # models written, training state half written: the process dies
            path.write_bytes(path.read_bytes()[:100])
            raise KeyboardInterrupt

    monkeypatch.setattr(ckpt_module, "save_file", crash_on_second_file)
    with pytest.raises(KeyboardInterrupt):
        gankit.resume(run.path, {"train.steps": 20}, progress=False)
    monkeypatch.undo()

    assert [p.name for p in list_checkpoints(run.dir.checkpoints_dir)] == ["step_00000010"]
    checkpoint, skipped = latest_loadable(run.dir.checkpoints_dir)
    assert checkpoint.step == 10 and skipped == []
    resumed = gankit.resume(run.path, {"train.steps": 20}, progress=False)
    assert resumed.step == 20 and not list(run.dir.checkpoints_dir.glob(".*"))


def test_a_corrupted_checkpoint_is_detected_and_the_previous_one_used(tmp_path):
    run = _run(tmp_path, 20)
    newest = list_checkpoints(run.dir.checkpoints_dir)[-1]
    models = newest / "models.safetensors"
    data = bytearray(models.read_bytes())
    data[-1] ^= 0xFF
    models.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"models.safetensors: corrupt \(sha256"):
        load_checkpoint(newest)
    checkpoint, skipped = latest_loadable(run.dir.checkpoints_dir)
    assert checkpoint.step == 10 and len(skipped) == 1
    assert gankit.load(run.path).step == 10


def test_unknown_format_version_and_missing_state_are_refused(tmp_path):
    run = _run(tmp_path, 10)
    path = list_checkpoints(run.dir.checkpoints_dir)[-1]
    state = json.loads((path / "state.json").read_text())
    state["format_version"] = 99
    (path / "state.json").write_text(json.dumps(state))
    with pytest.raises(CheckpointError, match="format version 99; this gankit reads 1"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(tmp_path)
    (path / "state.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt JSON"):
        load_checkpoint(path)


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    run = _run(tmp_path, 50, **{"checkpoint.keep": 2})
    assert [p.name for p in list_checkpoints(run.dir.checkpoints_dir)] == [
        "step_00000040",
        "step_00000050",
    ]


def test_weights_that_do_not_fit_the_config_fail_clearly(tmp_path):
    run = _run(tmp_path, 10)
    checkpoint = load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])
    wider = torch.nn.Linear(3, 3)
    with pytest.raises(CheckpointError, match="weights of 'generator' do not fit"):
        checkpoint.restore_module("generator", wider)


def test_nan_weights_are_never_checkpointed(tmp_path):
    run = _run(tmp_path, 10)
    trainer = gankit.Trainer.resume(run.path, {"train.steps": 20}, progress=False)
    with torch.no_grad():
        next(trainer.generator.parameters()).fill_(float("nan"))
    trainer.state.step = 15
    with pytest.raises(gankit.TrainingDiverged, match="generator weights contain NaN"):
        trainer.save_checkpoint()
    assert [p.name for p in list_checkpoints(run.dir.checkpoints_dir)] == ["step_00000010"]
