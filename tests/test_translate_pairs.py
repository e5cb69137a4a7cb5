"""A pix2pix run on a user's pix2pix-layout folder: it trains on train/ at the images' own
size, is evaluated on test/ at that size, and ``gankit translate`` refuses A|B inputs
rather than squash them, or with ``--split-ab`` translates the half the run reads."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import gankit
from gankit.data import DataError
from gankit.evaluate import evaluate
from gankit.translate import input_half, translate_path
from tests.test_cli_outputs import cli, refused
from tests.train.test_translation_tasks import PIX2PIX

HALF = 16


def _pair(path: Path, seed: int, half: int = HALF) -> Path:
    """A random A|B image: two ``half``×``half`` RGB halves side by side."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (half, 2 * half, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def facades(tmp_path_factory) -> Path:
    """A pix2pix-layout root: train/ of 16-px halves, test/ of 24-px halves."""
    root = tmp_path_factory.mktemp("own") / "facades"
    for i in range(4):
        _pair(root / "train" / f"{i}.png", i)
    for i in range(2):
        _pair(root / "test" / f"{i}.png", 10 + i, half=24)
    return root


@pytest.fixture(scope="module")
def pix2pix_run(facades) -> Path:
    overrides = {**PIX2PIX, "data": {"name": "aligned", "path": str(facades)}, "train.steps": 2}
    return gankit.train(None, overrides, run_dir=facades.parent / "run", progress=False).path


def test_it_trains_on_train_at_its_own_size_and_is_measured_on_test(pix2pix_run):
    run = gankit.load(pix2pix_run)
    assert run.data_info["shape"] == run.data_info["input_shape"] == [3, HALF, HALF]
    assert len(run.source) == 4  # train/ only
    result = evaluate(pix2pix_run, ["l1"], seeds=(0,))
    assert result["provenance"]["inputs"]["split"] == "test"  # 24-px halves, read at 16
    assert 0 < result["metrics"]["l1"]["mean"] < 2


@pytest.mark.parametrize(
    ("trained", "direction", "half"),
    [("AtoB", "AtoB", "left"), ("AtoB", "BtoA", "right"), ("BtoA", "AtoB", "right")],
)
def test_the_half_read_is_the_generators_input(trained, direction, half):
    run = SimpleNamespace(config=SimpleNamespace(data=SimpleNamespace(direction=trained)))
    assert input_half(run, direction) == half


def test_an_ab_input_is_refused_unless_split(pix2pix_run, tmp_path):
    run = gankit.load(pix2pix_run)
    pair = _pair(tmp_path / "in" / "ab.png", 7, half=20)
    message = (
        "ab.png is 40×20, an A|B pair: two images side by side (the pix2pix data sets' "
        "layout), which translating whole would squash into one; pass --split-ab to "
        "translate the left (A) half that this run reads"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        translate_path(run, pair, tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()
    Image.open(pair).crop((0, 0, 20, 20)).save(tmp_path / "left.png")
    split = translate_path(run, pair, tmp_path / "out.png", dropout=False, split_ab=True)
    alone = translate_path(run, tmp_path / "left.png", tmp_path / "alone.png", dropout=False)
    assert np.array_equal(np.asarray(Image.open(split[0])), np.asarray(Image.open(alone[0])))
    assert Image.open(split[0]).size == (HALF, HALF)


def test_a_folder_must_be_all_pairs_or_none(pix2pix_run, tmp_path):
    run = gankit.load(pix2pix_run)
    _pair(tmp_path / "in" / "a.png", 1)
    _pair(tmp_path / "in" / "b.png", 2)
    Image.new("RGB", (16, 16)).save(tmp_path / "in" / "single.png")
    with pytest.raises(DataError, match=r"^2 of the 3 inputs \(a\.png, b\.png\) are A\|B pairs"):
        translate_path(run, tmp_path / "in", tmp_path / "out")
    message = (
        "--split-ab: 1 of the 3 inputs (single.png) is not an A|B pair (two images side by "
        "side, twice as wide as high); leave out --split-ab for single images"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        translate_path(run, tmp_path / "in", tmp_path / "out", split_ab=True)
    assert not (tmp_path / "out").exists()


def test_gankit_translate_split_ab(pix2pix_run, facades, tmp_path, capsys):
    pair = facades / "test" / "0.png"
    refused(capsys, "translate", pix2pix_run, pair, "-o", tmp_path / "o.png",
            contains=("0.png is 48×24, an A|B pair", "pass --split-ab"))  # fmt: skip
    status, out, _ = cli(capsys, "translate", pix2pix_run, pair, "-o", tmp_path / "o.png",
                         "--split-ab")  # fmt: skip
    assert status == 0 and "translated 1 image(s) (the left half of each A|B pair) AtoB" in out
    assert Image.open(tmp_path / "o.png").size == (HALF, HALF)
