"""Divergences from k-nearest-neighbour distances: no critic, no training (low dimensions).

With x₁ … x_n ~ P and y₁ … y_m ~ Q in ℝ^d, let ρ_k(i) be the distance from x_i to its k-th
nearest neighbour among the other x's and ν_k(i) the distance to its k-th nearest neighbour
among the y's. A ball of radius ρ_k(i) around x_i holds k of the n − 1 other x's and one of
radius ν_k(i) holds k of the m y's, so (Loftsgaarden & Quesenberry 1965)

    r̂(x_i) = (m / (n − 1)) · (ν_k(i) / ρ_k(i))^d   estimates   p(x_i) / q(x_i).

* KL(P‖Q) ≈ (1/n) Σᵢ log r̂(x_i) (Wang, Kulkarni & Verdú 2009, eq. 5; Pérez-Cruz 2008 for
  k = 1): asymptotically unbiased and consistent for every fixed k as n, m → ∞;
* ∫ p^α q^{1−α} ≈ B_{k,α} · (1/n) Σᵢ r̂(x_i)^{α−1}, B_{k,α} = Γ(k)² / (Γ(k − α + 1) Γ(k + α − 1))
  (Póczos & Schneider 2011), the factor undoing the bias that the noise of the two distances
  puts into the power: α = 2 gives Pearson χ²(P‖Q) = ∫ p²/q − 1 (B = (k − 1)/k, finite variance
  of the terms needs k ≥ 3), α = ½ the squared Hellinger distance 2 − 2∫ √(pq);
* reverse KL and Neyman χ² are the same estimates with the roles of P and Q swapped.

The interval comes from repeated random half-samples (McCarthy 1969): each split of both sets
into halves A and B gives two independent estimates from n/2 samples, so
E(θ̂_A − θ̂_B)² = 2 Var θ̂_{n/2} ≈ 4 Var θ̂_n, and the mean of the half-sample estimates minus
the full one, Δ ≈ bias(n/2) − bias(n), gives the estimate's own bias by Richardson
extrapolation: bias(n) ≈ Δ / (2^β − 1) for a bias shrinking like n^{−β}. β = ½ is taken,
which overstates the bias of any faster-shrinking one (smooth densities in one and two
dimensions give β ≥ 1 away from the tails). The interval is the normal interval around the
estimate stretched to cover the same interval around the bias-corrected estimate.

Two things make an estimate unreliable, and each leaves the interval's upper end open:

* the ratio is only resolved where the other sample has points: where r̂ > √m, the ball that
  holds the k nearest x's is expected to hold k/√m of the y's, so q is read off y's further
  away. The distances then extrapolate q (as a power of ν, where a Gaussian tail falls far
  faster), which understates KL, χ² and Hellinger. More than 1 % of the weighted sample there
  leaves the upper end open;
* a few terms dominate (KL and χ²): when the largest 1 % of the terms carry more than 80 % of
  their squared deviations above the mean, the mean and its interval rest on those few
  samples, and the upper end is left open too. The share is 0.14 for Gaussian terms, 0.67
  for log-normal ones of σ = 1.2 and 0.85 for Pareto terms of tail index 2, whose variance
  is just infinite (20,000 samples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats
from scipy.spatial import cKDTree

KNN_DIVERGENCES = ("kl", "reverse_kl", "pearson", "neyman", "hellinger")
DEFAULT_NEIGHBOURS = 5
_RICHARDSON = 1 / (math.sqrt(2) - 1)  # bias(n) = Δ/(2^β − 1) for a bias shrinking like n^−β, β = ½
BEYOND_RANGE_LIMIT = 0.01
DOMINANT_SHARE_LIMIT = 0.8
DUPLICATE_LIMIT = 0.01
_EXTREME_FRACTION = 0.01


@dataclass(frozen=True)
class KnnEstimate:
    """A divergence from nearest-neighbour distances, with its half-sample interval."""

    value: float
    ci: tuple[float, float]
    """Normal interval from the half-sample standard error, stretched over the bias-corrected
    value; the upper end is inf when a warning says the estimate cannot be trusted upwards."""
    standard_error: float
    bias: float
    """Estimated bias of ``value`` (value − bias is the corrected estimate)."""
    neighbours: int
    beyond_range: float
    """Share of the weighted sample whose estimated ratio exceeds √(size of the other)."""
    dominant_share: float
    """Share of the terms' spread (above their mean) carried by their largest 1 %."""
    warnings: tuple[str, ...]


def log_density_ratio(x: np.ndarray, y: np.ndarray, k: int = DEFAULT_NEIGHBOURS) -> np.ndarray:
    """log r̂(x_i) = log(m/(n − 1)) + d·log(ν_k(i)/ρ_k(i)) ≈ log p(x_i)/q(x_i) for each row of
    ``x`` (n, d) ~ P against ``y`` (m, d) ~ Q (Wang, Kulkarni & Verdú 2009)."""
    n, d = x.shape
    m = len(y)
    if n < k + 1 or m < k:
        raise ValueError(f"{k} neighbours need at least {k + 1} and {k} samples, got {n} and {m}")
    rho = cKDTree(x).query(x, k=[k + 1])[0][:, 0]  # the nearest "neighbour" is x_i itself
    nu = cKDTree(y).query(x, k=[k])[0][:, 0]
    with np.errstate(divide="ignore"):
        return math.log(m / (n - 1)) + d * (np.log(nu) - np.log(rho))


def knn_divergence(
    x: np.ndarray, y: np.ndarray, divergence: str, k: int = DEFAULT_NEIGHBOURS
) -> float:
    """The nearest-neighbour estimate of ``divergence`` (one of :data:`KNN_DIVERGENCES`)
    between the rows of ``x`` ~ P and ``y`` ~ Q."""
    terms, finish = _terms(x, y, divergence, k)
    return finish(float(terms.mean()))


def knn_estimate(
    x: np.ndarray,
    y: np.ndarray,
    divergence: str,
    *,
    neighbours: int = DEFAULT_NEIGHBOURS,
    splits: int = 20,
    confidence: float = 0.95,
    generator: np.random.Generator | None = None,
) -> KnnEstimate:
    """The estimate on all samples with its interval from ``splits`` random half-samples."""
    if divergence not in KNN_DIVERGENCES:
        raise ValueError(
            f"no nearest-neighbour estimate of '{divergence}'; choose one of "
            f"{', '.join(KNN_DIVERGENCES)}"
        )
    minimum = 2 * (neighbours + 1)
    if min(len(x), len(y)) < minimum:
        raise ValueError(
            f"{neighbours} neighbours on half-samples need at least {minimum} samples per side, "
            f"got {len(x)} and {len(y)}"
        )
    generator = generator if generator is not None else np.random.default_rng(0)
    terms, finish = _terms(x, y, divergence, neighbours)
    value = finish(float(terms.mean()))
    halves = np.empty((splits, 2))
    for split in range(splits):
        order_x, order_y = generator.permutation(len(x)), generator.permutation(len(y))
        for half in range(2):
            part_x = order_x[half * (len(x) // 2) : (half + 1) * (len(x) // 2)]
            part_y = order_y[half * (len(y) // 2) : (half + 1) * (len(y) // 2)]
            halves[split, half] = knn_divergence(x[part_x], y[part_y], divergence, neighbours)
    standard_error = math.sqrt(np.mean((halves[:, 0] - halves[:, 1]) ** 2) / 4)
    bias = _RICHARDSON * (float(halves.mean()) - value)
    z = float(stats.norm.ppf((1 + confidence) / 2))
    low = min(value, value - bias) - z * standard_error
    high = max(value, value - bias) + z * standard_error

    weighted, other = (y, x) if divergence in ("reverse_kl", "neyman") else (x, y)
    beyond = float(np.mean(_log_ratio_of(terms, divergence) > 0.5 * math.log(len(other))))
    dominant = 0.0 if divergence == "hellinger" else dominant_share(terms)
    warnings = []
    if beyond > BEYOND_RANGE_LIMIT:
        first, second = ("Q", "P") if weighted is y else ("P", "Q")
        warnings.append(
            f"{beyond:.1%} of {first}'s samples lie where {second} has almost none (estimated "
            f"density ratio above √{len(other)}): there the neighbour distances extrapolate "
            f"{second}'s density and understate the divergence, so the interval has no upper end"
        )
    if dominant > DOMINANT_SHARE_LIMIT:
        warnings.append(
            f"the largest 1% of the per-sample terms carry {dominant:.0%} of their spread: the "
            "estimate is dominated by a few samples, so the interval has no upper end"
        )
    if warnings:
        high = math.inf
    return KnnEstimate(
        value=value,
        ci=(low, high),
        standard_error=standard_error,
        bias=bias,
        neighbours=neighbours,
        beyond_range=beyond,
        dominant_share=dominant,
        warnings=tuple(warnings),
    )


def dominant_share(terms: np.ndarray) -> float:
    """Share of Σ (tᵢ − t̄)² over the terms above their mean that the largest 1 % of all terms
    (at least one) carry: 0.14 for Gaussian terms, near 1 for terms of infinite variance."""
    deviation = np.sort(terms - terms.mean())[::-1]
    upper = deviation[deviation > 0] ** 2
    if upper.sum() == 0:
        return 0.0
    top = max(1, math.ceil(_EXTREME_FRACTION * len(terms)))
    return float(upper[:top].sum() / upper.sum())


def duplicate_share(x: np.ndarray) -> float:
    """Share of the rows of ``x`` that repeat an earlier row exactly."""
    return 1.0 - len(np.unique(x, axis=0)) / len(x)


def dequantise(x: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """float64 rows spread uniformly over their float32 rounding interval: among tens of
    thousands of float32 samples some coincide, and a zero distance has no logarithm."""
    single = np.asarray(x, dtype=np.float32)
    spacing = np.spacing(np.abs(single)).astype(np.float64)
    return single.astype(np.float64) + (generator.random(single.shape) - 0.5) * spacing


def _terms(x: np.ndarray, y: np.ndarray, divergence: str, k: int):
    """Per-sample terms and the map from their mean to the divergence."""
    if divergence == "kl":
        return log_density_ratio(x, y, k), lambda mean: mean
    if divergence == "reverse_kl":
        return log_density_ratio(y, x, k), lambda mean: mean
    if divergence in ("pearson", "neyman"):
        if k < 2:
            raise ValueError(f"χ² needs at least 2 neighbours, got {k}")
        a, b = (x, y) if divergence == "pearson" else (y, x)
        factor = (k - 1) / k  # B_{k,2}
        return np.exp(log_density_ratio(a, b, k)), lambda mean: factor * mean - 1
    factor = math.exp(2 * special.gammaln(k) - special.gammaln(k + 0.5) - special.gammaln(k - 0.5))
    return np.exp(-0.5 * log_density_ratio(x, y, k)), lambda mean: 2 - 2 * factor * mean


def _log_ratio_of(terms: np.ndarray, divergence: str) -> np.ndarray:
    """The estimated log-ratio behind each term (of the weighted sample against the other)."""
    if divergence in ("kl", "reverse_kl"):
        return terms
    if divergence == "hellinger":
        return -2 * np.log(terms)
    return np.log(terms)
