import re

import pytest
import torch

from gankit.objectives.translation import (
    CYCLE_WEIGHT,
    IDENTITY_WEIGHT,
    PIX2PIX_L1_WEIGHT,
    cycle_consistency_loss,
    identity_loss,
    l1_loss,
)


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# Domain A: 2×1×2×2. |OUTPUT − TARGET| = 1, 0, 2, 3, 2, 0.5, 0, 4 → sum 12.5, mean 12.5/8.
OUTPUT = t([[[[1.0, 2.0], [3.0, 4.0]]], [[[-1.0, 0.5], [0.0, 2.0]]]])
TARGET = t([[[[0.0, 2.0], [5.0, 1.0]]], [[[1.0, 0.0], [0.0, -2.0]]]])
MEAN_A = 1.5625

# Domain B: 1×1×2×2, a different shape. |OTHER − REAL_B| = 0.5, 0, 0, 2 → mean 2.5/4.
REAL_B = t([[[[0.0, 0.0], [1.0, 1.0]]]])
OTHER_B = t([[[[0.5, 0.0], [1.0, 3.0]]]])
MEAN_B = 0.625


def test_l1_loss_matches_hand_computed_value():
    assert l1_loss(OUTPUT, TARGET).item() == pytest.approx(MEAN_A, rel=1e-12)
    assert l1_loss(TARGET, OUTPUT).item() == pytest.approx(MEAN_A, rel=1e-12)


def test_cycle_consistency_loss_sums_one_mean_per_domain():
    loss = cycle_consistency_loss(TARGET, OUTPUT, REAL_B, OTHER_B)
    # Σ of per-domain means, not the mean over the 12 pooled elements (15/12 = 1.25).
    assert loss.item() == pytest.approx(MEAN_A + MEAN_B, rel=1e-12)
    assert loss.item() == pytest.approx(2.1875, rel=1e-12)


def test_identity_loss_matches_hand_computed_value():
    loss = identity_loss(TARGET, OUTPUT, REAL_B, OTHER_B)
    assert loss.item() == pytest.approx(2.1875, rel=1e-12)
    # Only the A pair differs: the B term vanishes.
    assert identity_loss(TARGET, OUTPUT, REAL_B, REAL_B.clone()).item() == pytest.approx(
        MEAN_A, rel=1e-12
    )


def test_l1_gradient_is_sign_over_element_count():
    output = OUTPUT.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(l1_loss(output, TARGET), output)
    expected = torch.sign(OUTPUT - TARGET) / OUTPUT.numel()
    expected[OUTPUT == TARGET] = 0.0
    torch.testing.assert_close(grad, expected)


def test_losses_are_zero_for_perfect_reconstruction():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(3, 3, 8, 8, generator=generator)
    b = torch.randn(3, 1, 8, 8, generator=generator)
    assert l1_loss(a, a.clone()).item() == 0.0
    assert cycle_consistency_loss(a, a.clone(), b, b.clone()).item() == 0.0
    assert identity_loss(a, a.clone(), b, b.clone()).item() == 0.0
    assert cycle_consistency_loss(a, a + 1, b, b.clone()).item() == pytest.approx(1.0)


def test_shape_mismatch_names_both_shapes():
    wide = torch.zeros(2, 1, 2, 3)
    a = torch.zeros(2, 1, 2, 2)
    with pytest.raises(
        ValueError,
        match=re.escape("output has shape (2, 1, 2, 3) but target has shape (2, 1, 2, 2)"),
    ):
        l1_loss(wide, a)
    with pytest.raises(
        ValueError,
        match=re.escape("reconstructed_b has shape (2, 1, 2, 3) but real_b has shape (2, 1, 2, 2)"),
    ):
        cycle_consistency_loss(a, a, a, wide)
    with pytest.raises(
        ValueError,
        match=re.escape("same_a has shape (2, 1, 2, 3) but real_a has shape (2, 1, 2, 2)"),
    ):
        identity_loss(a, wide, a, a)
    # A broadcastable shape is still an error.
    with pytest.raises(ValueError, match=re.escape("(1, 1, 2, 2)")):
        l1_loss(torch.zeros(1, 1, 2, 2), a)


def test_paper_weights():
    assert PIX2PIX_L1_WEIGHT == 100.0
    assert CYCLE_WEIGHT == 10.0
    assert IDENTITY_WEIGHT * CYCLE_WEIGHT == 5.0
