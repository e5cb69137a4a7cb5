"""The side a user's images train at: their own when ``data.size`` is not set, and a
warning when they are upscaled.

An image's *side* is that of the square it is cut to before resizing: its shorter side
(each half's, for an A|B image), read from the file's header alone and turned by its EXIF
orientation as the loader turns the pixels. With ``data.size`` unset:

* the side shared by more than half of the images is taken (all of them, usually); when
  no side is, the source is refused with the sides found, asking for ``data.size``;
* that side is brought down to the largest size every convolutional net of gankit builds,
  s = b·2ⁿ with 4 ≤ b < 8, n ≥ 1 and 4 | s (8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80,
  …): DCGAN's and the residual nets' layout (``gankit.nets.dcgan.dcgan_layout``), even
  for the U-Net, a multiple of 4 for the ResNet generator's two downsamplings. Going down,
  never up, no image of that side is upscaled; the choice is printed when it differs from
  the images' side. Sides below 8 are kept (an MLP builds any size).

Whatever the size, images smaller than it are upscaled, which adds no detail but costs
memory and time (a 32-px pix2pix set trained at 256 px runs a 13.6 M-parameter U-Net on
64 times the pixels): one warning line names the native and the training size.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PIL import ExifTags, Image
from tqdm import tqdm

from gankit.data.base import DataError

SMALLEST_CONV_SIZE = 8
PROGRESS_MIN_FILES = 500
UNREADABLE = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)
"""What PIL raises for a file it cannot read."""
_TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_SHOWN = 3  # sizes listed in a message


def image_dims(path: Path, where: str = "") -> tuple[int, int]:
    """(width, height) of an image file as it is loaded (EXIF orientation applied), from
    its header; an unreadable file → DataError naming it (after ``where``, if given)."""
    try:
        with Image.open(path) as opened:
            width, height = opened.size
            orientation = opened.getexif().get(ExifTags.Base.Orientation)
    except UNREADABLE as error:
        prefix = f"{where}: " if where else ""
        raise DataError(f"{prefix}cannot read image {path}: {error}") from None
    return (height, width) if orientation in _TRANSPOSED else (width, height)


def image_sides(files: Sequence[Path], where: str, halves: bool = False) -> list[int]:
    """The side of each file: min(width, height), or min(width / 2, height) of each half
    of an A|B image when ``halves``."""
    progress = tqdm(
        files, desc="reading sizes", leave=False, disable=len(files) <= PROGRESS_MIN_FILES
    )
    sides = []
    for path in progress:
        width, height = image_dims(path, where)
        sides.append(min(width // 2 if halves else width, height))
    return sides


def conv_size_at_most(side: int) -> int:
    """The largest size ≤ ``side`` that every convolutional net builds (b·2ⁿ, 4 ≤ b < 8,
    n ≥ 1, a multiple of 4); ``side`` itself below 8."""
    if side < SMALLEST_CONV_SIZE:
        return side
    n = (side // 4).bit_length() - 1  # 4·2ⁿ ≤ side < 8·2ⁿ
    b = side >> n  # 4 ≤ b < 8
    if n == 1 and b % 2:
        b -= 1  # 10 and 14 are not multiples of 4
    return b << n


def training_size(sides: Sequence[int], size: int | None, where: str, what: str = "images") -> int:
    """The side to train at: ``size`` when set, else the images' own (see the module); one
    line on stderr when the images' side is not kept, and one when images are upscaled.
    ``what`` names the images in messages ("images", "A|B halves")."""
    counts = Counter(sides)
    if size is None:
        side, count = max(counts.items(), key=lambda item: (item[1], item[0]))
        if 2 * count <= len(sides):
            raise DataError(
                f"{where}: the {what} differ in size ({_listed(counts)}) and no size is "
                f"shared by more than half of them; set data.size (e.g. "
                f"data.size={conv_size_at_most(side)})"
            )
        size = conv_size_at_most(side)
        shared = f"{count} of {len(sides)} {what}" if count < len(sides) else f"the {what}"
        shared += f" are {side} px"
        if size != side:
            _say(
                "note",
                f"{where}: {shared}; training at {size}×{size}, the largest size ≤ {side} "
                "that the convolutional nets build (set data.size to choose another)",
            )
        elif count != len(sides):
            _say("note", f"{where}: {shared}; training at {size}×{size}")
    smaller = sorted(side for side in sides if side < size)
    if smaller:
        _warn_upscaled(smaller, len(sides), size, where, what, counts)
    return size


def _warn_upscaled(
    smaller: list[int], total: int, size: int, where: str, what: str, counts: Counter
) -> None:
    smallest = smaller[0]
    if len(counts) == 1:
        _say(
            "warning",
            f"{where}: the {what} are {smallest} px and data.size={size} upscales them "
            f"{size / smallest:.3g}× (more memory and time, no more detail); without data.size "
            f"they train at {conv_size_at_most(smallest)} px",
        )
        return
    _say(
        "warning",
        f"{where}: {len(smaller)} of {total} {what} {'is' if len(smaller) == 1 else 'are'} "
        f"smaller than {size} px (down to {smallest} px), upscaled to {size}×{size}",
    )


def _listed(counts: Counter) -> str:
    """The most common sides with their counts: "shorter side 30 px: 2, 64 px: 1, …"."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], -item[0]))
    shown = ", ".join(f"{side} px: {count}" for side, count in ranked[:_SHOWN])
    more = f", and {len(ranked) - _SHOWN} more sizes" if len(ranked) > _SHOWN else ""
    return f"shorter side {shown}{more}"


def _say(kind: str, message: str) -> None:
    print(f"{kind}: {message}", file=sys.stderr)
