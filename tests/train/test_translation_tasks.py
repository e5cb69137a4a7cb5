"""task: paired (pix2pix) and unpaired (CycleGAN) in the same Trainer: resume is bit-exact
(pools, schedules and RNGs included), the sample grids show input | output | target, and
data or networks that do not fit the task are refused with one clear line."""

import pytest
import torch
from PIL import Image

import gankit
from gankit.train.checkpoint import list_checkpoints, load_checkpoint

COMMON = {
    "train.steps": 12,
    "train.batch_size": 4,
    "train.ema": None,  # the main job's sampler; translation tasks take none
    "train.lr_decay": None,
    "log.every": 3,
    "samples.every": 0,
    "samples.count": 3,
    "checkpoint.every": 4,
    "log.tensorboard": False,
    "device": "cpu",
}
PIX2PIX = {
    **COMMON,
    "task": "paired",
    "data": {"name": "edges2digits", "size": 16},
    "generator": {"name": "unet", "width": 4},
    "discriminator": {"name": "patchgan", "width": 4, "layers": 2},
}
CYCLEGAN = {
    **COMMON,
    "task": "unpaired",
    "data": {"name": "mnist2digits8x8", "size": 16},
    "generator": {"name": "resnet", "width": 4, "blocks": 1},
    "discriminator": {"name": "patchgan", "width": 4, "layers": 2},
    "objective": {"name": "least_squares"},
    "translation": {"pool_size": 3},
    "train.batch_size": 2,
    "train.lr_decay": {"start": 6},
}


def _strip(records):
    return [{k: v for k, v in r.items() if k != "steps_per_s"} for r in records]


@pytest.mark.parametrize("overrides", [PIX2PIX, CYCLEGAN], ids=["pix2pix", "cyclegan"])
def test_translation_resume_is_bit_exact(tmp_path, overrides):
    straight = gankit.train(None, overrides, run_dir=tmp_path / "a", progress=False)
    first = gankit.train(None, overrides, run_dir=tmp_path / "b", progress=False, until_step=5)
    resumed = gankit.resume(first.path, progress=False)
    a = load_checkpoint(list_checkpoints(straight.dir.checkpoints_dir)[-1])
    b = load_checkpoint(list_checkpoints(resumed.dir.checkpoints_dir)[-1])
    assert a.models.keys() == b.models.keys() and a.training.keys() == b.training.keys()
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:  # optimiser moments, every RNG, the history pools
        assert torch.equal(a.training[key], b.training[key]), key
    assert _strip(straight.metrics()) == _strip(resumed.metrics())
    if overrides is CYCLEGAN:
        assert {"generator_ba", "discriminator_a"} <= {k.split(".")[0] for k in a.models}
        pooled = [k for k in a.training if k.startswith("image_pool.")]
        assert pooled and a.training["image_pool.a.images"].shape[0] == 3  # full pool


@pytest.mark.parametrize(
    ("overrides", "rows"), [(PIX2PIX, 3), (CYCLEGAN, 6)], ids=["pix2pix", "cyclegan"]
)
def test_the_sample_grid_has_rows_of_input_output_target(tmp_path, overrides, rows):
    run = gankit.train(
        None, {**overrides, "train.steps": 1}, run_dir=tmp_path / "r", progress=False
    )
    grid = Image.open(run.path / "samples" / "final.png")
    assert grid.size == (3 * (16 + 2) + 2, rows * (16 + 2) + 2)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({**PIX2PIX, "data": {"name": "mnist5k"}}, "task=paired needs data of kind pairs"),
        ({**CYCLEGAN, "data": {"name": "edges2digits"}}, "task=unpaired needs data of kind"),
        ({**COMMON, "data": {"name": "edges2digits"}}, "task=unconditional needs data of kind"),
    ],
)
def test_data_that_does_not_fit_the_task_is_refused(tmp_path, overrides, message):
    with pytest.raises(gankit.ConfigError, match=message):
        gankit.train(None, overrides, run_dir=tmp_path / "x", progress=False)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({**PIX2PIX, "generator": {"name": "dcgan"}}, "generator.name=dcgan does not fit"),
        ({**PIX2PIX, "discriminator": {"name": "dcgan"}}, "discriminator.name=dcgan does not"),
        ({**COMMON, "generator": {"name": "unet"}}, "generator.name=unet does not fit"),
        (
            {**PIX2PIX, "regularisers": {"gradient_penalty": {"weight": 10}}},
            "task=paired does not take regularisers.gradient_penalty",
        ),
    ],
)
def test_networks_and_regularisers_that_do_not_fit_the_task_are_refused(overrides, message):
    with pytest.raises(gankit.ConfigError, match=message):
        gankit.resolve(None, overrides)
