"""Nearest-neighbour divergence estimates (Wang, Kulkarni & Verdú 2009; Póczos & Schneider
2011) against exact values, and the diagnostics that open their intervals."""

import math

import numpy as np
import pytest
import torch

from gankit.data.toy import GaussianMixture
from gankit.metrics import knn
from gankit.metrics.divergences import exact_divergence


def gaussian(*mean, std=1.0):
    return GaussianMixture([1.0], [list(mean)], [std])


def draw(p, q, n, seed):
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    return (
        knn.dequantise(p.sample(n, generator).numpy(), rng),
        knn.dequantise(q.sample(n, generator).numpy(), rng),
        rng,
    )


# Well-behaved pairs: Gaussians with equal covariance, so log p/q is linear and p/q is
# log-normal under both, with every moment the estimators need finite.
WELL_BEHAVED = {
    "1-D shift by 0.6": (gaussian(0.2), gaussian(-0.4)),
    "2-D shift by 0.6": (gaussian(0.0, 0.0), gaussian(0.48, -0.36)),
}


@pytest.mark.parametrize("pair", WELL_BEHAVED)
@pytest.mark.parametrize("divergence", ["kl", "reverse_kl"])
def test_kl_of_well_behaved_pairs_is_within_10_percent(pair, divergence):
    p, q = WELL_BEHAVED[pair]
    x, y, rng = draw(p, q, 20_000, seed=11)
    result = knn.knn_estimate(x, y, divergence, generator=rng)
    exact = exact_divergence(p, q, divergence)  # 0.18 for both
    assert result.value == pytest.approx(exact, rel=0.1)
    assert result.ci[0] <= exact <= result.ci[1]
    assert result.warnings == ()


def test_chi_square_and_hellinger_by_neighbours_in_1d():
    p, q = WELL_BEHAVED["1-D shift by 0.6"]
    x, y, _ = draw(p, q, 20_000, seed=12)
    for divergence in ("pearson", "neyman", "hellinger"):
        value = knn.knn_divergence(x, y, divergence)
        assert value == pytest.approx(exact_divergence(p, q, divergence), rel=0.15), divergence


def test_heavier_tails_of_p_are_flagged_and_leave_the_interval_open():
    """N(0, 1) against N(1.3, 0.6²): KL = 2.725, but a fifth of P's samples lie where Q has
    almost none, and there the distances understate log p/q."""
    p, q = gaussian(0.0), gaussian(1.3, std=0.6)
    x, y, rng = draw(p, q, 10_000, seed=13)
    result = knn.knn_estimate(x, y, "kl", generator=rng)
    assert result.value < exact_divergence(p, q, "kl")
    assert result.beyond_range > 0.1 and result.ci[1] == math.inf
    assert "almost none" in result.warnings[0]
    assert math.isfinite(result.ci[0])


def test_a_few_dominant_terms_are_recognised():
    rng = np.random.default_rng(0)
    assert knn.dominant_share(rng.standard_normal(10_000)) < 0.2
    assert knn.dominant_share(rng.lognormal(0.0, 1.2, 10_000)) < knn.DOMINANT_SHARE_LIMIT
    assert knn.dominant_share(rng.pareto(1.2, 10_000)) > knn.DOMINANT_SHARE_LIMIT
    assert knn.dominant_share(np.ones(100)) == 0.0


def test_float32_ties_are_broken_and_repeats_counted():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40_000, 1)).astype(np.float32)
    assert knn.duplicate_share(x) < knn.DUPLICATE_LIMIT
    spread = knn.dequantise(x, rng)
    assert np.abs(spread - x).max() <= np.spacing(np.abs(x)).max()
    assert knn.duplicate_share(spread) == 0.0
    assert np.isfinite(knn.log_density_ratio(spread, spread[::-1].copy() + 0.5)).all()
    repeated = np.repeat(x[:100], 10, axis=0)
    assert knn.duplicate_share(repeated) == pytest.approx(0.9)


def test_bad_requests_are_refused():
    x = np.zeros((10, 1))
    with pytest.raises(ValueError, match="no nearest-neighbour estimate of 'tv'"):
        knn.knn_estimate(x, x, "tv")
    with pytest.raises(ValueError, match="at least 12 samples per side"):
        knn.knn_estimate(x, x, "kl")
    with pytest.raises(ValueError, match="χ² needs at least 2 neighbours"):
        knn.knn_divergence(np.random.default_rng(2).random((50, 1)), x, "pearson", k=1)
