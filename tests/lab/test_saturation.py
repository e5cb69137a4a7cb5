import json
import math

import numpy as np
import pytest
import torch

from gankit.lab.saturation import (
    Gaussian,
    gaussian_kl,
    logit_gradients,
    optimal_d_gradients,
    saturation,
    saturation_identity,
    train_discriminator,
)
from gankit.metrics.divergences import DEFAULT_GRID, f_divergence_1d
from gankit.objectives.fgan import F_DIVERGENCES

PAIRS = [
    (Gaussian(0.0, 1.0), Gaussian(2.0, 0.7)),
    (Gaussian(0.0, 1.0), Gaussian(-1.0, 1.5)),
    (Gaussian(1.0, 0.5), Gaussian(4.0, 2.0)),
]


@pytest.mark.parametrize(("real", "fake"), PAIRS)
def test_non_saturating_loss_against_optimal_d_equals_kl_minus_two_js(real, fake):
    values = saturation_identity(real, fake)
    assert values["difference"] <= 1e-8
    assert values["lhs"] == pytest.approx(values["rhs"], abs=1e-8)
    assert 0 < values["js"] < math.log(2)
    assert values["real_log_d"] < 0
    assert values["kl_g_r"] == pytest.approx(values["kl_g_r_closed_form"], abs=1e-8)


@pytest.mark.parametrize(("real", "fake"), PAIRS[:2])
def test_kl_and_js_match_the_f_divergence_quadrature(real, fake):
    values = saturation_identity(real, fake)
    log_r, log_g = real.log_density(DEFAULT_GRID), fake.log_density(DEFAULT_GRID)
    kl = f_divergence_1d(F_DIVERGENCES["kl"].f, log_g, log_r)
    two_js = f_divergence_1d(F_DIVERGENCES["js"].f, log_r, log_g)
    assert values["kl_g_r"] == pytest.approx(kl, abs=1e-8)
    assert values["js"] == pytest.approx(two_js / 2, abs=1e-8)


def test_identity_for_equal_distributions():
    # P_g = P_r: D* = 1/2, so E_g[−log D*] = log 2 = 0 − 0 + 2 log 2 − log 2.
    values = saturation_identity(Gaussian(0.5, 1.2), Gaussian(0.5, 1.2))
    assert values["lhs"] == pytest.approx(math.log(2), abs=1e-10)
    assert values["kl_g_r"] == pytest.approx(0.0, abs=1e-10)
    assert values["js"] == pytest.approx(0.0, abs=1e-10)


def test_gaussian_kl_closed_form_by_hand():
    # log(2/1) + (1 + 1) / (2·4) − 1/2
    assert gaussian_kl(Gaussian(0.0, 1.0), Gaussian(1.0, 2.0)) == pytest.approx(
        math.log(2) + 0.25 - 0.5, rel=1e-15
    )


def test_logit_gradients_are_minus_sigma_and_minus_one_minus_sigma():
    logits = torch.tensor([-30.0, -10.0, -2.0, 0.0, 3.0], dtype=torch.float64)
    saturating, nonsaturating = logit_gradients(logits)
    # softplus is linear above 20, so its gradient there is 1 rather than 1 − 1e-13.
    torch.testing.assert_close(saturating, -torch.sigmoid(logits), rtol=1e-12, atol=0)
    torch.testing.assert_close(nonsaturating, -torch.sigmoid(-logits), rtol=1e-12, atol=0)
    assert abs(saturating[0]) < 1e-12 and nonsaturating[0] == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize("mean", [0.5, 2.0, 5.0])
def test_optimal_d_gradients_in_closed_form(mean):
    # σ_g = σ_r = 1: l*' = −μ_g, so ∂/∂μ = μ_g·E_g[D*] and μ_g·E_g[1 − D*]: they sum to μ_g.
    grads = optimal_d_gradients(Gaussian(0.0, 1.0), Gaussian(mean, 1.0))
    assert grads["saturating_mean"] + grads["nonsaturating_mean"] == pytest.approx(mean, rel=1e-10)
    assert 0 < grads["saturating_mean"] < grads["nonsaturating_mean"]


def test_optimal_d_gradients_match_autograd_on_a_large_sample():
    real, fake = Gaussian(0.0, 1.0), Gaussian(2.0, 0.8)
    grads = optimal_d_gradients(real, fake)
    z = torch.randn(400_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mean = torch.tensor(fake.mean, dtype=torch.float64, requires_grad=True)
    std = torch.tensor(fake.std, dtype=torch.float64, requires_grad=True)
    x = mean + std * z
    logits = -0.5 * x**2 + 0.5 * ((x - fake.mean) / fake.std) ** 2 + math.log(fake.std)
    saturating = torch.autograd.grad(
        -torch.nn.functional.softplus(logits).mean(), [mean, std], retain_graph=True
    )
    nonsaturating = torch.autograd.grad(torch.nn.functional.softplus(-logits).mean(), [mean, std])
    for name, estimate in (("saturating", saturating), ("nonsaturating", nonsaturating)):
        assert estimate[0].item() == pytest.approx(grads[f"{name}_mean"], abs=0.01)
        assert estimate[1].item() == pytest.approx(grads[f"{name}_std"], abs=0.02)


def test_saturating_gradient_vanishes_with_separation_under_optimal_d():
    near = optimal_d_gradients(Gaussian(0.0, 1.0), Gaussian(2.0, 1.0))
    far = optimal_d_gradients(Gaussian(0.0, 1.0), Gaussian(8.0, 1.0))
    assert far["saturating_norm"] < 1e-2 * near["saturating_norm"]
    assert far["nonsaturating_norm"] > 3 * near["nonsaturating_norm"]
    assert far["saturating_norm"] < 1e-3 * far["nonsaturating_norm"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_trained_discriminator_starves_the_saturating_loss(seed):
    history = train_discriminator(
        Gaussian(8.0, 1.0), seed=seed, d_steps=1000, every=250, batch_size=256, lr=1e-3, width=64
    )
    assert history["step"] == [0, 250, 500, 750, 1000]
    ratio = np.asarray(history["saturating"]) / np.asarray(history["nonsaturating"])
    assert ratio[0] > 0.1
    assert ratio[-1] < 1e-2
    assert history["d_fake"][-1] < 0.01
    assert history["accuracy"][-1] > 0.99
    assert history["nonsaturating"][-1] > 1.0


def test_training_is_deterministic_given_the_seed():
    kwargs = dict(seed=4, d_steps=30, every=10, batch_size=64, lr=1e-3, width=16)
    first = train_discriminator(Gaussian(8.0, 1.0), **kwargs)
    assert train_discriminator(Gaussian(8.0, 1.0), **kwargs) == first


@pytest.mark.slow
def test_experiment_writes_figure_and_numbers_showing_each_claim(tmp_path):
    result = saturation(out_dir=tmp_path, progress=False)
    png, numbers_path = tmp_path / "saturation.png", tmp_path / "saturation.json"
    assert result.figure == png and result.numbers_path == numbers_path
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
    numbers = json.loads(numbers_path.read_text())
    assert len(numbers["identity"]) == 2
    for entry in numbers["identity"]:
        assert entry["difference"] <= 1e-8
        assert entry["kl_g_r"] == pytest.approx(entry["kl_g_r_closed_form"], abs=1e-8)
    assert numbers["ratio_start"] > 0.1
    assert numbers["ratio_end"] < 1e-2
    training = numbers["training"]
    assert training["d_fake"][-1] < 0.01
    assert training["nonsaturating"][-1] > 1.0
    sweep = numbers["sweep"]
    assert sweep["mean"][0] == 0 and sweep["mean"][-1] == 8
    assert sweep["saturating_norm"][-1] < 1e-2
    assert sweep["nonsaturating_norm"][-1] > 7
    assert np.all(np.diff(sweep["nonsaturating_mean"]) > 0)
    assert any("|difference|" in line for line in result.lines)
