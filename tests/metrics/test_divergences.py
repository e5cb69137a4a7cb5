"""Quadrature f-divergences against closed forms for Gaussians."""

import math

import numpy as np
import pytest
from scipy import stats

from gankit.metrics.divergences import (
    DEFAULT_GRID,
    closest_gaussian,
    f_divergence_1d,
    f_divergence_2d,
    gaussian_log_density,
    wasserstein1_1d,
    wasserstein1_empirical,
)
from gankit.objectives.fgan import F_DIVERGENCES


def _kl_gaussians(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def test_kl_both_ways_and_hellinger_match_their_closed_forms():
    log_p = gaussian_log_density(DEFAULT_GRID, 0.0, 1.0)
    log_q = gaussian_log_density(DEFAULT_GRID, 1.0, 1.5)
    kl = f_divergence_1d(F_DIVERGENCES["kl"].f, log_p, log_q)
    reverse = f_divergence_1d(F_DIVERGENCES["reverse_kl"].f, log_p, log_q)
    assert kl == pytest.approx(_kl_gaussians(0, 1, 1, 1.5), abs=1e-8)
    assert reverse == pytest.approx(_kl_gaussians(1, 1.5, 0, 1), abs=1e-8)
    # squared Hellinger 2(1 − BC), BC = √(2σ₁σ₂/(σ₁² + σ₂²))·exp(−(μ₁ − μ₂)²/(4(σ₁² + σ₂²)))
    bc = math.sqrt(2 * 1.5 / (1 + 1.5**2)) * math.exp(-1 / (4 * (1 + 1.5**2)))
    hellinger = f_divergence_1d(F_DIVERGENCES["hellinger"].f, log_p, log_q)
    assert hellinger == pytest.approx(2 * (1 - bc), abs=1e-8)


def test_neyman_chi_square_is_infinite_for_a_wider_model():
    """∫ q²/p diverges once σ_q² ≥ 2σ_p²; the quadrature must say so, not return a number."""
    log_p = gaussian_log_density(DEFAULT_GRID, 0.0, 0.5)
    finite = f_divergence_1d(
        F_DIVERGENCES["neyman"].f, log_p, gaussian_log_density(DEFAULT_GRID, 0.0, 0.6)
    )
    wide = f_divergence_1d(
        F_DIVERGENCES["neyman"].f, log_p, gaussian_log_density(DEFAULT_GRID, 0.0, 0.8)
    )
    # closed form for equal means: σ_p² / (σ_q·√(2σ_p² − σ_q²)) − 1
    assert finite == pytest.approx(0.25 / (0.6 * math.sqrt(0.5 - 0.36)) - 1, rel=1e-6)
    assert wide > 1e6


def test_the_closest_gaussian_under_kl_matches_the_moments():
    """argmin KL(P‖N(μ, σ²)) is moment matching, here for a two-component mixture."""
    weights, means, stds = (0.6, 0.4), (-1.0, 2.0), (0.5, 0.8)
    components = zip(weights, means, stds, strict=True)
    mixture = sum(w * np.exp(gaussian_log_density(DEFAULT_GRID, m, s)) for w, m, s in components)
    log_mixture = np.log(mixture)
    mean = sum(w * m for w, m in zip(weights, means, strict=True))
    second = sum(w * (m**2 + s**2) for w, m, s in zip(weights, means, stds, strict=True))
    mu, sigma, _ = closest_gaussian(F_DIVERGENCES["kl"].f, log_mixture, 0.0, 1.0)
    assert mu == pytest.approx(mean, abs=1e-4)
    assert sigma == pytest.approx(math.sqrt(second - mean**2), abs=1e-4)


def test_kl_between_two_dimensional_gaussians_matches_the_closed_form():
    axis = np.linspace(-10.0, 10.0, 801)
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    log_p = gaussian_log_density(xs, 0.0, 1.0) + gaussian_log_density(ys, 0.5, 1.0)
    log_q = gaussian_log_density(xs, 1.0, 1.5) + gaussian_log_density(ys, 0.0, 0.8)
    kl = f_divergence_2d(F_DIVERGENCES["kl"].f, log_p, log_q, axis, axis)
    expected = _kl_gaussians(0, 1, 1, 1.5) + _kl_gaussians(0.5, 1, 0, 0.8)  # independent axes
    assert kl == pytest.approx(expected, abs=1e-6)


def test_wasserstein_1d_of_gaussians():
    """A shift moves every quantile by |Δμ|; a rescale by |σ₁ − σ₂|·E|Z| = |σ₁ − σ₂|·√(2/π)."""
    grid = DEFAULT_GRID
    shifted = wasserstein1_1d(stats.norm.cdf(grid), stats.norm.cdf(grid, loc=1.3), grid)
    scaled = wasserstein1_1d(stats.norm.cdf(grid), stats.norm.cdf(grid, scale=2.0), grid)
    assert shifted == pytest.approx(1.3, abs=1e-8)
    assert scaled == pytest.approx(math.sqrt(2 / math.pi), abs=1e-8)


def test_empirical_wasserstein_is_exact_optimal_transport():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 1)), rng.normal(size=(200, 1)) + 0.5
    assert wasserstein1_empirical(a, b) == pytest.approx(
        stats.wasserstein_distance(a[:, 0], b[:, 0]), abs=1e-12
    )
    points = rng.normal(size=(150, 2))
    shift = np.array([0.3, -0.4])  # W1 ≥ ‖E a − E b‖ = ‖v‖, and moving each point by v costs ‖v‖
    moved = rng.permutation(points + shift)
    assert wasserstein1_empirical(points, moved) == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(ValueError, match="same size"):
        wasserstein1_empirical(points, points[:10])
