"""Pictures of samples: image grids, and 1-D/2-D points drawn over the real distribution.

Figures are drawn on a ``matplotlib.figure.Figure`` with an Agg canvas attached directly (no
pyplot, no global backend switch), so plotting is headless and safe from any thread. Every
file is written atomically: a temporary file in the target folder, then ``os.replace``; a
path ending in ``.jpg``/``.jpeg`` is written as JPEG, any other as PNG. A file that cannot
be written (its folder cannot be created or is read-only, the path is a folder, or an
existing file must not be replaced) raises :class:`OutputError`, one line naming the path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from gankit.data.base import DataSource
from gankit.files import write_atomic

_REAL_SAMPLES = 5000  # real points drawn to set axis limits and draw the reference
_REAL_SEED = 0  # plots draw them from their own generator, never from training randomness
_BINS = 60
_GRID = 160  # density grid points per axis
_LOG_DENSITY_RANGE = 12.0  # contours span this many nats below the peak
_REAL_COLOUR = "tab:blue"
_FAKE_COLOUR = "tab:orange"
_JPEG_SUFFIXES = (".jpg", ".jpeg")
JPEG_QUALITY = 95
ROW_LABEL_CHARS = 16  # longer row labels are cut, ending in "…"
_LABEL_MARGIN = 3  # pixels left and right of a row label


def picture_format(path: str | os.PathLike) -> str:
    """The PIL/matplotlib format a picture at ``path`` is written in: JPEG for ``.jpg``
    and ``.jpeg`` (any letter case), PNG otherwise."""
    return "JPEG" if Path(path).suffix.lower() in _JPEG_SUFFIXES else "PNG"


def image_grid(images: Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile images ``(N, C, H, W)`` in [−1, 1], C ∈ {1, 3}, into one uint8 array ``(H', W', C)``.

    pixel = clamp(round((x + 1)·127.5), 0, 255), NaN → 0. ``nrow`` images per row (default
    ⌈√N⌉), rows filled left to right; ``padding`` pixels of 0 around and between tiles, and
    empty tiles of the last row are 0: H' = rows·(H + p) + p, W' = nrow·(W + p) + p."""
    if images.ndim != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(
            f"image_grid needs images (N, C, H, W) with N ≥ 1 and C 1 or 3, "
            f"got shape {tuple(images.shape)}"
        )
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    pixels = torch.nan_to_num(images.detach().float().cpu(), nan=-1.0)
    pixels = pixels.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    tiles = torch.zeros(rows * nrow, c, h + padding, w + padding, dtype=torch.uint8)
    tiles[:n, :, :h, :w] = pixels  # each tile padded on its right and bottom
    grid = (
        tiles.view(rows, nrow, c, h + padding, w + padding)
        .permute(0, 3, 1, 4, 2)  # (rows, H+p, nrow, W+p, C)
        .reshape(rows * (h + padding), nrow * (w + padding), c)
    )
    return np.pad(grid.numpy(), ((padding, 0), (padding, 0), (0, 0)))  # top and left border


def label_rows(
    grid: np.ndarray, labels: Sequence[str], tile_height: int, padding: int = 2
) -> np.ndarray:
    """Put a label left of each row of an :func:`image_grid` ``(H', W', C)`` of tiles
    ``tile_height`` high: a black margin as wide as the longest label, each label in white
    (PIL's default font, about 10 px), centred on its row's tiles; labels longer than
    :data:`ROW_LABEL_CHARS` characters are cut, ending in "…". The grid's own pixels are
    unchanged, right of the margin."""
    rows = (grid.shape[0] - padding) // (tile_height + padding)
    if len(labels) != rows:
        raise ValueError(f"{len(labels)} row labels for a grid of {rows} rows")
    font = ImageFont.load_default()
    texts = [_cut(str(label)) for label in labels]
    width = max(math.ceil(font.getlength(text)) for text in texts) + 2 * _LABEL_MARGIN
    margin = Image.new("L", (width, grid.shape[0]), 0)
    draw = ImageDraw.Draw(margin)
    for row, text in enumerate(texts):
        _, top, _, bottom = draw.textbbox((0, 0), text, font=font)
        centre = padding + row * (tile_height + padding) + tile_height / 2
        draw.text((_LABEL_MARGIN, round(centre - (top + bottom) / 2)), text, fill=255, font=font)
    pixels = np.repeat(np.asarray(margin)[:, :, None], grid.shape[2], axis=2)
    return np.concatenate([pixels, grid], axis=1)


def _cut(text: str) -> str:
    return text if len(text) <= ROW_LABEL_CHARS else text[: ROW_LABEL_CHARS - 1] + "…"


def save_image_grid(
    images: Tensor,
    path: str | os.PathLike,
    nrow: int | None = None,
    row_labels: Sequence[str] | None = None,
) -> Path:
    """Write :func:`image_grid` of ``images`` as a PNG (a JPEG for a ``.jpg``/``.jpeg``
    path): mode "L" for one channel, "RGB" for three; ``row_labels``, one per row, are
    written left of the rows (:func:`label_rows`). The parent folder is created; the file
    appears atomically."""
    grid = image_grid(images, nrow)
    if row_labels is not None:
        grid = label_rows(grid, row_labels, images.shape[2])
    return save_picture(grid, path)


def save_picture(pixels: np.ndarray, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write uint8 pixels ``(H, W, C)``, C ∈ {1, 3}, as a PNG (a JPEG of quality
    :data:`JPEG_QUALITY` for a ``.jpg``/``.jpeg`` path), atomically. ``overwrite=False``
    refuses (:class:`OutputError`) to replace an existing file."""
    picture = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    fmt = picture_format(path)
    options = {"quality": JPEG_QUALITY} if fmt == "JPEG" else {}
    return write_atomic(path, lambda fh: picture.save(fh, format=fmt, **options), overwrite)


def new_figure(width: float = 5.0, height: float = 4.5) -> Figure:
    """A matplotlib Figure with its own Agg canvas (no pyplot state)."""
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: str | os.PathLike) -> Path:
    """Lay ``figure`` out tightly and write it as a PNG (a JPEG for a ``.jpg``/``.jpeg``
    path), atomically."""
    figure.tight_layout()
    fmt = picture_format(path).lower()
    return write_atomic(path, lambda fh: figure.savefig(fh, format=fmt))


def plot_points(
    samples: Tensor, source: DataSource | None, path: str | os.PathLike, title: str = ""
) -> Path:
    """Plot generated points ``(N, d)`` over the real distribution and write a PNG.

    d = 1: a histogram of the samples over the true density exp(log p(x)) when the source
    knows it, else over a histogram of real samples. d ≥ 2: a scatter of the samples over
    filled contours of log p(x) (2-D sources with a density), else over a light scatter of
    real samples; for d > 2 the first two coordinates are shown. Axis limits come from the
    real data (from the samples when ``source`` is None); histograms are normalised by all
    N samples, so mass outside the view is not spread over it, and the legend says how much
    of it lies outside. Real points come from ``torch.Generator().manual_seed(0)``."""
    points = samples.detach().float().cpu()
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"plot_points needs points (N, d) with N ≥ 1, got {tuple(points.shape)}")
    if source is not None and tuple(source.shape) != (points.shape[1],):
        raise ValueError(
            f"samples of shape {tuple(points.shape)} do not match the source's shape "
            f"{tuple(source.shape)}"
        )
    real = None if source is None else source.sample(_REAL_SAMPLES, _real_generator())
    figure = new_figure()
    axes = figure.add_subplot()
    if points.shape[1] == 1:
        _plot_1d(axes, points[:, 0].numpy(), source, real)
    else:
        _plot_2d(axes, points, source, real)
    axes.legend(loc="upper right", fontsize="small")
    if title:
        axes.set_title(title)
    return save_figure(figure, path)


def save_samples(
    samples: Tensor,
    source: DataSource | None,
    path: str | os.PathLike,
    title: str = "",
    nrow: int | None = None,
    kind: str | None = None,
    row_labels: Sequence[str] | None = None,
) -> Path:
    """Write generated samples as a picture: an image grid for images (no title; ``nrow``
    images per row, labelled by ``row_labels`` if given; the source is not used), a plot
    over the real distribution for points (over the samples alone without a source).
    ``kind`` ("images" or "points") defaults to the source's; without either, 4-D samples
    are images."""
    if kind is None:
        kind = source.kind if source is not None else None
    if kind is None:
        kind = "images" if samples.ndim == 4 else "points"
    if kind != "points" and samples.ndim == 4:
        return save_image_grid(samples, path, nrow, row_labels)
    return plot_points(samples, source, path, title)


def _plot_1d(axes: Axes, x: np.ndarray, source: DataSource | None, real: Tensor | None) -> None:
    reference = x if real is None else real[:, 0].float().cpu().numpy()
    lo, hi = _limits(reference)
    edges = np.linspace(lo, hi, _BINS + 1)
    if source is not None and source.has_density:
        grid = torch.linspace(lo, hi, 4 * _BINS, device=real.device)
        with torch.no_grad():
            density = source.log_prob(grid[:, None]).exp()  # (G, 1) → (G,)
        axes.plot(grid.cpu(), density.cpu(), color=_REAL_COLOUR, label="true density")
    elif real is not None:
        axes.stairs(_histogram(reference, edges), edges, color=_REAL_COLOUR, label="real")
    axes.stairs(
        _histogram(x, edges),
        edges,
        fill=True,
        alpha=0.5,
        color=_FAKE_COLOUR,
        label=_fake_label(x[:, None], [(lo, hi)]),
    )
    axes.set_xlim(lo, hi)
    axes.set_ylabel("density")


def _plot_2d(axes: Axes, points: Tensor, source: DataSource | None, real: Tensor | None) -> None:
    xy = points[:, :2].numpy()
    reference = xy if real is None else real[:, :2].float().cpu().numpy()
    limits = [_limits(reference[:, 0]), _limits(reference[:, 1])]
    if source is not None and source.has_density and points.shape[1] == 2:
        _log_density_contours(axes, source, limits, real.device)
    elif real is not None:
        axes.scatter(*reference.T, s=3, color="0.55", alpha=0.3, linewidths=0, label="real")
    axes.scatter(
        *xy.T, s=5, color=_FAKE_COLOUR, alpha=0.7, linewidths=0, label=_fake_label(xy, limits)
    )
    axes.set_xlim(*limits[0])
    axes.set_ylim(*limits[1])
    if points.shape[1] > 2:
        axes.set_xlabel(f"coordinate 1 of {points.shape[1]}")
        axes.set_ylabel(f"coordinate 2 of {points.shape[1]}")


def _log_density_contours(
    axes: Axes, source: DataSource, limits: list[tuple[float, float]], device: torch.device
) -> None:
    """Filled contours of log p over the view, from the peak down _LOG_DENSITY_RANGE nats."""
    gx, gy = torch.meshgrid(
        torch.linspace(*limits[0], _GRID), torch.linspace(*limits[1], _GRID), indexing="xy"
    )  # (G, G) each
    with torch.no_grad():
        log_p = source.log_prob(torch.stack([gx.flatten(), gy.flatten()], 1).to(device))
    log_p = log_p.float().cpu().view(_GRID, _GRID)  # (G², ) → (G, G)
    top = float(log_p.max())
    levels = np.linspace(top - _LOG_DENSITY_RANGE, top, 13)
    axes.contourf(
        gx.numpy(),
        gy.numpy(),
        log_p.clamp(min=levels[0]).numpy(),
        levels=levels,
        cmap="Blues",
        alpha=0.8,
    )
    axes.plot([], [], color=_REAL_COLOUR, label="log density")  # legend entry for the contours


def _limits(values: np.ndarray) -> tuple[float, float]:
    """Axis range covering the 0.1–99.9 % quantiles of the finite values, plus 10 %."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.0, 1.0
    lo, hi = (float(q) for q in np.quantile(finite, [0.001, 0.999]))
    pad = 0.1 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Density per bin, normalised by all ``len(values)`` values (not only those in view)."""
    counts, _ = np.histogram(values[np.isfinite(values)], edges)
    return counts / (len(values) * np.diff(edges))


def _fake_label(points: np.ndarray, limits: list[tuple[float, float]]) -> str:
    inside = np.ones(len(points), dtype=bool)
    for column, (lo, hi) in enumerate(limits):
        inside &= (points[:, column] >= lo) & (points[:, column] <= hi)
    outside = 1.0 - inside.mean()
    return "generated" if outside < 0.005 else f"generated ({outside:.0%} outside view)"


def _real_generator() -> torch.Generator:
    return torch.Generator().manual_seed(_REAL_SEED)
