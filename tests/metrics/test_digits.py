import hashlib
from importlib import resources

import pytest
import torch

from gankit.metrics.digits import (
    DigitClassifier,
    DigitClassifierError,
    _load_classifier_file,
    classifier_info,
    classifier_names,
    count_correct,
    heldout_data,
    load_digit_classifier,
    scale_images,
)

NAMES = ["mnist5k", "digits8x8"]
WEIGHTS = resources.files("gankit.metrics").joinpath("weights")


def test_both_classifiers_are_shipped():
    assert classifier_names() == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_shipped_weights_reproduce_the_recorded_heldout_accuracy(name):
    info = classifier_info(name)
    model = load_digit_classifier(name)
    assert not model.training
    images, labels = heldout_data(name)
    assert len(images) == info["heldout_images"]
    correct = count_correct(model, images, labels)
    assert correct == info["heldout_correct"]
    assert correct / len(images) == info["heldout_accuracy"]
    assert info["heldout_accuracy"] >= 0.96


def test_mnist5k_split_is_4000_training_and_1000_heldout_images():
    info = classifier_info("mnist5k")
    assert (info["train_images"], info["heldout_images"]) == (4000, 1000)
    assert info["split"]["heldout_per_class"] == 100


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete_and_matches_the_file(name):
    info = classifier_info(name)
    for key in ("architecture", "input_size", "split", "torch_version", "training", "sha256"):
        assert key in info
    assert {"rule", "seed", "heldout_per_class"} <= set(info["split"])
    data = WEIGHTS.joinpath(info["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == info["sha256"]
    assert len(data) < 1_000_000


def test_unknown_classifier_names_the_shipped_ones():
    with pytest.raises(DigitClassifierError, match="no digit classifier 'cifar'.*mnist5k"):
        load_digit_classifier("cifar")


def test_a_corrupted_copy_is_caught_by_the_sha256(tmp_path):
    info = classifier_info("digits8x8")
    data = bytearray(WEIGHTS.joinpath(info["file"]).read_bytes())
    data[-1] ^= 0x01  # one flipped bit in the last weight
    copy = tmp_path / info["file"]
    copy.write_bytes(bytes(data))
    with pytest.raises(DigitClassifierError, match="corrupt.*sha256.*--only digits8x8"):
        _load_classifier_file(copy, info)


def test_an_intact_copy_loads_through_the_same_helper(tmp_path):
    info = classifier_info("digits8x8")
    copy = tmp_path / info["file"]
    copy.write_bytes(WEIGHTS.joinpath(info["file"]).read_bytes())
    model = _load_classifier_file(copy, info)
    shipped = load_digit_classifier("digits8x8")
    for a, b in zip(model.state_dict().values(), shipped.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_features_have_the_documented_shape_and_are_deterministic(name):
    model = load_digit_classifier(name)
    images, _ = heldout_data(name)
    x = scale_images(images[:64])
    with torch.no_grad():
        first, second = model.features(x), model.features(x)
        logits = model(x)
    assert first.shape == (64, model.feature_dim) == (64, 128)
    assert logits.shape == (64, 10)
    assert torch.equal(first, second)
    assert torch.equal(logits, model.head(first))


def test_the_classifiers_are_small():
    for name in NAMES:
        model = load_digit_classifier(name)
        assert sum(p.numel() for p in model.parameters()) * 4 < 1_000_000


@pytest.mark.parametrize("shape", [(2, 3, 28, 28), (2, 1, 32, 32), (1, 28, 28)])
def test_bad_input_shapes_are_rejected(shape):
    model = DigitClassifier(input_size=28)
    with pytest.raises(ValueError, match=r"expected images of shape \(B, 1, 28, 28\)"):
        model.features(torch.zeros(shape))


def test_uint8_input_is_rejected_with_the_scaling_to_use():
    model = DigitClassifier(input_size=8, widths=(32, 64))
    with pytest.raises(ValueError, match="x / 127.5 − 1"):
        model(torch.zeros(2, 1, 8, 8, dtype=torch.uint8))
