"""task: conditional — G(z, y) and D(x, y) in the same Trainer: conditioning works, resume is
exact, and bad labels or unlabelled data are refused clearly."""

import pytest
import torch
from PIL import Image

import gankit
from gankit.data import build_source
from gankit.data.toy import RingOptions
from tests.train.tiny import TINY_RING

TINY_DIGITS = {
    "task": "conditional",
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 16,
    "samples.count": 20,
    "train.steps": 30,
    "log.every": 5,
    "samples.every": 0,
    "checkpoint.every": 10,
    "log.tensorboard": False,
    "device": "cpu",
}


@pytest.mark.parametrize(
    "condition",
    [
        {"condition.auxiliary_weight": 1.0},
        {"condition.discriminator": "projection", "condition.embedding": "learned"},
    ],
    ids=["acgan-concat", "projection"],
)
def test_conditional_resume_is_bit_exact(tmp_path, condition):
    overrides = {**TINY_DIGITS, **condition}
    straight = gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "a", progress=False)
    first = gankit.train(
        "dcgan-digits8x8", overrides, run_dir=tmp_path / "b", progress=False, until_step=13
    )
    resumed = gankit.resume(first.path, progress=False)
    assert resumed.step == straight.step == 30
    for name in ("generator", "discriminator"):
        a = getattr(straight, name).state_dict()
        b = getattr(resumed, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    timing = "steps_per_s"
    strip = lambda records: [{k: v for k, v in r.items() if k != timing} for r in records]  # noqa: E731
    assert strip(straight.metrics()) == strip(resumed.metrics())
    if "condition.auxiliary_weight" in condition:
        assert all(r["penalty/auxiliary_class"] > 0 for r in straight.metrics())


@pytest.mark.slow
def test_a_conditional_gan_on_the_ring_puts_label_k_on_mode_k(tmp_path):
    overrides = {
        **TINY_RING,
        "task": "conditional",
        "generator.width": 64,
        "discriminator.width": 64,
        "train.batch_size": 128,
        "train.steps": 1500,
        "log.every": 500,
    }
    run = gankit.train("ring-2d", overrides, run_dir=tmp_path / "ring", progress=False)
    ring = build_source(RingOptions())
    labels = torch.arange(8).repeat_interleave(250)
    points = run.sample(len(labels), seed=1, label=labels)
    nearest, distance = ring.nearest_mode(points)
    on_own_mode = ((nearest == labels) & (distance < 0.1)).double().mean().item()
    assert on_own_mode >= 0.8, on_own_mode


def test_the_sample_grid_has_one_class_per_row_and_labels_are_checked(tmp_path):
    overrides = {**TINY_DIGITS, "train.steps": 2, "samples.count": 25}
    run = gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "r", progress=False)
    grid = Image.open(run.path / "samples" / "final.png")
    # 10 classes × 2 columns of 8×8 tiles with 2-pixel padding
    assert grid.size == (2 * 10 + 2, 10 * 10 + 2)
    loaded = gankit.load(run.path)
    assert loaded.classes == 10
    sevens = loaded.sample(6, seed=0, label=7)
    assert sevens.shape == (6, 1, 8, 8)
    assert not torch.equal(sevens, loaded.sample(6, seed=0, label=3))
    with pytest.raises(gankit.GankitError, match="label 12 is out of range"):
        loaded.sample(4, label=12)


def test_conditional_training_needs_labelled_data(tmp_path):
    with pytest.raises(gankit.ConfigError, match="task=conditional needs data with at least 2"):
        gankit.train(
            "ring-2d",
            {**TINY_RING, "task": "conditional", "data.name": "spiral", "train.steps": 1},
            run_dir=tmp_path / "spiral",
            progress=False,
        )
    with pytest.raises(gankit.ConfigError, match="pack"):
        gankit.train(
            "ring-2d",
            {**TINY_RING, "task": "conditional", "discriminator.pack": 2, "train.steps": 1},
            run_dir=tmp_path / "packed",
            progress=False,
        )
