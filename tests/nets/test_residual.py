"""The residual (SNGAN/BigGAN) generator and discriminator: shapes, layout, spectral norm,
self-attention, conditional BatchNorm, and the discriminator contract through forward."""

import pytest
import torch
from torch import nn

from gankit.config import resolve
from gankit.nets import (
    DISCRIMINATORS,
    GENERATORS,
    MinibatchOptions,
    NetError,
    ResidualDiscriminator,
    ResidualDiscriminatorOptions,
    ResidualGenerator,
    ResidualGeneratorOptions,
    build_discriminator,
    build_generator,
    count_parameters,
)
from gankit.nets.conditional import ConditionalDiscriminator, ConditionalGenerator, LabelEmbedding
from gankit.nets.discriminator import DiscriminatorOutput
from gankit.nets.layers import ConditionalBatchNorm2d, SelfAttention
from gankit.nets.residual import DiscriminatorBlock, GeneratorBlock


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(("size", "b", "n"), [(28, 7, 2), (32, 4, 3), (64, 4, 4)])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_grey_and_rgb_images(size, b, n, channels):
    shape = (channels, size, size)
    g = ResidualGenerator(8, shape, width=4, attention=size // 2)
    d = ResidualDiscriminator(shape, width=4, attention=size // 2)
    fake = g(torch.randn(3, 8))
    assert fake.shape == (3, *shape)
    assert fake.min() >= -1 and fake.max() <= 1 and fake.std() > 0
    assert d(fake).shape == (3,)
    assert d.features(fake).shape == (3, 4 << (n - 1)) and d.feature_dim == 4 << (n - 1)
    assert g.base_shape == (4 << (n - 1), b, b)  # width·2^(n−1) channels at b×b
    assert sum(isinstance(m, SelfAttention) for m in (*g.modules(), *d.modules())) == 2


def test_blocks_per_resolution_and_channels_doubling_inward():
    g = ResidualGenerator(8, (1, 32, 32), width=4, blocks=2)  # 32 = 4·2³
    d = ResidualDiscriminator((1, 32, 32), width=4, blocks=2)
    blocks = [m for m in g.stages if isinstance(m, GeneratorBlock)]
    assert [(b.conv1.in_channels, b.conv2.out_channels, b.upsample) for b in blocks] == [
        (16, 8, True), (8, 8, False), (8, 4, True), (4, 4, False), (4, 4, True), (4, 4, False),
    ]  # fmt: skip
    assert all(isinstance(b.shortcut, nn.Identity) != b.upsample for b in blocks)
    down = [m for m in d.body if isinstance(m, DiscriminatorBlock)]  # after the optimized block
    assert [(b.conv1.in_channels, b.conv2.out_channels, b.downsample) for b in down] == [
        (4, 4, False), (4, 8, True), (8, 8, False), (8, 16, True), (16, 16, False),
    ]  # fmt: skip
    assert d(g(torch.randn(2, 8))).shape == (2,)


def test_parameter_counts_by_hand():
    """28 = 7·2², width 4: G has 8 channels at 7×7, then 4; D 4 at 14×14, then 8 at 7×7.
    A k×k convolution from a to b channels has a·b·k² weights + b biases; BatchNorm 2c."""
    g = build_generator(ResidualGeneratorOptions(width=4), 8, (1, 28, 28), "tanh")
    linear = 8 * 8 * 49 + 8 * 49
    block1 = 2 * 8 + 8 * 4 * 9 + 2 * 4 + (4 * 4 * 9 + 4) + (8 * 4 + 4)  # no bias before BN
    block2 = 2 * 4 + 4 * 4 * 9 + 2 * 4 + (4 * 4 * 9 + 4) + (4 * 4 + 4)
    out = 2 * 4 + 4 * 1 * 9 + 1
    assert count_parameters(g) == linear + block1 + block2 + out == 4397
    d = build_discriminator(ResidualDiscriminatorOptions(width=4), (1, 28, 28))
    optimized = (1 * 4 * 9 + 4) + (4 * 4 * 9 + 4) + (1 * 4 + 4)
    down = (4 * 8 * 9 + 8) + (8 * 8 * 9 + 8) + (4 * 8 + 8)
    assert count_parameters(d) == optimized + down + 8 + 1 == 1125


def test_sizes_shapes_and_attention_resolutions_are_checked_with_the_key():
    with pytest.raises(NetError, match="image size 30 cannot be built by residual"):
        ResidualGenerator(8, (1, 30, 30))
    with pytest.raises(NetError, match=r"^discriminator\.name=residual needs square images"):
        ResidualDiscriminator((2,))
    with pytest.raises(
        NetError,
        match=r"^generator\.attention=16 is not a resolution of its feature maps for 28×28 "
        r"images; choose one of: 7, 14, 28$",
    ):
        ResidualGenerator(8, (1, 28, 28), attention=16)
    with pytest.raises(NetError, match=r"discriminator\.attention=28 .* one of: 7, 14$"):
        ResidualDiscriminator((1, 28, 28), attention=28)
    with pytest.raises(NetError, match=r"generator\.norm='layer' is not one of: batch, none"):
        ResidualGenerator(8, (1, 28, 28), norm="layer")


def _weighted(net):
    return [m for m in net.modules() if isinstance(m, nn.Linear | nn.Conv2d)]


@pytest.mark.parametrize("which", ["discriminator", "generator"])
def test_spectral_norm_makes_every_sigma_one_after_power_iterations(which):
    if which == "discriminator":  # spectral norm by default, as in SNGAN
        net = ResidualDiscriminator((1, 16, 16), width=4, attention=8)
        x = torch.randn(4, 1, 16, 16)
    else:
        net = ResidualGenerator(8, (1, 16, 16), width=4, attention=8, spectral_norm=True)
        x = torch.randn(4, 8)
    layers = _weighted(net)
    assert len(layers) == (11 if which == "discriminator" else 12)  # attention: 4 convs
    assert all(hasattr(layer, "parametrizations") for layer in layers)
    with torch.no_grad():
        for _ in range(50):  # one power iteration per layer and training-mode pass
            net(x)
    net.eval()
    with torch.no_grad():
        for layer in layers:
            sigma = torch.linalg.matrix_norm(layer.weight.flatten(1), 2)  # (out, −1)
            assert sigma.item() == pytest.approx(1.0, abs=1e-3)
    assert not any(hasattr(m, "parametrizations") for m in _weighted(ResidualDiscriminator(
        (1, 16, 16), width=4, spectral_norm=False)))  # fmt: skip


def test_attention_starts_as_the_identity_and_learns_its_gain():
    layer = SelfAttention(16)
    x = torch.randn(2, 16, 5, 5)
    assert layer.gamma.item() == 0 and torch.equal(layer(x), x)
    g = ResidualGenerator(8, (1, 16, 16), width=4, attention=8)
    d = ResidualDiscriminator((1, 16, 16), width=4, attention=8)
    seen = []
    for attention in (m for net in (g, d) for m in net.modules() if isinstance(m, SelfAttention)):
        attention.register_forward_hook(lambda m, args, out: seen.append(torch.equal(out, args[0])))
    d(g(torch.randn(4, 8))).sum().backward()
    assert seen == [True, True]
    for net in (g, d):
        gamma = next(m.gamma for m in net.modules() if isinstance(m, SelfAttention))
        assert gamma.grad is not None and gamma.grad.abs() > 0  # it can leave 0
    with torch.no_grad():
        layer.gamma.fill_(0.5)
    assert not torch.allclose(layer(x), x)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dropout": 0.5, "minibatch_discrimination": MinibatchOptions(kernels=4)},
        {"norm": "layer", "attention": 4, "blocks": 2},
    ],
    ids=["plain", "dropout-minibatch", "layer-attention"],
)
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_every_output_of_d_comes_from_one_forward_pass(options, spectral_norm):
    d = build_discriminator(
        ResidualDiscriminatorOptions(width=4, spectral_norm=spectral_norm, **options), (3, 8, 8)
    )
    if spectral_norm:
        d.eval()  # each training-mode pass runs one more power iteration: weights move
    x = torch.randn(5, 3, 8, 8)
    torch.manual_seed(7)
    logits = d(x)
    torch.manual_seed(7)
    out = d(x, with_features=True)
    torch.manual_seed(7)
    features = d.features(x)
    assert isinstance(out, DiscriminatorOutput) and out.class_logits is None
    assert out.features.shape == (5, 4) and logits.shape == (5,)
    for a, b in ((out.logits, logits), (out.features, features), (d.classify(features), logits)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    kernels = 4 if "minibatch_discrimination" in options else 0
    assert d.head[0].in_features == 4 + kernels


def test_dropout_norms_and_per_sample_independence():
    dropped = ResidualDiscriminator((1, 16, 16), width=4, dropout=0.3)
    assert sum(isinstance(m, nn.Dropout) and m.p == 0.3 for m in dropped.modules()) == 3
    x = torch.randn(4, 1, 16, 16)
    assert not torch.equal(dropped(x), dropped(x))
    dropped.eval()
    assert torch.equal(dropped(x), dropped(x))
    for norm, kind in (("none", None), ("layer", nn.GroupNorm), ("batch", nn.BatchNorm2d)):
        d = ResidualDiscriminator((1, 16, 16), width=4, norm=norm)
        assert sum(isinstance(m, nn.GroupNorm | nn.BatchNorm2d) for m in d.modules()) == (
            2 if kind else 0
        )  # the optimized block has none; the down-block two
        if kind is not nn.BatchNorm2d:  # no batch statistics: each logit is its sample's
            d.eval()  # (and spectral norm's power iteration stands still)
            torch.testing.assert_close(d(x)[:2], d(x[:2]))


def _conditional_pair(norm="batch"):
    base = ResidualGenerator(6 + 3, (1, 8, 8), width=4, norm=norm)
    plain = ResidualGenerator(6 + 3, (1, 8, 8), width=4, norm=norm)
    plain.load_state_dict(base.state_dict())
    return ConditionalGenerator(base, LabelEmbedding(3)), plain


def test_conditional_batchnorm_starts_as_plain_batchnorm_then_follows_the_label():
    generator, plain = _conditional_pair()
    assert generator.conditional_norm
    norms = [m for m in generator.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(norms) == 2  # both BatchNorms of the one up-block; the final one stays plain
    z, y = torch.randn(6, 6), torch.tensor([0, 1, 2, 0, 1, 2])
    joined = torch.cat([z, torch.eye(3)[y]], dim=1)
    torch.testing.assert_close(generator(z, y), plain(joined))  # gains start at 0
    generator.eval(), plain.eval()  # running statistics: each sample on its own
    with torch.no_grad():
        norms[0].gain.weight[:, 1] = 1.0  # class 1 doubles the first BatchNorm's gain
        out, expected = generator(z, y), plain(joined)
    torch.testing.assert_close(out[y != 1], expected[y != 1])
    assert not torch.allclose(out[y == 1], expected[y == 1])
    generator.train()
    generator(z, y).square().mean().backward()
    assert all(norm.gain.weight.grad.abs().sum() > 0 for norm in norms)


def test_a_generator_without_batchnorm_reads_the_label_by_concatenation_only():
    generator, plain = _conditional_pair(norm="none")
    assert not generator.conditional_norm
    assert not any(isinstance(m, ConditionalBatchNorm2d) for m in generator.modules())
    z, y = torch.randn(4, 6), torch.tensor([0, 1, 2, 0])
    assert torch.equal(generator(z, y), plain(torch.cat([z, torch.eye(3)[y]], dim=1)))


def test_projection_and_concat_discriminators_read_the_residual_features():
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 3, 9, 3])
    base = ResidualDiscriminator((1, 8, 8), width=4)
    d = ConditionalDiscriminator(base, 10, "projection", auxiliary=True).eval()  # σ stays
    out = d(x, y, with_features=True)
    h = base.features(x)
    expected = base.classify(h) + (d.projection(y) * h).sum(dim=1)
    torch.testing.assert_close(out.logits, expected, rtol=0, atol=0)
    assert out.class_logits.shape == (4, 10)
    concat_base = ResidualDiscriminator((1 + 10, 8, 8), width=4)
    concat = ConditionalDiscriminator(
        concat_base, 10, "concat", LabelEmbedding(10), channels=True
    ).eval()
    planes = torch.eye(10)[y][:, :, None, None].expand(-1, -1, 8, 8)
    torch.testing.assert_close(concat(x, y), concat_base(torch.cat([x, planes], dim=1)))


def test_registered_with_documented_options_and_reachable_from_the_config():
    assert GENERATORS.entry("residual").options is ResidualGeneratorOptions
    assert DISCRIMINATORS.entry("residual").options is ResidualDiscriminatorOptions
    assert ResidualDiscriminatorOptions().spectral_norm is True
    assert ResidualGeneratorOptions().spectral_norm is False
    config = resolve(
        "dcgan-mnist",
        {"generator.name": "residual", "discriminator.name": "residual",
         "generator.attention": 14, "discriminator.blocks": 2},
    )  # fmt: skip
    assert isinstance(config.generator, ResidualGeneratorOptions)
    assert config.generator.attention == 14 and config.discriminator.blocks == 2
