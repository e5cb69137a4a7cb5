"""Tiny trained runs shared by the latent-space tools' tests (seconds each): digits with G's
moving average, conditional digits (one-hot and learned label embeddings), the ring."""

import pytest

import gankit
from tests.train.tiny import TINY_RING

TINY_DIGITS = {
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 16,
    "train.steps": 30,
    "log.every": 10,
    "samples.every": 0,
    "checkpoint.every": 30,
    "log.tensorboard": False,
    "device": "cpu",
}


def _train(factory, name, preset, overrides):
    path = factory.mktemp("latent") / name
    gankit.train(preset, overrides, run_dir=path, progress=False)
    return path


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    """dcgan-digits8x8 whose sampler is G's moving average, trained long enough (150
    steps, a few seconds) for its samples to differ from one another."""
    overrides = {
        **TINY_DIGITS,
        "generator.width": 16,
        "discriminator.width": 16,
        "train.steps": 150,
        "checkpoint.every": 150,
        "train.ema": {"decay": 0.9},
    }
    return gankit.load(_train(tmp_path_factory, "digits", "dcgan-digits8x8", overrides))


@pytest.fixture(scope="session")
def conditional(tmp_path_factory):
    overrides = {**TINY_DIGITS, "task": "conditional"}
    return gankit.load(_train(tmp_path_factory, "conditional", "dcgan-digits8x8", overrides))


@pytest.fixture(scope="session")
def learned(tmp_path_factory):
    """A conditional run with a learned label embedding (a lookup table)."""
    overrides = {
        **TINY_DIGITS,
        "task": "conditional",
        "condition.embedding": "learned",
        "train.steps": 2,
    }
    return gankit.load(_train(tmp_path_factory, "learned", "dcgan-digits8x8", overrides))


@pytest.fixture(scope="session")
def ring(tmp_path_factory):
    return gankit.load(_train(tmp_path_factory, "ring", "ring-2d", {**TINY_RING, "train.steps": 5}))
