"""Pixel metrics of image-to-image translation, on images in [−1, 1] shaped (N, C, H, W).

* L1: mean |output − target| in [−1, 1] units (the quantity pix2pix's L1 term minimises);
* PSNR = 10·log10(1 / MSE) on images mapped to [0, 1], per image, then averaged;
* SSIM (Wang et al. 2004) with scikit-image's implementation (7×7 Gaussian-free window,
  data range 1), per image, then averaged;
* sharpness: the variance of each image's Laplacian (Pech-Pacheco et al. 2000), averaged —
  blurry outputs (pix2pix with L1 alone) score well below their targets;
* diversity: the mean L1 distance between two outputs for the same input drawn with
  different noise, over every pair of k draws — 0 when G ignores its noise.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def _check_pair(output: Tensor, target: Tensor) -> None:
    if output.shape != target.shape or output.ndim != 4:
        raise ValueError(
            f"expected output and target images (N, C, H, W) of one shape, got "
            f"{tuple(output.shape)} and {tuple(target.shape)}"
        )


def l1_distance(output: Tensor, target: Tensor) -> float:
    """Mean |output − target| over every pixel, in [−1, 1] units."""
    _check_pair(output, target)
    return float((output.double() - target.double()).abs().mean())


def psnr(output: Tensor, target: Tensor) -> float:
    """Mean over images of 10·log10(1 / MSE) with pixels mapped to [0, 1] (∞ if identical)."""
    _check_pair(output, target)
    error = ((output.double() - target.double()) / 2).square().flatten(1).mean(dim=1)
    return float((10 * torch.log10(1 / error)).mean())


def ssim(output: Tensor, target: Tensor) -> float:
    """Mean over images of the structural similarity (scikit-image, data range 1)."""
    from skimage.metrics import structural_similarity  # imported here: skimage is slow

    _check_pair(output, target)
    side = min(output.shape[-2:])
    window = min(7, side if side % 2 else side - 1)
    a = ((output.double().cpu() + 1) / 2).permute(0, 2, 3, 1).numpy()
    b = ((target.double().cpu() + 1) / 2).permute(0, 2, 3, 1).numpy()
    scores = [
        structural_similarity(x, y, data_range=1.0, channel_axis=2, win_size=window)
        for x, y in zip(a, b, strict=True)
    ]
    return float(np.mean(scores))


def sharpness(images: Tensor) -> float:
    """Mean over images of the variance of the Laplacian (per channel, then averaged)."""
    if images.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    kernel = LAPLACIAN.to(images.device, torch.float64)[None, None]
    edges = F.conv2d(images.double().reshape(n * c, 1, h, w), kernel)  # valid part only
    return float(edges.flatten(1).var(dim=1).mean())


def diversity(draws: Tensor) -> float:
    """Mean L1 distance between draws i ≠ j of the same input; ``draws`` (k, N, C, H, W)
    with k ≥ 2 outputs per input."""
    if draws.ndim != 5 or draws.shape[0] < 2:
        raise ValueError(f"expected k ≥ 2 draws (k, N, C, H, W), got {tuple(draws.shape)}")
    gaps = [
        (draws[i].double() - draws[j].double()).abs().mean()
        for i, j in itertools.combinations(range(draws.shape[0]), 2)
    ]
    return float(torch.stack(gaps).mean())
