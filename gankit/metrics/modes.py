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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
