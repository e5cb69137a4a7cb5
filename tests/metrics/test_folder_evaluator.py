"""The folder evaluator: a classifier of a folder's classes (or a SimCLR encoder of an
unlabelled folder) trained on its training split, whose features tell real images from
noise and from a collapsed generator, saved with the sha256 of its weights and data, and
refused in one line when either does not match."""

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from gankit.data import build_source
from gankit.data.images import FolderOptions, image_files
from gankit.metrics.digits import scale_images
from gankit.metrics.folder_evaluator import (
    INFO_FILE,
    WEIGHTS_FILE,
    data_sha256_of,
    load_evaluator,
    nt_xent,
    save_evaluator,
    split_indices,
    train_evaluator,
)
from gankit.metrics.reference import FeatureReference
from gankit.metrics.registry import EvaluationError

SHAPES = ("circle", "cross", "square", "triangle")  # sorted: the folder's class order


def make_shapes(root: Path, per_class: int = 100, side: int = 32, flat: bool = False) -> Path:
    """Coloured shapes on dark backgrounds, ``per_class`` of each of :data:`SHAPES` at
    random colours, sizes and places: one sub-folder per shape, or (``flat``) all in
    ``root`` named ``<shape>-<i>.png``."""
    rng = np.random.default_rng(0)
    for name in SHAPES:
        folder = root if flat else root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            background = tuple(int(v) for v in rng.integers(0, 80, 3))
            colour = tuple(int(v) for v in rng.integers(120, 256, 3))
            image = Image.new("RGB", (side, side), background)
            draw = ImageDraw.Draw(image)
            r = rng.uniform(0.22, 0.34) * side
            x, y = rng.uniform(r + 1, side - r - 1, 2)
            if name == "circle":
                draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
            elif name == "square":
                draw.rectangle([x - r, y - r, x + r, y + r], fill=colour)
            elif name == "triangle":
                draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=colour)
            else:
                w = r / 3
                draw.rectangle([x - r, y - w, x + r, y + w], fill=colour)
                draw.rectangle([x - w, y - r, x + w, y + r], fill=colour)
            image.save(folder / (f"{name}-{i:04d}.png" if flat else f"{i:04d}.png"))
    return root


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "shapes")


@pytest.fixture(scope="module")
def shapes(shapes_root):
    return build_source(FolderOptions(path=str(shapes_root), size=32))


@pytest.fixture(scope="module")
def classifier(shapes, tmp_path_factory):
    network, info = train_evaluator(shapes, steps=40)
    directory = tmp_path_factory.mktemp("classifier") / "evaluator"
    save_evaluator(directory, network, info)
    return load_evaluator(directory, shapes)


def test_split_holds_out_a_fifth_of_each_class_by_a_fixed_rule():
    labels = torch.tensor([0] * 10 + [1] * 5 + [2] * 2)
    train, heldout = split_indices(labels, len(labels))
    assert [int((labels[heldout] == c).sum()) for c in range(3)] == [2, 1, 1]
    assert sorted(torch.cat([train, heldout]).tolist()) == list(range(17))

    def key(i):
        return hashlib.sha256(f"0:{i}".encode()).digest()

    assert heldout[labels[heldout] == 0].tolist() == sorted(sorted(range(10), key=key)[:2])
    assert torch.equal(split_indices(labels, len(labels))[1], heldout)  # no RNG involved
    assert len(split_indices(None, 15)[1]) == 3


def test_nt_xent_has_its_closed_form():
    # views 0, 2 of one image and 1, 3 of another, orthogonal: each row's logits over the
    # other three views are (0, 1/τ, 0), so the loss is log(1 + 2·exp(−1/τ))
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    assert nt_xent(z, 0.5).item() == pytest.approx(math.log(1 + 2 * math.exp(-2)))


def test_the_classifier_learns_the_folders_classes_and_records_how(classifier, shapes):
    info = classifier.info
    assert info["kind"] == "classifier" and classifier.classes == 4
    assert info["class_names"] == list(SHAPES)
    assert info["image_shape"] == [3, 32, 32] and info["resize"] == "none"
    assert (info["split"]["train"], info["split"]["heldout"]) == (320, 80)
    # measured 0.9875 (79 of 80) after 40 steps; chance is 0.25
    assert info["heldout_accuracy"] >= 0.9
    weights = (classifier.path / WEIGHTS_FILE).read_bytes()
    assert info["sha256"] == hashlib.sha256(weights).hexdigest()
    assert info["data"]["sha256"] == data_sha256_of(shapes)
    images, labels = classifier.heldout(shapes)
    logits = classifier.features_and_logits(scale_images(images))[1]
    assert float((logits.argmax(1) == labels).double().mean()) == info["heldout_accuracy"]


def test_fid_tells_real_images_from_noise_and_from_one_class(classifier, shapes):
    images, _ = classifier.heldout(shapes)
    reference = FeatureReference(classifier, scale_images(images), {}, data_classes=True)
    train, _ = split_indices(shapes.labels, len(shapes))
    pick = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:80]]
    real = reference.measure(scale_images(shapes.images[pick]), ["fid", "pr", "classes"])
    noise = torch.rand(80, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    fake = reference.measure(noise, ["fid"])
    circles = reference.measure(scale_images(shapes.images[train[:80]]), ["fid", "pr", "classes"])
    # measured: real 0.24, one class 18.8, noise 48
    assert real["fid"] < 0.05 * fake["fid"] and real["fid"] < 0.1 * circles["fid"]
    assert real["recall"] >= 0.8 and circles["recall"] <= 0.35  # measured 0.90 and 0.23
    assert real["classes_covered"] == 4 and real["largest_class_share"] <= 0.35
    assert circles["largest_class_share"] >= 0.9  # measured 0.95: 76 of 80 read as circles


def test_a_corrupt_or_foreign_evaluator_is_refused_in_one_line(
    classifier, shapes, shapes_root, tmp_path
):
    copy = tmp_path / "evaluator"
    shutil.copytree(classifier.path, copy)
    weights = bytearray((copy / WEIGHTS_FILE).read_bytes())
    weights[-1] ^= 0xFF
    (copy / WEIGHTS_FILE).write_bytes(bytes(weights))
    with pytest.raises(EvaluationError, match=r"weights.safetensors: corrupt \(sha256") as bad:
        load_evaluator(copy, shapes)
    assert "\n" not in str(bad.value) and f"remove {copy}" in str(bad.value)
    changed = build_source(FolderOptions(path=str(shapes_root), size=32))
    changed.images[0, 0, 0, 0] ^= 1
    with pytest.raises(EvaluationError, match="was trained on other data"):
        load_evaluator(classifier.path, changed)
    (copy / INFO_FILE).write_text("{")
    with pytest.raises(EvaluationError, match="unreadable evaluator record"):
        load_evaluator(copy, shapes)
    with pytest.raises(EvaluationError, match=r"reads images of shape \(3, 32, 32\)"):
        classifier.features_and_logits(torch.zeros(2, 1, 32, 32))


def test_a_record_names_its_weights_hash_and_settings(classifier):
    record = json.loads((classifier.path / INFO_FILE).read_text())
    assert set(record) >= {
        "kind", "architecture", "image_shape", "data", "split", "heldout_accuracy",
        "training", "sha256", "torch_version", "gankit_version",
    }  # fmt: skip
    assert record["training"]["steps"] == 40 and record["training"]["seed"] == 0


@pytest.mark.slow
def test_an_unlabelled_folder_gets_a_contrastive_encoder_that_finds_its_shapes(tmp_path):
    root = make_shapes(tmp_path / "flat", flat=True)
    source = build_source(FolderOptions(path=str(root), size=32))
    assert source.labels is None
    hidden = torch.tensor([SHAPES.index(p.name.split("-")[0]) for p in image_files(root)])
    network, info = train_evaluator(source, steps=60)
    save_evaluator(tmp_path / "evaluator", network, info)
    encoder = load_evaluator(tmp_path / "evaluator", source)
    assert info["kind"] == "contrastive" and encoder.classes == 0
    chance = 1 / (2 * info["split"]["heldout"] - 1)
    assert info["heldout_accuracy"] >= 5 * chance  # measured 0.094, chance 0.0063
    train, heldout = split_indices(None, len(source))
    features, logits = encoder.features_and_logits(scale_images(source.images))
    assert logits.shape == (len(source), 0)
    nearest = torch.cdist(features[heldout], features[train]).argmin(dim=1)
    # the shapes were never named: measured, every held-out image has a nearest training
    # neighbour of its own shape (chance about 0.25)
    assert float((hidden[train][nearest] == hidden[heldout]).double().mean()) >= 0.8
    reference = FeatureReference(encoder, scale_images(source.images[heldout]), {})
    real = reference.measure(scale_images(source.images[train[::4]]), ["fid", "pr"])
    one_shape = reference.measure(scale_images(source.images[train[:80]]), ["fid", "pr"])
    noise = torch.rand(80, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    # measured: real 0.23, one shape 2.9, noise 34; recall 0.95 against 0.19
    assert real["fid"] < 0.1 * reference.measure(noise, ["fid"])["fid"]
    assert real["fid"] < 0.5 * one_shape["fid"]
    assert real["recall"] >= 0.85 and one_shape["recall"] <= 0.4
    with pytest.raises(EvaluationError, match="the is metric needs an extractor with class"):
        reference.measure(noise, ["is"])


def test_large_images_are_read_at_64_pixels_and_few_images_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(50):
        pixels = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{i:02d}.png")
    source = build_source(FolderOptions(path=str(tmp_path), size=96))
    network, info = train_evaluator(source, steps=2)
    assert network.side == 64 and info["architecture"]["side"] == 64
    assert info["resize"] == "bilinear, antialiased, longer side to 64"
    assert info["image_shape"] == [3, 96, 96] and info["split"]["heldout"] == 10
    save_evaluator(tmp_path / "evaluator", network, info)
    encoder = load_evaluator(tmp_path / "evaluator", source)
    features, logits = encoder.features_and_logits(scale_images(source.images[:3]))
    assert features.shape == (3, 128) and logits.shape == (3, 0)
    for path in sorted(tmp_path.glob("*.png"))[30:]:
        path.unlink()
    few = build_source(FolderOptions(path=str(tmp_path), size=96))
    with pytest.raises(EvaluationError, match="30 images are too few for a folder evaluator"):
        train_evaluator(few, steps=1)
