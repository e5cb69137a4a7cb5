"""LeCam regularisation (Tseng et al. 2021) and lazy R1/R2 options in closed form."""

import pytest
import torch

from gankit.config import resolve
from gankit.errors import ConfigError
from gankit.objectives.penalties import LeCamAnchors, lecam_penalty
from gankit.objectives.regularisers import GradientNormOptions, LeCamOptions


def test_lecam_penalty_is_the_papers_formula():
    real = torch.tensor([1.0, 3.0])
    fake = torch.tensor([-2.0, 0.0])
    # E(D(x) − α_F)² + E(D(G(z)) − α_R)² with α_R = 0.5, α_F = −0.5
    expected = ((1.5**2 + 3.5**2) / 2) + ((2.5**2 + 0.5**2) / 2)
    value = lecam_penalty(real, fake, torch.tensor(0.5), torch.tensor(-0.5))
    assert value.item() == pytest.approx(expected)
    # one-sided (the official code): only D(x) above α_F and D(G(z)) below α_R count
    one_sided = lecam_penalty(torch.tensor([-1.0, 1.0]), torch.tensor([2.0, 0.0]),
                              torch.tensor(0.5), torch.tensor(0.0), one_sided=True)  # fmt: skip
    assert one_sided.item() == pytest.approx(1.0**2 / 2 + 0.5**2 / 2)


def test_lecam_penalty_trains_d_only_through_its_outputs():
    real = torch.tensor([1.0, 2.0], requires_grad=True)
    fake = torch.tensor([0.0, -1.0], requires_grad=True)
    anchor_real = torch.tensor(0.3, requires_grad=True)
    anchor_fake = torch.tensor(-0.2, requires_grad=True)
    lecam_penalty(real, fake, anchor_real, anchor_fake).backward()
    assert torch.allclose(real.grad, (real.detach() + 0.2))  # 2(D(x) − α_F)/2
    assert torch.allclose(fake.grad, (fake.detach() - 0.3))
    assert anchor_real.grad is None and anchor_fake.grad is None


def test_lecam_anchors_are_exponential_moving_averages_from_zero():
    anchors = LeCamAnchors(decay=0.99)
    batches = [(torch.tensor([2.0, 4.0]), torch.tensor([-1.0, -3.0])),
               (torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0])),
               (torch.tensor([5.0, -1.0]), torch.tensor([-4.0, 2.0]))]  # fmt: skip
    real, fake = 0.0, 0.0
    for real_logits, fake_logits in batches:
        anchors.update(real_logits, fake_logits)
        real = 0.99 * real + 0.01 * real_logits.mean().item()
        fake = 0.99 * fake + 0.01 * fake_logits.mean().item()
        assert anchors.real.item() == pytest.approx(real, rel=1e-6)
        assert anchors.fake.item() == pytest.approx(fake, rel=1e-6)
    assert anchors.real.item() == pytest.approx(0.99**2 * 0.03 + 0.99 * 0.01 + 0.02, rel=1e-6)
    copy = LeCamAnchors(decay=0.99)
    copy.load_state({k: v.clone() for k, v in anchors.state().items()})
    assert torch.equal(copy.real, anchors.real) and torch.equal(copy.fake, anchors.fake)
    copy.load_state({})  # from a checkpoint without LeCam: unchanged
    assert torch.equal(copy.real, anchors.real)


def test_lazy_options_default_to_every_update_and_old_configs_stay_valid():
    r1 = GradientNormOptions(gamma=10)
    assert r1.every == 1 and r1.weight == 10 and all(r1.due(i) for i in range(5))
    lazy = GradientNormOptions(gamma=10, every=16)
    assert lazy.weight == 160 and [i for i in range(40) if lazy.due(i)] == [0, 16, 32]
    old = resolve("ring-2d", {"regularisers": {"r1": {"gamma": 5.0}}})  # a config of before
    assert old.regularisers.r1 == GradientNormOptions(gamma=5.0, every=1)
    assert resolve("ring-2d", {"regularisers.r1.every": 4}).regularisers.r1.gamma == 10
    with pytest.raises(ConfigError, match="regularisers.r1.every"):
        resolve("ring-2d", {"regularisers.r1.every": 0})
    assert resolve(
        "ring-2d", {"regularisers.lecam.weight": 0.1}
    ).regularisers.lecam == LeCamOptions(weight=0.1, decay=0.99)
    with pytest.raises(ConfigError, match="regularisers.lecam.decay"):
        resolve("ring-2d", {"regularisers.lecam.decay": 1.0})
