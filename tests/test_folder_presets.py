"""The folder presets: a user's own RGB images in one command, and a short first run whose
samples have the data's colours, edges as sharp, no checkerboard, and every class.

The slow test writes coloured shapes (:mod:`gankit.data.shapes`) as a folder of PNGs, trains
``folder-32`` on them for a short budget and compares 500 samples of G's moving average with
the data on these statistics of pixels p in [0, 1]:

* colour: the per-channel mean and standard deviation of p, and the share of saturated
  pixels, whose chroma max(r, g, b) − min(r, g, b) is at least 0.4 (every shape pixel has a
  chroma ≥ 0.525, every background pixel ≤ 0.12);
* sharpness: the variance of the Laplacian (:func:`gankit.metrics.translation.sharpness`);
* checkerboard: the share of the mean power spectrum on the two Nyquist lines (frequency
  1/2 along rows or columns), where the period-2 artefacts of transposed convolutions land;
* classes: the folder evaluator (:mod:`gankit.metrics.folder_evaluator`), a CNN trained on
  the folder's labels, reads a sample as a shape when it gives it probability ≥ 0.9; every
  shape must be read for a fair share of the samples.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import gankit
from gankit.config import resolve
from gankit.data import FolderOptions, build_source
from gankit.data.shapes import SHAPES, write_shapes
from gankit.metrics.digits import scale_images
from gankit.metrics.folder_evaluator import train_evaluator
from gankit.metrics.modes import class_coverage
from gankit.metrics.translation import sharpness

SATURATED_CHROMA = 0.4
CONFIDENT = 0.9


def colour_statistics(images: torch.Tensor) -> dict[str, torch.Tensor | float]:
    """Per-channel mean and std of pixels p = (x + 1) / 2 of images x (N, 3, H, W) in
    [−1, 1], and the share of pixels with chroma max − min over channels ≥ 0.4."""
    p = (images.clamp(-1, 1) + 1) / 2
    chroma = p.amax(1) - p.amin(1)
    return {
        "mean": p.mean(dim=(0, 2, 3)),
        "std": p.std(dim=(0, 2, 3)),
        "saturated": float((chroma >= SATURATED_CHROMA).double().mean()),
    }


def nyquist_share(images: torch.Tensor) -> float:
    """Share of the mean power spectrum |FFT2(x − mean x)|² (over images and channels) on
    the rows and columns of frequency 1/2: a period-2 (checkerboard) pattern lives there."""
    x = images.double() - images.double().mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2).mean(dim=(0, 1))
    h, w = power.shape
    lines = power[h // 2, :].sum() + power[:, w // 2].sum() - power[h // 2, w // 2]
    return float(lines / power.sum())


def test_a_checkerboard_lands_on_the_nyquist_lines():
    smooth = torch.linspace(-1, 1, 32).expand(2, 3, 32, 32)
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2 * 0.2 - 0.1
    assert nyquist_share(smooth) < 0.01
    assert nyquist_share(checker.expand(2, 3, 32, 32)) == pytest.approx(1.0)
    assert nyquist_share(smooth + checker) > 5 * nyquist_share(smooth)


def test_colour_statistics_of_known_pixels():
    images = torch.tensor([[[[1.0]], [[-1.0]], [[-1.0]]], [[[0.0]], [[0.0]], [[0.0]]]])
    stats = colour_statistics(images)  # a red pixel and a grey one
    torch.testing.assert_close(stats["mean"], torch.tensor([0.75, 0.25, 0.25]))
    torch.testing.assert_close(stats["std"], torch.full((3,), 0.5**0.5 * 0.5))
    assert stats["saturated"] == 0.5


@pytest.mark.parametrize(("preset", "size"), [("folder-32", 32), ("folder-64", 64)])
def test_a_folder_preset_is_the_whole_set_up_but_the_folder(preset, size):
    config = resolve(preset, ["data.path=my_images/"])
    assert config.data.name == "folder" and config.data.size == size
    assert config.data.path == "my_images/" and not config.data.greyscale
    assert config.augment is not None and config.train.ema.rampup is not None
    assert config.train.max_seconds is not None


def test_a_folder_preset_without_its_folder_says_to_set_it(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "gankit", "train", "folder-32", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 2
    assert out.stderr == "error: data.path: required by data.name=folder; set it, e.g. data.path=…\n"


COUNT = 1000
STEPS = 600
SAMPLES = 500


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="after 600 steps only 119 of 500 samples are read as a shape with confidence "
    "≥ 0.9 (the bar is half); folder-32 does not yet draw the shapes' outlines",
)
def test_folder_32_learns_the_colours_edges_and_classes_of_shapes(tmp_path):
    write_shapes(tmp_path / "shapes", COUNT, 32, seed=0)
    run = gankit.train(
        "folder-32",
        {
            "data.path": str(tmp_path / "shapes"),
            "train.steps": STEPS,
            "train.max_seconds": None,
            "samples.every": 0,
            "checkpoint.every": 0,
            "log.tensorboard": False,
        },
        run_dir=tmp_path / "run",
        progress=False,
    )
    assert run.step == STEPS
    data = build_source(FolderOptions(path=str(tmp_path / "shapes"), size=32))
    real = scale_images(data.images)
    fake = run.sample(SAMPLES, seed=1)

    ours, theirs = colour_statistics(fake), colour_statistics(real)
    torch.testing.assert_close(ours["mean"], theirs["mean"], atol=0.03, rtol=0)
    torch.testing.assert_close(ours["std"], theirs["std"], atol=0.03, rtol=0)
    assert ours["saturated"] == pytest.approx(theirs["saturated"], rel=0.25)
    assert sharpness(fake) >= 0.3 * sharpness(real)
    assert nyquist_share(fake) <= 1.5 * nyquist_share(real)

    network, info = train_evaluator(data)
    assert info["heldout_accuracy"] >= 0.9
    with torch.no_grad():
        probabilities = network(fake).softmax(dim=1)
    confident, predicted = probabilities.max(dim=1)
    read = predicted[confident >= CONFIDENT]
    assert len(read) >= 0.5 * SAMPLES
    coverage = class_coverage(read, len(SHAPES), min_count=round(0.1 * len(read)))
    assert coverage.classes_covered == len(SHAPES), coverage.class_shares
