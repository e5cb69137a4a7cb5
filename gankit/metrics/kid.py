"""The Kernel Inception Distance (KID): an unbiased squared MMD between feature sets.

Bińkowski et al. (2018) score generated samples by the squared maximum mean discrepancy
between their features and those of real samples, under the cubic polynomial kernel

    k(x, y) = (xᵀy/d + 1)³

on d-dimensional features. For sets X = {xᵢ} and Y = {yⱼ} of m samples each, the unbiased
estimator (Gretton et al., 2012, eq. 3) is

    MMD²_u = Σ_{i≠j} k(xᵢ, xⱼ)/(m(m − 1)) + Σ_{i≠j} k(yᵢ, yⱼ)/(m(m − 1))
             − 2 Σ_{i,j} k(xᵢ, yⱼ)/m²,

where leaving out the diagonal terms k(xᵢ, xᵢ) removes the bias, so that its expectation is
exactly 0 when both sets come from the same distribution and a single estimate can be
negative. Unlike the FID, KID therefore has no bias that depends on the number of samples.
The estimate is averaged over random subsets, as in the paper; the spread over subsets is
reported alongside.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gankit.metrics.frechet import ArrayLike, as_features, check_same_dimension


def polynomial_kernel(x: Tensor, y: Tensor) -> Tensor:
    """Gram matrix of the cubic kernel k(x, y) = (xᵀy/d + 1)³ (Bińkowski et al., 2018)
    between the rows of ``x`` (m, d) and ``y`` (n, d)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD² between sets ``x`` and ``y`` (m, d) of m ≥ 2 samples each under the
    cubic kernel, with the diagonal terms of the within-set sums left out (Gretton et al.,
    2012, eq. 3)."""
    m = len(x)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


def kernel_inception_distance(
    a: ArrayLike,
    b: ArrayLike,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID between feature sets ``a`` and ``b`` (n, d): the mean and standard deviation of
    :func:`mmd2_unbiased` over ``subsets`` random subsets (Bińkowski et al., 2018).

    Each subset draws m = min(``subset_size``, n_a, n_b) samples from each set without
    replacement (independently between subsets), from a generator seeded with ``seed``. The
    standard deviation is that of the subset estimates (divided by ``subsets``, 0 for one
    subset); it measures the spread of one estimate, not the error of the mean."""
    a = as_features(a, "a", min_samples=2)
    b = as_features(b, "b", min_samples=2)
    check_same_dimension(a, b, "a and b")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2, got {subset_size}")
    size = min(subset_size, len(a), len(b))
    generator = torch.Generator().manual_seed(seed)
    estimates = []
    for _ in range(subsets):
        rows_a = torch.randperm(len(a), generator=generator)[:size].to(a.device)
        rows_b = torch.randperm(len(b), generator=generator)[:size].to(b.device)
        estimates.append(mmd2_unbiased(a[rows_a], b[rows_b].to(a.device)))
    values = np.asarray(estimates)
    return float(values.mean()), float(values.std())
