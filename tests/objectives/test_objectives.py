"""Label smoothing, WGAN, LSGAN, hinge, relativistic GANs and the objective registry."""

import math

import pytest
import torch
from pydantic import ValidationError
from scipy import stats

from gankit.config import ConfigError, resolve
from gankit.objectives import (
    F_DIVERGENCES,
    OBJECTIVES,
    FGANOptions,
    LeastSquaresOptions,
    MinimaxOptions,
    NonSaturatingOptions,
    RelativisticOptions,
    build_objective,
    js_estimate,
    minimax_d_loss,
)


def as_tensor(values) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float64)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


# A two-point example: X = {0, 1}, p = (0.8, 0.2), q = (0.3, 0.7). Ten samples from each
# with exactly these frequencies make batch means equal the expectations.
P, Q = (0.8, 0.2), (0.3, 0.7)
REAL_X = [0] * 8 + [1] * 2
FAKE_X = [0] * 3 + [1] * 7
TRIANGULAR = sum((p - q) ** 2 / (p + q) for p, q in zip(P, Q, strict=True))  # 50/99
TV = sum(abs(p - q) for p, q in zip(P, Q, strict=True)) / 2  # 0.5


def outputs(d_values) -> tuple[torch.Tensor, torch.Tensor]:
    """D's outputs on the real and fake samples when D(x) = d_values[x]."""
    return as_tensor([d_values[x] for x in REAL_X]), as_tensor([d_values[x] for x in FAKE_X])


# -- minimax label smoothing ----------------------------------------------------------------


@pytest.mark.parametrize("options", [MinimaxOptions, NonSaturatingOptions])
def test_one_sided_label_smoothing_matches_hand_computed_value(options):
    real, fake = torch.logit(as_tensor([0.9])), torch.logit(as_tensor([0.2]))
    objective = build_objective(options(label_smoothing=0.1))
    expected = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)) - math.log(0.8)
    assert objective.d_loss(real, fake).item() == pytest.approx(expected, rel=1e-12)
    assert minimax_d_loss(real, fake, label_smoothing=0.1).item() == pytest.approx(expected)
    # The JS estimate reads the unsmoothed value function.
    torch.testing.assert_close(objective.divergence_estimate(real, fake), js_estimate(real, fake))


def test_smoothed_discriminator_optimum_is_one_minus_alpha():
    # ∂/∂l [(1 − α)·softplus(−l) + α·softplus(l)] = σ(l) − (1 − α): zero at D(x) = 1 − α.
    fake = as_tensor([-50.0])
    for d in (0.7, 0.8, 0.9):
        real = torch.logit(as_tensor([d])).requires_grad_()
        (grad,) = torch.autograd.grad(minimax_d_loss(real, fake, label_smoothing=0.2), real)
        assert grad.item() == pytest.approx(d - 0.8, abs=1e-12)


def test_label_smoothing_must_stay_below_one_half():
    with pytest.raises(ValidationError):
        MinimaxOptions(label_smoothing=0.5)


# -- Wasserstein ---------------------------------------------------------------------------


def test_wasserstein_linear_critic_estimates_the_mean_gap():
    real = as_tensor([0.5, 2.0, -1.0, 3.5])
    fake = real - 1.25  # a shift: f(x) = x is an optimal 1-Lipschitz critic, W1 = 1.25
    objective = build_objective(OBJECTIVES.entry("wasserstein").options())
    estimate = objective.divergence_estimate(real, fake).item()
    assert estimate == pytest.approx(real.mean().item() - fake.mean().item(), rel=1e-12)
    assert estimate == pytest.approx(
        stats.wasserstein_distance(real.numpy(), fake.numpy()), rel=1e-12
    )
    assert objective.d_loss(real, fake).item() == pytest.approx(-estimate, rel=1e-12)
    assert objective.g_loss(fake, None).item() == pytest.approx(-fake.mean().item(), rel=1e-12)
    assert objective.divergence == "w1" and not objective.logits_are_probabilities


# -- least squares -------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(0.0, 1.0), (-1.0, 1.0)])
def test_lsgan_estimate_at_the_optimal_d_is_the_triangular_discrimination(a, b):
    objective = build_objective(LeastSquaresOptions(a=a, b=b))
    optimal = [(b * p + a * q) / (p + q) for p, q in zip(P, Q, strict=True)]
    real, fake = outputs(optimal)
    assert TRIANGULAR == pytest.approx(50 / 99, rel=1e-12)
    assert objective.divergence_estimate(real, fake).item() == pytest.approx(50 / 99, rel=1e-12)
    assert objective.d_loss(real, fake).item() == pytest.approx((b - a) ** 2 * (2 - 50 / 99) / 8)
    worse_real, worse_fake = outputs([v + 0.1 for v in optimal])
    assert objective.divergence_estimate(worse_real, worse_fake).item() < 50 / 99 - 1e-3


def test_lsgan_losses_match_their_formulas():
    objective = build_objective(LeastSquaresOptions(a=-1.0, b=1.0, c=0.0))
    real, fake = as_tensor([0.5, 1.5]), as_tensor([-0.5, 2.0])
    expected_d = (0.25 + 0.25) / 4 + (0.25 + 9.0) / 4
    assert objective.d_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-12)
    assert objective.g_loss(fake, None).item() == pytest.approx((0.25 + 4.0) / 4, rel=1e-12)
    assert objective.divergence == "triangular"


def test_lsgan_rejects_equal_targets():
    with pytest.raises(ValidationError, match="b ≠ a"):
        LeastSquaresOptions(a=1.0, b=1.0)
    with pytest.raises(ConfigError, match="objective"):
        resolve("bimodal-1d", {"objective.name": "least_squares", "objective.a": 1.0})


# -- hinge ---------------------------------------------------------------------------------


def test_hinge_estimate_at_the_sign_discriminator_is_total_variation():
    objective = build_objective(OBJECTIVES.entry("hinge").options())
    real, fake = outputs([1.0, -1.0])  # sign(p − q)
    assert objective.d_loss(real, fake).item() == pytest.approx(2 - 2 * TV, rel=1e-12)
    assert objective.divergence_estimate(real, fake).item() == pytest.approx(0.5, rel=1e-12)
    timid_real, timid_fake = outputs([0.5, -0.5])
    assert objective.divergence_estimate(timid_real, timid_fake).item() == pytest.approx(0.25)
    assert objective.g_loss(fake, None).item() == pytest.approx(0.4, rel=1e-12)  # −E[D(G(z))]
    assert objective.divergence == "tv"


# -- relativistic --------------------------------------------------------------------------

REAL_C, FAKE_C = [1.0, 4.0], [0.0, -2.0]  # means 2.5 and −1


def test_rasgan_losses_match_hand_computed_values():
    objective = build_objective(RelativisticOptions(average=True))
    real, fake = as_tensor(REAL_C), as_tensor(FAKE_C)
    d = (softplus(-2) + softplus(-5)) / 2 + (softplus(-2.5) + softplus(-4.5)) / 2
    g = (softplus(2.5) + softplus(4.5)) / 2 + (softplus(2) + softplus(5)) / 2
    assert objective.d_loss(real, fake).item() == pytest.approx(d, rel=1e-12)
    assert objective.g_loss(fake, real).item() == pytest.approx(g, rel=1e-12)
    assert objective.g_loss_needs_real and objective.divergence_estimate is None


def test_rsgan_losses_match_hand_computed_values():
    objective = build_objective(RelativisticOptions(average=False))
    real, fake = as_tensor(REAL_C), as_tensor(FAKE_C)
    d = (softplus(-1) + softplus(-6)) / 2
    g = (softplus(1) + softplus(6)) / 2
    assert objective.d_loss(real, fake).item() == pytest.approx(d, rel=1e-12)
    assert objective.g_loss(fake, real).item() == pytest.approx(g, rel=1e-12)
    with pytest.raises(ValueError, match="one to one"):
        objective.d_loss(real, fake[:1])


@pytest.mark.parametrize("average", [True, False])
def test_relativistic_generator_gradient_reaches_real_logits(average):
    objective = build_objective(RelativisticOptions(average=average))
    real = torch.tensor(REAL_C, dtype=torch.float64, requires_grad=True)
    fake = torch.tensor(FAKE_C, dtype=torch.float64, requires_grad=True)
    grad_real, grad_fake = torch.autograd.grad(objective.g_loss(fake, real), (real, fake))
    assert grad_real.abs().min() > 1e-3 and grad_fake.abs().min() > 1e-3
    if not average:  # ∂/∂C_r softplus(C_r − C_f) / n = σ(C_r − C_f) / n
        expected = torch.sigmoid(real - fake).detach() / 2
        torch.testing.assert_close(grad_real, expected)
    with pytest.raises(ValueError, match="real data"):
        objective.g_loss(fake, None)


# -- registry and config -------------------------------------------------------------------


@pytest.mark.parametrize("name", OBJECTIVES.names())
def test_every_objective_builds_from_defaults_and_averages_over_patch_maps(name):
    objective = build_objective(OBJECTIVES.entry(name).options())
    assert objective.name == name
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(2, 1, 3, 3, generator=gen, dtype=torch.float64)
    fake = torch.randn(2, 1, 3, 3, generator=gen, dtype=torch.float64)
    flat_real, flat_fake = real.flatten(), fake.flatten()
    real_for_g = real if objective.g_loss_needs_real else None
    flat_real_for_g = flat_real if objective.g_loss_needs_real else None
    d_loss = objective.d_loss(real, fake)
    assert d_loss.shape == () and torch.isfinite(d_loss)
    torch.testing.assert_close(d_loss, objective.d_loss(flat_real, flat_fake))
    torch.testing.assert_close(
        objective.g_loss(fake, real_for_g), objective.g_loss(flat_fake, flat_real_for_g)
    )
    if objective.divergence_estimate is None:
        assert objective.divergence is None
    else:
        torch.testing.assert_close(
            objective.divergence_estimate(real, fake),
            objective.divergence_estimate(flat_real, flat_fake),
        )


def test_registry_holds_every_objective():
    assert OBJECTIVES.names() == sorted(
        [
            "fgan",
            "hinge",
            "least_squares",
            "minimax",
            "nonsaturating",
            "relativistic",
            "wasserstein",
        ]
    )


def test_fgan_options_offer_exactly_the_tabulated_divergences():
    choices = FGANOptions.model_fields["divergence"].annotation.__args__
    assert set(choices) == set(F_DIVERGENCES)


def test_config_builds_the_objective_section_from_the_registry():
    config = resolve("bimodal-1d", {"objective.name": "fgan", "objective.divergence": "kl"})
    assert config.objective.divergence == "kl"
    assert config.objective.generator_loss == "saturating"
    objective = build_objective(config.objective)
    assert objective.divergence == "kl" and not objective.logits_are_probabilities
    with pytest.raises(ConfigError, match="objective.divergence"):
        resolve("bimodal-1d", {"objective.name": "fgan", "objective.divergence": "renyi"})
