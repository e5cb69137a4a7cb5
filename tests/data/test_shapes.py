"""The coloured-shapes data set: deterministic from its seed, exact labels and areas,
saturated shapes on greyish backgrounds, and a folder of PNGs that reads back as itself."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from gankit.config import resolve
from gankit.data import SHAPES, FolderOptions, ShapesOptions, build_source, render_shapes
from gankit.data.shapes import shape_coverage, write_shapes
from gankit.files import OutputError

UNIT_AREAS = {
    "circle": math.pi * 0.85**2,
    "square": 1.4**2,
    "triangle": 3 * math.sqrt(3) / 4,  # equilateral, circumradius 1
    "cross": 2 * 1.8 * 0.56 - 0.56**2,  # two bars, their common square counted once
}


def chroma(images: torch.Tensor) -> torch.Tensor:
    """max − min over the channels of uint8 images (N, 3, H, W), in [0, 1]."""
    pixels = images.float() / 255
    return pixels.amax(1) - pixels.amin(1)


def test_the_same_seed_draws_the_same_images_and_another_seed_others():
    a, labels_a = render_shapes(24, 16, seed=5)
    b, labels_b = render_shapes(24, 16, seed=5)
    c, _ = render_shapes(24, 16, seed=6)
    assert a.shape == (24, 3, 16, 16) and a.dtype == torch.uint8
    assert torch.equal(a, b) and torch.equal(labels_a, labels_b)
    assert (a != c).any(dim=(1, 2, 3)).all()  # every image differs


def test_labels_cycle_through_the_classes_in_order():
    _, labels = render_shapes(10, 8)
    assert labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert SHAPES == ("circle", "square", "triangle", "cross")


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_covers_its_closed_form_area(shape):
    radius, size = 10.0, 32
    angles = np.array([0.0, 0.4, 1.3])
    cover = shape_coverage(
        np.full(3, SHAPES.index(shape)),
        np.full((3, 2), 16.0),
        np.full(3, radius),
        angles,
        size,
    )
    area = cover.sum(axis=(1, 2))  # in pixels, edges sampled 4 × 4 per pixel
    assert area == pytest.approx(np.full(3, UNIT_AREAS[shape] * radius**2), rel=0.02)
    assert cover.min() >= 0 and cover.max() == 1


def test_a_circle_is_round_and_a_square_turns_with_its_angle():
    circle = shape_coverage(np.zeros(2), np.full((2, 2), 16.0), np.full(2, 10.0), [0.0, 1.0], 32)
    np.testing.assert_allclose(circle[0], circle[1], atol=1 / 16)  # one sub-pixel at most
    square = shape_coverage(np.ones(2), np.full((2, 2), 16.0), np.full(2, 10.0), [0, np.pi / 4], 32)
    # axis-aligned, the half-side is 7 px: the pixel 8 px right of the centre is outside;
    # turned 45°, the corner reaches 7·√2 ≈ 9.9 px along that row
    assert square[0][15, 24] == 0 and square[1][15, 24] > 0.5


def test_shapes_are_saturated_and_backgrounds_grey_and_dark():
    images, _ = render_shapes(200, 32, seed=1)
    c = chroma(images)
    # a shape: saturation ≥ 0.7 and value ≥ 0.75 give a chroma ≥ 0.525 inside it
    assert (c.flatten(1).amax(1) >= 0.52).all()
    # the corners lie outside every shape's circumcircle: background, chroma ≤ 0.4 · 0.3
    corners = c[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert corners.max() <= 0.12 + 1 / 255
    value = images.float().amax(1)[:, [0, -1], [0, -1]] / 255
    assert value.max() <= 0.4 + 1 / 255 and value.min() >= 0.1 - 1 / 255


def test_a_written_folder_reads_back_as_the_same_labelled_images(tmp_path):
    images, labels = render_shapes(40, 16, seed=3)
    written = write_shapes(tmp_path / "shapes", 40, 16, seed=3)
    assert len(written) == 40
    assert sorted(p.parent.name for p in written) == sorted(SHAPES[i] for i in labels)
    assert written[5] == tmp_path / "shapes" / "square" / "000005.png"
    folder = build_source(FolderOptions(path=str(tmp_path / "shapes")))
    assert folder.class_names == sorted(SHAPES)
    # the folder lists files by sub-folder, then name: image i of each class in turn
    order = sorted(range(40), key=lambda i: (SHAPES[int(labels[i])], i))
    assert torch.equal(folder.images, images[order])  # PNG is lossless
    names = [folder.class_names[int(y)] for y in folder.labels]
    assert names == [SHAPES[int(labels[i])] for i in order]


def test_a_folder_with_files_or_a_file_is_refused(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.png").write_bytes(b"")
    with pytest.raises(OutputError, match="full is not empty"):
        write_shapes(tmp_path / "full", 4, 8)
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="file is a file"):
        write_shapes(tmp_path / "file", 4, 8)


def test_shapes_is_a_data_source_of_the_config():
    config = resolve("sngan", ["data.name=shapes", "data.count=12", "data.size=16"])
    source = build_source(config.data)
    assert source.shape == (3, 16, 16) and len(source) == 12
    assert source.classes == 4 and source.class_names == list(SHAPES)
    assert torch.equal(source.images, render_shapes(12, 16)[0])
    with pytest.raises(ValidationError, match="greater than or equal to 8"):
        ShapesOptions(size=4)


def gankit(*args):
    return subprocess.run(
        [sys.executable, "-m", "gankit", *args], capture_output=True, text=True, timeout=120
    )


def test_make_data_writes_the_folder_and_says_how_to_train_on_it(tmp_path):
    out = gankit("make-data", "shapes", str(tmp_path / "s"), "--count", "8", "--size", "16")
    assert out.returncode == 0, out.stderr
    assert "wrote 8 16×16 images" in out.stdout
    assert f"gankit train folder-32 --set data.path={tmp_path / 's'}" in out.stdout
    assert len(list((tmp_path / "s").rglob("*.png"))) == 8
    again = gankit("make-data", "shapes", str(tmp_path / "s"), "--count", "8")
    assert again.returncode == 2
    assert (
        again.stderr
        == f"error: {tmp_path / 's'} is not empty; name a new or empty folder for the shapes\n"
    )
    small = gankit("make-data", "shapes", str(tmp_path / "t"), "--size", "4")
    assert small.returncode == 2 and small.stderr.count("\n") == 1
    assert "--size 4: Input should be greater than or equal to 8" in small.stderr
