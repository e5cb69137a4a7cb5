import pytest
import torch
from pydantic import ValidationError
from torch import nn

from gankit.nets import (
    DISCRIMINATORS,
    GENERATORS,
    DCGANGeneratorOptions,
    MLPDiscriminator,
    MLPDiscriminatorOptions,
    MLPGenerator,
    MLPGeneratorOptions,
    NetError,
    build_discriminator,
    build_generator,
    count_parameters,
)
from gankit.nets.layers import make_activation
from gankit.registry import UnknownNameError

ACTIVATIONS = ["relu", "leaky_relu", "elu", "gelu", "tanh", "silu"]
NORMS = ["none", "batch", "layer"]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("shape", [(1,), (2,), (1, 8, 8), (3, 6, 5)])
def test_shapes(shape):
    g = MLPGenerator(z_dim=4, out_shape=shape, width=16)
    d = MLPDiscriminator(shape, width=16)
    fake = g(torch.randn(7, 4))
    assert fake.shape == (7, *shape)
    assert d(fake).shape == (7,)


def test_tanh_bounds_and_none_does_not():
    z = 50 * torch.randn(64, 3)
    bounded = MLPGenerator(3, (2,), width=16, out_activation="tanh")(z)
    free = MLPGenerator(3, (2,), width=16, out_activation="none")(z)
    assert bounded.abs().max() <= 1.0
    assert bounded.abs().max() > 0.9
    assert free.abs().max() > 1.0


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("norm", NORMS)
def test_every_activation_and_norm_builds_and_runs(activation, norm):
    g = build_generator(
        MLPGeneratorOptions(width=8, depth=2, activation=activation, norm=norm), 3, (2,), "none"
    )
    d = build_discriminator(
        MLPDiscriminatorOptions(width=8, depth=2, activation=activation, norm=norm), (2,)
    )
    out = d(g(torch.randn(5, 3)))
    assert out.shape == (5,)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in g.parameters())


def test_activation_modules():
    assert isinstance(make_activation("relu"), nn.ReLU)
    assert make_activation("leaky_relu").negative_slope == pytest.approx(0.2)
    x = torch.tensor([-1.0, 2.0])
    torch.testing.assert_close(make_activation("leaky_relu")(x), torch.tensor([-0.2, 2.0]))
    torch.testing.assert_close(make_activation("none")(x), x)
    with pytest.raises(NetError, match="unknown activation 'swish'; choose one of: relu"):
        make_activation("swish")


@pytest.mark.parametrize(
    ("norm", "per_layer_extra", "bias"),
    [("none", 0, True), ("batch", 2, False), ("layer", 2, True)],
)
def test_parameter_count_by_hand(norm, per_layer_extra, bias):
    z, w, depth, out = 5, 12, 3, (2, 3)
    hidden = (z * w + bias * w + per_layer_extra * w) + (depth - 1) * (
        w * w + bias * w + per_layer_extra * w
    )
    g = MLPGenerator(z, out, width=w, depth=depth, norm=norm)
    assert count_parameters(g) == hidden + w * 6 + 6
    d = MLPDiscriminator((3, 4), width=w, depth=depth, norm=norm)
    d_hidden = (12 * w + bias * w + per_layer_extra * w) + (depth - 1) * (
        w * w + bias * w + per_layer_extra * w
    )
    assert count_parameters(d) == d_hidden + w + 1


def test_default_sizes():
    # depth 2, width 128: (2·128+128) + (128·128+128) + (128·1+1)
    assert count_parameters(MLPDiscriminator((2,))) == 384 + 16512 + 129
    assert count_parameters(MLPGenerator(2, (2,))) == 384 + 16512 + 258


def test_features_and_head():
    d = MLPDiscriminator((1, 4, 4), width=10, depth=3, norm="batch")
    d.eval()
    x = torch.randn(6, 1, 4, 4)
    features = d.features(x)
    assert features.shape == (6, 10)
    torch.testing.assert_close(d(x), d.head(features))


def test_options_defaults_and_validation():
    g, d = MLPGeneratorOptions(), MLPDiscriminatorOptions()
    assert (g.name, g.width, g.depth, g.activation, g.norm) == ("mlp", 128, 2, "relu", "none")
    assert (d.name, d.width, d.depth, d.activation, d.norm) == ("mlp", 128, 2, "leaky_relu", "none")
    with pytest.raises(ValidationError, match="depth"):
        MLPGeneratorOptions(depth=0)
    with pytest.raises(ValidationError, match="activation"):
        MLPGeneratorOptions(activation="swish")
    with pytest.raises(ValidationError, match="extra"):
        MLPDiscriminatorOptions(widht=3)
    with pytest.raises(ValidationError):
        g.width = 3  # frozen


def test_every_option_field_is_documented():
    for options in (MLPGeneratorOptions, MLPDiscriminatorOptions):
        undocumented = {k for k, f in options.model_fields.items() if not f.description}
        assert undocumented == {"name"}


def test_registry_entries():
    assert GENERATORS.get("mlp") is MLPGenerator
    assert DISCRIMINATORS.get("mlp") is MLPDiscriminator
    assert DISCRIMINATORS.entry("mlp").summary.startswith("Fully connected discriminator")
    with pytest.raises(UnknownNameError, match="^unknown generator 'mpl'; choose one of: ") as err:
        GENERATORS.entry("mpl")
    assert {"dcgan", "mlp"} <= set(str(err.value).rpartition(": ")[2].split(", "))


def test_construction_uses_only_the_global_rng():
    torch.manual_seed(3)
    a = MLPGenerator(3, (2,), width=8)
    torch.manual_seed(3)
    b = MLPGenerator(3, (2,), width=8)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)


def test_dcgan_for_points_is_refused():
    with pytest.raises(NetError, match=r"use generator\.name=mlp"):
        build_generator(DCGANGeneratorOptions(), 4, (1,), "none")
