"""Coloured shapes: a small procedural RGB data set with exact class labels.

Each image holds one filled shape — a circle, a square, a triangle or a cross (the classes,
in this order, balanced: image i is of class i mod 4) — in a saturated colour on a dark,
greyish background that is plain or a linear gradient. Every image is drawn from one
``numpy.random.Generator`` seeded with ``seed``, so a seed gives the same images and labels
on every machine:

    shape colour       HSV with hue ~ U(0, 1), saturation ~ U(0.7, 1), value ~ U(0.75, 1)
    background         two HSV colours, saturation ~ U(0, 0.3), value ~ U(0.1, 0.4), blended
                       along a random direction; plain (one colour) for half of the images
    size               r ~ U(0.22, 0.36) · size, the radius of the shape's circumcircle
    place, rotation    centre ~ U(r, size − r) in each axis, angle ~ U(0, 2π)

In the shape's frame (u, v) = R(−angle)(p − centre) / r a point p is inside the circle when
u² + v² ≤ 0.85², the square when max(|u|, |v|) ≤ 0.7, the equilateral triangle (vertices
on the unit circle) when u·cos a + v·sin a ≤ 0.5 for the three edge normals a ∈ {−90°, 30°,
150°}, the cross when one of its two bars 1.8 × 0.56 holds it. A pixel's colour is the
background's blended with the shape's by the fraction of its 4 × 4 sub-pixel points inside
(anti-aliased edges). ``gankit make-data shapes DIR`` writes the images as PNG files, one
sub-folder per class, which the ``folder`` source reads back as the same labelled set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image
from pydantic import Field
from torch import Tensor
from tqdm import tqdm

from gankit.data.base import SourceOptions, TensorImageSource
from gankit.data.registry import SOURCES
from gankit.files import OutputError, write_atomic

SHAPES = ("circle", "square", "triangle", "cross")
SUPERSAMPLE = 4
"""Sub-pixel points per side whose share inside the shape gives a pixel's coverage."""
BATCH = 128
NAME_DIGITS = 6

_TRIANGLE_NORMALS = np.deg2rad([-90.0, 30.0, 150.0])


class ShapesOptions(SourceOptions):
    """Options of ``shapes``."""

    name: Literal["shapes"] = "shapes"
    count: int = Field(3000, ge=1, le=200_000, description="Number of images (≤ 200,000).")
    size: int = Field(32, ge=8, le=256, description="Side of the square images (8 … 256).")
    seed: int = Field(
        0, ge=0, le=2**63 - 1, description="Seed of the images themselves (not of training)."
    )


@SOURCES.register("shapes", options=ShapesOptions)
def shapes(options: ShapesOptions) -> TensorImageSource:
    """Coloured circles, squares, triangles and crosses drawn by gankit, with their labels."""
    images, labels = render_shapes(options.count, options.size, options.seed)
    return TensorImageSource(images, labels, list(SHAPES), name="shapes")


def render_shapes(
    count: int, size: int, seed: int = 0, progress: bool = False
) -> tuple[Tensor, Tensor]:
    """``count`` images uint8 (count, 3, size, size) and their labels (count,) int64, the
    indices into :data:`SHAPES` (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(SHAPES)
    shape_rgb = _hsv_to_rgb(
        rng.uniform(0, 1, count), rng.uniform(0.7, 1, count), rng.uniform(0.75, 1, count)
    )
    ends = [
        _hsv_to_rgb(
            rng.uniform(0, 1, count), rng.uniform(0, 0.3, count), rng.uniform(0.1, 0.4, count)
        )
        for _ in range(2)
    ]
    plain = rng.uniform(0, 1, count) < 0.5
    ends[1][plain] = ends[0][plain]
    direction = rng.uniform(0, 2 * np.pi, count)
    radius = rng.uniform(0.22, 0.36, count) * size
    centre = rng.uniform(radius[:, None], size - radius[:, None], (count, 2))
    angle = rng.uniform(0, 2 * np.pi, count)

    images = np.empty((count, size, size, 3), dtype=np.uint8)
    with tqdm(total=count, desc="drawing shapes", unit="image", disable=not progress) as bar:
        for start in range(0, count, BATCH):
            part = slice(start, min(start + BATCH, count))
            cover = shape_coverage(labels[part], centre[part], radius[part], angle[part], size)
            back = _gradient(ends[0][part], ends[1][part], direction[part], size)
            mixed = back + cover[..., None] * (shape_rgb[part, None, None, :] - back)
            images[part] = np.rint(mixed * 255).clip(0, 255).astype(np.uint8)
            bar.update(part.stop - part.start)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels)


def shape_coverage(
    labels: np.ndarray, centre: np.ndarray, radius: np.ndarray, angle: np.ndarray, size: int
) -> np.ndarray:
    """The share (n, size, size) of each pixel's SUPERSAMPLE² points inside each shape."""
    fine = (np.arange(size * SUPERSAMPLE) + 0.5) / SUPERSAMPLE  # sub-pixel centres
    dy = fine[None, :, None] - centre[:, 1, None, None]  # rows are y
    dx = fine[None, None, :] - centre[:, 0, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    r = radius[:, None, None]
    u, v = (cos * dx + sin * dy) / r, (-sin * dx + cos * dy) / r
    inside = np.zeros(u.shape, dtype=bool)
    for index, name in enumerate(SHAPES):
        which = labels == index
        if which.any():
            inside[which] = _inside(name, u[which], v[which])
    n = len(labels)
    blocks = inside.reshape(n, size, SUPERSAMPLE, size, SUPERSAMPLE)
    return blocks.mean(axis=(2, 4))


def _inside(name: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether each point (u, v) of the shape's own frame lies inside ``name``."""
    if name == "circle":
        return u**2 + v**2 <= 0.85**2
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.7
    if name == "triangle":
        inside = np.ones(u.shape, dtype=bool)
        for a in _TRIANGLE_NORMALS:
            inside &= u * np.cos(a) + v * np.sin(a) <= 0.5
        return inside
    au, av = np.abs(u), np.abs(v)
    return ((au <= 0.28) & (av <= 0.9)) | ((av <= 0.28) & (au <= 0.9))


def _gradient(start: np.ndarray, end: np.ndarray, direction: np.ndarray, size: int) -> np.ndarray:
    """Backgrounds (n, size, size, 3) blending ``start`` into ``end`` along ``direction``:
    the weight of ``end`` grows linearly from 0 to 1 across the image."""
    centred = (np.arange(size) + 0.5) / size - 0.5
    along = (
        np.cos(direction)[:, None, None] * centred[None, None, :]
        + np.sin(direction)[:, None, None] * centred[None, :, None]
    )
    weight = (along - along.min(axis=(1, 2), keepdims=True)) / np.maximum(
        np.ptp(along, axis=(1, 2), keepdims=True), 1e-12
    )
    return start[:, None, None, :] + weight[..., None] * (end - start)[:, None, None, :]


def _hsv_to_rgb(hue: np.ndarray, saturation: np.ndarray, value: np.ndarray) -> np.ndarray:
    """RGB in [0, 1], shape (n, 3), of HSV colours (each component in [0, 1])."""
    k = (np.array([5.0, 3.0, 1.0]) + hue[:, None] * 6) % 6
    ramp = np.clip(np.minimum(k, 4 - k), 0, 1)
    return value[:, None] - (value * saturation)[:, None] * ramp


def write_shapes(
    folder: str | Path, count: int, size: int = 32, seed: int = 0, progress: bool = False
) -> list[Path]:
    """Write :func:`render_shapes` as PNG files ``folder/<shape>/000042.png`` (image i,
    zero-padded to 6 digits), one sub-folder per class; returns the files written. A
    ``folder`` that is a file, or a folder that already holds files, is refused before
    anything is drawn."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file; name a new folder for the shapes")
    if folder.is_dir() and any(folder.iterdir()):
        raise OutputError(f"{folder} is not empty; name a new or empty folder for the shapes")
    images, labels = render_shapes(count, size, seed, progress=progress)
    width = max(NAME_DIGITS, len(str(count - 1)))
    pixels = images.permute(0, 2, 3, 1).numpy()
    written = []
    for i in tqdm(range(count), desc="writing PNGs", unit="image", disable=not progress):
        path = folder / SHAPES[int(labels[i])] / f"{i:0{width}d}.png"
        picture = Image.fromarray(pixels[i])
        written.append(write_atomic(path, lambda fh, p=picture: p.save(fh, format="PNG")))
    return written
