"""Nearest training neighbours of generated images: the memorisation check made visible.

A generator that copies its training set makes samples that sit on top of training
images. Each row of the panel is a generated sample followed by its k nearest training
images (the images of the run's own data source: after ``data.split`` and ``data.classes``,
so those it trained on), nearest first, each with its distance, in one or two spaces:

* pixels: the Euclidean distance between images scaled to [−1, 1] (x / 127.5 − 1), so
  between two images of C·H·W values it is at most 2·√(C·H·W);
* classifier features, for runs on the embedded digits at their own size (``mnist5k``
  28×28, ``digits8x8`` 8×8): the Euclidean distance between the penultimate features of the
  shipped digit classifier (:mod:`gankit.metrics.digits`, the space of digits-FID and of
  the ``mem`` metric), where two drawings of the same digit in the same style are close.

Distances are exact (float64, differences taken directly, not through ‖a‖² + ‖b‖² − 2a·b),
so an image of the training set is at distance 0 from itself in pixels; in features within
~1e-5, as the classifier's float32 kernels round a little differently for different batch
sizes. A picture shows what copying
looks like; whether a run copies more than new real data would be near its training set is
the held-out test of ``gankit eval --metrics mem`` (:mod:`gankit.metrics.memorisation`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from gankit.api import Run
from gankit.config import ConfigError
from gankit.files import write_atomic
from gankit.latent.kinds import image_shape
from gankit.metrics.digits import scale_images
from gankit.metrics.reference import DIGIT_SOURCES, DigitExtractor
from gankit.viz import image_grid, new_figure, picture_format

BLOCK = 4096
"""Training images compared at once."""
PICTURES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class NeighbourSpace:
    """The k nearest training images of each sample in one space."""

    name: str
    """The space: "pixels" or "classifier"."""
    description: str
    """The distance, in words, as the panel states it."""
    indices: Tensor
    """(n, k) int64 rows of the training images, nearest first."""
    distances: Tensor
    """(n, k) float64, ascending along each row."""


@dataclass(frozen=True)
class Neighbours:
    """Samples and their nearest training images in every space the run has."""

    samples: Tensor
    """(n, C, H, W) in [−1, 1]."""
    train: Tensor
    """The training images (N, C, H, W), uint8."""
    spaces: tuple[NeighbourSpace, ...]
    labels: Tensor | None = None
    """The class of each sample of a conditional run."""


def nearest(queries: Tensor, reference: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Distances ``(n, k)`` (float64, ascending) and indices ``(n, k)`` of the k nearest
    rows of ``reference`` ``(N, …)`` to each row of ``queries`` ``(n, …)``, exact Euclidean,
    ``reference`` in blocks of :data:`BLOCK` rows."""
    if not 1 <= k <= len(reference):
        raise ConfigError(f"k must be between 1 and the {len(reference)} training images, got {k}")
    q = queries.reshape(len(queries), -1).double()
    distances = torch.empty(len(q), 0, dtype=torch.float64)
    indices = torch.empty(len(q), 0, dtype=torch.long)
    for start in range(0, len(reference), BLOCK):
        block = reference[start : start + BLOCK]
        d = torch.cdist(
            q, block.reshape(len(block), -1).double(), compute_mode="donot_use_mm_for_euclid_dist"
        )
        rows = torch.arange(start, start + len(block)).expand(len(q), -1)
        distances = torch.cat([distances, d], dim=1)
        indices = torch.cat([indices, rows], dim=1)
        distances, order = distances.topk(min(k, distances.shape[1]), dim=1, largest=False)
        indices = indices.gather(1, order)
    return distances, indices


def training_images(run: Run) -> Tensor:
    """The uint8 images ``(N, C, H, W)`` of an image run's data source."""
    image_shape(run, "nearest-neighbour panels need an image run")
    return run.source.images.cpu()


def classifier_name(run: Run) -> str | None:
    """The shipped digit classifier that sees the run's images, or None: runs on
    ``mnist5k`` or ``digits8x8`` at the classifier's size."""
    data = run.config.data
    name = getattr(data, "name", "")
    if name in DIGIT_SOURCES and getattr(data, "size", None) in (None, DIGIT_SOURCES[name]):
        return name
    return None


def find_neighbours(
    run: Run,
    k: int = 5,
    samples: Tensor | None = None,
    n: int = 8,
    seed: int = 0,
    label: int | str | None = None,
    truncation: float | None = None,
    features: bool = True,
) -> Neighbours:
    """The k nearest training images of ``samples`` ``(n, C, H, W)`` in [−1, 1] (default:
    ``run.sample(n, seed, label, truncation)``) in pixels and, when ``features`` and the run
    has a shipped classifier (:func:`classifier_name`), in its features."""
    train = training_images(run)
    labels = None
    if samples is None:
        samples = run.sample(n, seed, label, truncation)
        labels = run.labels_for(n, label)
    if samples.ndim != 4 or samples.shape[1:] != train.shape[1:]:
        raise ConfigError(
            f"samples must be images {tuple(train.shape[1:])} like the training set's, got "
            f"{tuple(samples.shape)}"
        )
    scaled = scale_images(train)
    distances, indices = nearest(samples, scaled, k)
    spaces = [NeighbourSpace("pixels", "pixel L2 (images in [−1, 1])", indices, distances)]
    name = classifier_name(run) if features else None
    if name is not None:
        extractor = DigitExtractor(name)
        sample_features = extractor.features_and_logits(samples)[0].cpu()
        train_features = extractor.features_and_logits(scaled)[0].cpu()
        distances, indices = nearest(sample_features, train_features, k)
        dim = sample_features.shape[1]
        description = f"L2 in the '{name}' digit classifier's {dim} features"
        spaces.append(NeighbourSpace("classifier", description, indices, distances))
    return Neighbours(samples.detach().cpu(), train, tuple(spaces), labels)


TILE = 0.8
"""Inches per image of the panel; below each, LABEL inches for its distance."""
LABEL = 0.3
GAP = 0.15
MARGIN = 0.4
"""Inches right of the last block, where its heading may reach."""
HEADING_LINE = 0.16
"""Inches per line of the headings above the first row (and of the title above them)."""


def save_panel(neighbours: Neighbours, path: str | Path, title: str = "") -> Path:
    """One block per space, side by side: each row a sample (framed) and its k nearest
    training images, each with its distance and training index; the block's heading states
    the distance. A fixed geometry of :data:`TILE`-inch images."""
    n, spaces = len(neighbours.samples), neighbours.spaces
    k = spaces[0].indices.shape[1]
    columns = len(spaces) * (k + 1) + len(spaces) - 1  # an empty column between blocks
    headings = [
        textwrap.wrap(f"nearest training images, {space.description}", max(20, 16 * k))
        for space in spaces
    ]
    heading = HEADING_LINE * (max(map(len, headings)) + 3)
    width = columns * TILE + (columns - 1) * GAP + 2 * GAP + MARGIN
    height = n * TILE + n * LABEL + heading
    figure = new_figure(width, height)
    grid = figure.add_gridspec(
        n,
        columns,
        left=GAP / width,
        right=1 - (GAP + MARGIN) / width,
        top=1 - heading / height,
        bottom=LABEL / height,
        wspace=GAP / TILE,
        hspace=LABEL / TILE,
    )
    for s, space in enumerate(spaces):
        first = s * (k + 2)
        for row in range(n):
            sample_axes = _tile(figure, grid[row, first], neighbours.samples[row], "C3")
            if neighbours.labels is not None:
                sample_axes.set_xlabel(f"class {int(neighbours.labels[row])}", fontsize=7)
            neighbour_axes = []
            for j in range(k):
                index = int(space.indices[row, j])
                axes = _tile(
                    figure, grid[row, first + 1 + j], scale_images(neighbours.train[index])
                )
                axes.set_xlabel(f"{float(space.distances[row, j]):.3g}  #{index}", fontsize=7)
                neighbour_axes.append(axes)
            if row == 0:
                sample_axes.set_title("sample", fontsize=8)
                neighbour_axes[0].set_title("\n".join(headings[s]), fontsize=8, loc="left")
    if title:
        figure.suptitle(title, fontsize=9, y=1 - 0.1 / height, va="top")
    return write_atomic(path, lambda handle: figure.savefig(handle, format=picture_format(path)))


def _tile(figure, cell, image: Tensor, frame: str | None = None):
    """Draw one image ``(C, H, W)`` in [−1, 1] in grid ``cell`` (grid pixels, no axes)."""
    axes = figure.add_subplot(cell)
    pixels = image_grid(image[None], nrow=1, padding=0)
    if pixels.shape[2] == 1:
        axes.imshow(pixels[:, :, 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        axes.imshow(pixels, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(frame is not None)
        if frame is not None:
            spine.set_color(frame)
            spine.set_linewidth(2)
    return axes
