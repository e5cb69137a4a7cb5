"""Lazy R1/R2, LeCam and R3GAN inside the noise-to-sample step: the penalty lands on the
scheduled D updates with weight γ·k, LeCam's anchors are the exact moving averages of D's
outputs, both resume bit for bit, and the relativistic pairing loss with R1 + R2 trains."""

import math

import pytest
import torch

import gankit
import gankit.tasks.unconditional as unconditional
from gankit.objectives.penalties import LeCamAnchors
from gankit.train.checkpoint import list_checkpoints, load_checkpoint
from tests.train.tiny import TINY_RING


def _train(tmp_path, overrides, name="run", preset="ring-2d", **kwargs):
    settings = {**TINY_RING, **overrides}
    return gankit.train(preset, settings, run_dir=tmp_path / name, progress=False, **kwargs)


def _last_checkpoint(run):
    return load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])


@pytest.mark.parametrize("d_steps", [1, 2])
def test_lazy_r1_lands_on_every_kth_d_update_with_weight_gamma_times_k(
    tmp_path, monkeypatch, d_steps
):
    values = []  # R1 of each D update that computed it
    original = unconditional.gradient_norm_penalty

    def spy(D, x, scale=1.0):
        value = original(D, x, scale)
        values.append(value.detach())
        return value

    monkeypatch.setattr(unconditional, "gradient_norm_penalty", spy)
    gamma, k, steps = 2.0, 3, 7
    run = _train(tmp_path, {"regularisers.r1.gamma": gamma, "regularisers.r1.every": k,
                            "train.d_steps": d_steps, "train.steps": steps, "log.every": 1})  # fmt: skip
    updates = steps * d_steps
    due = [u for u in range(updates) if u % k == 0]  # D updates 0, k, 2k, …
    assert len(values) == len(due)
    r1 = dict(zip(due, values, strict=True))
    for step, record in enumerate(run.metrics()):
        mine = range(step * d_steps, (step + 1) * d_steps)
        carried = [gamma * k * r1[u] for u in mine if u in r1]
        expected = (sum(carried) / d_steps).item() if carried else 0.0
        assert record["penalty/r1"] == pytest.approx(expected, rel=1e-6), step


def test_lecam_anchors_follow_the_moving_average_of_d_outputs(tmp_path, monkeypatch):
    means = []
    original = LeCamAnchors.update

    def spy(anchors, real_logits, fake_logits):
        means.append((real_logits.detach().mean(), fake_logits.detach().mean()))
        original(anchors, real_logits, fake_logits)

    monkeypatch.setattr(LeCamAnchors, "update", spy)
    run = _train(tmp_path, {"regularisers.lecam.weight": 0.5, "regularisers.lecam.decay": 0.9,
                            "train.steps": 6, "train.d_steps": 2, "log.every": 1})  # fmt: skip
    assert len(means) == 12  # one update per D update
    real, fake = torch.zeros(()), torch.zeros(())
    logged = []
    for i, (real_mean, fake_mean) in enumerate(means):
        real = 0.9 * real + (1 - 0.9) * real_mean
        fake = 0.9 * fake + (1 - 0.9) * fake_mean
        if i % 2 == 1:
            logged.append((real.item(), fake.item()))
    saved = _last_checkpoint(run).training
    assert torch.equal(saved["lecam.anchor_real"], real) and torch.equal(
        saved["lecam.anchor_fake"], fake
    )
    records = run.metrics()
    assert [(r["lecam/anchor_real"], r["lecam/anchor_fake"]) for r in records] == logged
    assert all(r["penalty/lecam"] > 0 and math.isfinite(r["penalty/lecam"]) for r in records)


@pytest.mark.parametrize(
    "overrides",
    [
        {"regularisers.lecam.weight": 0.3},
        {"regularisers.r1.gamma": 1.0, "regularisers.r1.every": 4, "regularisers.r2.gamma": 1.0,
         "regularisers.r2.every": 3, "train.critic_warmup.d_steps": 2,
         "train.critic_warmup.first": 3, "train.critic_warmup.every": 7},
    ],
    ids=["lecam", "lazy-r1-r2"],
)  # fmt: skip
def test_resume_with_lecam_or_lazy_penalties_is_bit_exact(tmp_path, overrides):
    settings = {**overrides, "train.steps": 30, "checkpoint.every": 10}
    straight = _train(tmp_path, settings, "straight")
    first = _train(tmp_path, settings, "split", until_step=13)
    resumed = gankit.resume(first.path, progress=False)
    a, b = _last_checkpoint(straight), _last_checkpoint(resumed)
    assert a.training.keys() == b.training.keys()
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:
        assert torch.equal(a.training[key], b.training[key]), key
    timeless = [[{k: v for k, v in r.items() if k != "steps_per_s"} for r in run.metrics()]
                for run in (straight, resumed)]  # fmt: skip
    assert timeless[0] == timeless[1]
    if "regularisers.lecam.weight" in overrides:
        assert {"lecam.anchor_real", "lecam.anchor_fake"} <= a.training.keys()


def test_r3gan_relativistic_pairing_with_r1_and_r2_trains_on_digits(tmp_path):
    run = _train(tmp_path, {
        "objective.name": "relativistic", "objective.average": False,
        "regularisers.r1.gamma": 0.1, "regularisers.r2.gamma": 0.1,
        "discriminator.norm": "none", "generator.width": 8, "discriminator.width": 8,
        "train.batch_size": 16, "samples.count": 4, "train.steps": 4, "log.every": 2,
    }, preset="dcgan-digits8x8")  # fmt: skip
    assert run.status == "completed" and run.step == 4
    for record in run.metrics():
        for key in ("d_loss", "g_loss", "penalty/r1", "penalty/r2"):
            assert math.isfinite(record[key]), key
        assert record["penalty/r1"] > 0 and record["penalty/r2"] > 0
