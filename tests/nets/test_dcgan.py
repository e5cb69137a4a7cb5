import pytest
import torch
from torch import nn

from gankit.nets import (
    DISCRIMINATORS,
    GENERATORS,
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANGeneratorOptions,
    NetError,
    build_discriminator,
    build_generator,
    count_parameters,
    dcgan_layout,
)

VALID_UP_TO_64 = [8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_valid_sizes_are_exactly_b_times_power_of_two():
    expected = {b * 2**n for b in range(4, 8) for n in range(1, 10)}
    accepted = set()
    for size in range(1, 257):
        try:
            b, n = dcgan_layout(size)
        except NetError:
            continue
        assert b * 2**n == size and 4 <= b < 8 and n >= 1
        accepted.add(size)
    assert accepted == {s for s in expected if s <= 256}
    assert sorted(s for s in accepted if s <= 64) == VALID_UP_TO_64


@pytest.mark.parametrize(
    ("size", "layout"), [(8, (4, 1)), (14, (7, 1)), (28, (7, 2)), (32, (4, 3)), (64, (4, 4))]
)
def test_layout(size, layout):
    assert dcgan_layout(size) == layout


@pytest.mark.parametrize("size", VALID_UP_TO_64)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_valid_size_round_trips(size, channels):
    shape = (channels, size, size)
    g = DCGANGenerator(z_dim=16, out_shape=shape, width=8)
    d = DCGANDiscriminator(shape, width=8)
    fake = g(torch.randn(3, 16))
    assert fake.shape == (3, *shape)
    assert fake.min() >= -1.0 and fake.max() <= 1.0
    assert fake.std() > 0
    assert d(fake).shape == (3,)


@pytest.mark.parametrize("size", [9, 30, 36, 100, 4])
def test_invalid_sizes_list_the_valid_ones(size):
    listing = ", ".join(map(str, VALID_UP_TO_64))
    with pytest.raises(NetError, match=f"image size {size} cannot be built by dcgan") as err:
        dcgan_layout(size)
    assert listing in str(err.value)
    with pytest.raises(NetError, match=listing):
        DCGANGenerator(8, (1, size, size))
    with pytest.raises(NetError, match=listing):
        DCGANDiscriminator((3, size, size))


def test_nearest_valid_sizes_are_named():
    with pytest.raises(NetError, match=r"nearest: 28, 32$"):
        dcgan_layout(30)


def test_non_square_and_points_are_refused_with_the_config_key():
    with pytest.raises(NetError, match=r"generator\.name=dcgan needs square .*\(3, 32, 24\)"):
        DCGANGenerator(8, (3, 32, 24))
    with pytest.raises(
        NetError,
        match=r"^discriminator\.name=dcgan needs square images \(C, H, W\), but the data gives "
        r"points of shape \(2,\); use discriminator\.name=mlp$",
    ):
        build_discriminator(DCGANDiscriminatorOptions(), (2,))
    with pytest.raises(NetError, match=r"generator\.name=mlp$"):
        build_generator(DCGANGeneratorOptions(), 8, (2,), "tanh")


def test_bad_norm_names_the_key():
    with pytest.raises(NetError, match=r"generator\.norm='layer' is not one of: batch, none"):
        DCGANGenerator(8, (1, 8, 8), norm="layer")
    with pytest.raises(NetError, match=r"discriminator\.norm='group'"):
        DCGANDiscriminator((1, 8, 8), norm="group")


def _param_count_64_rgb(z_dim: int, width: int) -> tuple[int, int]:
    """By hand: conv k×k from a to b channels has a·b·k² weights (+ b biases when no BN
    follows); BatchNorm on c channels has 2c parameters. 64 = 4·2⁴, so b = 4, n = 4."""
    b, n, k = 4, 4, 4
    chans = [width * 2**i for i in range(n)]  # 64, 128, 256, 512
    g = z_dim * chans[-1] * b * b + 2 * chans[-1]  # projection + BN
    for hi, lo in zip(chans[:0:-1], chans[-2::-1], strict=True):  # 512→256→128→64
        g += hi * lo * k * k + 2 * lo
    g += chans[0] * 3 * k * k + 3  # to RGB, with bias
    d = 3 * chans[0] * k * k + chans[0]  # first conv, bias, no norm
    for lo, hi in zip(chans[:-1], chans[1:], strict=True):  # 64→128→256→512
        d += lo * hi * k * k + 2 * hi
    d += chans[-1] * b * b + 1  # b×b conv to one logit, with bias
    return g, d


def test_parameter_count_of_64_rgb_dcgan():
    g_count, d_count = _param_count_64_rgb(z_dim=100, width=64)
    assert (g_count, d_count) == (3_576_707, 2_765_633)
    g = build_generator(DCGANGeneratorOptions(), 100, (3, 64, 64), "tanh")
    d = build_discriminator(DCGANDiscriminatorOptions(), (3, 64, 64))
    assert count_parameters(g) == g_count
    assert count_parameters(d) == d_count


def test_init_statistics():
    g = DCGANGenerator(100, (3, 64, 64))
    d = DCGANDiscriminator((3, 64, 64))
    modules = [m for net in (g, d) for m in net.modules()]
    convs = [m for m in modules if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear)]
    assert len(convs) == 10
    for conv in convs:
        w = conv.weight
        assert w.std().item() == pytest.approx(0.02, rel=0.1)
        assert w.mean().item() == pytest.approx(0.0, abs=0.002)
        if conv.bias is not None:
            assert torch.count_nonzero(conv.bias) == 0
    norms = [m for m in modules if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 7
    for bn in norms:
        assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)
        assert bn.weight.std().item() == pytest.approx(0.02, rel=0.4)
        assert torch.count_nonzero(bn.bias) == 0
        assert bn.bias is not None


def test_no_bias_before_batchnorm():
    g = DCGANGenerator(16, (3, 32, 32), width=8)
    layers = list(g.net)
    for conv, following in zip(layers, layers[1:], strict=False):
        if isinstance(conv, nn.ConvTranspose2d):
            assert (conv.bias is None) == isinstance(following, nn.BatchNorm2d)


@pytest.mark.parametrize(("norm", "norm_type"), [("none", None), ("layer", nn.GroupNorm)])
def test_discriminator_without_batchnorm(norm, norm_type):
    d = DCGANDiscriminator((3, 32, 32), width=8, norm=norm)
    kinds = {type(m) for m in d.modules()}
    assert nn.BatchNorm2d not in kinds
    assert sum(isinstance(m, nn.GroupNorm) for m in d.modules()) == (2 if norm_type else 0)
    x = torch.randn(4, 3, 32, 32)
    # Without batch statistics each sample's logit depends on that sample only.
    torch.testing.assert_close(d(x)[:2], d(x[:2]))


def test_generator_without_batchnorm():
    g = DCGANGenerator(16, (1, 28, 28), width=8, norm="none")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    assert g(torch.randn(2, 16)).shape == (2, 1, 28, 28)


def test_gradients_reach_every_generator_parameter():
    g = DCGANGenerator(16, (3, 16, 16), width=8)
    d = DCGANDiscriminator((3, 16, 16), width=8)
    d(g(torch.randn(4, 16))).sum().backward()
    for name, p in g.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


def test_features_and_head():
    d = DCGANDiscriminator((1, 28, 28), width=8)
    d.eval()
    x = torch.randn(5, 1, 28, 28)
    features = d.features(x)
    assert features.shape == (5, 16 * 7 * 7)  # width·2^(n−1) channels at b×b, b = 7, n = 2
    torch.testing.assert_close(d(x), d.head(features))


def test_out_activation_none_is_unbounded():
    g = build_generator(DCGANGeneratorOptions(width=8), 16, (1, 8, 8), "none")
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())
    tanh = build_generator(DCGANGeneratorOptions(width=8), 16, (1, 8, 8), "tanh")
    assert sum(isinstance(m, nn.Tanh) for m in tanh.modules()) == 1


def test_registered_with_options_and_summary():
    assert GENERATORS.entry("dcgan").options is DCGANGeneratorOptions
    assert DISCRIMINATORS.entry("dcgan").options is DCGANDiscriminatorOptions
    assert GENERATORS.entry("dcgan").summary.startswith("DCGAN generator")
    assert DCGANDiscriminatorOptions().width == 64
    assert DCGANDiscriminatorOptions().norm == "batch"
    with pytest.raises(ValueError, match="widht"):
        DCGANGeneratorOptions(widht=32)


def test_wrong_options_type_is_refused():
    with pytest.raises(NetError, match="generator.name=dcgan takes DCGANGeneratorOptions"):
        build_generator(DCGANDiscriminatorOptions(), 8, (1, 8, 8), "tanh")
