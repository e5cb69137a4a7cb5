"""Regularisers and training options inside the Trainer: they act, they log, they resume."""

import math

import pytest
import torch

import gankit
from gankit.train.checkpoint import list_checkpoints, load_checkpoint
from tests.train.tiny import TINY_RING


def _train(tmp_path, overrides, name="run", steps=10, **kwargs):
    settings = {**TINY_RING, "train.steps": steps, **overrides}
    return gankit.train("ring-2d", settings, run_dir=tmp_path / name, progress=False, **kwargs)


@pytest.mark.parametrize(
    ("overrides", "logged"),
    [
        (
            {"objective.name": "wasserstein", "regularisers.gradient_penalty.weight": 10},
            "gradient_penalty",
        ),
        ({"regularisers.r1.gamma": 10}, "r1"),
        ({"regularisers.r2.gamma": 10}, "r2"),
        (
            {"regularisers.consistency.weight": 2, "discriminator.dropout": 0.5},
            "consistency",
        ),
        ({"regularisers.feature_matching.weight": 1}, "feature_matching"),
        ({"regularisers.historical_averaging.weight": 0.01}, "historical_averaging"),
        ({"regularisers.historical_averaging.weight": 0.01}, "historical_averaging_g"),
    ],
)
def test_each_penalty_is_applied_and_logged(tmp_path, overrides, logged):
    run = _train(tmp_path, overrides)
    values = [record[f"penalty/{logged}"] for record in run.metrics()]
    assert len(values) == 2 and all(math.isfinite(v) for v in values)
    assert values[-1] > 0


def test_instance_noise_anneals_linearly_to_zero(tmp_path):
    run = _train(tmp_path, {"regularisers.instance_noise.std": 0.2}, steps=20)
    logged = [record["instance_noise_std"] for record in run.metrics()]
    # window means of σ(t) = 0.2·(1 − t/20) over steps 0–4, 5–9, …
    expected = [0.2 * (1 - (start + 2) / 20) for start in (0, 5, 10, 15)]
    assert logged == pytest.approx(expected)


def test_weight_clipping_keeps_every_critic_weight_in_range(tmp_path):
    run = _train(tmp_path, {"objective.name": "wasserstein", "regularisers.weight_clip.clip": 0.02})
    bound = torch.tensor(0.02)
    for parameter in run.discriminator.parameters():
        assert (parameter.abs() <= bound).all()
    assert max(p.abs().max() for p in run.discriminator.parameters()) == bound


def test_critic_warmup_runs_the_scheduled_number_of_critic_updates(tmp_path):
    warmup = {"train.critic_warmup.d_steps": 3, "train.critic_warmup.first": 2}
    run = _train(tmp_path, {**warmup, "train.critic_warmup.every": 5}, steps=6)
    checkpoint = load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])
    adam_steps = checkpoint.training["discriminator.0.step"].item()
    assert adam_steps == 3 + 3 + 1 + 1 + 1 + 3  # steps 0, 1 warm up; 5 is a multiple of 5


def test_the_generator_average_is_what_samples(tmp_path):
    run = _train(tmp_path, {"train.ema.decay": 0.9})
    assert run.sampler is not run.generator
    for ema, live in zip(run.sampler.parameters(), run.generator.parameters(), strict=True):
        assert not torch.equal(ema, live)
    loaded = gankit.load(run.path)
    assert torch.equal(loaded.sample(16, seed=3), run.sample(16, seed=3))
    z = torch.randn(16, 2, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(run.sample(16, seed=3), run.sampler.eval()(z))


def test_penalties_that_cannot_work_are_refused(tmp_path):
    with pytest.raises(gankit.ConfigError, match="without BatchNorm.*discriminator.norm=layer"):
        _train(tmp_path, {"discriminator.norm": "batch", "regularisers.r1.gamma": 1}, "bn")
    with pytest.raises(gankit.ConfigError, match="needs dropout.*discriminator.dropout"):
        _train(tmp_path, {"regularisers.consistency.weight": 2}, "ct")


EVERYTHING = {
    "objective.name": "wasserstein",
    "regularisers.gradient_penalty.weight": 10,
    "regularisers.consistency.weight": 2,
    "regularisers.historical_averaging.weight": 0.01,
    "regularisers.instance_noise.std": 0.1,
    "regularisers.feature_matching.adversarial": True,
    "discriminator.dropout": 0.3,
    "discriminator.spectral_norm": True,
    "discriminator.minibatch_discrimination.kernels": 8,
    "train.ema.decay": 0.9,
    "train.critic_warmup.d_steps": 2,
    "train.critic_warmup.first": 3,
    "checkpoint.every": 10,
}


def test_resume_with_every_regulariser_is_bit_exact(tmp_path):
    straight = _train(tmp_path, EVERYTHING, "straight", steps=24)
    first = _train(tmp_path, EVERYTHING, "split", steps=24, until_step=13)
    resumed = gankit.resume(first.path, progress=False)
    a = load_checkpoint(list_checkpoints(straight.dir.checkpoints_dir)[-1])
    b = load_checkpoint(list_checkpoints(resumed.dir.checkpoints_dir)[-1])
    assert a.models.keys() == b.models.keys() and a.training.keys() == b.training.keys()
    assert any(key.startswith("generator_ema.") for key in a.models)
    assert any(key.startswith("history.discriminator.") for key in a.training)
    assert any("_u" in key for key in a.models)  # the power-iteration vector is saved
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:
        assert torch.equal(a.training[key], b.training[key]), key
    strip = [{k: v for k, v in r.items() if k != "steps_per_s"} for r in straight.metrics()]
    assert strip == [{k: v for k, v in r.items() if k != "steps_per_s"} for r in resumed.metrics()]


def test_learning_rates_decay_linearly_to_zero_after_the_start(tmp_path):
    run = _train(tmp_path, {"train.lr_decay.start": 5})
    checkpoint = load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])
    lr = run.config.train.g_optimizer.lr
    for player in ("generator", "discriminator"):
        group = checkpoint.state["optimizers"][player]["param_groups"][0]
        assert group["lr"] == pytest.approx(lr * (1 - (9 - 5) / 5))  # the lr of step 9
    train = run.config.train
    assert [train.lr_factor_at(s) for s in (0, 4, 5, 7, 10)] == pytest.approx([1, 1, 1, 0.6, 0])
