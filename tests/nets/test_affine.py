import math

import pytest
import torch
from pydantic import ValidationError

from gankit.config import resolve
from gankit.nets import (
    GENERATORS,
    AffineGenerator,
    AffineGeneratorOptions,
    NetError,
    build_generator,
    count_parameters,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_samples_have_the_initial_mean_and_std():
    g = build_generator(AffineGeneratorOptions(init_mean=2.0, init_std=0.5), 1, (1,), "none")
    torch.testing.assert_close(g.mean, torch.tensor([2.0]))
    torch.testing.assert_close(g.std, torch.tensor([0.5]))
    with torch.no_grad():
        x = g(torch.randn(40_000, 1))
    assert x.shape == (40_000, 1)
    # standard errors: 0.5/200 = 0.0025 for the mean, about 0.0018 for the std
    assert x.mean().item() == pytest.approx(2.0, abs=0.01)
    assert x.std().item() == pytest.approx(0.5, abs=0.01)


def test_one_mean_and_std_per_output_element():
    g = AffineGenerator(6, (2, 3))
    mu = torch.tensor([[-1.0, 0.0, 3.0], [0.5, 10.0, -4.0]])
    sigma = torch.tensor([[0.5, 1.0, 2.0], [0.1, 3.0, 0.25]])
    with torch.no_grad():
        g.loc.copy_(mu)
        g.log_scale.copy_(sigma.log())
        x = g(torch.randn(40_000, 6))
    assert x.shape == (40_000, 2, 3)
    torch.testing.assert_close(g.std, sigma)
    torch.testing.assert_close(x.mean(0), mu, atol=0.05, rtol=0)  # ≥ 5 standard errors
    torch.testing.assert_close(x.std(0), sigma, atol=0.0, rtol=0.03)
    assert count_parameters(g) == 12


def test_is_exactly_mu_plus_sigma_times_z():
    g = AffineGenerator(2, (2,), init_mean=1.0, init_std=3.0)
    z = torch.tensor([[0.0, 1.0], [-2.0, 0.5]])
    torch.testing.assert_close(g(z), torch.tensor([[1.0, 4.0], [-5.0, 2.5]]))


def test_gradients_reach_mean_and_log_std():
    g = AffineGenerator(1, (1,), init_std=2.0)
    g(torch.randn(16, 1)).square().mean().backward()
    assert g.loc.grad is not None and g.log_scale.grad is not None
    assert g.log_scale.grad.item() > 0  # E[(μ + σz)²] = μ² + σ² grows with σ
    assert g.log_scale.item() == pytest.approx(math.log(2.0))


def test_out_activation_is_applied():
    tanh = build_generator(AffineGeneratorOptions(init_std=100.0), 1, (1,), "tanh")
    x = tanh(torch.randn(256, 1))
    assert x.abs().max() <= 1.0 and x.abs().max() > 0.99


def test_wrong_noise_dim_names_the_keys():
    with pytest.raises(
        NetError,
        match=r"^generator\.name=affine needs noise\.dim = 1 \(the data dimension\), got 100$",
    ):
        build_generator(AffineGeneratorOptions(), 100, (1,), "none")
    with pytest.raises(NetError, match=r"noise\.dim = 12 .*got 3$"):
        AffineGenerator(3, (3, 2, 2))


def test_options_and_registry():
    assert GENERATORS.get("affine") is AffineGenerator
    options = AffineGeneratorOptions()
    assert (options.name, options.init_mean, options.init_std) == ("affine", 0.0, 1.0)
    with pytest.raises(ValidationError, match="init_std"):
        AffineGeneratorOptions(init_std=0.0)
    config = resolve("bimodal-1d", {"generator.name": "affine", "generator.init_mean": 1.5})
    assert config.generator == AffineGeneratorOptions(init_mean=1.5)
