import math

import pytest
import torch

from gankit.objectives import (
    build_objective,
    js_estimate,
    minimax_d_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
)


def logit(p: float) -> torch.Tensor:
    return torch.logit(torch.tensor([p], dtype=torch.float64))


def test_minimax_d_loss_matches_hand_computed_value():
    loss = minimax_d_loss(logit(0.9), logit(0.2))
    assert loss.item() == pytest.approx(-(math.log(0.9) + math.log(0.8)), rel=1e-12)


def test_generator_losses_match_their_formulas():
    fake = logit(0.2)
    assert minimax_g_loss(fake).item() == pytest.approx(math.log(0.8), rel=1e-12)
    assert nonsaturating_g_loss(fake).item() == pytest.approx(-math.log(0.2), rel=1e-12)


def test_saturating_gradient_vanishes_where_nonsaturating_does_not():
    # D confidently rejects G(z): D(G(z)) = σ(−12) ≈ 6.1e-6.
    fake = torch.tensor([-12.0], dtype=torch.float64, requires_grad=True)
    (saturating,) = torch.autograd.grad(minimax_g_loss(fake), fake)
    (nonsat,) = torch.autograd.grad(nonsaturating_g_loss(fake), fake)
    d = torch.sigmoid(torch.tensor(-12.0, dtype=torch.float64)).item()
    assert abs(saturating.item()) == pytest.approx(d, rel=1e-9)  # −σ(l) → 0
    assert abs(saturating.item()) < 1e-5
    assert abs(nonsat.item()) == pytest.approx(1 - d, rel=1e-9)  # −(1 − σ(l)) → −1
    assert abs(nonsat.item()) > 0.99


def test_losses_are_stable_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    for value in (minimax_d_loss(big, -big), nonsaturating_g_loss(big), minimax_g_loss(-big)):
        assert torch.isfinite(value)
    assert minimax_d_loss(big[:1], -big[:1]).item() == pytest.approx(0.0, abs=1e-12)


def test_losses_average_over_patch_maps():
    real = torch.full((2, 1, 3, 3), 2.0)
    fake = torch.full((2, 1, 3, 3), -1.0)
    expected = minimax_d_loss(torch.tensor([2.0]), torch.tensor([-1.0]))
    torch.testing.assert_close(minimax_d_loss(real, fake), expected)


def test_js_estimate_is_zero_for_an_undecided_discriminator_and_log2_for_a_perfect_one():
    zeros = torch.zeros(8)
    assert js_estimate(zeros, zeros).item() == pytest.approx(0.0, abs=1e-7)
    sure = torch.full((8,), 40.0)
    assert js_estimate(sure, -sure).item() == pytest.approx(math.log(2), rel=1e-6)


@pytest.mark.parametrize("name", ["minimax", "nonsaturating"])
def test_registered_objectives_build(name):
    from gankit.objectives import OBJECTIVES

    options = OBJECTIVES.entry(name).options()
    objective = build_objective(options)
    assert objective.name == name and objective.divergence == "js"
