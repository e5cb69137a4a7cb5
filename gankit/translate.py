"""Translate image files with a pix2pix or CycleGAN run: one file, or every image of a
folder into a folder of the same names (``gankit translate RUN INPUT -o OUTPUT``).

Each output keeps its input's name and extension, so two inputs never share an output
(``b.png`` and ``b.jpg`` give ``b.png`` and ``b.jpg``); ``.jpg``/``.jpeg`` outputs are JPEG,
``.png`` outputs PNG. Existing files are never replaced unless asked (``overwrite``): every
output is checked before anything is translated, and each file appears atomically.

An input twice as wide as it is high is an A|B pair (two images side by side, the pix2pix
data sets' layout); squashed into one square it would be neither, so it is refused unless
``split_ab`` is asked for, which translates the half the generator reads."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from gankit.api import Run
from gankit.data import DataError, resize_images
from gankit.data.images import IMAGE_EXTENSIONS, crop_square, image_files, read_image
from gankit.data.sizes import image_dims
from gankit.errors import GankitError
from gankit.files import OutputError
from gankit.viz import image_grid, save_picture

BATCH = 64
_SHOWN = 5  # file names listed in an error, then "and N more"


def translate_path(
    run: Run,
    source: str | Path,
    output: str | Path,
    direction: str = "AtoB",
    seed: int = 0,
    dropout: bool = True,
    overwrite: bool = False,
    split_ab: bool = False,
) -> list[Path]:
    """Translate the image file ``source`` to the file ``output`` (into it, under the input's
    name, when ``output`` is a folder; ``.png`` is added to a name without an extension), or
    every image under the folder ``source`` to the same relative paths under the folder
    ``output``; outputs are PNG, or JPEG for ``.jpg``/``.jpeg`` names.

    Images are converted to the run's channels (grey or RGB), centre-cropped to a square
    and resized to the run's size before translation. ``split_ab``: every input is an A|B
    pair, of which the half the generator reads (:func:`input_half`) is translated.
    Refused before anything is written: a run that does not translate, an A|B input without
    ``split_ab`` or another input with it, an output that exists (unless ``overwrite``) or
    that is one of the inputs. Returns the files written, one per input."""
    channels = run.translation_channels(direction)  # refuses a run that does not translate
    files, targets = _plan(Path(source).expanduser(), Path(output).expanduser())
    half = input_half(run, direction)
    _check_pairs(files, Path(source).expanduser(), half, split_ab)
    _check_targets(files, targets, Path(output).expanduser(), overwrite)
    size = run.data_info["shape"][-1]
    mode = "L" if channels == 1 else "RGB"
    written: list[Path] = []
    try:
        for start in range(0, len(files), BATCH):
            batch = [
                _load(f, mode, size, half if split_ab else None)
                for f in files[start : start + BATCH]
            ]
            images = torch.stack(batch).float().div(127.5).sub(1.0)
            translated = run.translate(images, direction, seed + start, dropout)
            for image, target in zip(translated, targets[start : start + BATCH], strict=True):
                written.append(
                    save_picture(image_grid(image[None], nrow=1, padding=0), target, overwrite)
                )
    except GankitError as err:
        if not written:
            raise
        raise type(err)(
            f"{err} ({len(written)} of {len(files)} image(s) were written before this)"
        ) from None
    return written


def input_half(run: Run, direction: str) -> str:
    """``left`` or ``right``: the half of an A|B pair that the generator for ``direction``
    reads: A (left) for AtoB, B (right) for BtoA, swapped for a run trained on an
    ``aligned`` source with ``direction: BtoA``."""
    reads_a = direction == "AtoB"
    if getattr(run.config.data, "direction", "AtoB") == "BtoA":
        reads_a = not reads_a
    return "left" if reads_a else "right"


def _load(path: Path, mode: str, size: int, half: str | None) -> Tensor:
    """One input as uint8 (C, size, size): its ``half`` (of an A|B pair) if given, centre
    crop, resize."""
    pixels = read_image(path, mode)  # (C, h, w)
    if half is not None:
        middle = pixels.shape[2] // 2
        pixels = pixels[:, :, :middle] if half == "left" else pixels[:, :, middle:]
    return resize_images(crop_square(pixels)[None], size)[0]


def _check_pairs(files: list[Path], source: Path, half: str, split_ab: bool) -> None:
    """Refuse A|B pairs (width twice the height) without ``split_ab``, and inputs that are
    not pairs with it; ``half`` is the half the run reads."""
    dims = {f: image_dims(f) for f in files}
    pairs = [f for f in files if dims[f][0] == 2 * dims[f][1]]
    others = [f for f in files if dims[f][0] != 2 * dims[f][1]]
    root = source if source.is_dir() else source.parent
    reads = "left (A)" if half == "left" else "right (B)"
    if pairs and not split_ab:
        w, h = dims[pairs[0]]
        if len(files) == 1:
            what = f"{_names(pairs, root)} is {w}×{h}, an A|B pair"
        else:
            are = "is an A|B pair" if len(pairs) == 1 else "are A|B pairs"
            what = f"{len(pairs)} of the {len(files)} inputs ({_names(pairs, root)}) {are}"
        raise DataError(
            f"{what}: two images side by side (the pix2pix data sets' layout), which "
            f"translating whole would squash into one; pass --split-ab to translate the "
            f"{reads} half that this run reads"
        )
    if others and split_ab:
        w, h = dims[others[0]]
        if len(files) == 1:
            what = f"{_names(others, root)} is {w}×{h}, not"
        else:
            are = "is" if len(others) == 1 else "are"
            what = f"{len(others)} of the {len(files)} inputs ({_names(others, root)}) {are} not"
        raise DataError(
            f"--split-ab: {what} an A|B pair (two images side by side, twice as wide as "
            "high); leave out --split-ab for single images"
        )


def _plan(source: Path, output: Path) -> tuple[list[Path], list[Path]]:
    """The input files and the output file of each."""
    if source.is_dir():
        files = image_files(source)
        if not files:
            raise DataError(f"{source}: no {'/'.join(IMAGE_EXTENSIONS)} files to translate")
        if output.exists() and not output.is_dir():
            raise OutputError(f"{output} is a file; a folder input needs an output folder")
        return files, [output / f.relative_to(source) for f in files]
    if not source.is_file():
        raise DataError(f"{source}: no such file or folder")
    if output.is_dir():
        target = output / source.name
    else:
        target = output if output.suffix else output.with_suffix(".png")
    if target.suffix.lower() not in IMAGE_EXTENSIONS:
        raise OutputError(
            f"{output}: cannot write an image as '{target.suffix}'; name a .png, .jpg or .jpeg file"
        )
    return [source], [target]


def _check_targets(files: list[Path], targets: list[Path], output: Path, overwrite: bool) -> None:
    """Refuse outputs that would replace an input image or, unless ``overwrite``, any
    existing file. (Outputs keep their inputs' names, so no two share a file; on a file
    system that ignores letter case, a clash is still never written over without
    ``overwrite``: the atomic write refuses an existing file.)"""
    inputs = {f.resolve() for f in files}
    clobbered = [t for t in targets if t.resolve() in inputs]
    if clobbered:
        raise OutputError(
            f"the output would replace the input image(s) {_names(clobbered, output)}; "
            "choose another output"
        )
    existing = [] if overwrite else [t for t in targets if t.exists() or t.is_symlink()]
    if len(targets) == 1 and existing:
        raise OutputError(
            f"{existing[0]} already exists; nothing was written: pass --overwrite to replace "
            "it, or choose another output"
        )
    if existing:
        raise OutputError(
            f"{len(existing)} of the {len(targets)} output files already exist in {output} "
            f"({_names(existing, output)}); nothing was written: pass --overwrite to replace "
            "them, or choose another output folder"
        )


def _names(paths: list[Path], output: Path) -> str:
    """The first few of ``paths``, relative to ``output`` where they lie under it."""
    shown = [
        str(p.relative_to(output)) if p != output and p.is_relative_to(output) else str(p)
        for p in paths[:_SHOWN]
    ]
    more = len(paths) - _SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
