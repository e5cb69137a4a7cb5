import copy

import pytest
import torch
from torch import nn

from gankit.nets import NetError, count_parameters
from gankit.nets.unet import UNetGenerator, UNetGeneratorOptions, auto_depth

SIZES = [8, 16, 28, 32, 64, 128]
DEPTHS = {8: 3, 16: 4, 28: 2, 32: 5, 64: 6, 128: 7, 256: 8}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(("size", "depth"), [*DEPTHS.items(), (512, 8), (24, 3), (14, 1)])
def test_auto_depth_halves_while_even(size, depth):
    assert auto_depth(size) == depth
    assert UNetGenerator(1, 1, size, width=2).depth == depth


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("c_in", "c_out"), [(1, 1), (3, 3), (1, 3), (3, 1)])
def test_output_shape_and_range(size, c_in, c_out):
    g = UNetGenerator(c_in, c_out, size, width=8)
    y = g(torch.randn(2, c_in, size, size))
    assert y.shape == (2, c_out, size, size)
    assert -1.0 <= y.min() < y.max() <= 1.0


def test_paper_size_at_batch_one():
    g = UNetGenerator(3, 3, 256, width=4)
    assert g(torch.randn(1, 3, 256, 256)).shape == (1, 3, 256, 256)


@pytest.mark.parametrize("size", [*SIZES, 256])
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_trains_at_batch_size_one(size, norm):
    g = UNetGenerator(3, 3, size, width=4, norm=norm).train()
    g(torch.randn(1, 3, size, size)).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def _param_count(width: int, depth: int, c_in: int, c_out: int) -> int:
    """By hand: a k4 convolution from a to b channels has 16ab weights, + b biases when no
    norm follows; BatchNorm on c channels has 2c parameters."""
    w = [min(width * 2**i, 8 * width) for i in range(depth)]
    count = 16 * c_in * w[0] + w[0]  # outermost encoder: bias, no norm
    count += sum(16 * a * b + 2 * b for a, b in zip(w[:-2], w[1:-1], strict=True))
    count += 16 * w[-2] * w[-1] + w[-1]  # bottleneck: bias, no norm
    count += 16 * w[-1] * w[-2] + 2 * w[-2]  # innermost decoder: reads the bottleneck only
    count += sum(16 * 2 * b * a + 2 * a for a, b in zip(w[:-2], w[1:-1], strict=True))
    return count + 16 * 2 * w[0] * c_out + c_out  # to the image, with bias


def test_parameter_count_of_the_paper_unet():
    # 54.4 M for the 256 px pix2pix generator (Isola et al., 2017)
    assert _param_count(64, 8, 3, 3) == 54_414_531
    assert count_parameters(UNetGenerator(3, 3, 256, width=8)) == _param_count(8, 8, 3, 3)
    assert count_parameters(UNetGenerator(1, 3, 28, width=8)) == _param_count(8, 2, 1, 3)


@pytest.mark.parametrize(("size", "norms"), [(256, 13), (32, 7), (28, 1), (8, 3)])
def test_no_norm_on_outermost_and_bottleneck(size, norms):
    # depth D: D − 2 normed encoder layers and D − 1 normed decoder layers
    g = UNetGenerator(3, 3, size, width=2)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == norms == 2 * g.depth - 3
    outermost, innermost = g.down[0], g.down[-1]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in [*outermost, *innermost])
    g = UNetGenerator(3, 3, size, width=2, norm="instance")
    norms_in = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms_in) == norms
    assert not any(m.affine or m.track_running_stats for m in norms_in)
    assert not any(
        isinstance(m, nn.BatchNorm2d | nn.InstanceNorm2d)
        for m in UNetGenerator(3, 3, size, width=2, norm="none").modules()
    )


@pytest.mark.parametrize(("size", "layers"), [(256, 3), (32, 3), (16, 3), (8, 2), (28, 1)])
def test_dropout_on_the_innermost_decoder_layers(size, layers):
    assert UNetGenerator(1, 1, size, width=2).dropout_layers == layers


def _kaiming(g: UNetGenerator) -> UNetGenerator:
    """Scale-preserving weights, so that neither the deep path nor the skips fade at init."""
    for m in g.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_normal_(m.weight, a=0.2 if isinstance(m, nn.Conv2d) else 0.0)
    return g


def _without_skips(g: UNetGenerator) -> UNetGenerator:
    """A copy whose decoder ignores the skip channels: the output sees x only through the
    bottleneck."""
    cut = copy.deepcopy(g)
    with torch.no_grad():
        for layer in list(cut.up)[1:]:
            conv = layer[0]
            conv.weight[conv.in_channels // 2 :] = 0  # input channels [decoder, skip]
    return cut.eval()


def _sensitivity(g: UNetGenerator, x: torch.Tensor, i: int, j: int) -> torch.Tensor:
    """|∂y[i, j] / ∂x|, the (32, 32) map of how much each input pixel moves output pixel (i, j)."""
    x = x.clone().requires_grad_()
    g(x)[0, 0, i, j].backward()
    return x.grad[0, 0].abs()


def test_skip_connections_carry_local_detail():
    g = _kaiming(
        UNetGenerator(1, 1, 32, width=8, norm="none", dropout=0.0, out_activation="none")
    ).eval()
    cut = _without_skips(g)
    x = torch.randn(1, 1, 32, 32)
    assert not torch.allclose(g(x), cut(x), atol=1e-3)
    i, j = 13, 18
    full, bottleneck = _sensitivity(g, x, i, j), _sensitivity(cut, x, i, j)
    near_full, near_cut = (
        full[i - 1 : i + 2, j - 1 : j + 2].max(),
        bottleneck[i - 1 : i + 2, j - 1 : j + 2].max(),
    )
    # Through the skips an output pixel depends mostly on the input pixels around it ...
    assert near_full > 10 * full.mean()
    assert near_full > 20 * near_cut
    # ... through the 1×1 bottleneck alone it depends on every input pixel, none in particular.
    assert (bottleneck > 0).all()
    assert near_cut < 10 * bottleneck.mean()


def test_eval_samples_differ_only_with_sample_dropout():
    x = torch.randn(2, 3, 32, 32)
    g = _kaiming(UNetGenerator(3, 3, 32, width=8)).eval()
    assert g.sample_dropout
    a, b = g(x), g(x)
    assert (a - b).abs().max() > 0.5
    g.sample_dropout = False
    a, b = g(x), g(x)
    assert torch.equal(a, b)
    g.train()
    assert (g(x) - g(x)).abs().max() > 0.5
    fixed = UNetGenerator(3, 3, 32, width=8, sample_dropout=False).eval()
    assert torch.equal(fixed(x), fixed(x))
    no_dropout = UNetGenerator(3, 3, 32, width=8, dropout=0.0, norm="instance").train()
    assert torch.equal(no_dropout(x), no_dropout(x))


def test_out_activation_none_is_unbounded():
    g = UNetGenerator(1, 1, 16, width=8, out_activation="none")
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())
    assert sum(isinstance(m, nn.Tanh) for m in UNetGenerator(1, 1, 16, width=8).modules()) == 1


@pytest.mark.parametrize(
    ("size", "depth", "valid"), [(28, 3, "1, 2"), (32, 6, "1, 2, 3, 4, 5"), (8, 0, "1, 2, 3")]
)
def test_bad_depth_names_the_key(size, depth, valid):
    with pytest.raises(
        NetError,
        match=rf"^generator\.depth={depth} does not fit image size {size}, which must be a "
        rf"multiple of 2\*\*depth; valid depths: {valid}$",
    ):
        UNetGenerator(1, 1, size, depth=depth)
    assert UNetGenerator(1, 1, size, width=2, depth=1).depth == 1


def test_odd_size_and_bad_norm_are_refused():
    with pytest.raises(NetError, match="image size 27 cannot be built by unet"):
        UNetGenerator(1, 1, 27)
    with pytest.raises(
        NetError, match=r"generator\.norm='layer' is not one of: batch, instance, none"
    ):
        UNetGenerator(1, 1, 32, norm="layer")


def test_options():
    options = UNetGeneratorOptions()
    assert (options.name, options.width, options.depth, options.norm) == ("unet", 64, None, "batch")
    assert (options.dropout, options.sample_dropout) == (0.5, True)
    g = UNetGenerator(3, 3, 32, **options.model_dump(exclude={"name"}) | {"width": 4})
    assert g.depth == 5
    with pytest.raises(ValueError, match="dropuot"):
        UNetGeneratorOptions(dropuot=0.1)
    with pytest.raises(ValueError, match="depth"):
        UNetGeneratorOptions(depth=0)
