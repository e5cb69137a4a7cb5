"""gankit eval on a user's own images: the folder evaluator trained once into the run and
reused, conditional accuracy in its classes, a corrupt evaluator refused in one line, and
translation runs measured by the pixel metrics with a note of what was left out."""

import hashlib
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
import gankit.metrics.folder_evaluator as folder_evaluator
from gankit.cli import main
from gankit.evaluate import EvaluationError, evaluate
from gankit.metrics.digits import scale_images
from gankit.metrics.folder_evaluator import EVALUATOR_DIR, INFO_FILE, WEIGHTS_FILE
from tests.metrics.test_folder_evaluator import make_shapes

TINY = {
    "data.name": "folder",
    "data.size": 32,
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 16,
    "train.steps": 2,
    "samples.every": 0,
    "log.tensorboard": False,
    "device": "cpu",
}


@pytest.fixture(scope="module", autouse=True)
def quick_training():
    """The evaluator trains for 40 steps here (300 at least by default)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(folder_evaluator, "MIN_STEPS", 40)
        yield


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("folder") / "shapes")


@pytest.fixture(scope="module")
def folder_run(shapes_root, tmp_path_factory):
    path = tmp_path_factory.mktemp("folder") / "run"
    overrides = {**TINY, "data.path": str(shapes_root)}
    return gankit.train("dcgan-mnist", overrides, run_dir=path, progress=False)


@pytest.fixture(scope="module")
def first_eval(folder_run):
    return evaluate(folder_run.path, samples=40)


def test_eval_trains_the_folder_evaluator_once_and_reuses_it(folder_run, first_eval, monkeypatch):
    directory = folder_run.path / EVALUATOR_DIR
    info = json.loads((directory / INFO_FILE).read_text())
    weights = directory / WEIGHTS_FILE
    provenance = first_eval["provenance"]
    assert provenance["extractor"] == "folder"
    assert provenance["extractor_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert provenance["extractor_accuracy"] == info["heldout_accuracy"] >= 0.9
    assert provenance["real"]["count"] == info["split"]["heldout"] == 80
    assert info["training"]["steps"] == 40
    assert set(first_eval["metrics"]) == {
        "fid", "kid", "precision", "recall", "density", "coverage", "is",
        "classes_covered", "largest_class_share", "class_reverse_kl",
    }  # fmt: skip
    assert "skipped_metrics" not in provenance
    written = weights.stat().st_mtime_ns

    def retrain(*args, **kwargs):
        raise AssertionError("the evaluator was trained again")

    monkeypatch.setattr(folder_evaluator, "train_evaluator", retrain)
    second = evaluate(folder_run.path, samples=40)
    assert second["metrics"] == first_eval["metrics"]
    assert weights.stat().st_mtime_ns == written


def test_a_corrupt_evaluator_is_refused_in_one_line(folder_run, first_eval, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(folder_run.path, copy)
    weights = copy / EVALUATOR_DIR / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    assert main(["eval", str(copy), "--samples", "20", "--no-progress"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "weights.safetensors: corrupt (sha256" in lines[0]
    assert f"remove {copy / EVALUATOR_DIR}" in lines[0]


def test_the_cli_says_which_evaluator_measured(folder_run, first_eval, tmp_path, capsys):
    output = tmp_path / "eval.json"
    assert main(["eval", str(folder_run.path), "--samples", "20", "-o", str(output)]) == 0
    out, err = capsys.readouterr()
    assert "vs 80 real (held-out split of the folder evaluator" in out
    assert "held-out accuracy" in out and "note:" not in err
    assert json.loads(output.read_text())["provenance"]["extractor"] == "folder"


def test_a_conditional_run_gets_conditional_accuracy_in_the_folders_classes(
    folder_run, first_eval, shapes_root, tmp_path
):
    overrides = {**TINY, "data.path": str(shapes_root), "task": "conditional"}
    trained = gankit.train("dcgan-mnist", overrides, run_dir=tmp_path / "c", progress=False)
    # the same data: the evaluator of the other run is valid here too, and is reused
    shutil.copytree(folder_run.path / EVALUATOR_DIR, trained.path / EVALUATOR_DIR)
    run = gankit.load(trained.path)
    evaluator = folder_evaluator.load_evaluator(trained.path / EVALUATOR_DIR, run.source)
    images, labels = evaluator.heldout(run.source)
    order = torch.argsort(labels, stable=True)  # 20 of each shape, in label order
    assert torch.equal(run.labels_for(80), labels[order])
    run.sample = lambda n, seed=0, label=None: scale_images(images[order][:n])
    metrics = evaluate(run, samples=80)["metrics"]
    accuracy = evaluator.info["heldout_accuracy"]
    assert metrics["conditional_accuracy"]["mean"] == pytest.approx(accuracy, abs=1e-12)
    assert metrics["class_fid_mean"]["mean"] == pytest.approx(0.0, abs=1e-6)  # real = real
    with pytest.raises(EvaluationError, match="memorisation check needs real images"):
        evaluate(run, ["mem"])


def _paired_folders(root, count=24, side=16):
    """Inputs and targets of the same names: targets are the inputs mirrored."""
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        for folder, image in (("inputs", pixels), ("targets", pixels[:, ::-1])):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(image)).save(root / folder / f"{i:03d}.png")
    return root


def test_pix2pix_on_users_folders_gets_the_pixel_metrics_and_a_note(tmp_path, capsys):
    root = _paired_folders(tmp_path / "pairs")
    overrides = {
        "task": "paired",
        "data": {"name": "paired_folders", "inputs": str(root / "inputs"),
                 "targets": str(root / "targets"), "size": 16},
        "generator": {"name": "unet", "width": 4},
        "discriminator": {"name": "patchgan", "width": 4, "layers": 2},
        "train.steps": 2, "train.batch_size": 4, "train.ema": None, "train.lr_decay": None,
        "samples.every": 0, "log.tensorboard": False, "device": "cpu",
    }  # fmt: skip
    run = gankit.train(None, overrides, run_dir=tmp_path / "run", progress=False)
    result = evaluate(run.path, samples=12)
    assert set(result["metrics"]) == {
        "l1",
        "psnr",
        "ssim",
        "sharpness",
        "target_sharpness",
        "diversity",
    }
    skipped = result["provenance"]["skipped_metrics"]
    assert set(skipped) == {"fid", "labels"}
    assert "a shipped digit classifier" in skipped["fid"]
    assert main(["eval", str(run.path), "--samples", "12", "--no-progress"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"note: not computed: fid, labels: {skipped['fid']}"]
    with pytest.raises(EvaluationError, match="need a digit task"):
        evaluate(run.path, ["fid"])
    with pytest.raises(EvaluationError, match="measured by pixel metrics"):
        evaluate(run.path, extractor="folder")


@pytest.mark.slow
def test_an_unlabelled_folder_run_skips_the_class_metrics_and_says_why(tmp_path, capsys):
    root = make_shapes(tmp_path / "flat", per_class=60, flat=True)
    overrides = {**TINY, "data.path": str(root)}
    run = gankit.train("dcgan-mnist", overrides, run_dir=tmp_path / "run", progress=False)
    assert main(["eval", str(run.path), "--samples", "20", "--no-progress"]) == 0
    result = json.loads((run.path / "eval.json").read_text())
    assert result["provenance"]["extractor_model"].startswith("SimCLR encoder")
    assert set(result["metrics"]) == {"fid", "kid", "precision", "recall", "density", "coverage"}
    skipped = result["provenance"]["skipped_metrics"]
    assert set(skipped) == {"is", "classes"}
    assert "class logits" in skipped["is"] and "the data's classes" in skipped["classes"]
    err = capsys.readouterr().err.strip().splitlines()
    notes = [line for line in err if line.startswith("note:")]
    assert len(notes) == 1 and "is: it needs" in notes[0] and "classes: it needs" in notes[0]
