"""The FID Inception-v3: the same features as pytorch-fid's network, clear errors about the
weights file, and the standard preprocessing."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from gankit.metrics.inception import (
    FEATURE_DIM,
    INPUT_SIZE,
    NUM_LOGITS,
    WEIGHTS_ENV,
    WEIGHTS_URL,
    FIDInceptionV3,
    InceptionExtractor,
    InceptionWeightsError,
    prepare_images,
    synthetic_weights,
)

REFERENCE = Path(__file__).parent / "data" / "inception_reference.safetensors"


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / "synthetic.safetensors"
    save_file(synthetic_weights(0), str(path))
    return path


@pytest.fixture(scope="module")
def extractor(weights_file):
    return InceptionExtractor(weights_file)


@pytest.mark.parametrize("kind", ["grey", "colour"])
def test_features_equal_pytorch_fids_network_with_the_same_weights(extractor, kind):
    # Written by scripts/make_inception_reference.py with pytorch-fid 0.3.0 and torchvision.
    reference = load_file(str(REFERENCE))
    images = reference[kind].float() / 127.5 - 1  # gankit's scaling of uint8 images
    features, logits = extractor.features_and_logits(images)
    assert features.shape == (2, FEATURE_DIM) and logits.shape == (2, NUM_LOGITS)
    expected = reference[f"{kind}_features"]
    assert expected.abs().mean() > 0.01  # the reference is not trivially zero
    torch.testing.assert_close(features, expected, rtol=1e-4, atol=1e-5)


def test_preprocessing_quantises_repeats_grey_and_resizes_to_299():
    grey = torch.tensor([-1.0, -0.999, 0.0, 1.0]).reshape(1, 1, 2, 2)
    prepared = prepare_images(grey)
    assert prepared.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    assert torch.equal(prepared[:, 0], prepared[:, 2])
    corners = prepared[0, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    # −0.999 rounds to grey level 0, like −1; 0.0 to 128 (round half to even of 127.5)
    expected = 2 * torch.tensor([0.0, 0.0, 128.0, 255.0]) / 255 - 1
    torch.testing.assert_close(corners, expected)
    with pytest.raises(ValueError, match=r"expected images \(N, 1 or 3, H, W\)"):
        prepare_images(torch.zeros(1, 2, 8, 8))


def test_missing_weights_say_what_to_download(monkeypatch, tmp_path):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))  # nothing downloaded there
    with pytest.raises(InceptionWeightsError, match="download") as absent:
        InceptionExtractor()
    assert WEIGHTS_URL in str(absent.value) and WEIGHTS_ENV in str(absent.value)
    with pytest.raises(InceptionWeightsError, match="no such Inception-v3 weights file"):
        InceptionExtractor(tmp_path / "nope.pth")


def test_the_environment_variable_names_the_weights(monkeypatch, weights_file):
    monkeypatch.setenv(WEIGHTS_ENV, str(weights_file))
    extractor = InceptionExtractor()
    assert extractor.path == weights_file
    assert not extractor.standard  # synthetic weights do not have the standard hash


def test_wrong_or_corrupt_weights_are_refused(tmp_path):
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(InceptionWeightsError, match="not a readable Inception-v3 weights file"):
        InceptionExtractor(corrupt)
    other = tmp_path / "other.pth"
    torch.save(torch.nn.Linear(2, 2).state_dict(), other)
    with pytest.raises(InceptionWeightsError, match="missing Conv2d_1a_3x3"):
        InceptionExtractor(other)
    state = synthetic_weights(0)
    state["fc.weight"] = torch.zeros(1000, FEATURE_DIM)
    torch.save(state, tmp_path / "thousand.pth")
    with pytest.raises(InceptionWeightsError, match="wrong shape fc.weight"):
        InceptionExtractor(tmp_path / "thousand.pth")


def test_a_pth_file_loads_like_the_safetensors_file(extractor, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(synthetic_weights(0), path)
    images = torch.rand(2, 1, 16, 16) * 2 - 1
    torch.testing.assert_close(
        InceptionExtractor(path).features_and_logits(images)[0],
        extractor.features_and_logits(images)[0],
        rtol=0,
        atol=0,
    )


def test_parameter_names_follow_the_weights_file_layout():
    names = set(FIDInceptionV3().state_dict())
    assert {"Conv2d_1a_3x3.conv.weight", "Mixed_7c.branch_pool.bn.running_var", "fc.bias"} <= names
    # Inception-v3 without its auxiliary head: 23,834,568 with 1000 classes, + 8·2049 for 1008
    assert sum(p.numel() for p in FIDInceptionV3().parameters()) == 23_834_568 + 8 * 2049
