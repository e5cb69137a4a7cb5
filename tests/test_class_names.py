"""Class names travel with a conditional run: a folder's sub-folder names (the digit sets'
"0".."9") are kept in its checkpoints, shown by ``gankit info``, written on the rows of its
sample grids and taken by ``gankit sample --label NAME`` and ``Run.sample(label=NAME)``;
checkpoints written before names were kept still load and take numbers."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import gankit
from gankit.config import resolve
from gankit.data import build_source
from gankit.tasks import build_task
from gankit.train.checkpoint import CheckpointError, load_checkpoint
from gankit.viz import image_grid, label_rows
from tests.test_cli_outputs import cli, refused

NAMES = ["circle", "square", "triangle"]
TINY = {
    "task": "conditional",
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 8,
    "train.steps": 2,
    "samples.every": 0,
    "samples.count": 6,
    "log.every": 1,
    "log.tensorboard": False,
    "device": "cpu",
}


def _shapes(root: Path) -> Path:
    """circle/, square/, triangle/: four 8×8 grey drawings each."""
    for name in NAMES:
        (root / name).mkdir(parents=True)
        for i in range(4):
            image = Image.new("L", (8, 8))
            draw = ImageDraw.Draw(image)
            box = (1, 1, 6, 6 - i % 2)
            if name == "circle":
                draw.ellipse(box, fill=255)
            elif name == "square":
                draw.rectangle(box, fill=255)
            else:
                draw.polygon([(3, 0), (0, 7), (7, 7)], fill=255)
            image.save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory) -> Path:
    root = _shapes(tmp_path_factory.mktemp("shapes") / "shapes")
    overrides = {**TINY, "data.name": "folder", "data.path": str(root), "data.greyscale": True}
    run = gankit.train("dcgan-digits8x8", overrides, run_dir=root.parent / "run", progress=False)
    return run.path


@pytest.fixture(scope="module")
def old_run(shapes_run, tmp_path_factory) -> Path:
    """A copy of ``shapes_run`` whose checkpoint lacks the names, as earlier ones did."""
    path = tmp_path_factory.mktemp("old") / "run"
    shutil.copytree(shapes_run, path)
    for state_file in path.glob("checkpoints/*/state.json"):
        state = json.loads(state_file.read_text())
        del state["data"]["class_names"]
        state_file.write_text(json.dumps(state))
    return path


def test_the_checkpoint_keeps_the_folder_names(shapes_run):
    (checkpoint,) = shapes_run.glob("checkpoints/step_*")
    data = load_checkpoint(checkpoint).state["data"]
    assert data["classes"] == 3 and data["class_names"] == NAMES
    assert gankit.load(shapes_run).class_names == NAMES


def test_a_name_draws_what_its_index_draws(shapes_run):
    run = gankit.load(shapes_run)
    assert torch.equal(run.sample(6, seed=3, label="square"), run.sample(6, seed=3, label=1))
    mixed = run.sample(3, seed=1, label=["triangle", 0, "square"])
    assert torch.equal(mixed, run.sample(3, seed=1, label=[2, 0, 1]))
    assert run.labels_for(3, ["triangle", "circle", "square"]).tolist() == [2, 0, 1]
    batches = list(run.sample_batches(5, label="triangle", batch_size=2))
    assert torch.equal(torch.cat(batches)[:2], run.sample(2, label=2))
    assert run.class_index("triangle") == 2 and run.class_index(1) == 1


def test_an_unknown_name_is_refused_naming_the_classes(shapes_run):
    run = gankit.load(shapes_run)
    message = f"{shapes_run}: no class named 'circel'; its classes are circle, square, triangle"
    with pytest.raises(gankit.ConfigError, match=f"^{re.escape(message)}$"):
        run.sample(4, label="circel")
    with pytest.raises(gankit.ConfigError, match="no class named 'hexagon'"):
        run.sample(2, label=["circle", "hexagon"])


def test_info_lists_the_classes_and_sample_takes_names(shapes_run, tmp_path, capsys):
    status, out, _ = cli(capsys, "info", shapes_run)
    assert status == 0 and "classes     0 circle, 1 square, 2 triangle\n" in out
    status, out, _ = cli(capsys, "sample", shapes_run, "-n", 4, "--label", "square", "-o",
                         tmp_path / "s.png")  # fmt: skip
    assert status == 0 and " of class square (1) of " in out
    status, out, _ = cli(capsys, "sample", shapes_run, "-n", 4, "--label", "2", "-o",
                         tmp_path / "t.png")  # fmt: skip
    assert status == 0 and " of class triangle (2) of " in out
    refused(capsys, "sample", shapes_run, "--label", "hexagon", "-o", tmp_path / "x.png",
            contains=("no class named 'hexagon'; its classes are circle, square, triangle",))  # fmt: skip


def test_the_grid_has_a_name_left_of_each_row(shapes_run, tmp_path):
    run = gankit.load(shapes_run)
    path = run.save_samples(tmp_path / "grid.png", n=6, seed=2)
    picture = np.asarray(Image.open(path))  # (H, W): grey
    grid = image_grid(run.sample(6, seed=2), nrow=2)  # one class per row, 2 columns
    expected = label_rows(grid, NAMES, tile_height=8)[:, :, 0]
    assert np.array_equal(picture, expected)
    margin = picture.shape[1] - grid.shape[1]
    assert margin > 0 and np.array_equal(picture[:, margin:], grid[:, :, 0])
    bands = [picture[2 + 10 * row : 10 + 10 * row, :margin] for row in range(3)]
    assert all(band.max() > 200 for band in bands)  # white (antialiased) text on every row
    assert not np.array_equal(bands[0], bands[1]) and not np.array_equal(bands[1], bands[2])
    one = np.asarray(Image.open(run.save_samples(tmp_path / "one.png", n=4, label="circle")))
    assert one.shape == image_grid(run.sample(4), nrow=2).shape[:2]  # one class: no labels


def test_a_checkpoint_without_names_loads_and_takes_numbers(old_run, tmp_path, capsys):
    run = gankit.load(old_run)
    assert run.class_names is None and run.classes == 3
    assert torch.equal(run.sample(2, label=1), gankit.load(old_run).sample(2, label=1))
    message = (
        f"{old_run}: its checkpoint stores no class names (written by an earlier gankit); give "
        "the label as a number 0–2, not 'circle'"
    )
    with pytest.raises(gankit.ConfigError, match=f"^{re.escape(message)}$"):
        run.sample(2, label="circle")
    status, out, _ = cli(capsys, "info", old_run)
    assert "classes     0–2 (this checkpoint, of an earlier gankit, stores no names)\n" in out
    picture = np.asarray(Image.open(run.save_samples(tmp_path / "g.png", n=6, seed=2)))
    grid = image_grid(run.sample(6, seed=2), nrow=2)
    assert np.array_equal(picture, label_rows(grid, ["0", "1", "2"], 8)[:, :, 0])


def test_names_that_do_not_fit_the_classes_are_refused(old_run):
    (checkpoint,) = old_run.glob("checkpoints/step_*")
    state_file = checkpoint / "state.json"
    state = json.loads(state_file.read_text())
    state["data"]["class_names"] = ["circle", "circle", "square"]
    state_file.write_text(json.dumps(state))
    message = f"{state_file}: 'data.class_names' is not a list of 3 distinct names"
    with pytest.raises(CheckpointError, match=f"^{re.escape(message)}$"):
        load_checkpoint(checkpoint)


@pytest.mark.parametrize(
    ("preset", "overrides", "names"),
    [
        ("dcgan-digits8x8", {}, [str(d) for d in range(10)]),
        ("dcgan-digits8x8", {"data.classes": [5, 3]}, ["3", "5"]),
        ("ring-2d", {"data.modes": 4}, ["0", "1", "2", "3"]),
    ],
)
def test_the_digit_sets_are_named_by_their_digits(preset, overrides, names):
    config = resolve(preset, {"task": "conditional", **overrides})
    info = build_task(config).data_info(build_source(config.data))
    assert info["class_names"] == names and info["classes"] == len(names)


def test_row_labels_are_cut_and_counted():
    grid = image_grid(torch.zeros(4, 3, 8, 8), nrow=2)
    long = label_rows(grid, ["a" * 40, "b"], 8)
    cut = label_rows(grid, ["a" * 15 + "…", "b"], 8)
    assert np.array_equal(long, cut) and long.shape[2] == 3
    assert np.array_equal(long[:, long.shape[1] - grid.shape[1] :], grid)
    with pytest.raises(ValueError, match="3 row labels for a grid of 2 rows"):
        label_rows(grid, ["a", "b", "c"], 8)
