"""gankit project: GAN inversion recovers images G made from a known z (MSE far below that
of random samples), z stays on the prior's sphere, PSNR in the data range, the files it
writes reproduce the reconstruction, noise maps help on real images, bad inputs refused."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.config import ConfigError
from gankit.data import DataError
from gankit.errors import GankitError
from gankit.latent.project import noise_layers, project, read_target, save_projection
from gankit.viz import image_grid

MSE_BOUND = 1e-3
"""Measured on the 150-step digits run: 4e-5 to 2e-4 from 4 restarts of 500 steps, against
0.04 to 0.07 for random samples."""


@pytest.mark.parametrize("seed", [100, 101])
def test_projecting_a_generated_image_recovers_it(digits, seed):
    target = digits.sample(1, seed)[0]
    found = project(digits, target)
    assert found.mse < MSE_BOUND
    assert found.mse < found.random_mse / 40
    assert found.random_mse > 0.01  # the run's samples differ, so this means something
    assert found.psnr == pytest.approx(10 * math.log10(4 / found.mse), rel=1e-4)
    assert found.z.norm().item() == pytest.approx(10.0, rel=1e-5)  # on the sphere of radius √d
    assert found.restart_mse.shape == (4,) and found.mse == pytest.approx(
        float(found.restart_mse.min())
    )
    recon = digits.generate(found.z[None])[0]
    torch.testing.assert_close(recon, found.image, rtol=0, atol=1e-5)  # z alone gives the image


def test_a_conditional_run_searches_every_class_or_the_one_given(conditional):
    target = conditional.sample(1, 5, label=4)[0]
    found = project(conditional, target, steps=200, restarts=2)
    assert found.restart_mse.shape == (20,) and 0 <= found.label < 10
    assert found.mse < MSE_BOUND
    given = project(conditional, target, steps=200, restarts=2, label=4)
    assert given.label == 4 and given.restart_mse.shape == (2,)
    with pytest.raises(GankitError, match="label 10 is out of range: this run has 10 classes"):
        project(conditional, target, steps=1, label=10)


def test_noise_maps_sit_below_the_image_size_and_help_on_real_images(digits):
    assert noise_layers(digits, digits.latents(1), None) == {"net.1": (16, 4, 4)}
    real = digits.source.images[5].float() / 127.5 - 1
    plain = project(digits, real, steps=300)
    noisy = project(digits, real, steps=300, noise=True)
    assert set(noisy.noise) == {"net.1"} and noisy.noise["net.1"].shape == (16, 4, 4)
    assert noisy.noise["net.1"].abs().max() > 0 and not plain.noise
    assert noisy.mse < 0.95 * plain.mse


def test_files_reproduce_the_reconstruction(digits, tmp_path):
    found = project(digits, digits.sample(1, 7)[0], steps=50, restarts=2)
    written = save_projection(digits, found, tmp_path / "recon.png", {"image": "x.png"})
    assert set(written) == {"image", "z", "report"}
    pixels = np.asarray(Image.open(written["image"]))
    assert np.array_equal(pixels, image_grid(found.image[None], padding=0)[:, :, 0])
    z = np.load(written["z"])
    assert z.shape == (1, 100) and z.dtype == np.float32
    torch.testing.assert_close(
        digits.generate(torch.from_numpy(z))[0], found.image, rtol=0, atol=1e-5
    )
    report = json.loads(written["report"].read_text())
    assert report["mse"] == pytest.approx(found.mse) and report["psnr_db"] == pytest.approx(
        found.psnr
    )
    assert (
        report["image"] == "x.png" and report["step"] == 150 and report["data_range"] == [-1.0, 1.0]
    )


def _save(path, pixels):
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)
    return path


def test_targets_are_read_resized_and_checked(digits, tmp_path):
    grey = _save(tmp_path / "grey.png", np.full((8, 8), 255))
    target, notes = read_target(digits, grey)
    assert target.shape == (1, 8, 8) and torch.equal(target, torch.ones(1, 8, 8)) and notes == []
    wide = _save(tmp_path / "wide.png", np.zeros((20, 30, 3)))  # grey content in RGB
    target, notes = read_target(digits, wide)
    assert torch.equal(target, -torch.ones(1, 8, 8))
    assert notes == ["resized wide.png from 30×20 to the run's 8×8 (centre-cropped to a square)"]
    red = np.zeros((8, 8, 3))
    red[..., 0] = 200
    with pytest.raises(DataError, match="red.png is a colour image and .* generates grey images"):
        read_target(digits, _save(tmp_path / "red.png", red))
    with pytest.raises(DataError, match="no such image file"):
        read_target(digits, tmp_path / "missing.png")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="project a .png, .jpg, .jpeg image"):
        read_target(digits, tmp_path / "notes.txt")


def test_cli_project(digits, tmp_path, capsys):
    image = digits.sample(1, 9)[0].add(1).mul(127.5).round().clamp(0, 255)[0].numpy()
    source = _save(tmp_path / "digit.png", image)
    out = tmp_path / "recon.png"
    args = [
        "project",
        str(digits.path),
        str(source),
        "-o",
        str(out),
        "--steps",
        "100",
        "--no-progress",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "MSE" in text and "dB in the data range [−1, 1]" in text
    report = json.loads((tmp_path / "recon.json").read_text())
    assert report["mse"] < 0.01 and report["steps"] == 100 and report["noise"] is False
    assert (tmp_path / "recon.npy").is_file()


@pytest.mark.parametrize(
    "run, output, message",
    [
        ("ring", "r.png", "generates points, not images: projection needs an image run"),
        ("digits", "r.gif", "cannot write the reconstruction as '.gif'"),
    ],
)
def test_cli_refuses_in_one_line(request, tmp_path, capsys, run, output, message):
    source = _save(tmp_path / "in.png", np.zeros((8, 8)))
    path = request.getfixturevalue(run).path
    assert main(["project", str(path), str(source), "-o", str(tmp_path / output)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_bad_settings_are_refused(digits):
    target = digits.sample(1)[0]
    with pytest.raises(
        ConfigError, match=r"the target must have the run's shape \(1, 8, 8\), got \(3, 8, 8\)"
    ):
        project(digits, target.expand(3, 8, 8))
    with pytest.raises(ConfigError, match="the learning rate must be a positive number, got 0"):
        project(digits, target, lr=0)
    with pytest.raises(ConfigError, match="restarts must be at least 1, got 0"):
        project(digits, target, restarts=0)
    with pytest.raises(ConfigError, match="an unconditional run takes no label"):
        project(digits, target, label=1)
