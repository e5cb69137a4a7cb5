"""The loop itself: Algorithm 1's step counts, priors, devices, events, divergence."""

import pytest
import torch

import gankit
from gankit.devices import DeviceError, select_device
from gankit.prior import Prior
from gankit.train.checkpoint import list_checkpoints, load_checkpoint
from tests.train.tiny import TINY_RING as TINY


def test_k_discriminator_updates_per_generator_update(tmp_path):
    run = gankit.train(
        "ring-2d",
        {**TINY, "train.steps": 7, "train.d_steps": 3},
        run_dir=tmp_path / "run",
        progress=False,
    )
    checkpoint = load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])
    # Adam counts its own updates: 3 per iteration for D, 1 for G.
    assert checkpoint.training["discriminator.0.step"].item() == 21
    assert checkpoint.training["generator.0.step"].item() == 7


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
def test_each_optimizer_trains_and_resumes(tmp_path, optimizer):
    overrides = {
        **TINY,
        "train.steps": 6,
        "train.g_optimizer.name": optimizer,
        "train.d_optimizer.name": optimizer,
    }
    run = gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False, until_step=3)
    resumed = gankit.resume(run.path, progress=False)
    assert resumed.step == 6
    assert type(resumed.generator) is type(run.generator)


def test_uniform_prior_lies_in_the_cube_and_normal_prior_has_unit_variance():
    g = torch.Generator().manual_seed(0)
    uniform = Prior(4, "uniform").sample(50_000, g)
    assert uniform.min() >= -1 and uniform.max() <= 1
    assert uniform.var().item() == pytest.approx(1 / 3, rel=0.02)
    normal = Prior(4, "normal").sample(50_000, g)
    assert normal.var().item() == pytest.approx(1.0, rel=0.02)
    assert normal.mean().item() == pytest.approx(0.0, abs=0.01)


def test_device_selection():
    assert select_device("cpu") == torch.device("cpu")
    expected = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
    assert select_device("auto").type == expected
    with pytest.raises(DeviceError, match="'gpu' is not a device name"):
        select_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            select_device("cuda")


def test_callbacks_receive_events_in_order(tmp_path):
    class Recorder(gankit.Callback):
        def __init__(self):
            self.events = []

        def on_fit_start(self, trainer):
            self.events.append("start")

        def on_log(self, trainer, record):
            self.events.append(f"log{record['step']}")

        def on_checkpoint(self, trainer, path):
            self.events.append(f"ckpt{trainer.step}")

        def on_fit_end(self, trainer, status):
            self.events.append(status)

    recorder = Recorder()
    gankit.train(
        "ring-2d",
        {**TINY, "train.steps": 10, "checkpoint.every": 5},
        run_dir=tmp_path / "run",
        progress=False,
        callbacks=[recorder],
    )
    assert recorder.events == ["start", "log5", "ckpt5", "log10", "ckpt10", "completed"]


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path):
    run = gankit.train(
        "ring-2d", {**TINY, "train.steps": 10}, run_dir=tmp_path / "run", progress=False
    )
    explode = {
        "train.steps": 40,
        "train.g_optimizer.name": "sgd",
        "train.g_optimizer.lr": 1e30,
        "train.d_optimizer.name": "sgd",
        "train.d_optimizer.lr": 1e30,
    }
    with pytest.raises(
        gankit.TrainingDiverged, match=r"step 1[05]: (d|g)_loss is nan; training diverged"
    ):
        gankit.resume(run.path, explode, allow_config_change=True, progress=False)
    assert [p.name for p in list_checkpoints(run.dir.checkpoints_dir)] == ["step_00000010"]
    assert torch.isfinite(gankit.load(run.path).sample(4)).all()
