"""gankit.estimate: divergences from samples by a trained critic, against exact values."""

import math

import numpy as np
import pytest
import torch

from gankit.data.toy import GaussianMixture
from gankit.estimate import DIVERGENCES, EstimateError, estimate
from gankit.metrics.divergences import exact_divergence

LOG2 = math.log(2.0)


def gaussian(*mean, std=1.0):
    return GaussianMixture([1.0], [list(mean)], [std])


def ring(std=0.1, shift=(0.0, 0.0)):
    angles = [2 * math.pi * k / 8 for k in range(8)]
    means = [[math.cos(a) + shift[0], math.sin(a) + shift[1]] for a in angles]
    return GaussianMixture([1.0] * 8, means, [std] * 8)


BIMODAL = GaussianMixture([0.7, 0.3], [[-1.5], [2.0]], [0.35, 0.5])

# (P, Q, exact W1): translations have W1 = ‖shift‖ exactly; 1-D pairs use the CDF formula.
PAIRS = {
    "1-D shift": (gaussian(0.0), gaussian(1.5), 1.5),
    "1-D bimodal vs wide": (BIMODAL, gaussian(0.0, std=1.5), None),
    "2-D ring vs shifted ring": (ring(), ring(shift=(0.6, 0.3)), math.hypot(0.6, 0.3)),
    "2-D Gaussian shift": (gaussian(0.0, 0.0), gaussian(1.0, 1.0), math.sqrt(2.0)),
}


@pytest.mark.slow
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("divergence", ["js", "w1"])
def test_estimate_is_within_5_percent_of_the_exact_value(pair, divergence):
    p, q, w1 = PAIRS[pair]
    exact = w1 if divergence == "w1" and w1 is not None else exact_divergence(p, q, divergence)
    result = estimate(p, q, divergence, samples=40_000, holdout=0.5, device="cpu")
    assert result.value == pytest.approx(exact, rel=0.05)
    assert result.ci[0] < result.value < result.ci[1]


def test_identical_sets_give_about_zero_and_the_interval_covers_it():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(4000, 2, generator=generator), torch.randn(4000, 2, generator=generator)
    result = estimate(x, y, "js", steps=300, device="cpu")
    assert abs(result.value) < 0.01
    assert result.ci[0] < 0.005 and result.ci[1] > -0.005
    assert 0.45 < result.holdout_accuracy < 0.55


def test_disjoint_supports_give_log_2():
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(2000, 1, generator=generator)
    result = estimate(x, x + 3.0, "js", steps=400, device="cpu")
    assert result.value == pytest.approx(LOG2, abs=0.003)
    assert result.holdout_accuracy == 1.0


def test_kl_bound_is_close_for_gaussians_and_never_far_above():
    result = estimate(gaussian(0.0), gaussian(1.0), "kl", steps=1000, device="cpu")
    assert result.value == pytest.approx(0.5, abs=0.06)  # KL(N(0,1)‖N(1,1)) = Δμ²/2


def test_memorising_critic_is_exposed_by_the_held_out_split():
    generator = torch.Generator().manual_seed(2)
    x, y = torch.randn(128, 8, generator=generator), torch.randn(128, 8, generator=generator)
    result = estimate(
        x, y, "js", holdout=0.5, steps=800, batch_size=64, width=256, depth=3, device="cpu"
    )
    assert result.train_accuracy > 0.95 and result.train_value > 0.5
    assert result.holdout_accuracy < 0.65 and result.value < 0.05


def test_same_seed_same_estimate_and_the_global_rng_is_untouched():
    x = torch.randn(500, 1, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = estimate(x, x + 1, "w1", steps=50, device="cpu", seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    second = estimate(x, x + 1, "w1", steps=50, device="cpu", seed=7)
    assert first.value == second.value and first.ci == second.ci
    assert len(first.curve) == 1 and first.curve[0]["step"] == 50


def test_numpy_arrays_and_scalars_per_row_are_accepted():
    rng = np.random.default_rng(0)
    result = estimate(
        rng.normal(size=600), rng.normal(2.0, size=600), "tv", steps=200, device="cpu"
    )
    assert result.n_train == (450, 450) and result.n_holdout == (150, 150)
    assert 0.5 < result.value < 0.8  # TV(N(0,1), N(2,1)) = 2Φ(1) − 1 = 0.683


def test_a_custom_critic_is_trained_as_given():
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1), torch.nn.Flatten(0))
    x = torch.randn(1000, 2, 2, generator=torch.Generator().manual_seed(4))
    result = estimate(x, x + 0.5, "w1", critic=critic, steps=400, lr=0.02, device="cpu")
    assert result.critic is critic
    assert result.value == pytest.approx(1.0, rel=0.1)  # shift 0.5 in 4 coordinates: ‖·‖ = 1


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((torch.zeros(10, 2), torch.zeros(10, 3)), {}, "differ in shape"),
        ((torch.zeros(10, 2), torch.zeros(10, 2)), {"divergence": "jsd"}, "unknown divergence"),
        ((torch.full((10, 2), math.nan), torch.zeros(10, 2)), {}, "NaN or inf"),
        ((torch.zeros(3, 2), torch.zeros(10, 2)), {}, "too few"),
        ((torch.zeros(10, 2), torch.zeros(10, 2)), {"holdout": 1.5}, "holdout must lie"),
        (("ring", torch.zeros(10, 2)), {}, "expected a tensor"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(args, kwargs, message):
    with pytest.raises(EstimateError, match=message):
        estimate(*args, device="cpu", steps=1, **kwargs)


def test_every_divergence_runs_and_reports_a_finite_value():
    x = torch.randn(400, 1, generator=torch.Generator().manual_seed(5))
    for divergence in DIVERGENCES:
        result = estimate(x, 0.8 * x + 0.5, divergence, steps=20, device="cpu", bootstrap=50)
        assert math.isfinite(result.value), divergence
        assert result.ci[0] <= result.ci[1]
