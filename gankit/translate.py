"""Translate image files with a pix2pix or CycleGAN run: one file, or every image of a
folder into a folder of the same names (``gankit translate RUN INPUT -o OUTPUT``)."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from gankit.api import Run
from gankit.data import DataError
from gankit.data.images import IMAGE_EXTENSIONS, image_files, load_image
from gankit.viz import image_grid

BATCH = 64


def translate_path(
    run: Run,
    source: str | Path,
    output: str | Path,
    direction: str = "AtoB",
    seed: int = 0,
    dropout: bool = True,
) -> list[Path]:
    """Translate the image file ``source`` to the file ``output``, or every image under the
    folder ``source`` to the same relative paths under the folder ``output`` (as PNG).

    Images are converted to the run's channels (grey or RGB), centre-cropped to a square
    and resized to the run's size before translation. Returns the files written."""
    source, output = Path(source).expanduser(), Path(output).expanduser()
    if source.is_dir():
        files = image_files(source)
        if not files:
            raise DataError(f"{source}: no {'/'.join(IMAGE_EXTENSIONS)} files to translate")
        targets = [(output / f.relative_to(source)).with_suffix(".png") for f in files]
    elif source.is_file():
        files, targets = [source], [output if output.suffix else output.with_suffix(".png")]
    else:
        raise DataError(f"{source}: no such file or folder")
    channels = run.translation_channels(direction)
    size = run.data_info["shape"][-1]
    mode = "L" if channels == 1 else "RGB"
    written = []
    for start in range(0, len(files), BATCH):
        batch = [load_image(f, mode, size, "center") for f in files[start : start + BATCH]]
        images = torch.stack(batch).float().div(127.5).sub(1.0)
        translated = run.translate(images, direction, seed + start, dropout)
        for image, target in zip(translated, targets[start : start + BATCH], strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            pixels = image_grid(image[None], nrow=1, padding=0)
            Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(target)
            written.append(target)
    return written
