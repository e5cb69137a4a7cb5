"""Regularisers against their closed forms."""

import math

import pytest
import torch
from torch import nn

from gankit.config import CriticWarmupOptions, TrainOptions
from gankit.nets.discriminator import DiscriminatorOutput
from gankit.objectives.penalties import (
    HistoricalAverage,
    clip_weights_,
    consistency_term,
    feature_matching_loss,
    gradient_norm_penalty,
    gradient_penalty,
)
from gankit.objectives.regularisers import InstanceNoiseOptions


class LinearCritic(nn.Module):
    """D(x) = w·vec(x) + b: its input gradient is w everywhere."""

    def __init__(self, shape: tuple[int, ...], scale: float) -> None:
        super().__init__()
        self.linear = nn.Linear(math.prod(shape), 1)
        with torch.no_grad():
            self.linear.weight.copy_(scale * torch.linspace(-1, 1, math.prod(shape)))

    def features(self, x):
        return x.flatten(1)

    def classify(self, h):
        return self.linear(h).squeeze(1)

    def forward(self, x):
        return self.classify(self.features(x))


class QuadraticCritic(nn.Module):
    """D(x) = ½ xᵀAx with symmetric A: ∇D(x) = Ax."""

    def __init__(self, a: torch.Tensor) -> None:
        super().__init__()
        self.a = a

    def forward(self, x):
        return 0.5 * torch.einsum("bi,ij,bj->b", x, self.a, x)


@pytest.mark.parametrize("shape", [(2,), (1, 4, 4)])
@pytest.mark.parametrize("scale", [0.3, 2.5])
def test_gradient_penalty_of_a_linear_critic_is_the_closed_form(shape, scale):
    torch.manual_seed(0)
    critic = LinearCritic(shape, scale)
    real, fake = torch.randn(16, *shape), torch.randn(16, *shape)
    norm = critic.linear.weight.norm().item()
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((norm - 1) ** 2, rel=1e-5)
    one_sided = gradient_penalty(critic, real, fake, one_sided=True).item()
    assert one_sided == pytest.approx(max(norm - 1, 0) ** 2, rel=1e-5, abs=1e-7)


def test_gradient_penalty_evaluates_the_gradient_at_the_interpolates():
    """For D(x) = ½‖x‖² the gradient at x̂ is x̂ itself, so the penalty is (‖x̂‖ − 1)²."""
    critic = QuadraticCritic(torch.eye(2))
    real, fake = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    eps = torch.tensor([0.25])
    mixed = 0.25 * real + 0.75 * fake  # (0.75, 0.75)
    expected = (mixed.norm() - 1) ** 2
    assert gradient_penalty(critic, real, fake, eps=eps).item() == pytest.approx(expected.item())


def test_gradient_penalty_trains_the_critic_towards_unit_slope():
    critic = LinearCritic((3,), 4.0)
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    gradient_penalty(critic, real, fake).backward()
    w = critic.linear.weight.detach()
    expected = 2 * (w.norm() - 1) * w / w.norm()  # ∂(‖w‖ − 1)²/∂w
    torch.testing.assert_close(critic.linear.weight.grad, expected)


def test_r1_penalty_of_a_quadratic_critic_is_half_the_squared_gradient_norm():
    a = torch.tensor([[2.0, 0.5], [0.5, 1.0]])
    x = torch.tensor([[1.0, -1.0], [0.5, 2.0], [0.0, 3.0]])
    expected = 0.5 * (x @ a).square().sum(dim=1).mean()
    assert gradient_norm_penalty(QuadraticCritic(a), x).item() == pytest.approx(expected.item())


def test_weight_clipping_bounds_every_parameter():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(10)
    inside = net[0].weight.detach().abs() <= 0.05
    kept = net[0].weight.detach()[inside].clone()
    clip_weights_(net, 0.05)
    bound = torch.tensor(0.05)  # c as a float32 weight holds it
    for p in net.parameters():
        assert (p.abs() <= bound).all()
    assert torch.equal(net[0].weight.detach()[inside], kept)  # values inside are untouched


def test_feature_matching_is_zero_for_coinciding_batches_and_the_mean_gap_otherwise():
    features = torch.randn(10, 4)
    assert feature_matching_loss(features, features.clone()).item() == 0.0
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [0.0, 2.0]])  # mean (0, 1)
    assert feature_matching_loss(real, fake).item() == pytest.approx(8.0)


class DropoutCritic(nn.Module):
    def __init__(self, p: float) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(p))
        self.head = nn.Linear(32, 1)

    def features(self, x):
        return self.body(x)

    def classify(self, h):
        return self.head(h).squeeze(1)

    def forward(self, x, with_features=False):
        h = self.features(x)
        return DiscriminatorOutput(self.classify(h), h) if with_features else self.classify(h)


def test_consistency_term_vanishes_without_dropout_and_matches_its_formula_with_it():
    torch.manual_seed(0)
    x = torch.randn(64, 2)
    assert consistency_term(DropoutCritic(0.0), x).item() == 0.0
    critic = DropoutCritic(0.5)
    torch.manual_seed(1)
    value = consistency_term(critic, x, feature_weight=0.1, margin=0.0).item()
    torch.manual_seed(1)  # the same two dropout masks, by hand
    h1, h2 = critic.features(x), critic.features(x)
    gap = (critic.classify(h1) - critic.classify(h2)).abs() + 0.1 * (h1 - h2).norm(dim=1)
    assert value == pytest.approx(gap.mean().item())
    assert value > 0
    torch.manual_seed(1)
    assert consistency_term(critic, x, margin=1e6).item() == 0.0


def test_historical_average_tracks_the_mean_of_past_parameters():
    net = nn.Linear(1, 1, bias=False)
    average = HistoricalAverage(net)
    history = []
    for value in (1.0, 2.0, 6.0):
        with torch.no_grad():
            net.weight.fill_(value)
        history.append(value)
        average.update()
    assert average.means["weight"].item() == pytest.approx(3.0)
    with torch.no_grad():
        net.weight.fill_(5.0)
    assert average.penalty().item() == pytest.approx(4.0)  # (5 − 3)²
    restored = HistoricalAverage(net)
    restored.load_state(average.state())
    assert restored.count == 3 and restored.means["weight"].item() == pytest.approx(3.0)


def test_instance_noise_schedules():
    linear = InstanceNoiseOptions(std=0.2, schedule="linear", anneal_steps=100)
    cosine = InstanceNoiseOptions(std=0.2, schedule="cosine", anneal_steps=100)
    constant = InstanceNoiseOptions(std=0.2, schedule="constant")
    assert linear.std_at(0, 1000) == pytest.approx(0.2)
    assert linear.std_at(50, 1000) == pytest.approx(0.1)
    assert linear.std_at(150, 1000) == 0.0
    assert cosine.std_at(50, 1000) == pytest.approx(0.1)
    assert cosine.std_at(25, 1000) == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)))
    assert constant.std_at(900, 1000) == 0.2
    # without anneal_steps the horizon is the run's length
    assert InstanceNoiseOptions(std=0.2).std_at(500, 1000) == pytest.approx(0.1)


def test_wgan_critic_warmup_schedule():
    train = TrainOptions(d_steps=5, critic_warmup=CriticWarmupOptions())
    counts = [train.d_steps_at(step) for step in range(1001)]
    assert counts[:25] == [100] * 25
    assert counts[25] == 5 and counts[499] == 5
    assert counts[500] == 100 and counts[1000] == 100
    assert sum(c == 100 for c in counts) == 25 + 2  # the first 25, then 500 and 1000
    assert TrainOptions(d_steps=5).d_steps_at(0) == 5
