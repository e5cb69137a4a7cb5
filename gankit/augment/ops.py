"""Differentiable image augmentations of a batch ``(B, C, H, W)``, one draw per sample.

Each transform is a pure function of the images and its explicit per-sample parameters,
differentiable with respect to the images (gathers, masks and affine colour maps), so G
learns through an augmentation applied to its samples. :func:`per_sample` keeps the
original image where a sample's Bernoulli draw says no, so an augmentation applied with
probability 0 returns its input exactly. The ``draw_*`` helpers draw the parameters from
torch's global generator on the batch's device (checkpointed by the Trainer), always the
same number of values for a batch whatever the probability, so a resumed run draws the
same numbers.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Padding = Literal["zeros", "reflect"]


def per_sample(apply: Tensor, augmented: Tensor, original: Tensor) -> Tensor:
    """``augmented[i]`` where ``apply[i]`` (shape (B,), bool) else ``original[i]``."""
    return torch.where(apply.reshape(-1, *([1] * (original.dim() - 1))), augmented, original)


def _source_index(index: Tensor, size: int, padding: Padding) -> tuple[Tensor, Tensor]:
    """Indices into an axis of ``size`` pixels for positions that may fall outside it, and
    which of them are inside (always all of them for ``reflect``)."""
    if padding == "reflect":
        period = 2 * (size - 1) if size > 1 else 1
        index = index.remainder(period)
        index = torch.where(index >= size, period - index, index)
        return index, torch.ones_like(index, dtype=torch.bool)
    inside = (index >= 0) & (index < size)
    return index.clamp(0, size - 1), inside


def translate(x: Tensor, shift_h: Tensor, shift_w: Tensor, padding: Padding = "zeros") -> Tensor:
    """Move each image by whole pixels: ``out[i, :, r, c] = x[i, :, r − shift_h[i],
    c − shift_w[i]]`` (positive shifts move the content down and right); pixels that come
    from outside the image are 0 (``zeros``, DiffAugment) or mirrored (``reflect``, ADA)."""
    b, c, h, w = x.shape
    rows = torch.arange(h, device=x.device) - shift_h.reshape(b, 1)  # (B, H) source rows
    cols = torch.arange(w, device=x.device) - shift_w.reshape(b, 1)  # (B, W)
    rows, row_inside = _source_index(rows, h, padding)
    cols, col_inside = _source_index(cols, w, padding)
    index = (rows[:, :, None] * w + cols[:, None, :]).reshape(b, 1, h * w).expand(b, c, h * w)
    out = x.reshape(b, c, h * w).gather(2, index).reshape(b, c, h, w)
    if padding == "zeros":
        inside = (row_inside[:, :, None] & col_inside[:, None, :]).unsqueeze(1)  # (B, 1, H, W)
        out = out * inside.to(out.dtype)
    return out


def cutout(x: Tensor, centre_h: Tensor, centre_w: Tensor, size: tuple[int, int]) -> Tensor:
    """Zero a ``size`` rectangle of each image, rows ``centre_h − size_h // 2`` onward and
    columns likewise (clipped at the border), as DiffAugment's cutout does."""
    b, _, h, w = x.shape
    top = (centre_h - size[0] // 2).reshape(b, 1)
    left = (centre_w - size[1] // 2).reshape(b, 1)
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    in_rows = (rows >= top) & (rows < top + size[0])  # (B, H)
    in_cols = (cols >= left) & (cols < left + size[1])  # (B, W)
    hole = (in_rows[:, :, None] & in_cols[:, None, :]).unsqueeze(1)  # (B, 1, H, W)
    return x * (~hole).to(x.dtype)


def flip_x(x: Tensor, flip: Tensor) -> Tensor:
    """Mirror left–right the images where ``flip`` (bool, (B,)) is true."""
    return per_sample(flip, x.flip(-1), x)


def rotate90(x: Tensor, quarter_turns: Tensor) -> Tensor:
    """Rotate image i by ``quarter_turns[i]`` × 90° counter-clockwise (square images)."""
    out = x
    for k in (1, 2, 3):
        out = per_sample(quarter_turns == k, torch.rot90(x, k, dims=(2, 3)), out)
    return out


def _per_image(values: Tensor) -> Tensor:
    return values.reshape(-1, 1, 1, 1)


def add_brightness(x: Tensor, b: Tensor) -> Tensor:
    """x + b_i: every pixel of image i shifted by ``b[i]``."""
    return x + _per_image(b)


def scale_saturation(x: Tensor, s: Tensor) -> Tensor:
    """m + s_i·(x − m) with m the mean over channels at each pixel (the grey level): colour
    moved away from or toward grey; a one-channel image is unchanged."""
    grey = x.mean(dim=1, keepdim=True)
    return grey + _per_image(s) * (x - grey)


def scale_contrast(x: Tensor, c: Tensor, about: Literal["mean", "zero"] = "mean") -> Tensor:
    """m + c_i·(x − m) about the image's mean m over all its values (DiffAugment), or
    c_i·x about 0, mid-grey of images in [−1, 1] (ADA)."""
    centre = x.mean(dim=(1, 2, 3), keepdim=True) if about == "mean" else 0.0
    return centre + _per_image(c) * (x - centre)


# -- random parameters from torch's global generator -----------------------------------------


def draw_uniform(b: int, low: float, high: float, like: Tensor) -> Tensor:
    """(B,) values from U(low, high) on the batch's device and dtype."""
    return low + (high - low) * torch.rand(b, device=like.device, dtype=like.dtype)


def draw_shift(b: int, max_shift: int, device: torch.device) -> Tensor:
    """(B,) integer shifts uniform on −max_shift … max_shift."""
    return torch.randint(-max_shift, max_shift + 1, (b,), device=device)


def draw_bernoulli(b: int, p: Tensor | float, device: torch.device) -> Tensor:
    """(B,) booleans, true with probability ``p`` (a tensor: no host synchronisation)."""
    return torch.rand(b, device=device) < p


def pixels(fraction: float, size: int) -> int:
    """``fraction`` of ``size`` pixels, rounded half up (``int(size·fraction + 0.5)``)."""
    return int(size * fraction + 0.5)
