"""Image sources: the embedded MNIST subset, sklearn digits, image folders and IDX files."""

from __future__ import annotations

import gzip
import hashlib
import re
import struct
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pydantic import ValidationError

from gankit.data import (
    DataError,
    Digits8x8Options,
    FolderOptions,
    IdxOptions,
    Mnist5kOptions,
    TensorImageSource,
    build_source,
    resize_images,
)

MNIST5K_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"


@pytest.fixture(scope="module")
def mnist() -> TensorImageSource:
    return build_source(Mnist5kOptions())


def test_embedded_mnist_file_is_the_published_one():
    raw = resources.files("gankit.data").joinpath("mnist_5k.npz").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == MNIST5K_SHA256


def test_mnist5k_shape_labels_and_scaling(mnist):
    assert mnist.images.shape == (5000, 1, 28, 28) and mnist.images.dtype == torch.uint8
    assert mnist.shape == (1, 28, 28) and mnist.kind == "images"
    assert mnist.labels.dtype == torch.int64
    assert torch.bincount(mnist.labels).tolist() == [500] * 10
    assert mnist.class_names == [str(d) for d in range(10)]
    batch = mnist.sample(2_000, torch.Generator().manual_seed(0))
    assert batch.shape == (2_000, 1, 28, 28) and batch.dtype == torch.float32
    assert batch.min().item() == -1.0 and batch.max().item() == 1.0


def test_mnist5k_size_option(mnist):
    small = build_source(Mnist5kOptions(size=14))
    assert small.images.shape == (5000, 1, 14, 14) and small.images.dtype == torch.uint8
    torch.testing.assert_close(small.labels, mnist.labels)
    # Area-weighted downsampling keeps the mean grey level (up to rounding and borders).
    assert small.images.float().mean().item() == pytest.approx(
        mnist.images.float().mean().item(), rel=0.02
    )


def test_mnist5k_classes_filter(mnist):
    source = build_source(Mnist5kOptions(classes=[7, 3]))
    assert source.images.shape == (1000, 1, 28, 28)
    assert source.class_names == ["3", "7"]
    assert torch.bincount(source.labels).tolist() == [500, 500]
    torch.testing.assert_close(source.images[source.labels == 1], mnist.images[mnist.labels == 7])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"classes": [10]}, "classes"), ({"classes": [1, 1]}, "classes"), ({"size": 3}, "size")],
)
def test_digit_options_are_checked(kwargs, field):
    with pytest.raises(ValidationError, match=field):
        Mnist5kOptions(**kwargs)


def test_digits8x8():
    from sklearn.datasets import load_digits

    source = build_source(Digits8x8Options())
    assert source.images.shape == (1797, 1, 8, 8) and source.images.dtype == torch.uint8
    assert source.images.max().item() == 255 and source.images.min().item() == 0
    raw = load_digits().images[5]  # grey levels 0–16
    expected = torch.from_numpy(np.rint(raw * 255 / 16).astype(np.uint8))
    torch.testing.assert_close(source.images[5, 0], expected)
    assert source.labels.shape == (1797,) and set(source.labels.tolist()) == set(range(10))
    resized = build_source(Digits8x8Options(size=16, classes=[0, 1]))
    assert resized.images.shape == (int((source.labels < 2).sum()), 1, 16, 16)


def test_resize_images_keeps_constants_and_identity():
    constant = torch.full((2, 3, 10, 14), 200, dtype=torch.uint8)
    assert torch.equal(resize_images(constant, 6), torch.full((2, 3, 6, 6), 200, dtype=torch.uint8))
    assert torch.equal(
        resize_images(constant, 40), torch.full((2, 3, 40, 40), 200, dtype=torch.uint8)
    )
    noise = torch.randint(0, 256, (1, 1, 8, 8), dtype=torch.uint8)
    assert resize_images(noise, 8) is noise
    # A 0/255 checkerboard shrunk 2× averages to mid grey away from the border.
    board = (torch.arange(16)[:, None] + torch.arange(16)[None, :]) % 2 * 255
    small = resize_images(board.to(torch.uint8)[None, None], 8)
    assert small[0, 0, 2:-2, 2:-2].float().sub(127.5).abs().max().item() == pytest.approx(
        0.5, abs=0.5
    )
    with pytest.raises(ValueError, match="uint8"):
        resize_images(constant.float(), 4)


def _save(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """cats: two RGB PNGs, one RGBA PNG; dogs: an RGB JPEG, a greyscale PNG, an upper-case
    .JPEG; plus a text file that must be ignored."""
    root = tmp_path / "pets"
    _save(root / "cats" / "a.png", Image.new("RGB", (40, 30), (10, 200, 30)))
    _save(root / "cats" / "b.png", Image.new("RGB", (30, 40), (250, 0, 0)))
    _save(root / "cats" / "c.png", Image.new("RGBA", (20, 50), (0, 0, 255, 128)))
    _save(root / "dogs" / "d.jpg", Image.new("RGB", (64, 64), (128, 128, 128)))
    _save(root / "dogs" / "e.png", Image.new("L", (10, 10), 77))
    _save(root / "dogs" / "deep" / "F.JPEG", Image.new("RGB", (12, 16), (0, 0, 0)))
    (root / "cats" / "notes.txt").write_text("not an image")
    return root


def test_folder_labels_from_subfolders(image_folder):
    source = build_source(FolderOptions(path=str(image_folder), size=64))
    assert source.images.shape == (6, 3, 64, 64) and source.images.dtype == torch.uint8
    assert source.class_names == ["cats", "dogs"]
    assert source.labels.tolist() == [0, 0, 0, 1, 1, 1]
    # Solid colours survive resizing exactly; RGBA drops alpha, greyscale is replicated.
    assert source.images[0, :, 5, 5].tolist() == [10, 200, 30]
    assert source.images[2, :, 5, 5].tolist() == [0, 0, 255]
    assert source.images[5, :, 5, 5].tolist() == [77, 77, 77]  # dogs/deep/F.JPEG sorts before e.png


def test_folder_size_and_greyscale(image_folder):
    source = build_source(FolderOptions(path=str(image_folder), size=16, greyscale=True))
    assert source.images.shape == (6, 1, 16, 16)
    # ITU-R 601-2 luma of (10, 200, 30): L = (299·10 + 587·200 + 114·30) / 1000 = 124.
    assert source.images[0, 0].unique().tolist() == [124]


def test_folder_center_crop_versus_stretch(tmp_path):
    stripes = np.zeros((20, 60, 3), dtype=np.uint8)
    stripes[:, :20, 0] = stripes[:, 20:40, 1] = stripes[:, 40:, 2] = 255  # red|green|blue
    _save(tmp_path / "wide.png", Image.fromarray(stripes))
    cropped = build_source(FolderOptions(path=str(tmp_path), size=8, crop="center"))
    assert cropped.labels is None and cropped.class_names is None
    green = torch.tensor([0, 255, 0], dtype=torch.uint8)[:, None, None].expand(3, 8, 8)
    assert torch.equal(cropped.images[0], green)
    stretched = build_source(FolderOptions(path=str(tmp_path), size=8, crop="none"))
    assert stretched.images[0, :, 4, 0].tolist() == [255, 0, 0]
    assert stretched.images[0, :, 4, 7].tolist() == [0, 0, 255]


def test_folder_with_loose_files_has_no_labels(image_folder):
    _save(image_folder / "loose.png", Image.new("RGB", (8, 8), (1, 2, 3)))
    source = build_source(FolderOptions(path=str(image_folder), size=8))
    assert len(source) == 7 and source.labels is None and source.class_names is None


def test_folder_corrupt_image_names_the_file(image_folder):
    (image_folder / "cats" / "x.png").write_bytes(b"this is not a png at all")
    with pytest.raises(DataError, match=r"cannot read image .*x\.png"):
        build_source(FolderOptions(path=str(image_folder)))


def test_folder_empty_or_missing(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no images found .*\.png, \.jpg, \.jpeg"):
        build_source(FolderOptions(path=str(tmp_path / "empty")))
    with pytest.raises(DataError, match="does not exist"):
        build_source(FolderOptions(path=str(tmp_path / "nowhere")))


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def idx_arrays() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (7, 5, 6), dtype=np.uint8), np.array([3, 1, 4, 1, 5, 9, 2])


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, idx_arrays, compress):
    images, labels = idx_arrays
    pack = gzip.compress if compress else bytes
    # The gzip file keeps a plain name: compression is detected from the magic bytes 1f 8b.
    (tmp_path / "images-idx3-ubyte").write_bytes(pack(_idx_bytes(images, 0x803)))
    (tmp_path / "labels-idx1-ubyte").write_bytes(pack(_idx_bytes(labels, 0x801)))
    options = IdxOptions(
        images=str(tmp_path / "images-idx3-ubyte"), labels=str(tmp_path / "labels-idx1-ubyte")
    )
    source = build_source(options)
    assert source.images.shape == (7, 1, 5, 6)
    assert torch.equal(source.images[:, 0], torch.from_numpy(images))
    assert source.labels.tolist() == labels.tolist()
    assert source.class_names == [str(i) for i in range(10)]
    resized = build_source(IdxOptions(images=options.images, size=4))
    assert resized.images.shape == (7, 1, 4, 4) and resized.labels is None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: struct.pack(">I", 0x801) + data[4:], "magic number 0x00000801"),
        (lambda data: data[:-3], "truncated"),
        (lambda data: data[:10], "truncated header"),
        (lambda data: data + b"\0", "trailing bytes"),
        (lambda data: gzip.compress(data)[:-8], "corrupt gzip"),
    ],
)
def test_idx_bad_images_file_names_it(tmp_path, idx_arrays, damage, message):
    path = tmp_path / "bad-images.idx"
    path.write_bytes(damage(_idx_bytes(idx_arrays[0], 0x803)))
    with pytest.raises(DataError, match=rf"bad-images\.idx.*{message}"):
        build_source(IdxOptions(images=str(path)))


def test_idx_count_mismatch_and_missing_file(tmp_path, idx_arrays):
    images, labels = idx_arrays
    (tmp_path / "img.idx").write_bytes(_idx_bytes(images, 0x803))
    (tmp_path / "lab.idx").write_bytes(_idx_bytes(labels[:-1], 0x801))
    pattern = rf"{re.escape(str(tmp_path / 'img.idx'))} holds 7 images but .*lab\.idx holds 6"
    with pytest.raises(DataError, match=pattern):
        build_source(IdxOptions(images=str(tmp_path / "img.idx"), labels=str(tmp_path / "lab.idx")))
    with pytest.raises(DataError, match=r"missing\.idx does not exist"):
        build_source(IdxOptions(images=str(tmp_path / "missing.idx")))


def test_folder_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    _save(tmp_path / "deep.png", Image.fromarray(np.full((6, 6), 100 * 257, dtype=np.uint16)))
    source = build_source(FolderOptions(path=str(tmp_path), size=4))
    assert source.images.unique().tolist() == [100]
