"""Translation data: A|B folders, paired and unpaired folders, edges2digits, mnist2digits8x8."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from pydantic import TypeAdapter, ValidationError

from gankit.config import DataChoice
from gankit.data import (
    AlignedOptions,
    DataError,
    Edges2DigitsOptions,
    Mnist2Digits8x8Options,
    Mnist5kOptions,
    PairedFoldersOptions,
    PairedImageSource,
    TensorImageSource,
    UnpairedFoldersOptions,
    UnpairedImageSource,
    build_source,
)
from gankit.data.splits import digit_split

LEFT, RIGHT = (200, 30, 10), (10, 60, 250)


def _save(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _side_by_side(left: tuple[int, ...], right: tuple[int, ...], width: int = 20) -> Image.Image:
    """An A|B image of height 10: the left half one colour, the right half another."""
    pixels = np.zeros((10, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = left
    pixels[:, width // 2 :] = right
    return Image.fromarray(pixels)


def _from_config(data: dict) -> object:
    """Validate a ``data:`` section as the config does, then build it."""
    return build_source(TypeAdapter(DataChoice).validate_python(data))


@pytest.fixture
def aligned_folder(tmp_path: Path) -> Path:
    root = tmp_path / "facades" / "train"
    _save(root / "1.png", _side_by_side(LEFT, RIGHT))
    _save(root / "2.png", _side_by_side(RIGHT, (0, 0, 0), width=40))
    return root


def test_aligned_splits_each_image_into_input_and_target(aligned_folder):
    source = _from_config({"name": "aligned", "path": str(aligned_folder), "size": 8})
    assert isinstance(source, PairedImageSource) and source.kind == "pairs"
    assert source.inputs.shape == (2, 3, 8, 8) and source.targets.shape == (2, 3, 8, 8)
    assert source.shape == (3, 8, 8) and source.input_shape == (3, 8, 8) and len(source) == 2
    # Solid halves survive resizing exactly; the seam falls between the halves.
    assert source.inputs[0].flatten(1).unique(dim=1).T.tolist() == [list(LEFT)]
    assert source.targets[0].flatten(1).unique(dim=1).T.tolist() == [list(RIGHT)]
    assert source.inputs[1].flatten(1).unique(dim=1).T.tolist() == [list(RIGHT)]
    assert source.targets[1].flatten(1).unique(dim=1).T.tolist() == [[0, 0, 0]]


def test_aligned_direction_and_greyscale(aligned_folder):
    forward = build_source(AlignedOptions(path=str(aligned_folder), size=8))
    backward = build_source(AlignedOptions(path=str(aligned_folder), size=8, direction="BtoA"))
    assert torch.equal(backward.inputs, forward.targets)
    assert torch.equal(backward.targets, forward.inputs)
    grey = build_source(AlignedOptions(path=str(aligned_folder), size=8, greyscale=True))
    # ITU-R 601-2 luma, rounded: (299·200 + 587·30 + 114·10) / 1000 = 78.55; of RIGHT: 66.71.
    assert grey.inputs.shape == (2, 1, 8, 8)
    assert grey.inputs[0].unique().tolist() == [79] and grey.targets[0].unique().tolist() == [67]


def test_aligned_rejects_odd_width(aligned_folder):
    _save(aligned_folder / "odd.png", _side_by_side(LEFT, RIGHT, width=257))
    message = (
        f"aligned: {aligned_folder / 'odd.png'}: width 257 is odd; an aligned A|B image holds "
        "two halves of equal width"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(AlignedOptions(path=str(aligned_folder), size=8))


def test_aligned_bad_folders_and_files(tmp_path, aligned_folder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"^aligned: no images found in .*empty \(looked for"):
        build_source(AlignedOptions(path=str(tmp_path / "empty")))
    with pytest.raises(DataError, match=r"^aligned: .*nowhere: no such folder$"):
        build_source(AlignedOptions(path=str(tmp_path / "nowhere")))
    (aligned_folder / "3.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"^aligned: cannot read image .*3\.jpg: "):
        build_source(AlignedOptions(path=str(aligned_folder)))


def _grey(value: int, size: tuple[int, int] = (6, 6)) -> Image.Image:
    return Image.new("L", size, value)


def test_paired_folders_match_by_name(tmp_path):
    # Inputs and targets listed in different orders and with different extensions.
    for stem, value in [("b", 20), ("a", 10), ("c", 30)]:
        _save(tmp_path / "in" / f"{stem}.png", _grey(value))
        _save(tmp_path / "out" / f"{stem}.jpg", _grey(255 - value, (12, 9)))
    source = _from_config(
        {
            "name": "paired_folders",
            "inputs": str(tmp_path / "in"),
            "targets": str(tmp_path / "out"),
            "size": 4,
            "greyscale": True,
        }
    )
    assert source.inputs.shape == (3, 1, 4, 4) and source.targets.shape == (3, 1, 4, 4)
    assert source.inputs[:, 0, 0, 0].tolist() == [10, 20, 30]  # sorted by name: a, b, c
    assert source.targets[:, 0, 0, 0].tolist() == [245, 235, 225]


def test_paired_folders_report_unmatched_files(tmp_path):
    for stem in ["a", "x1", "x2"]:
        _save(tmp_path / "in" / f"{stem}.png", _grey(0))
    for stem in ["a", "y1", "y2"]:
        _save(tmp_path / "out" / f"{stem}.png", _grey(0))
    options = PairedFoldersOptions(inputs=str(tmp_path / "in"), targets=str(tmp_path / "out"))
    shown = ", ".join(str(tmp_path / p) for p in ["in/x1.png", "in/x2.png", "out/y1.png"])
    message = (
        "paired_folders: 4 files have no file of the same name (without extension) in the "
        f"other folder: {shown} and 1 more"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(options)


def test_paired_folders_reject_two_files_of_one_name(tmp_path):
    _save(tmp_path / "in" / "a.png", _grey(0))
    _save(tmp_path / "in" / "a.jpg", _grey(0))
    _save(tmp_path / "out" / "a.png", _grey(0))
    options = PairedFoldersOptions(inputs=str(tmp_path / "in"), targets=str(tmp_path / "out"))
    with pytest.raises(DataError, match=r"a\.jpg and .*a\.png have the same name"):
        build_source(options)


@pytest.fixture
def unpaired_root(tmp_path: Path) -> Path:
    """trainA: 3 red images; trainB: 5 blue ones, one wide (centre-cropped); testA/testB: 1."""
    root = tmp_path / "horse2zebra"
    for i in range(3):
        _save(root / "trainA" / f"{i}.png", Image.new("RGB", (16, 16), (200 + i, 0, 0)))
    for i in range(4):
        _save(root / "trainB" / f"{i}.jpg", Image.new("RGB", (10, 10), (0, 0, 250)))
    wide = np.zeros((8, 24, 3), dtype=np.uint8)
    wide[:, 8:16] = (0, 255, 0)  # only the centre third is green
    _save(root / "trainB" / "wide.png", Image.fromarray(wide))
    _save(root / "testA" / "t.png", Image.new("RGB", (8, 8), (1, 2, 3)))
    _save(root / "testB" / "t.png", Image.new("RGB", (8, 8), (4, 5, 6)))
    return root


def test_unpaired_folders_of_different_sizes(unpaired_root):
    source = _from_config({"name": "unpaired_folders", "path": str(unpaired_root), "size": 8})
    assert isinstance(source, UnpairedImageSource) and source.kind == "unpaired"
    assert source.domain_a.images.shape == (3, 3, 8, 8)
    assert source.domain_b.images.shape == (5, 3, 8, 8)
    assert source.shape == source.shape_a == (3, 8, 8)
    assert source.domain_a.images[:, 0, 0, 0].tolist() == [200, 201, 202]
    assert source.domain_b.images[4].flatten(1).unique(dim=1).T.tolist() == [[0, 255, 0]]
    a, b = source.sample_domains(6, torch.Generator().manual_seed(0))
    assert a.shape == (6, 3, 8, 8) and b.shape == (6, 3, 8, 8)
    assert (a[:, 0] > 0.5).all() and (a[:, 2] == -1).all()  # red from A
    assert (b[:, 0] == -1).all()  # blue or green from B
    test = build_source(UnpairedFoldersOptions(path=str(unpaired_root), size=8, split="test"))
    assert len(test.domain_a) == len(test.domain_b) == 1
    assert test.domain_b.images[0, :, 0, 0].tolist() == [4, 5, 6]


def test_unpaired_folders_missing_domain(unpaired_root):
    for path in (unpaired_root / "trainB").iterdir():
        path.unlink()
    (unpaired_root / "trainB").rmdir()
    message = (
        f"unpaired_folders: {unpaired_root / 'trainB'}: no such folder; an unpaired data set "
        "holds trainA and trainB"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(UnpairedFoldersOptions(path=str(unpaired_root)))


def test_unpaired_domains_must_share_channels_and_size():
    rgb = TensorImageSource(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    grey = TensorImageSource(torch.zeros(4, 1, 8, 8, dtype=torch.uint8))
    message = (
        "unpaired: domains A (3, 8, 8) and B (1, 8, 8) must have the same channels and size; "
        "set greyscale/size"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        UnpairedImageSource(rgb, grey)
    small = TensorImageSource(torch.zeros(4, 3, 4, 4, dtype=torch.uint8))
    with pytest.raises(DataError, match=r"domains A \(3, 8, 8\) and B \(3, 4, 4\)"):
        UnpairedImageSource(rgb, small)


@pytest.fixture
def synthetic_pairs() -> PairedImageSource:
    """7 pairs: 3-channel random targets, 1-channel inputs = 255 − the targets' red channel."""
    targets = torch.randint(0, 256, (7, 3, 5, 5), generator=torch.Generator().manual_seed(1))
    targets = targets.to(torch.uint8)
    labels = torch.arange(7) % 2
    return PairedImageSource(255 - targets[:, :1], targets, labels, ["even", "odd"], name="toy")


def test_sample_pairs_are_aligned(synthetic_pairs):
    inputs, targets = synthetic_pairs.sample_pairs(64, torch.Generator().manual_seed(0))
    assert inputs.shape == (64, 1, 5, 5) and targets.shape == (64, 3, 5, 5)
    assert inputs.dtype == torch.float32 and targets.min() >= -1 and targets.max() <= 1
    # (255 − x) / 127.5 − 1 = −(x / 127.5 − 1): every input is its own target's negated red.
    torch.testing.assert_close(inputs, -targets[:, :1])
    # The batch mixes many stored pairs, not one repeated.
    assert len({row.tobytes() for row in targets.flatten(1).numpy()}) == 7


def test_pair_sampling_is_deterministic(synthetic_pairs):
    first = synthetic_pairs.sample_pairs(16, torch.Generator().manual_seed(3))
    again = synthetic_pairs.sample_pairs(16, torch.Generator().manual_seed(3))
    other = synthetic_pairs.sample_pairs(16, torch.Generator().manual_seed(4))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])
    # ``sample`` draws the same targets as ``sample_pairs`` from the same generator state.
    assert torch.equal(synthetic_pairs.sample(16, torch.Generator().manual_seed(3)), first[1])


def test_pairs_in_order_and_device(synthetic_pairs):
    inputs, targets = synthetic_pairs.pairs()
    assert torch.equal(targets, synthetic_pairs.targets.float() / 127.5 - 1)
    assert torch.equal(inputs, synthetic_pairs.inputs.float() / 127.5 - 1)
    middle = synthetic_pairs.pairs(2, 5)
    assert torch.equal(middle[1], targets[2:5]) and torch.equal(middle[0], inputs[2:5])
    assert synthetic_pairs.class_names == ["even", "odd"]
    assert synthetic_pairs.labels.dtype == torch.int64
    assert synthetic_pairs.to("cpu") is synthetic_pairs


@pytest.mark.parametrize(
    ("inputs", "targets", "message"),
    [
        ((3, 1, 5, 5), (2, 3, 5, 5), r"inputs \(3, 1, 5, 5\) and targets \(2, 3, 5, 5\)"),
        ((2, 1, 5, 4), (2, 3, 5, 5), "must have the same N, H and W"),
        ((0, 1, 5, 5), (0, 1, 5, 5), "no pairs"),
    ],
)
def test_paired_source_checks_shapes(inputs, targets, message):
    with pytest.raises(DataError, match=message):
        PairedImageSource(torch.zeros(inputs, dtype=torch.uint8), torch.zeros(targets).byte())
    with pytest.raises(DataError, match="toy inputs: expected a uint8 tensor"):
        PairedImageSource(torch.zeros(2, 1, 5, 5), torch.zeros(2, 1, 5, 5).byte(), name="toy")


def test_unpaired_sampling_draws_independent_indices():
    # Each image holds its own index, so a batch shows which images it gathered.
    a = TensorImageSource(torch.arange(3, dtype=torch.uint8).view(3, 1, 1, 1).expand(3, 1, 2, 2))
    b = TensorImageSource(torch.arange(5, dtype=torch.uint8).view(5, 1, 1, 1).expand(5, 1, 2, 2))
    source = UnpairedImageSource(a, b)
    batch_a, batch_b = source.sample_domains(200, torch.Generator().manual_seed(0))
    index_a = ((batch_a[:, 0, 0, 0] + 1) * 127.5).round().long()
    index_b = ((batch_b[:, 0, 0, 0] + 1) * 127.5).round().long()
    assert torch.bincount(index_a, minlength=3).min() > 40  # all 3 of A, about 67 each
    assert torch.bincount(index_b, minlength=5).min() > 20  # all 5 of B, about 40 each
    assert not torch.equal(index_a, index_b % 3)
    again = source.sample_domains(200, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], batch_a) and torch.equal(again[1], batch_b)
    # ``sample`` gives domain B, as B alone would from the same generator state.
    expected = b.sample(200, torch.Generator().manual_seed(0))
    assert torch.equal(source.sample(200, torch.Generator().manual_seed(0)), expected)


@pytest.fixture(scope="module")
def edges() -> PairedImageSource:
    return build_source(Edges2DigitsOptions())


@pytest.fixture(scope="module")
def mnist() -> TensorImageSource:
    return build_source(Mnist5kOptions())


def test_edges2digits_shapes_and_labels(edges, mnist):
    assert edges.inputs.shape == (5000, 1, 28, 28) and edges.targets.shape == (5000, 1, 28, 28)
    assert edges.shape == edges.input_shape == (1, 28, 28)
    assert torch.equal(edges.targets, mnist.images) and torch.equal(edges.labels, mnist.labels)
    assert torch.bincount(edges.labels).tolist() == [500] * 10
    assert edges.class_names == [str(d) for d in range(10)]


def test_edges2digits_edges_are_binary_outlines(edges):
    assert edges.inputs.unique().tolist() == [0, 255]
    counts = (edges.inputs > 0).flatten(1).sum(1)
    assert counts.min().item() >= 20  # every digit has an outline, at least 20 pixels long
    # Every edge pixel lies within two pixels of the digit's ink (Gaussian σ = 1).
    ink = F.max_pool2d((edges.targets > 0).float(), 5, stride=1, padding=2) > 0
    assert not ((edges.inputs > 0) & ~ink).any()
    # And the outline surrounds the strokes' cores rather than filling them (13 % measured).
    core = edges.targets > 200
    assert ((edges.inputs > 0) & core).sum() < 0.2 * core.sum()


def test_edges2digits_equals_canny_of_each_digit(edges):
    from skimage.feature import canny

    for i in range(0, 5000, 250):
        digit = np.pad(edges.targets[i, 0].numpy(), 10)
        expected = canny(digit, sigma=1.0)[10:-10, 10:-10]
        assert np.array_equal(edges.inputs[i, 0].numpy() == 255, expected), f"digit {i}"


def test_edges2digits_splits(edges):
    train = _from_config({"name": "edges2digits", "split": "train"})
    heldout = _from_config({"name": "edges2digits", "split": "heldout"})
    assert len(train) == 4000 and len(heldout) == 1000
    assert torch.bincount(heldout.labels).tolist() == [100] * 10
    train_index, heldout_index = digit_split("mnist5k", edges.labels)
    assert not set(train_index.tolist()) & set(heldout_index.tolist())
    # Each part holds its own digits, with the same edges as in the whole set.
    for part, index in [(train, train_index), (heldout, heldout_index)]:
        assert torch.equal(part.targets, edges.targets[index])
        assert torch.equal(part.inputs, edges.inputs[index])
        assert torch.equal(part.labels, edges.labels[index])


def test_edges2digits_size_option():
    small = build_source(Edges2DigitsOptions(size=14, split="heldout"))
    assert small.inputs.shape == (1000, 1, 14, 14) and small.targets.shape == (1000, 1, 14, 14)
    assert small.inputs.unique().tolist() == [0, 255]


def test_mnist2digits8x8(mnist):
    source = _from_config({"name": "mnist2digits8x8"})
    assert source.kind == "unpaired" and source.shape == source.shape_a == (1, 28, 28)
    assert source.domain_a.images.shape == (5000, 1, 28, 28)
    assert source.domain_b.images.shape == (1797, 1, 28, 28)
    assert torch.equal(source.domain_a.images, mnist.images)
    assert (
        set(source.domain_a.labels.tolist())
        == set(source.domain_b.labels.tolist())
        == set(range(10))
    )
    assert source.domain_b.class_names == [str(d) for d in range(10)]
    heldout = build_source(Mnist2Digits8x8Options(split="heldout", size=16))
    assert heldout.domain_a.images.shape == (1000, 1, 16, 16)
    assert heldout.domain_b.images.shape == (360, 1, 16, 16)
    assert torch.bincount(heldout.domain_b.labels).tolist() == [36] * 10
    train = build_source(Mnist2Digits8x8Options(split="train"))
    assert len(train.domain_a) == 4000 and len(train.domain_b) == 1797 - 360


def test_options_reject_unknown_keys_and_bad_values(tmp_path):
    with pytest.raises(ValidationError, match="colour"):
        _from_config({"name": "aligned", "path": str(tmp_path), "colour": True})
    with pytest.raises(ValidationError, match="direction"):
        AlignedOptions(path=str(tmp_path), direction="AtoC")
    with pytest.raises(ValidationError, match="split"):
        UnpairedFoldersOptions(path=str(tmp_path), split="val")
    with pytest.raises(ValidationError, match="size"):
        Edges2DigitsOptions(size=2)


def test_the_8x8_digits_take_mnists_framing():
    source = build_source(Mnist2Digits8x8Options(split="heldout"))
    b = source.domain_b.images  # (360, 1, 28, 28): 8×8 digits resized into the 20×20 box
    assert b.shape == (360, 1, 28, 28)
    assert b[..., :4, :].max() == 0 and b[..., 24:, :].max() == 0
    assert b[..., :, :4].max() == 0 and b[..., :, 24:].max() == 0
    assert (b[..., 4:24, 4:24].flatten(1).max(dim=1).values > 128).all()
