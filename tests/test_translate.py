"""Translating with pix2pix and CycleGAN runs: the API, gankit translate on a file and a
folder, and gankit eval's translation metrics."""

import subprocess
import sys

import pytest
import torch
from PIL import Image

import gankit
from gankit.evaluate import evaluate
from tests.train.test_translation_tasks import CYCLEGAN, PIX2PIX


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("translate") / "pix2pix"
    return gankit.train(None, {**PIX2PIX, "train.steps": 3}, run_dir=path, progress=False)


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("translate") / "cyclegan"
    return gankit.train(None, {**CYCLEGAN, "train.steps": 3}, run_dir=path, progress=False)


def test_pix2pix_dropout_is_its_noise_and_can_be_switched_off(pix2pix_run):
    run = gankit.load(pix2pix_run.path)
    edges = torch.rand(4, 1, 16, 16) * 2 - 1
    first, second = run.translate(edges, seed=0), run.translate(edges, seed=1)
    assert first.shape == (4, 1, 16, 16) and not torch.equal(first, second)
    assert torch.equal(run.translate(edges, seed=0), first)  # the seed fixes the noise
    quiet = run.translate(edges, seed=0, dropout=False)
    assert torch.equal(quiet, run.translate(edges, seed=1, dropout=False))
    assert run.generator.sample_dropout  # restored afterwards


def test_wrong_channels_and_directions_are_refused(pix2pix_run):
    run = gankit.load(pix2pix_run.path)
    with pytest.raises(gankit.ConfigError, match=r"A images of 1 channel\(s\)"):
        run.translate(torch.zeros(2, 3, 16, 16))
    with pytest.raises(gankit.ConfigError, match="translates AtoB only"):
        run.translate(torch.zeros(2, 1, 16, 16), direction="BtoA")


def _write_images(folder, count, size, mode="L"):
    folder.mkdir(parents=True)
    for i in range(count):
        pixels = (torch.rand(size, size, 3) * 255).to(torch.uint8).numpy()
        Image.fromarray(pixels).convert(mode).save(folder / f"img{i}.png")


@pytest.mark.slow
def test_gankit_translate_a_folder_and_a_file(cyclegan_run, tmp_path):
    _write_images(tmp_path / "in" / "sub", 3, 20, mode="RGB")  # converted to grey, resized
    result = subprocess.run(
        [sys.executable, "-m", "gankit", "translate", str(cyclegan_run.path), str(tmp_path / "in")]
        + ["-o", str(tmp_path / "out"), "--direction", "BtoA"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outputs = sorted((tmp_path / "out" / "sub").glob("*.png"))
    assert [p.name for p in outputs] == ["img0.png", "img1.png", "img2.png"]
    assert Image.open(outputs[0]).size == (16, 16) and Image.open(outputs[0]).mode == "L"
    single = subprocess.run(
        [sys.executable, "-m", "gankit", "translate", str(cyclegan_run.path)]
        + [str(tmp_path / "in" / "sub" / "img1.png"), "-o", str(tmp_path / "one.png")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert single.returncode == 0 and (tmp_path / "one.png").is_file(), single.stderr


def test_eval_of_a_pix2pix_run_reports_pixel_and_digit_metrics(pix2pix_run):
    result = evaluate(pix2pix_run.path, samples=40, seeds=(0, 1))
    metrics = result["metrics"]
    assert set(metrics) == {
        "l1", "psnr", "ssim", "sharpness", "target_sharpness", "diversity", "fid",
        "label_accuracy",
    }  # fmt: skip
    assert 0 < metrics["l1"]["mean"] <= 2 and -1 <= metrics["ssim"]["mean"] <= 1
    assert metrics["diversity"]["mean"] > 0  # dropout changes the outputs
    assert 0 <= metrics["label_accuracy"]["mean"] <= 1
    provenance = result["provenance"]
    assert provenance["inputs"]["split"].startswith("heldout")
    assert len(provenance["extractor"]["AtoB"]["sha256"]) == 64


def test_eval_of_a_cyclegan_run_reports_both_directions(cyclegan_run):
    metrics = evaluate(cyclegan_run.path, samples=30)["metrics"]
    assert set(metrics) == {
        "cycle_a", "cycle_b", "fid_ab", "fid_ba", "label_accuracy_ab", "label_accuracy_ba",
        "label_accuracy_ab_unchanged", "label_accuracy_ba_unchanged",
    }  # fmt: skip
    # the no-translation baseline depends on the data, not the run: 30 fixed held-out digits
    # of each domain at 16×16 read by the other domain's classifier (measured: 20 and 20)
    assert metrics["label_accuracy_ab_unchanged"]["mean"] == pytest.approx(20 / 30)
    assert metrics["label_accuracy_ba_unchanged"]["mean"] == pytest.approx(20 / 30)
    with pytest.raises(gankit.GankitError, match="unknown metric.*ssim.*task=unpaired"):
        evaluate(cyclegan_run.path, ["ssim"])


def test_gankit_download_lists_the_public_data_sets_without_fetching():
    listed = subprocess.run(
        [sys.executable, "-m", "gankit", "download"], capture_output=True, text=True, timeout=60
    )
    names = {line.split()[0] for line in listed.stdout.splitlines()}
    assert listed.returncode == 0 and {"facades", "maps", "horse2zebra"} <= names
