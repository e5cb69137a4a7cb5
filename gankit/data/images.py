"""Image data sets held in memory as uint8 tensors (N, C, H, W).

Sources: 5,000 MNIST digits shipped with gankit, scikit-learn's 8×8 digits, a folder of
PNG/JPEG files and MNIST-format IDX files. All the decoding and resizing happens once, at
load time; batches are then gathered by index (``TensorImageSource``). A folder trains at
its images' own size unless ``size`` is set (:mod:`gankit.data.sizes`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import struct
import zlib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from pydantic import Field, field_validator, model_validator
from torch import Tensor
from tqdm import tqdm

from gankit.data.base import DataError, SourceOptions, TensorImageSource
from gankit.data.registry import SOURCES
from gankit.data.sizes import UNREADABLE, image_sides, training_size
from gankit.data.splits import digit_split
from gankit.devices import system_available_bytes

MNIST5K_FILE = "mnist_5k.npz"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (N, H, W)
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (N,)
PROGRESS_MIN_FILES = 500
GZIP_MAGIC = b"\x1f\x8b"

Digit = Annotated[int, Field(ge=0, le=9)]


def _max_images_field() -> Any:
    """The ``max_images`` option of every image source."""
    return Field(
        None,
        ge=1,
        description="Train on at most this many of the images (null: all): a fixed subset, "
        "the same on every machine (subset_index), for small-data experiments.",
    )


def subset_index(total: int, max_images: int | None) -> Tensor:
    """Sorted indices of the images that ``max_images`` keeps out of ``total``: the
    ``max_images`` with the smallest keys sha256(f"max_images:{index}"), all of them when
    ``max_images`` is None or at least ``total``. No random number generator is involved,
    so every version of every library keeps the same images, and a smaller subset lies
    inside a larger one."""
    if max_images is None or max_images >= total:
        return torch.arange(total)
    keys = [hashlib.sha256(f"max_images:{i}".encode()).hexdigest() for i in range(total)]
    return torch.tensor(sorted(sorted(range(total), key=keys.__getitem__)[:max_images]))


def resize_images(images: Tensor, size: int) -> Tensor:
    """Resize uint8 images (N, C, H, W) to (N, C, size, size).

    Bilinear interpolation with antialiasing (a triangle filter widened by the scale factor
    when shrinking), rounded and clamped back to uint8; images already at that size are
    returned unchanged."""
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(
            f"expected uint8 images (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
        )
    if images.shape[-2:] == (size, size):
        return images
    _check_room(images, size)
    resized = F.interpolate(
        images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    return resized.round_().clamp_(0, 255).to(torch.uint8)


def _check_room(images: Tensor, size: int) -> None:
    """Refuse, before allocating, a resize whose float32 copies (the input, the output) and
    uint8 result cannot fit in the memory available now."""
    n, c, h, w = images.shape
    needed = n * c * (4 * h * w + 5 * size * size)
    available = system_available_bytes()
    if available is not None and needed > available:
        raise DataError(
            f"data.size={size}: resizing {n:,} images to {size}×{size} needs about "
            f"{needed / 2**30:,.1f} GiB, more than the {available / 2**30:,.1f} GiB available; "
            "choose a smaller size"
        )


class _DigitsOptions(SourceOptions):
    """Options shared by the labelled digit sets."""

    size: int | None = Field(
        None, ge=4, description="Resize to size×size (≥ 4); None keeps the native size."
    )
    classes: list[Digit] | None = Field(
        None,
        min_length=1,
        description="Keep only these digits (0–9); labels become their positions in sorted order.",
    )
    split: Literal["all", "train", "heldout"] = Field(
        "all",
        description="'train': leave out the held-out digits of the shipped classifier (the "
        "evaluation's reference set, needed by the memorisation check); 'heldout': only them.",
    )
    max_images: int | None = _max_images_field()

    def heldout_split(self) -> str | None:
        return "heldout"

    @field_validator("classes")
    @classmethod
    def _distinct(cls, classes: list[int] | None) -> list[int] | None:
        if classes is not None and len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct, got {classes}")
        return classes

    @model_validator(mode="after")
    def _training_images_only(self) -> _DigitsOptions:
        if self.max_images is not None and self.split == "heldout":
            raise ValueError(
                "max_images limits the images trained on; the held-out split is the "
                "evaluation's reference set and is kept whole: use split=train or all"
            )
        return self


class Mnist5kOptions(_DigitsOptions):
    """Options of ``mnist5k``."""

    name: Literal["mnist5k"] = "mnist5k"


class Digits8x8Options(_DigitsOptions):
    """Options of ``digits8x8``."""

    name: Literal["digits8x8"] = "digits8x8"


class FolderOptions(SourceOptions):
    """Options of ``folder``."""

    name: Literal["folder"] = "folder"
    path: str = Field(
        min_length=1, description="Folder searched recursively for .png/.jpg/.jpeg files."
    )
    size: int | None = Field(
        None,
        ge=4,
        description="Side of the square images produced (≥ 4); None: the images' own, brought "
        "down to a size the convolutional nets build (100 px → 96).",
    )
    crop: Literal["center", "none"] = Field(
        "center",
        description="'center': shorter side to size, then centre crop; 'none': stretch to size.",
    )
    greyscale: bool = Field(False, description="Load as 1-channel grey instead of 3-channel RGB.")
    max_images: int | None = _max_images_field()


class IdxOptions(SourceOptions):
    """Options of ``idx``."""

    name: Literal["idx"] = "idx"
    images: str = Field(
        min_length=1, description="IDX image file (magic 0x00000803), plain or gzip-compressed."
    )
    labels: str | None = Field(
        None,
        min_length=1,
        description="IDX label file (magic 0x00000801), plain or gzip; None for no labels.",
    )
    size: int | None = Field(
        None, ge=4, description="Resize to size×size (≥ 4); None keeps the native size."
    )
    max_images: int | None = _max_images_field()


@SOURCES.register("mnist5k", options=Mnist5kOptions)
def mnist5k(options: Mnist5kOptions) -> TensorImageSource:
    """5,000 MNIST digits shipped with gankit, 500 per class (LeCun, Cortes & Burges)."""
    raw = resources.files("gankit.data").joinpath(MNIST5K_FILE).read_bytes()
    with np.load(io.BytesIO(raw)) as arrays:
        images = torch.from_numpy(arrays["images"]).unsqueeze(1)  # (N, 1, 28, 28)
        labels = torch.from_numpy(arrays["labels"]).long()
    return _digit_source(images, labels, options, "mnist5k")


@SOURCES.register("digits8x8", options=Digits8x8Options)
def digits8x8(options: Digits8x8Options) -> TensorImageSource:
    """scikit-learn's 1,797 8×8 handwritten digits, grey levels 0–16 mapped to 0–255."""
    from sklearn.datasets import load_digits  # imported here: sklearn is slow to import

    digits = load_digits()
    grey = np.rint(digits.images * (255 / 16)).astype(np.uint8)
    images = torch.from_numpy(grey).unsqueeze(1)  # (1797, 1, 8, 8)
    labels = torch.from_numpy(digits.target).long()
    return _digit_source(images, labels, options, "digits8x8")


def _digit_source(
    images: Tensor, labels: Tensor, options: _DigitsOptions, name: str
) -> TensorImageSource:
    """Take the requested split, keep the requested digits (labels re-indexed 0..k−1 in
    sorted order) and at most ``max_images`` of them (never cutting the held-out split, the
    evaluation's reference set), and resize."""
    if options.split != "all":
        train, heldout = digit_split(name, labels)
        chosen = train if options.split == "train" else heldout
        images, labels = images[chosen], labels[chosen]
    kept = torch.arange(10) if options.classes is None else torch.tensor(sorted(options.classes))
    mask = torch.isin(labels, kept)
    images, labels = images[mask], torch.searchsorted(kept, labels[mask])
    if options.split != "heldout":
        chosen = subset_index(len(images), options.max_images)
        images, labels = images[chosen], labels[chosen]
    if options.size is not None:
        images = resize_images(images, options.size)
    return TensorImageSource(images, labels, [str(int(d)) for d in kept], name=name)


@SOURCES.register("folder", options=FolderOptions)
def folder(options: FolderOptions) -> TensorImageSource:
    """A folder of PNG/JPEG images; first-level sub-folders (when all have one) are classes."""
    root = Path(options.path).expanduser()
    if not root.exists():
        raise DataError(f"folder: {root} does not exist")
    if not root.is_dir():
        raise DataError(f"folder: {root} is not a folder")
    files = image_files(root)
    if not files:
        raise DataError(
            f"folder: no images found in {root} (looked for {', '.join(IMAGE_EXTENSIONS)}, "
            "any letter case, in all sub-folders)"
        )
    labels, class_names = _folder_labels(root, files)
    _refuse_split_layout(root, class_names or [])
    chosen = subset_index(len(files), options.max_images)
    files = [files[i] for i in chosen.tolist()]
    labels = None if labels is None else labels[chosen]
    size = training_size(image_sides(files, "folder"), options.size, f"folder {root}")
    mode = "L" if options.greyscale else "RGB"
    progress = tqdm(
        files, desc=f"loading {root.name}", leave=False, disable=len(files) <= PROGRESS_MIN_FILES
    )
    images = torch.stack([load_image(f, mode, size, options.crop) for f in progress])
    return TensorImageSource(images, labels, class_names, name=f"folder {root}")


UNPAIRED_FOLDERS = ("trainA", "trainB", "testA", "testB")
SPLIT_FOLDERS = ("train", "val", "test")


def _refuse_split_layout(root: Path, names: list[str]) -> None:
    """Refuse sub-folders that split a data set (CycleGAN's trainA/trainB/testA/testB, the
    pix2pix sets' train/val/test), which ``folder`` would take for classes."""
    if {"trainA", "trainB"} <= set(names):
        found = ", ".join(n for n in UNPAIRED_FOLDERS if n in names)
        raise DataError(
            f"folder: {root} holds {found}, the layout of an unpaired (CycleGAN) data set, "
            f"not classes: use data.name=unpaired_folders, or data.path={root / 'trainA'} for "
            "one domain"
        )
    splits = [n for n in SPLIT_FOLDERS if n in names]
    if len(splits) >= 2:
        raise DataError(
            f"folder: {root}'s sub-folders {', '.join(splits)} split a data set, they are "
            f"not classes: set data.path={root / splits[0]} (A|B pairs: data.name=aligned)"
        )


def image_files(root: Path) -> list[Path]:
    """Image files under ``root`` in sorted order, skipping hidden files and folders."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix.lower() in IMAGE_EXTENSIONS
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def read_image(path: Path, mode: str, where: str = "") -> Tensor:
    """Decode one file into uint8 (C, h, w) in PIL ``mode`` ("L" or "RGB"), EXIF rotation
    applied; an unreadable file → DataError naming it (after ``where``, if given)."""
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            if image.mode.startswith("I;16"):  # PIL would clip 16-bit grey at 255
                image = Image.fromarray(np.rint(np.asarray(image) / 257).astype(np.uint8))
            elif image.mode in ("P", "PA") or "transparency" in image.info:
                image = image.convert("RGBA")  # palette/transparency: go through RGBA
            array = np.asarray(image.convert(mode))
    except UNREADABLE as error:
        prefix = f"{where}: " if where else ""
        raise DataError(f"{prefix}cannot read image {path}: {error}") from None
    pixels = torch.from_numpy(array.copy()).reshape(array.shape[0], array.shape[1], -1)
    return pixels.permute(2, 0, 1)


def load_image(path: Path, mode: str, size: int, crop: str) -> Tensor:
    """Decode one file into uint8 (C, size, size): EXIF rotation, mode conversion, crop, resize."""
    pixels = read_image(path, mode)  # (C, h, w)
    if crop == "center":
        pixels = crop_square(pixels)
    return resize_images(pixels[None], size)[0]


def crop_square(pixels: Tensor) -> Tensor:
    """The central square of an image (C, h, w), of side min(h, w)."""
    side = min(pixels.shape[1:])
    top, left = (pixels.shape[1] - side) // 2, (pixels.shape[2] - side) // 2
    return pixels[:, top : top + side, left : left + side]


def _folder_labels(root: Path, files: list[Path]) -> tuple[Tensor | None, list[str] | None]:
    """Labels from the first-level sub-folder of each file, when every file has one."""
    relative = [path.relative_to(root).parts for path in files]
    if any(len(parts) < 2 for parts in relative):
        return None, None
    class_names = sorted({parts[0] for parts in relative})
    index = {name: i for i, name in enumerate(class_names)}
    return torch.tensor([index[parts[0]] for parts in relative]), class_names


@SOURCES.register("idx", options=IdxOptions)
def idx(options: IdxOptions) -> TensorImageSource:
    """MNIST-format IDX image (and label) files, plain or gzip-compressed (LeCun et al., 1998)."""
    images_path = Path(options.images).expanduser()
    images = torch.from_numpy(_read_idx(images_path, IDX_IMAGES_MAGIC)).unsqueeze(1)
    labels, class_names = None, None
    if options.labels is not None:
        labels_path = Path(options.labels).expanduser()
        labels = torch.from_numpy(_read_idx(labels_path, IDX_LABELS_MAGIC)).long()
        if labels.shape[0] != images.shape[0]:
            raise DataError(
                f"idx: {images_path} holds {images.shape[0]} images but {labels_path} holds "
                f"{labels.shape[0]} labels"
            )
        class_names = [str(i) for i in range(int(labels.max()) + 1)] if len(labels) else None
    chosen = subset_index(len(images), options.max_images)
    images, labels = images[chosen], None if labels is None else labels[chosen]
    if options.size is not None:
        images = resize_images(images, options.size)
    return TensorImageSource(images, labels, class_names, name=f"idx {images_path}")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse an unsigned-byte IDX file: big-endian magic 0x000008nn (nn = number of
    dimensions), nn big-endian uint32 sizes, then the bytes in row-major order."""
    data = _read_maybe_gzip(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < 4:
        raise DataError(f"idx: {path}: {len(data)} bytes is too short for an IDX file")
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        raise DataError(f"idx: {path}: magic number 0x{found:08X}, expected 0x{magic:08X}")
    if len(data) < header:
        raise DataError(f"idx: {path}: truncated header ({len(data)} of {header} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected, present = math.prod(dims), len(data) - header
    if present != expected:
        problem = "truncated" if present < expected else "trailing bytes"
        raise DataError(
            f"idx: {path}: {problem}: header gives shape {dims} = {expected} bytes of data, "
            f"file holds {present}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def _read_maybe_gzip(path: Path) -> bytes:
    """The file's bytes, decompressed when they start with the gzip magic 1f 8b."""
    if not path.is_file():
        raise DataError(f"idx: {path} does not exist or is not a file")
    data = path.read_bytes()
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"idx: {path}: corrupt gzip data ({error})") from None
