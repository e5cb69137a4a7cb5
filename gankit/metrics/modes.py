"""Mode coverage on known Gaussian mixtures (the VEEGAN/PacGAN protocol).

Srivastava et al. (2017, VEEGAN) and Lin et al. (2018, PacGAN, §5 and Table 1) score a
generator on a mixture of K isotropic Gaussians from ``PROTOCOL_SAMPLES`` = 2,500 samples:

* a sample is *high quality* when it lies within ``PROTOCOL_THRESHOLD`` = 3 standard
  deviations of its nearest mode;
* a mode is *captured* when at least one high-quality sample is nearest to it;
* the *reverse KL* is KL(Q‖U) = Σ_k q_k log(q_k·K), where q is the histogram of the
  high-quality samples over the modes and U is uniform over the K modes (terms with q_k = 0
  contribute 0): 0 for perfectly even coverage, log K when one mode takes every sample.

For a perfect sampler of an isotropic 2-D mixture the high-quality share is
P(χ²₂ ≤ 9) = 1 − e^{−4.5} ≈ 98.9 %, and multinomial noise alone leaves a reverse KL of
about (K − 1)/(2n) for n high-quality samples (2n·KL → χ²_{K−1}).

On data without known modes, such as labelled images, :func:`class_coverage` scores the same
way from the classes a classifier predicts for the generated samples (e.g. the stacked-MNIST
protocol of Metz et al. 2017 with 1,000 classes): classes covered, the largest class share
and the reverse KL of the class histogram to uniform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

PROTOCOL_SAMPLES = 2500
"""Generated samples scored per run (VEEGAN and PacGAN)."""
PROTOCOL_THRESHOLD = 3.0
"""High quality: within this many standard deviations of the nearest mode."""


@dataclass(frozen=True)
class ModeCoverage:
    """Outcome of :func:`mode_coverage`."""

    modes_captured: int
    modes_total: int
    high_quality: float
    """Share of samples within the threshold of their nearest mode."""
    mode_shares: list[float]
    """q: share of the high-quality samples on each mode (all 0 when there are none)."""
    reverse_kl: float
    """KL(Q‖U) = Σ_k q_k log(q_k·K); NaN when no sample is high quality (q is undefined)."""


def mode_coverage(
    samples: Tensor,
    modes: Tensor,
    std: float | Tensor,
    threshold: float = PROTOCOL_THRESHOLD,
    min_count: int = 1,
) -> ModeCoverage:
    """Score ``samples`` (n, d) against mixture ``modes`` (K, d) of isotropic ``std`` (a
    scalar or one per mode); a mode is captured by ``min_count`` high-quality samples."""
    samples = samples.detach().to(torch.float64).reshape(len(samples), -1)
    modes = modes.to(torch.float64).reshape(len(modes), -1)
    stds = torch.as_tensor(std, dtype=torch.float64).expand(len(modes))
    distance = torch.cdist(samples, modes)  # (n, K)
    nearest = distance.argmin(dim=1)
    within = distance.gather(1, nearest[:, None]).squeeze(1) <= threshold * stds[nearest]
    counts = torch.bincount(nearest[within], minlength=len(modes))  # (K,)
    shares = counts.double() / max(int(counts.sum()), 1)
    return ModeCoverage(
        modes_captured=int((counts >= min_count).sum()),
        modes_total=len(modes),
        high_quality=float(within.double().mean()),
        mode_shares=shares.tolist(),
        reverse_kl=reverse_kl_to_uniform(counts),
    )


def reverse_kl_to_uniform(counts: Tensor) -> float:
    """KL(Q‖U) = Σ_k q_k log(q_k·K) for the histogram q = counts/Σcounts over K bins, with
    0·log 0 = 0; NaN for an empty histogram."""
    total = counts.sum()
    if total == 0:
        return math.nan
    q = counts[counts > 0].double() / total
    return float((q * (q * len(counts)).log()).sum())


@dataclass(frozen=True)
class ClassCoverage:
    """Outcome of :func:`class_coverage`."""

    classes_covered: int
    """Classes predicted for at least ``min_count`` samples."""
    classes_total: int
    largest_share: float
    """Share of the samples in the most frequent class (1/K at best, 1 when collapsed)."""
    class_shares: list[float]
    """Share of the samples predicted as each class."""
    reverse_kl: float
    """KL(Q‖U) = Σ_k q_k log(q_k·K) of the class histogram q to uniform over K classes."""


def class_coverage(
    labels: Tensor | np.ndarray | list[int], num_classes: int, min_count: int = 1
) -> ClassCoverage:
    """Class coverage of generated samples from the labels (n,) a classifier predicts for
    them: the classes predicted at least ``min_count`` times, the largest class share and
    the reverse KL of the class histogram to uniform (as :func:`mode_coverage` for modes)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    labels = labels.detach() if isinstance(labels, Tensor) else torch.as_tensor(np.asarray(labels))
    if labels.ndim != 1:
        raise ValueError(f"labels must be a vector of shape (n,), got shape {tuple(labels.shape)}")
    if len(labels) == 0:
        raise ValueError("labels must hold at least one label, got none")
    if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}] for num_classes={num_classes}, "
            f"got values from {low} to {high}"
        )
    counts = torch.bincount(labels.long().cpu(), minlength=num_classes)
    shares = counts.double() / len(labels)
    return ClassCoverage(
        classes_covered=int((counts >= min_count).sum()),
        classes_total=num_classes,
        largest_share=float(shares.max()),
        class_shares=shares.tolist(),
        reverse_kl=reverse_kl_to_uniform(counts),
    )
