"""G's moving average: β from ``decay`` or from a half-life in images with its ramp-up
(Karras et al. 2019, 2020), applied exactly at every step of a run."""

import math

import pytest
import torch

from gankit.config import ConfigError, EMAOptions, resolve
from gankit.train.rundir import RunDir
from gankit.train.trainer import Trainer
from tests.train.tiny import TINY_RING


def karras_beta(step, batch, half_life, rampup=None):
    """StyleGAN2-ADA's training loop: ema_nimg = min(ema_kimg·1000, cur_nimg·rampup),
    β = 0.5 ** (batch / max(ema_nimg, 1e-8)), cur_nimg the images before this step."""
    images = half_life if rampup is None else min(half_life, step * batch * rampup)
    return 0.5 ** (batch / max(images, 1e-8))


@pytest.mark.parametrize("step", [0, 1, 2, 10, 100, 1000, 10**6])
def test_beta_follows_the_half_life_and_its_rampup(step):
    ramped = EMAOptions(half_life_images=10_000, rampup=0.05)
    assert ramped.beta_at(step, 32) == karras_beta(step, 32, 10_000, 0.05)
    steady = EMAOptions(half_life_images=10_000)
    assert steady.beta_at(step, 32) == 0.5 ** (32 / 10_000)
    assert EMAOptions(decay=0.99).beta_at(step, 32) == 0.99  # exactly, as before
    assert EMAOptions().beta_at(step, 32) == 0.999
    # decay β with a ramp-up: the half-life β stands for, B·ln 0.5 / ln β, ramps up
    decayed = EMAOptions(decay=0.99, rampup=0.05).beta_at(step, 32)
    assert decayed == pytest.approx(
        karras_beta(step, 32, 32 * math.log(0.5) / math.log(0.99), 0.05)
    )


def test_the_rampup_starts_as_a_copy_and_reaches_the_half_life():
    options = EMAOptions(half_life_images=1000, rampup=0.5)
    betas = [options.beta_at(step, 10) for step in range(300)]
    assert betas[0] == 0  # no images seen: the average is G
    assert betas[1] == 0.5 ** (10 / 5) and betas[2] == 0.5 ** (10 / 10)
    assert all(a <= b for a, b in zip(betas, betas[1:], strict=False))
    assert betas[200] == betas[299] == 0.5 ** (10 / 1000)  # 0.5·200·10 = 1000 images


def test_decay_and_half_life_together_are_refused():
    with pytest.raises(ConfigError, match="give decay or half_life_images, not both"):
        resolve("ring-2d", {"train.ema.decay": 0.9, "train.ema.half_life_images": 100})
    with pytest.raises(ConfigError, match="half_life_images"):
        resolve("ring-2d", {"train.ema.half_life_images": 0})
    config = resolve("ring-2d", {"train.ema.half_life_images": 100, "train.ema.rampup": 0.1})
    assert config.train.ema == EMAOptions(half_life_images=100, rampup=0.1)
    assert resolve("ring-2d", ["train.ema.decay=0.99"]).train.ema.beta_at(5, 32) == 0.99


@pytest.mark.parametrize(
    "ema",
    [{"half_life_images": 200, "rampup": 0.5, "start": 2}, {"decay": 0.8}],
    ids=["half-life-rampup", "decay"],
)
def test_the_average_follows_the_schedule_step_by_step(tmp_path, ema):
    overrides = {**TINY_RING, **{f"train.ema.{k}": v for k, v in ema.items()}}
    config = resolve("ring-2d", overrides)
    trainer = Trainer(config, RunDir.create(tmp_path, "run"), progress=False)
    options, batch = config.train.ema, config.train.batch_size
    average = None
    for step in range(8):
        trainer.train_step()
        live = [p.detach().clone() for p in trainer.generator.parameters()]
        if step == options.start:
            average = live  # the first update copies G
        elif step > options.start:
            beta = options.beta_at(step, batch)
            average = [beta * a + (1 - beta) * p for a, p in zip(average, live, strict=True)]
        trainer.state.step += 1
        if average is None:
            assert int(trainer.state.ema.n_averaged) == 0
            continue
        assert int(trainer.state.ema.n_averaged) == step - options.start + 1
        for kept, expected in zip(trainer.state.ema.module.parameters(), average, strict=True):
            torch.testing.assert_close(kept, expected, rtol=1e-6, atol=1e-7)
