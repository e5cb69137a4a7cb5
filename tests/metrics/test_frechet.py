import numpy as np
import pytest
import torch
from scipy import linalg, stats

from gankit.metrics import feature_statistics, frechet_distance, frechet_distance_features


def rng(seed):
    return np.random.default_rng(seed)


def test_feature_statistics_are_the_mean_and_the_unbiased_covariance():
    x = rng(0).normal(size=(50, 4))
    mean, covariance = feature_statistics(x)
    assert mean.dtype == covariance.dtype == torch.float64
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(covariance.numpy(), np.cov(x, rowvar=False, ddof=1), atol=1e-12)


def test_float32_tensors_are_computed_in_float64():
    x = torch.randn(30, 3, generator=torch.Generator().manual_seed(0))
    mean, covariance = feature_statistics(x)
    np.testing.assert_allclose(mean.numpy(), x.double().mean(0).numpy(), atol=1e-12)
    np.testing.assert_allclose(covariance.numpy(), np.cov(x.double().numpy().T), atol=1e-12)


def test_diagonal_gaussians_match_the_closed_form():
    # Σ₁ = diag(a), Σ₂ = diag(b): d² = ‖Δμ‖² + Σ (√a − √b)²
    a, b = np.array([1.0, 4.0, 0.25, 9.0]), np.array([2.0, 1.0, 0.25, 16.0])
    mu1, mu2 = np.array([0.0, 1.0, -2.0, 3.0]), np.array([1.0, 1.0, 0.0, 0.5])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert expected == pytest.approx(11.25 + (3 - 2 * np.sqrt(2)) + 1 + 0 + 1)  # by hand
    value = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert value == pytest.approx(expected, abs=1e-6)


def test_commuting_covariances_match_the_closed_form():
    # Σ₁ = R diag(a) Rᵀ and Σ₂ = R diag(b) Rᵀ share eigenvectors, so the trace term is
    # Σ √(a·b) and d² = ‖Δμ‖² + Σ (√a − √b)², whatever the rotation R.
    d = 6
    rotation = stats.special_ortho_group.rvs(d, random_state=1)
    a = rng(2).uniform(0.1, 5.0, size=d)
    b = rng(3).uniform(0.1, 5.0, size=d)
    sigma1, sigma2 = rotation @ np.diag(a) @ rotation.T, rotation @ np.diag(b) @ rotation.T
    mu1, mu2 = rng(4).normal(size=d), rng(5).normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, abs=1e-6)


def test_gaussian_samples_match_the_closed_form():
    # (formerly the lab's own Fréchet distance, gankit.lab.wgan_curve, now this one)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20_000, 3))
    b = 2.0 * rng.standard_normal((20_000, 3)) + np.array([1.0, 0.0, -1.0])
    # ‖μ_a − μ_b‖² + tr(I + 4I − 2·2I) = 2 + 3
    assert frechet_distance_features(a, b) == pytest.approx(5.0, rel=0.03)
    assert frechet_distance_features(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance_features(a, b) == pytest.approx(
        frechet_distance_features(b, a), rel=1e-6
    )


def test_it_is_symmetric():
    x, y = rng(6).normal(size=(200, 8)), rng(7).normal(loc=0.3, scale=1.5, size=(150, 8))
    assert frechet_distance_features(x, y) == pytest.approx(
        frechet_distance_features(y, x), abs=1e-9
    )
    assert frechet_distance_features(x, y) > 1.0


def test_identical_feature_sets_are_at_distance_zero():
    x = rng(8).normal(size=(500, 16)) * 3 + 10
    assert 0 <= frechet_distance_features(x, x.copy()) <= 1e-8


def test_singular_covariances_with_fewer_samples_than_dimensions_are_fine():
    x, y = rng(9).normal(size=(10, 64)), rng(10).normal(size=(12, 64))
    _, sigma = feature_statistics(x)
    assert torch.linalg.matrix_rank(sigma) == 9  # singular: rank n − 1 < d
    value = frechet_distance_features(x, y)
    assert np.isfinite(value) and value >= 0
    assert 0 <= frechet_distance_features(x, x) <= 1e-8


def test_it_agrees_with_scipy_sqrtm_when_well_conditioned():
    d = 10
    x = rng(11).normal(size=(2000, d)) @ rng(12).normal(size=(d, d))
    y = rng(13).normal(size=(2000, d)) @ rng(14).normal(size=(d, d)) + 0.5
    mu1, mu2 = x.mean(0), y.mean(0)
    sigma1, sigma2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = linalg.sqrtm(sigma1 @ sigma2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, abs=1e-6)
    assert frechet_distance_features(x, y) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (
            np.zeros(5),
            np.zeros((5, 2)),
            r"a must be a 2-D array of shape \(n, d\), got shape \(5,\)",
        ),
        (
            np.zeros((5, 2)),
            np.zeros((5, 3)),
            "a and b must have the same feature dimension, got 2 and 3",
        ),
        (np.zeros((1, 2)), np.zeros((5, 2)), "a needs at least 2 samples, got 1"),
        (np.zeros((5, 2)), np.full((5, 2), np.nan), "b contains NaN or infinite values"),
        (np.zeros((5, 0)), np.zeros((5, 0)), "a must have at least one feature dimension"),
    ],
)
def test_bad_feature_sets_are_refused(a, b, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance_features(a, b)


def test_bad_statistics_are_refused():
    mu, sigma = np.zeros(3), np.eye(3)
    with pytest.raises(
        ValueError, match=r"mu1 must be a vector of shape \(d,\), got shape \(1, 3\)"
    ):
        frechet_distance(mu[None], sigma, mu, sigma)
    with pytest.raises(ValueError, match=r"sigma2 must be a square matrix of shape \(d, d\)"):
        frechet_distance(mu, sigma, mu, np.ones((3, 2)))
    with pytest.raises(
        ValueError,
        match="means and covariances must share one dimension d, got mu1 3, sigma1 3, mu2 2, sigma2 3",
    ):
        frechet_distance(mu, sigma, mu[:2], sigma)
    with pytest.raises(ValueError, match="sigma1 contains NaN or infinite values"):
        frechet_distance(mu, np.full((3, 3), np.inf), mu, sigma)
    with pytest.raises(ValueError, match="features needs at least 2 samples, got 1"):
        feature_statistics(np.zeros((1, 3)))
