"""Augmentation inside training: before every evaluation of D (in D's and G's updates),
never in sampling, grids or evaluation; ADA's p logged, checkpointed, resumed bit for bit,
rising when D memorises a tiny data set and staying at 0 on a large one."""

import pytest
import torch

import gankit
from gankit.augment import ADA, DiffAugment
from gankit.config import resolve
from gankit.data.base import TensorImageSource
from gankit.train.checkpoint import list_checkpoints, load_checkpoint
from gankit.train.rundir import RunDir
from gankit.train.trainer import Trainer

TINY = {
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 16,
    "samples.count": 4,
    "log.every": 5,
    "samples.every": 0,
    "checkpoint.every": 10,
    "log.tensorboard": False,
    "device": "cpu",
}


class Spy:
    """Wraps an augmentation class's ``__call__``: records inputs and outputs, or refuses."""

    def __init__(self, monkeypatch, cls):
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.refuse = False
        original = cls.__call__

        def spied(augment, x):
            if self.refuse:
                raise AssertionError("augmentation outside a training step")
            out = original(augment, x)
            self.calls.append((x, out))
            return out

        monkeypatch.setattr(cls, "__call__", spied)


def test_augmentation_never_reaches_samples_grids_or_evaluation(tmp_path, monkeypatch):
    spy = Spy(monkeypatch, DiffAugment)
    config = resolve("dcgan-digits8x8", {
        **TINY, "train.steps": 6, "train.d_steps": 2, "samples.every": 2, "checkpoint.every": 3,
        "augment.name": "diffaugment",
        "eval.every": 3, "eval.metrics": ["classes"], "eval.samples": 10, "eval.best": None,
    })  # fmt: skip
    trainer = Trainer.start(config, tmp_path, "run", exact=True, progress=False)
    trainer.fit()
    # 2 D updates × (real + fake) + G's update, each step; grids and evaluations: none
    assert len(spy.calls) == 6 * (2 * 2 + 1)
    assert len(list(trainer.run.samples_dir.glob("*.png"))) >= 3
    assert len(trainer.run.read_metrics(["eval"])) == 2

    spy.refuse = True
    z = trainer.prior.sample(8, torch.Generator().manual_seed(1), trainer.device)
    sampled = trainer.sample_from(z)
    with torch.no_grad():
        G = trainer.sampler.eval()
        assert torch.equal(sampled, G(z))  # G(z) itself, not an augmented copy
    trainer.sample_fixed()
    run = gankit.load(trainer.run.path)
    assert torch.equal(run.sample(8, seed=5), run.sample(8, seed=5))
    assert sum(len(b) for b in run.sample_batches(20, batch_size=7)) == 20


def test_d_penalties_and_g_see_the_augmented_images(tmp_path, monkeypatch):
    import gankit.tasks.unconditional as unconditional

    spy = Spy(monkeypatch, DiffAugment)
    seen = []
    original = unconditional.gradient_norm_penalty
    monkeypatch.setattr(
        unconditional,
        "gradient_norm_penalty",
        lambda D, x, scale=1.0: seen.append(x) or original(D, x, scale),
    )
    gankit.train("dcgan-digits8x8", {
        **TINY, "train.steps": 1, "augment.name": "diffaugment", "discriminator.norm": "none",
        "regularisers.r1.gamma": 1, "regularisers.r2.gamma": 1,
    }, run_dir=tmp_path / "run", progress=False)  # fmt: skip
    (real_in, real_aug), (fake_in, fake_aug), (g_in, g_aug) = spy.calls
    assert torch.equal(seen[0], real_aug) and torch.equal(seen[1], fake_aug)  # R1, R2
    assert not real_in.requires_grad and not fake_in.requires_grad
    assert g_in.requires_grad and g_aug.grad_fn is not None  # G learns through it


@pytest.mark.parametrize(
    "augment",
    [{"augment.name": "ada", "augment.speed_images": 2000, "augment.interval": 3},
     {"augment.name": "diffaugment"}],
    ids=["ada", "diffaugment"],
)  # fmt: skip
def test_resume_with_augmentation_is_bit_exact(tmp_path, augment):
    settings = {**TINY, **augment, "train.steps": 30}

    def train(name, **kwargs):
        return gankit.train(
            "dcgan-digits8x8", settings, run_dir=tmp_path / name, progress=False, **kwargs
        )

    straight = train("straight")
    first = train("split", until_step=13)  # mid-interval of ADA (13 D updates, interval 3)
    resumed = gankit.resume(first.path, progress=False)
    a, b = (
        load_checkpoint(list_checkpoints(r.dir.checkpoints_dir)[-1]) for r in (straight, resumed)
    )
    assert a.training.keys() == b.training.keys()
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:
        assert torch.equal(a.training[key], b.training[key]), key
    timeless = [[{k: v for k, v in r.items() if k != "steps_per_s"} for r in run.metrics()]
                for run in (straight, resumed)]  # fmt: skip
    assert timeless[0] == timeless[1]
    if augment["augment.name"] == "ada":
        assert {
            "augment.p",
            "augment.r_t",
            "augment.sign_sum",
            "augment.pending",
        } <= a.training.keys()
        logged = [record["augment_p"] for record in straight.metrics()]
        assert (
            logged[-1] == pytest.approx(a.training["augment.p"].item(), abs=0.05)
            and max(logged) > 0
        )


def _noise_images(n):
    """n images of 4×4 pixels, each tanh(N(0, 0.5²)) on its own: a distribution the affine
    generator starts at, so D can only grow sure of the real images by memorising them."""
    x = torch.tanh(0.5 * torch.randn(n, 1, 4, 4, generator=torch.Generator().manual_seed(0)))
    return ((x + 1) * 127.5).round().to(torch.uint8)


def _ada_run(tmp_path, images, name):
    config = resolve("dcgan-digits8x8", {
        "generator.name": "affine", "generator.init_std": 0.5, "noise.dim": 16,
        "discriminator.name": "mlp", "discriminator.width": 128,
        "train.d_optimizer.lr": 1e-3, "train.batch_size": 32, "train.steps": 500,
        "augment.name": "ada", "augment.speed_images": 5000,
        "log.every": 50, "samples.every": 0, "checkpoint.every": 0, "log.tensorboard": False,
        "samples.count": 4, "device": "cpu",
    })  # fmt: skip
    source = TensorImageSource(_noise_images(images))
    trainer = Trainer(config, RunDir.create(tmp_path, name), progress=False, source=source)
    trainer.fit()
    assert isinstance(trainer.task.augment, ADA)
    return [record["augment_p"] for record in trainer.run.read_metrics(["train"])]


def test_ada_p_rises_when_d_memorises_a_tiny_data_set_and_stays_at_zero_on_a_large_one(tmp_path):
    tiny = _ada_run(tmp_path, 16, "tiny")
    large = _ada_run(tmp_path, 20_000, "large")
    assert tiny[-1] > 0.3 and tiny[-1] > tiny[len(tiny) // 2] > 0  # still rising
    assert max(large) < 0.02


@pytest.mark.parametrize("discriminator", ["concat", "projection"])
def test_a_conditional_run_augments_the_images_not_the_labels(tmp_path, discriminator):
    run = gankit.train("cgan-mnist", {
        **TINY, "data.name": "digits8x8", "train.steps": 2, "log.every": 1,
        "task.discriminator": discriminator, "augment.name": "ada", "augment.initial_p": 0.5,
    }, run_dir=tmp_path / "run", progress=False)  # fmt: skip
    assert [record["augment_p"] for record in run.metrics()] == [0.5, 0.5]
    assert run.sample(4, label=3).shape == (4, 1, 8, 8)
