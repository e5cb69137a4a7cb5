"""gankit neighbours: exact nearest training images in pixels and in the shipped digit
classifier's features, a training image is its own neighbour at distance 0, the panel's
geometry, and one-line refusals."""

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.config import ConfigError
from gankit.latent import neighbours as nn_module
from gankit.latent.neighbours import classifier_name, find_neighbours, nearest, save_panel
from gankit.metrics.digits import scale_images


def test_nearest_matches_brute_force_across_blocks(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    queries, reference = (
        torch.randn(6, 5, generator=generator),
        torch.randn(50, 5, generator=generator),
    )
    full = torch.cdist(queries.double(), reference.double())
    expected_d, expected_i = full.sort(dim=1)
    monkeypatch.setattr(nn_module, "BLOCK", 7)  # 8 blocks, the last of 1 row
    distances, indices = nearest(queries, reference, 4)
    assert torch.equal(indices, expected_i[:, :4])
    torch.testing.assert_close(distances, expected_d[:, :4], rtol=1e-12, atol=1e-12)
    with pytest.raises(ConfigError, match="k must be between 1 and the 50 training images, got 51"):
        nearest(queries, reference, 51)


def test_a_training_image_is_its_own_neighbour_at_distance_zero(digits):
    train = digits.source.images
    chosen = [0, 17, 1000]
    found = find_neighbours(digits, k=3, samples=scale_images(train[chosen]))
    assert [space.name for space in found.spaces] == ["pixels", "classifier"]
    pixels, features = found.spaces
    assert torch.equal(pixels.distances[:, 0], torch.zeros(3, dtype=torch.float64))
    # features of a batch of 3 and of 500 round differently in float32 (~1e-6), against
    # nearest distances of 4 to 10 between different digits
    assert (features.distances[:, 0] < 1e-4).all()
    for space in found.spaces:
        assert (space.distances[:, 1] > 0).all()  # the next one is another image
        for row, index in enumerate(chosen):
            assert torch.equal(train[space.indices[row, 0]], train[index])  # that image (or a twin)
        assert (space.distances.diff(dim=1) >= 0).all()  # nearest first


def test_generated_samples_have_neighbours_in_both_spaces(digits):
    found = find_neighbours(digits, k=4, n=5, seed=3)
    assert torch.equal(found.samples, digits.sample(5, 3))
    pixels, features = found.spaces
    assert pixels.indices.shape == features.indices.shape == (5, 4)
    # pixel distances recomputed by hand for the first sample's nearest
    index = int(pixels.indices[0, 0])
    by_hand = (
        found.samples[0].double() - scale_images(digits.source.images[index]).double()
    ).norm()
    assert float(pixels.distances[0, 0]) == pytest.approx(float(by_hand), rel=1e-12)
    assert float(pixels.distances.min()) > 0  # a tiny run copies nothing
    assert "'digits8x8' digit classifier's 128 features" in features.description
    assert [s.name for s in find_neighbours(digits, k=2, n=2, features=False).spaces] == ["pixels"]


def test_a_conditional_run_labels_its_samples(conditional):
    found = find_neighbours(conditional, k=1, n=4, label=6)
    assert found.labels.tolist() == [6, 6, 6, 6]


def test_which_runs_have_a_classifier(digits, ring):
    assert classifier_name(digits) == "digits8x8"
    assert classifier_name(ring) is None


def test_the_panel_has_its_fixed_geometry(digits, tmp_path):
    found = find_neighbours(digits, k=3, n=2)
    path = save_panel(found, tmp_path / "nn.png", "title")
    width, height = Image.open(path).size
    columns = 2 * (3 + 1) + 1  # two spaces of sample + 3, one empty column between
    inches = columns * 0.8 + (columns - 1) * 0.15 + 2 * 0.15 + 0.4
    assert width == round(inches * 100)  # 100 dots per inch
    lines = max(
        len(nn_module.textwrap.wrap(f"nearest training images, {s.description}", 48))
        for s in found.spaces
    )
    assert height == round((2 * (0.8 + 0.3) + 0.16 * (lines + 3)) * 100)


def test_cli_neighbours(digits, tmp_path, capsys):
    out = tmp_path / "nn.png"
    assert main(["neighbours", str(digits.path), "-o", str(out), "-n", "3", "-k", "2"]) == 0
    text = capsys.readouterr().out
    assert "3 samples" in text and "pixel L2 (images in [−1, 1]): nearest at median" in text
    assert "digit classifier's 128 features: nearest at median" in text
    assert np.asarray(Image.open(out)).ndim == 3


@pytest.mark.parametrize(
    "run, extra, message",
    [
        ("ring", [], "generates points, not images: nearest-neighbour panels need an image run"),
        ("digits", ["-o", "nn.gif"], "nn.gif: name a .png, .jpg or .jpeg file for the panel"),
        ("digits", ["-k", "5000"], "k must be between 1 and the 1797 training images"),
        ("digits", ["-k", "0"], "argument -k: 0 must be at least 1"),
    ],
)
def test_cli_refuses_in_one_line(request, tmp_path, capsys, monkeypatch, run, extra, message):
    monkeypatch.chdir(tmp_path)
    path = request.getfixturevalue(run).path
    try:
        code = main(["neighbours", str(path), *extra])
    except SystemExit as stop:  # argparse's own refusals
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
