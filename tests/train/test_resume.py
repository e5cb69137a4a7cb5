"""N steps in one go equal k steps + resume + N − k steps, bit for bit, on the CPU."""

import pytest
import torch

import gankit
from gankit.train.checkpoint import list_checkpoints, load_checkpoint

TINY = {
    "ring-2d": {
        "generator.width": 16,
        "discriminator.width": 16,
        "train.batch_size": 32,
    },
    "dcgan-digits8x8": {
        "generator.width": 8,
        "discriminator.width": 8,
        "train.batch_size": 16,
        "samples.count": 4,
    },
}
COMMON = {
    "train.steps": 30,
    "log.every": 5,
    "samples.every": 0,
    "checkpoint.every": 10,
    "log.tensorboard": False,
    "device": "cpu",
}


def _train(tmp_path, preset, name, **kwargs):
    overrides = {**COMMON, **TINY[preset]}
    return gankit.train(preset, overrides, run_dir=tmp_path / name, progress=False, **kwargs)


def _state(run):
    checkpoint = load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])
    return checkpoint


def _without_timing(records):
    return [{k: v for k, v in r.items() if k != "steps_per_s"} for r in records]


@pytest.mark.parametrize("preset", ["ring-2d", "dcgan-digits8x8"])
def test_resume_is_bit_exact(tmp_path, preset):
    straight = _train(tmp_path, preset, "straight")
    assert straight.status == "completed" and straight.step == 30

    first = _train(tmp_path, preset, "split", until_step=13)
    assert first.status == "paused" and first.step == 13
    resumed = gankit.resume(first.path, progress=False)
    assert resumed.status == "completed" and resumed.step == 30

    a, b = _state(straight), _state(resumed)
    assert a.models.keys() == b.models.keys() and a.training.keys() == b.training.keys()
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:  # optimiser moments and every RNG state
        assert torch.equal(a.training[key], b.training[key]), key
    assert a.state["optimizers"] == b.state["optimizers"]
    assert _without_timing(straight.metrics()) == _without_timing(resumed.metrics())


def test_resume_refuses_a_changed_config_unless_asked(tmp_path):
    run = _train(tmp_path, "ring-2d", "run", until_step=5)
    with pytest.raises(gankit.ConfigError, match=r"changed train.batch_size is refused"):
        gankit.resume(run.path, {"train.batch_size": 8}, progress=False)
    longer = gankit.resume(run.path, {"train.steps": 12}, progress=False, until_step=None)
    assert longer.step == 12
    changed = gankit.resume(
        run.path,
        {"train.steps": 14, "train.batch_size": 8},
        allow_config_change=True,
        progress=False,
    )
    assert changed.step == 14 and changed.config.train.batch_size == 8


def test_resumed_metrics_drop_the_records_after_the_checkpoint(tmp_path):
    run = _train(tmp_path, "ring-2d", "run", until_step=20)
    # Simulate a crash after step 20's checkpoint: later records exist but no checkpoint.
    with open(run.dir.metrics_path, "a") as handle:
        handle.write('{"step": 25, "d_loss": 9.0}\n{"step": 30, "d_lo')
    resumed = gankit.resume(run.path, progress=False)
    steps = [r["step"] for r in resumed.metrics()]
    assert steps == [5, 10, 15, 20, 25, 30]
    assert resumed.metrics()[4]["d_loss"] != 9.0
