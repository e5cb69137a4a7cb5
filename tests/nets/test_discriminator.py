"""The discriminator contract (features → classify), dropout, minibatch discrimination, and
the new options of every net."""

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from gankit.config import resolve
from gankit.nets import (
    DISCRIMINATORS,
    GENERATORS,
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGeneratorOptions,
    Discriminator,
    MinibatchDiscrimination,
    MinibatchOptions,
    MLPDiscriminator,
    MLPDiscriminatorOptions,
    MLPGeneratorOptions,
    build_discriminator,
    build_generator,
)

POINTS, IMAGES = (3,), (1, 8, 8)
D_OPTIONS = [
    (MLPDiscriminatorOptions(width=16), POINTS, 16),
    (DCGANDiscriminatorOptions(width=4), IMAGES, 4 * 4 * 4),  # 8 = 4·2¹: 4 channels at 4×4
]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    ("options", "shape"),
    [(MLPGeneratorOptions(width=16), POINTS), (DCGANGeneratorOptions(width=4), IMAGES)],
)
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_generators_build_with_spectral_norm(options, shape, spectral_norm):
    g = build_generator(
        options.model_copy(update={"spectral_norm": spectral_norm}), 5, shape, "none"
    )
    assert g(torch.randn(4, 5)).shape == (4, *shape)
    wrapped = [m for m in g.modules() if hasattr(m, "parametrizations")]
    assert bool(wrapped) == spectral_norm


@pytest.mark.parametrize(("options", "shape", "width"), D_OPTIONS)
@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("minibatch", [None, MinibatchOptions(kernels=7, kernel_dim=3)])
def test_discriminators_build_with_every_option(options, shape, width, spectral_norm, minibatch):
    update = {"spectral_norm": spectral_norm, "minibatch_discrimination": minibatch, "dropout": 0.2}
    d = build_discriminator(options.model_copy(update=update), shape)
    assert isinstance(d, Discriminator)
    x = torch.randn(6, *shape)
    h = d.features(x)
    assert h.shape == (6, width)
    assert d.classify(h).shape == (6,)
    assert d(x).shape == (6,)
    head = d.head[0]
    assert head.in_features == width + (minibatch.kernels if minibatch else 0)
    assert isinstance(d.minibatch, MinibatchDiscrimination if minibatch else nn.Identity)
    if minibatch:
        assert d.minibatch.T.shape == (width, 7, 3)


@pytest.mark.parametrize(("options", "shape", "width"), D_OPTIONS)
def test_forward_is_classify_of_features_in_one_stochastic_pass(options, shape, width):
    update = {"dropout": 0.5, "minibatch_discrimination": MinibatchOptions(kernels=4)}
    d = build_discriminator(options.model_copy(update=update), shape)
    x = torch.randn(5, *shape)
    torch.manual_seed(7)
    logits = d(x)
    torch.manual_seed(7)
    h = d.features(x)
    torch.testing.assert_close(d.classify(h), logits, rtol=0, atol=0)


@pytest.mark.parametrize(("options", "shape", "width"), D_OPTIONS)
def test_dropout_makes_train_passes_differ_and_eval_passes_agree(options, shape, width):
    x = torch.randn(8, *shape)
    d = build_discriminator(options.model_copy(update={"dropout": 0.5}), shape)
    first, second = d.features(x), d.features(x)
    assert (first == 0).float().mean() > 0.2  # about half the units are dropped
    assert not torch.equal(first, second)
    assert not torch.equal(d.classify(first), d.classify(second))
    d.eval()
    torch.testing.assert_close(d(x), d(x), rtol=0, atol=0)
    plain = build_discriminator(options, shape)  # control: no dropout, train mode
    torch.testing.assert_close(plain(x), plain(x), rtol=0, atol=0)


def test_mlp_dropout_follows_every_hidden_activation():
    d = MLPDiscriminator((2,), width=8, depth=3, norm="layer", dropout=0.3)
    layers = list(d.body)
    drops = [i for i, m in enumerate(layers) if isinstance(m, nn.Dropout)]
    assert len(drops) == 3
    assert all(isinstance(layers[i - 1], nn.LeakyReLU) and layers[i].p == 0.3 for i in drops)
    assert not any(isinstance(m, nn.Dropout) for m in MLPDiscriminator((2,)).modules())


def test_dcgan_dropout_follows_every_hidden_activation():
    d = DCGANDiscriminator((3, 32, 32), width=4, dropout=0.1)  # 32 = 4·2³: three convolutions
    layers = list(d.body)
    drops = [i for i, m in enumerate(layers) if isinstance(m, nn.Dropout)]
    assert len(drops) == 3
    assert all(
        isinstance(layers[i - 1], nn.LeakyReLU) and type(layers[i]) is nn.Dropout for i in drops
    )


@pytest.mark.parametrize(("options", "shape", "width"), D_OPTIONS)
def test_minibatch_discrimination_couples_the_samples(options, shape, width):
    plain = build_discriminator(options.model_copy(update={"norm": "none"}), shape)
    coupled = build_discriminator(
        options.model_copy(update={"norm": "none", "minibatch_discrimination": MinibatchOptions()}),
        shape,
    )
    x = torch.randn(4, *shape)
    torch.testing.assert_close(plain(x)[:2], plain(x[:2]))
    assert not torch.allclose(coupled(x)[:2], coupled(x[:2]))


def test_dcgan_head_is_the_b_by_b_convolution():
    d = DCGANDiscriminator((1, 28, 28), width=4, norm="none")  # b = 7, n = 2: 8 channels at 7×7
    linear = d.head[0]
    conv = nn.Conv2d(8, 1, 7)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.view(1, 8, 7, 7))
        conv.bias.copy_(linear.bias)
    h = d.features(torch.randn(3, 1, 28, 28))
    torch.testing.assert_close(d.classify(h), conv(h.unflatten(1, (8, 7, 7))).flatten())


def test_options_defaults_validation_and_documentation():
    for options in (MLPDiscriminatorOptions(), DCGANDiscriminatorOptions()):
        assert (options.spectral_norm, options.dropout, options.minibatch_discrimination) == (
            False,
            0.0,
            None,
        )
    for options in (MLPGeneratorOptions(), DCGANGeneratorOptions()):
        assert options.spectral_norm is False
    for bad in (1.0, -0.1):
        with pytest.raises(ValidationError, match="dropout"):
            DCGANDiscriminatorOptions(dropout=bad)
    with pytest.raises(ValidationError, match="kernel"):
        MLPDiscriminatorOptions(minibatch_discrimination={"kernel": 3})
    nested = MLPDiscriminatorOptions(minibatch_discrimination={"kernels": 3})
    assert nested.minibatch_discrimination == MinibatchOptions(kernels=3, kernel_dim=5)
    for registry in (GENERATORS, DISCRIMINATORS):
        for entry in registry:
            undocumented = {k for k, f in entry.options.model_fields.items() if not f.description}
            assert undocumented == {"name"}, entry.name


def test_config_sections_take_the_new_options():
    config = resolve(
        "ring-2d",
        {
            "generator.spectral_norm": True,
            "discriminator.dropout": 0.25,
            "discriminator.minibatch_discrimination.kernels": 8,
        },
    )
    assert config.generator.spectral_norm
    assert config.discriminator.dropout == 0.25
    assert config.discriminator.minibatch_discrimination == MinibatchOptions(kernels=8)
