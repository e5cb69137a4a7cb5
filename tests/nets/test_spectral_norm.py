import pytest
import torch
from torch import nn

from gankit.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    MinibatchOptions,
    MLPDiscriminator,
    MLPGenerator,
    apply_spectral_norm,
)
from gankit.train.checkpoint import load_checkpoint, save_checkpoint
from gankit.train.state import StateDict


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _nets():
    """Each net with spectral norm, and an input for it."""
    return [
        (MLPGenerator(4, (3,), width=16, spectral_norm=True), torch.randn(2, 4)),
        (MLPDiscriminator((3,), width=16, spectral_norm=True), torch.randn(2, 3)),
        (DCGANGenerator(8, (1, 8, 8), width=4, spectral_norm=True), torch.randn(2, 8)),
        (DCGANDiscriminator((1, 8, 8), width=4, spectral_norm=True), torch.randn(2, 1, 8, 8)),
    ]


def _weighted(net):
    return [m for m in net.modules() if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d)]


def _as_matrix(layer, weight):
    """The matrix torch normalises: (out, −1), or (in, −1) for a transposed convolution."""
    if isinstance(layer, nn.ConvTranspose2d):
        weight = weight.transpose(0, 1)
    return weight.flatten(1)


@pytest.mark.parametrize("index", range(4))
def test_every_weight_is_wrapped(index):
    net, _ = _nets()[index]
    layers = _weighted(net)
    assert layers
    for layer in layers:
        assert hasattr(layer, "parametrizations") and hasattr(layer.parametrizations, "weight")
        expected_dim = 1 if isinstance(layer, nn.ConvTranspose2d) else 0
        assert layer.parametrizations.weight[0].dim == expected_dim


@pytest.mark.parametrize("index", range(4))
def test_power_iterations_converge_to_the_largest_singular_value(index):
    net, x = _nets()[index]
    net.train()
    with torch.no_grad():
        for _ in range(50):  # one power iteration per layer and training-mode forward
            net(x)
    net.eval()  # reading the weight now runs no further iteration
    with torch.no_grad():
        for layer in _weighted(net):
            original = layer.parametrizations.weight.original
            effective = layer.weight
            sigma = torch.linalg.matrix_norm(_as_matrix(layer, original), 2)
            estimated = (original / effective).flatten()[0]  # W_eff = W / σ̂
            assert estimated.item() == pytest.approx(sigma.item(), rel=1e-3)
            top = torch.linalg.matrix_norm(_as_matrix(layer, effective), 2)
            assert top.item() == pytest.approx(1.0, abs=1e-3)


def test_dcgan_init_comes_before_wrapping():
    g = DCGANGenerator(8, (1, 16, 16), width=8, spectral_norm=True)
    for layer in _weighted(g):
        assert layer.parametrizations.weight.original.std().item() == pytest.approx(0.02, rel=0.2)


def test_apply_spectral_norm_leaves_other_layers_alone():
    net = apply_spectral_norm(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)))
    keys = set(net.state_dict())
    assert {"0.parametrizations.weight.original", "0.parametrizations.weight.0._u"} <= keys
    assert {"2.parametrizations.weight.0._v", "1.weight", "1.running_mean"} <= keys
    assert "0.weight" not in keys


def test_state_round_trips_through_a_checkpoint_and_sigma_continues(tmp_path):
    def build():
        g = DCGANGenerator(8, (1, 8, 8), width=4, spectral_norm=True)
        d = DCGANDiscriminator(
            (1, 8, 8), width=4, spectral_norm=True, minibatch_discrimination=MinibatchOptions()
        )
        return g, d

    g, d = build()
    z = torch.randn(4, 8)
    with torch.no_grad():
        for _ in range(3):
            d(g(z))
    models = {
        f"{name}.{key}": value
        for name, module in (("generator", g), ("discriminator", d))
        for key, value in module.state_dict().items()
    }
    state = StateDict(3, models, {}, {"optimizers": {}})
    path = save_checkpoint(tmp_path, state, {"config": {}, "data": {}})
    checkpoint = load_checkpoint(path)
    assert "discriminator.head.0.parametrizations.weight.0._u" in checkpoint.models
    assert "generator.net.0.parametrizations.weight.0._v" in checkpoint.models

    torch.manual_seed(1)  # a fresh pair with other weights and other u, v
    g2, d2 = build()
    key = "body.0.parametrizations.weight.0._u"
    assert not torch.equal(d2.state_dict()[key], d.state_dict()[key])
    checkpoint.restore_module("generator", g2)
    checkpoint.restore_module("discriminator", d2)
    with torch.no_grad():
        for _ in range(3):  # training mode: each pass runs one more power iteration
            torch.testing.assert_close(d2(g2(z)), d(g(z)), rtol=0, atol=0)
    for (name, a), b in zip(d.state_dict().items(), d2.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert not torch.equal(d.state_dict()[key], checkpoint.models[f"discriminator.{key}"])
    for net in (g, d, g2, d2):
        net.eval()
    torch.testing.assert_close(d2(g2(z)), d(g(z)), rtol=0, atol=0)
