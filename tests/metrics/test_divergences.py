"""Quadrature f-divergences against closed forms for Gaussians."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gankit.data.toy import GaussianMixture
from gankit.metrics.divergences import (
    DEFAULT_GRID,
    chi2_tail_rate,
    closest_gaussian,
    exact_divergence,
    exact_reference,
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


def _gaussian(*mean, std=1.0):
    return GaussianMixture([1.0], [list(mean)], [std])


def test_exact_divergence_matches_closed_forms_in_1d():
    p, q = _gaussian(0.0), _gaussian(1.0, std=1.5)
    assert exact_divergence(p, q, "kl") == pytest.approx(_kl_gaussians(0, 1, 1, 1.5), abs=1e-8)
    assert exact_divergence(p, q, "reverse_kl") == pytest.approx(
        _kl_gaussians(1, 1.5, 0, 1), abs=1e-8
    )
    shifted = _gaussian(1.0)
    # TV(N(0,1), N(δ,1)) = 2Φ(δ/2) − 1; W1 of a translation = |δ|
    tv = 2 * stats.norm.cdf(0.5) - 1  # the kink of |p − q| at p = q limits the rule to ~1e-5
    assert exact_divergence(p, shifted, "tv") == pytest.approx(tv, abs=1e-5)
    assert exact_divergence(p, shifted, "w1") == pytest.approx(1.0, abs=1e-6)


def test_exact_js_is_log_2_for_disjoint_mixtures_and_symmetric():
    p = GaussianMixture([0.5, 0.5], [[-30.0], [-20.0]], [0.5, 0.5])
    q = _gaussian(25.0, std=0.5)
    assert exact_divergence(p, q, "js") == pytest.approx(math.log(2), abs=1e-9)
    a, b = _gaussian(0.0), GaussianMixture([0.3, 0.7], [[-1.0], [2.0]], [0.5, 1.0])
    assert exact_divergence(a, b, "js") == pytest.approx(exact_divergence(b, a, "js"), abs=1e-9)


def test_exact_divergence_in_2d_matches_the_isotropic_gaussian_kl():
    p, q = _gaussian(0.0, 0.0), _gaussian(1.0, -0.5, std=0.8)
    # KL(N(μ₁, σ₁²I)‖N(μ₂, σ₂²I)) in d = 2: d·log(σ₂/σ₁) + (d·σ₁² + ‖Δμ‖²)/(2σ₂²) − d/2
    closed = 2 * math.log(0.8) + (2 + 1.25) / (2 * 0.64) - 1
    assert exact_divergence(p, q, "kl") == pytest.approx(closed, abs=1e-6)
    # a 2-D pair that differs in one coordinate has the 1-D JS
    one_d = exact_divergence(_gaussian(0.0), _gaussian(1.0), "js")
    assert exact_divergence(p, _gaussian(1.0, 0.0), "js") == pytest.approx(one_d, abs=1e-7)


def test_exact_divergence_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="no closed form"):
        exact_divergence(_gaussian(0.0, 0.0), _gaussian(1.0, 0.0), "w1")
    with pytest.raises(ValueError, match="unknown divergence"):
        exact_divergence(_gaussian(0.0), _gaussian(1.0), "jsd")
    with pytest.raises(ValueError, match="1-D or two 2-D"):
        exact_divergence(_gaussian(0.0), _gaussian(1.0, 0.0), "kl")
    assert exact_reference(_gaussian(0.0, 0.0), _gaussian(1.0, 0.0), "w1") is None
    assert exact_reference(torch.zeros(3, 1), _gaussian(1.0), "js") is None


def _chi2_gaussians(m1, s1, m2, s2):
    """Pearson χ²(N(m1, s1²)‖N(m2, s2²)) = ∫ p²/q − 1, finite for s1² < 2·s2²."""
    v = 2 * s2**2 - s1**2
    return s2**2 / (s1 * math.sqrt(v)) * math.exp((m1 - m2) ** 2 / v) - 1


def test_chi_square_between_mixtures_is_infinite_exactly_when_the_tails_make_it_so():
    """∫ p²/q diverges when σ_P² ≥ 2σ_Q² (the widest components decide); close to that edge
    the grid reaches further, so the finite values still match the closed form."""
    p = _gaussian(0.0)
    assert exact_divergence(p, _gaussian(1.3, std=0.6), "pearson") == math.inf
    assert exact_divergence(p, _gaussian(0.0, std=math.sqrt(0.5)), "pearson") == math.inf
    assert exact_divergence(_gaussian(1.3, std=0.6), p, "neyman") == math.inf
    for m2, s2 in [(0.6, 1.2), (0.5, 0.75), (-0.3, 0.73)]:
        closed = _chi2_gaussians(0.0, 1.0, m2, s2)
        assert exact_divergence(p, _gaussian(m2, std=s2), "pearson") == pytest.approx(
            closed, rel=1e-6
        )
        assert exact_divergence(_gaussian(m2, std=s2), p, "neyman") == pytest.approx(
            closed, rel=1e-6
        )
    mixture = GaussianMixture([0.5, 0.5], [[-1.0], [1.2]], [0.7, 0.8])
    assert chi2_tail_rate(mixture, _gaussian(0.0, std=0.56)) < 0  # 0.8² ≥ 2·0.56²
    assert exact_divergence(mixture, _gaussian(0.0, std=0.56), "pearson") == math.inf
    assert math.isfinite(exact_divergence(mixture, _gaussian(0.0, std=0.6), "pearson"))


def test_chi_square_in_2d_is_the_product_of_its_axes():
    """For product Gaussians 1 + χ² factorises over the coordinates; one narrow axis of Q
    (σ_Q² ≤ σ_P²/2 along it) is enough to make it infinite."""
    p = GaussianMixture([1.0], [[0.0, 0.0]], [[1.0, 1.0]])
    q = GaussianMixture([1.0], [[0.5, 0.5]], [[1.3, 0.75]])
    closed = (1 + _chi2_gaussians(0, 1, 0.5, 1.3)) * (1 + _chi2_gaussians(0, 1, 0.5, 0.75)) - 1
    assert exact_divergence(p, q, "pearson") == pytest.approx(closed, rel=1e-5)
    narrow = GaussianMixture([1.0], [[0.5, 0.5]], [[1.3, 0.7]])
    assert chi2_tail_rate(p, narrow) < 0
    assert exact_divergence(p, narrow, "pearson") == math.inf
