"""Data for image-to-image translation: aligned pairs and two unpaired domains.

Paired sources feed pix2pix (Isola et al., 2017): each input image comes with its target.
Unpaired sources feed CycleGAN (Zhu et al., 2017): two sets of images, one per domain, of
any sizes. Sources: a folder of A|B images side by side (pix2pix's layout), two parallel
folders matched by name, a root with trainA/trainB (CycleGAN's layout), and two built-in
tasks on the embedded digits. The folders train at their images' own size unless ``size``
is set (:mod:`gankit.data.sizes`); a pix2pix set's train/, val/ and test/ and a CycleGAN
set's trainA/trainB and testA/testB are chosen by ``split``. All decoding, resizing and
edge detection happens once, at load time; batches are gathered by index and scaled to
[−1, 1] as x / 127.5 − 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor
from tqdm import tqdm

from gankit.data.base import DataError, DataSource, SourceOptions, TensorImageSource
from gankit.data.images import (
    IMAGE_EXTENSIONS,
    PROGRESS_MIN_FILES,
    SPLIT_FOLDERS,
    UNPAIRED_FOLDERS,
    Digits8x8Options,
    Mnist5kOptions,
    crop_square,
    digits8x8,
    image_files,
    mnist5k,
    read_image,
    resize_images,
)
from gankit.data.registry import SOURCES
from gankit.data.sizes import image_sides, training_size

MNIST_SIDE = 28
CANNY_SIGMA = 1.0
"""Gaussian σ of the digits' Canny edges at 28×28 (scaled with ``size``): 0.5 leaves
spurious inner strokes, 1.5 and more round the corners and close small loops."""

T = TypeVar("T")
Split = Literal["all", "train", "heldout"]
SPLIT_DESCRIPTION = (
    "'train': leave out the held-out digits of the shipped classifier (the evaluation's "
    "reference set); 'heldout': only them."
)
SIZE_DESCRIPTION = (
    "None: the images' own, brought down to a size the convolutional nets build (100 px → 96)."
)


def _to_unit(images: Tensor) -> Tensor:
    """uint8 images → float32 in [−1, 1] as x / 127.5 − 1."""
    return images.float().div_(127.5).sub_(1.0)


def _check_images(images: Tensor, what: str) -> None:
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise DataError(
            f"{what}: expected a uint8 tensor (N, C, H, W), got {images.dtype} "
            f"{tuple(images.shape)}"
        )


class PairedImageSource(DataSource):
    """Aligned (input, target) images held in memory as uint8 (N, C, H, W) tensors, for
    paired translation (pix2pix, Isola et al., 2017).

    ``sample`` returns targets only (real images of the output domain); ``sample_pairs``
    returns inputs and targets gathered with the same random indices. Inputs and targets
    share N, H and W; their channel counts may differ. Labels are kept for evaluation only."""

    kind = "pairs"

    def __init__(
        self,
        inputs: Tensor,
        targets: Tensor,
        labels: Tensor | None = None,
        class_names: list[str] | None = None,
        name: str = "pairs",
    ) -> None:
        _check_images(inputs, f"{name} inputs")
        _check_images(targets, f"{name} targets")
        if inputs.shape[0] != targets.shape[0] or inputs.shape[2:] != targets.shape[2:]:
            raise DataError(
                f"{name}: inputs {tuple(inputs.shape)} and targets {tuple(targets.shape)} "
                "must have the same N, H and W"
            )
        if inputs.shape[0] == 0:
            raise DataError(f"{name}: no pairs")
        if labels is not None and labels.shape != (inputs.shape[0],):
            raise DataError(
                f"{name}: {inputs.shape[0]} pairs but labels of shape {tuple(labels.shape)}"
            )
        self.name = name
        self.inputs = inputs.contiguous()
        self.targets = targets.contiguous()
        self.labels = None if labels is None else labels.long()
        self.class_names = class_names
        self.shape = tuple(targets.shape[1:])
        self.input_shape = tuple(inputs.shape[1:])

    def __len__(self) -> int:
        return self.targets.shape[0]

    def to(self, device: torch.device | str) -> PairedImageSource:
        self.inputs = self.inputs.to(device)
        self.targets = self.targets.to(device)
        if self.labels is not None:
            self.labels = self.labels.to(device)
        return self

    def _index(self, n: int, generator: torch.Generator) -> Tensor:
        return torch.randint(len(self), (n,), generator=generator).to(self.targets.device)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return _to_unit(self.targets[self._index(n, generator)])

    def sample_pairs(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw ``n`` pairs → (inputs (n, *input_shape), targets (n, *shape)) in [−1, 1];
        the targets equal ``sample(n, generator)`` from the same generator state."""
        index = self._index(n, generator)
        return _to_unit(self.inputs[index]), _to_unit(self.targets[index])

    def pairs(self, start: int = 0, stop: int | None = None) -> tuple[Tensor, Tensor]:
        """Pairs ``start:stop`` in stored order → (inputs, targets) in [−1, 1], for evaluation."""
        return _to_unit(self.inputs[start:stop]), _to_unit(self.targets[start:stop])


class UnpairedImageSource(DataSource):
    """Two image domains A and B, each a ``TensorImageSource`` of its own size, for unpaired
    translation (CycleGAN, Zhu et al., 2017).

    Both domains hold images of the same channels and size. ``sample`` returns domain B;
    ``sample_domains`` returns a batch of each, drawn with independent indices."""

    kind = "unpaired"

    def __init__(
        self, domain_a: TensorImageSource, domain_b: TensorImageSource, name: str = "unpaired"
    ) -> None:
        if domain_a.shape != domain_b.shape:
            raise DataError(
                f"{name}: domains A {domain_a.shape} and B {domain_b.shape} must have the same "
                "channels and size; set greyscale/size"
            )
        self.name = name
        self.domain_a = domain_a
        self.domain_b = domain_b
        self.shape = domain_b.shape
        self.shape_a = domain_a.shape

    def to(self, device: torch.device | str) -> UnpairedImageSource:
        self.domain_a.to(device)
        self.domain_b.to(device)
        return self

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.domain_b.sample(n, generator)

    def sample_domains(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw ``n`` images of each domain → (a (n, *shape_a), b (n, *shape)) in [−1, 1]."""
        return self.domain_a.sample(n, generator), self.domain_b.sample(n, generator)


class AlignedOptions(SourceOptions):
    """Options of ``aligned``."""

    name: Literal["aligned"] = "aligned"
    path: str = Field(
        min_length=1,
        description="Folder searched recursively for .png/.jpg/.jpeg files, each the two "
        "images A|B side by side; or a pix2pix data set's folder with train/, val/, test/ "
        "(e.g. facades), of which split picks one.",
    )
    size: int | None = Field(
        None, ge=4, description="Each half is resized to size×size (≥ 4); " + SIZE_DESCRIPTION
    )
    greyscale: bool = Field(False, description="Load as 1-channel grey instead of 3-channel RGB.")
    direction: Literal["AtoB", "BtoA"] = Field(
        "AtoB", description="'AtoB': the left half is the input, the right the target; 'BtoA'."
    )
    split: Literal["train", "val", "test"] = Field(
        "train",
        description="Which of path's train/, val/, test/ sub-folders to read; a path without "
        "them holds the pairs itself (split train).",
    )

    def heldout_split(self) -> str | None:
        """``test`` (else ``val``) when the folder has one besides ``train``."""
        root = Path(self.path).expanduser()
        return next((s for s in ("test", "val") if (root / s).is_dir()), None)


class PairedFoldersOptions(SourceOptions):
    """Options of ``paired_folders``."""

    name: Literal["paired_folders"] = "paired_folders"
    inputs: str = Field(min_length=1, description="Folder of input images (searched recursively).")
    targets: str = Field(
        min_length=1,
        description="Folder of target images, each named as its input (any image extension).",
    )
    size: int | None = Field(
        None, ge=4, description="Both images are resized to size×size (≥ 4); " + SIZE_DESCRIPTION
    )
    greyscale: bool = Field(False, description="Load as 1-channel grey instead of 3-channel RGB.")


class UnpairedFoldersOptions(SourceOptions):
    """Options of ``unpaired_folders``."""

    name: Literal["unpaired_folders"] = "unpaired_folders"
    path: str = Field(
        min_length=1,
        description="Folder holding trainA and trainB (and optionally testA and testB), the "
        "layout of the CycleGAN data sets.",
    )
    size: int | None = Field(
        None,
        ge=4,
        description="Shorter side to size, then centre crop to size×size (≥ 4); "
        + SIZE_DESCRIPTION,
    )
    greyscale: bool = Field(False, description="Load as 1-channel grey instead of 3-channel RGB.")
    split: Literal["train", "test"] = Field(
        "train", description="Read trainA/trainB or testA/testB."
    )

    def heldout_split(self) -> str | None:
        """``test`` when the folder has testA and testB."""
        root = Path(self.path).expanduser()
        return "test" if all((root / f"test{d}").is_dir() for d in "AB") else None


class Edges2DigitsOptions(SourceOptions):
    """Options of ``edges2digits``."""

    name: Literal["edges2digits"] = "edges2digits"
    size: int = Field(
        MNIST_SIDE, ge=4, description="Digits resized to size×size (≥ 4) before edge detection."
    )
    split: Split = Field("all", description=SPLIT_DESCRIPTION)

    def heldout_split(self) -> str | None:
        return "heldout"


class Mnist2Digits8x8Options(SourceOptions):
    """Options of ``mnist2digits8x8``."""

    name: Literal["mnist2digits8x8"] = "mnist2digits8x8"
    size: int = Field(
        MNIST_SIDE,
        ge=8,
        description="Side of both domains (≥ 8); the 8×8 digits fill its central 20/28.",
    )
    split: Split = Field("all", description=SPLIT_DESCRIPTION + " Applied to both domains.")

    def heldout_split(self) -> str | None:
        return "heldout"


@SOURCES.register("aligned", options=AlignedOptions)
def aligned(options: AlignedOptions) -> PairedImageSource:
    """A folder of A|B images side by side, pix2pix's layout (Isola et al., 2017)."""
    root = _split_folder(Path(options.path).expanduser(), options.split)
    mode = "L" if options.greyscale else "RGB"
    files = _list_images(root, "aligned")
    sides = image_sides(files, "aligned", halves=True)
    size = training_size(sides, options.size, f"aligned {root}", "A|B halves")
    halves = _load_all(files, root.name, lambda path: _halves(path, mode, size))
    left = torch.stack([a for a, _ in halves])
    right = torch.stack([b for _, b in halves])
    inputs, targets = (left, right) if options.direction == "AtoB" else (right, left)
    return PairedImageSource(inputs, targets, name=f"aligned {root}")


def _split_folder(root: Path, split: str) -> Path:
    """The folder of pairs to read: ``root/split`` when ``root`` has train/, val/ or test/
    sub-folders (the pix2pix data sets), else ``root`` itself (only for split train)."""
    present = [name for name in SPLIT_FOLDERS if (root / name).is_dir()]
    if split in present:
        return root / split
    if present:
        raise DataError(
            f"aligned: {root} has no {split}/ sub-folder (it has {', '.join(present)}); "
            f"choose data.split from {', '.join(present)}"
        )
    if split != "train" and root.is_dir():
        raise DataError(
            f"aligned: data.split={split}, but {root} has no train/, val/ or test/ "
            "sub-folders: it holds the pairs itself (data.split=train)"
        )
    return root


def _halves(path: Path, mode: str, size: int) -> tuple[Tensor, Tensor]:
    """Decode an A|B image, cut it into its left (A) and right (B) halves, resize each to
    size×size."""
    image = read_image(path, mode, "aligned")
    width = image.shape[2]
    if width % 2:
        raise DataError(
            f"aligned: {path}: width {width} is odd; an aligned A|B image holds two halves of "
            "equal width"
        )
    halves = image[None, :, :, : width // 2], image[None, :, :, width // 2 :]
    return resize_images(halves[0], size)[0], resize_images(halves[1], size)[0]


@SOURCES.register("paired_folders", options=PairedFoldersOptions)
def paired_folders(options: PairedFoldersOptions) -> PairedImageSource:
    """Two parallel folders of inputs and targets, matched by file name without extension."""
    inputs_root = Path(options.inputs).expanduser()
    targets_root = Path(options.targets).expanduser()
    inputs, targets = _by_name(inputs_root), _by_name(targets_root)
    unmatched = sorted(
        [inputs[key] for key in inputs.keys() - targets.keys()]
        + [targets[key] for key in targets.keys() - inputs.keys()]
    )
    if unmatched:
        shown = ", ".join(str(path) for path in unmatched[:3])
        more = f" and {len(unmatched) - 3} more" if len(unmatched) > 3 else ""
        raise DataError(
            f"paired_folders: {len(unmatched)} files have no file of the same name (without "
            f"extension) in the other folder: {shown}{more}"
        )
    names = sorted(inputs)
    mode = "L" if options.greyscale else "RGB"
    files = [inputs[n] for n in names] + [targets[n] for n in names]
    where = f"paired_folders {inputs_root} → {targets_root}"
    size = training_size(image_sides(files, "paired_folders"), options.size, where)

    def load(path: Path) -> Tensor:
        return resize_images(read_image(path, mode, "paired_folders")[None], size)[0]

    input_images = torch.stack(_load_all([inputs[n] for n in names], inputs_root.name, load))
    target_images = torch.stack(_load_all([targets[n] for n in names], targets_root.name, load))
    return PairedImageSource(
        input_images, target_images, name=f"paired_folders {inputs_root} → {targets_root}"
    )


def _by_name(root: Path) -> dict[str, Path]:
    """Image files under ``root`` keyed by their relative path without extension."""
    files: dict[str, Path] = {}
    for path in _list_images(root, "paired_folders"):
        key = path.relative_to(root).with_suffix("").as_posix()
        if key in files:
            raise DataError(
                f"paired_folders: {files[key]} and {path} have the same name; inputs and targets "
                "are matched by name without extension"
            )
        files[key] = path
    return files


@SOURCES.register("unpaired_folders", options=UnpairedFoldersOptions)
def unpaired_folders(options: UnpairedFoldersOptions) -> UnpairedImageSource:
    """A folder with trainA and trainB (testA, testB), the layout of CycleGAN's data sets
    (Zhu et al., 2017); the domains may hold different numbers of images."""
    root = Path(options.path).expanduser()
    mode = "L" if options.greyscale else "RGB"
    hint = f"; an unpaired data set holds {options.split}A and {options.split}B"
    if root.name in UNPAIRED_FOLDERS and (root.parent / f"{options.split}A").is_dir():
        hint += f": give its parent, data.path={root.parent}"
    folders = (root / f"{options.split}A", root / f"{options.split}B")
    files = [_list_images(folder, "unpaired_folders", hint) for folder in folders]
    sides = image_sides(files[0] + files[1], "unpaired_folders")
    size = training_size(sides, options.size, f"unpaired_folders {root}")

    def load(path: Path) -> Tensor:
        image = crop_square(read_image(path, mode, "unpaired_folders"))
        return resize_images(image[None], size)[0]

    domains = [
        TensorImageSource(
            torch.stack(_load_all(listed, folder.name, load)), name=f"unpaired_folders {folder}"
        )
        for folder, listed in zip(folders, files, strict=True)
    ]
    return UnpairedImageSource(*domains, name=f"unpaired_folders {root}")


@SOURCES.register("edges2digits", options=Edges2DigitsOptions)
def edges2digits(options: Edges2DigitsOptions) -> PairedImageSource:
    """Canny edge maps of the embedded MNIST digits → the digits, a small paired task."""
    digits = mnist5k(Mnist5kOptions(split=options.split, size=options.size))
    edges = _edge_maps(digits.images, CANNY_SIGMA * options.size / MNIST_SIDE)
    return PairedImageSource(
        edges, digits.images, digits.labels, digits.class_names, name="edges2digits"
    )


def _edge_maps(images: Tensor, sigma: float) -> Tensor:
    """Canny edges (Canny, 1986) of grey uint8 images (N, 1, H, W) → uint8 0/255, same shape.

    The images are stacked into one tall strip, each framed by zeros wider than the reach
    of the Gaussian (4σ), the gradient and the non-maximum suppression, so that one call
    finds every image's edges on its own zero background, as many calls would, but faster."""
    from skimage.feature import canny  # imported here: scikit-image is slow to import

    n, _, height, width = images.shape
    frame = math.ceil(4 * sigma) + 2
    framed = F.pad(images[:, 0], (frame, frame, frame, frame))  # (N, H + 2f, W + 2f)
    strip = canny(framed.reshape(-1, width + 2 * frame).numpy(), sigma=sigma)
    edges = torch.from_numpy(strip).reshape(framed.shape)[:, frame:-frame, frame:-frame]
    return edges.to(torch.uint8).mul_(255).unsqueeze(1)


MNIST_BOX = 20 / 28
"""MNIST's digits are scaled into a 20×20 box of their 28×28 frame (LeCun et al. 1998)."""


@SOURCES.register("mnist2digits8x8", options=Mnist2Digits8x8Options)
def mnist2digits8x8(options: Mnist2Digits8x8Options) -> UnpairedImageSource:
    """Embedded MNIST digits (A) and scikit-learn's 8×8 digits (B) at one size, a small
    unpaired task; both keep their labels for evaluation.

    The 8×8 digits fill their frame; they are brought to MNIST's framing — resized to the
    central box of :data:`MNIST_BOX` of the side, zero margins around — so that the two
    domains differ in style (resolution, stroke), not in where the digit sits."""
    domain_a = mnist5k(Mnist5kOptions(split=options.split, size=options.size))
    box = round(options.size * MNIST_BOX)
    small = digits8x8(Digits8x8Options(split=options.split, size=box))
    before = (options.size - box) // 2
    after = options.size - box - before
    framed = F.pad(small.images, (before, after, before, after))
    domain_b = TensorImageSource(framed, small.labels, small.class_names, name="digits8x8")
    return UnpairedImageSource(domain_a, domain_b, name="mnist2digits8x8")


def _list_images(folder: Path, where: str, hint: str = "") -> list[Path]:
    """Image files under ``folder`` in sorted order; a missing or empty folder → DataError."""
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "no such folder"
        raise DataError(f"{where}: {folder}: {problem}{hint}")
    files = image_files(folder)
    if not files:
        raise DataError(
            f"{where}: no images found in {folder} (looked for {', '.join(IMAGE_EXTENSIONS)}, "
            "any letter case, in all sub-folders)"
        )
    return files


def _load_all(files: list[Path], description: str, load: Callable[[Path], T]) -> list[T]:
    """``load(path)`` for every file, with a progress bar for long lists."""
    progress = tqdm(
        files, desc=f"loading {description}", leave=False, disable=len(files) <= PROGRESS_MIN_FILES
    )
    return [load(path) for path in progress]
