import pytest
import torch
from torch import nn

from gankit.nets import NetError, count_parameters
from gankit.nets.resnet_generator import (
    PAPER_128,
    PAPER_256,
    SMALL,
    ResnetBlock,
    ResnetGenerator,
    ResnetGeneratorOptions,
)

SIZES = [8, 16, 28, 32, 64, 128]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _fields(options: ResnetGeneratorOptions) -> dict[str, object]:
    return options.model_dump(exclude={"name"})


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("c_in", "c_out"), [(1, 1), (3, 3), (3, 1)])
def test_output_shape_and_range(size, c_in, c_out):
    g = ResnetGenerator(c_in, c_out, size, width=8, blocks=2)
    y = g(torch.randn(2, c_in, size, size))
    assert y.shape == (2, c_out, size, size)
    assert -1.0 <= y.min() < y.max() <= 1.0
    assert y.std() > 0.01


def test_output_saturates_inside_the_tanh_range():
    g = ResnetGenerator(3, 3, 16, width=8, blocks=1)
    with torch.no_grad():
        g.net[-2].weight.mul_(1e4)  # push the last convolution deep into saturation
    with torch.no_grad():
        y = g(torch.randn(2, 3, 16, 16))
    assert y.min() >= -1.0 and y.max() <= 1.0
    assert y.min() == pytest.approx(-1.0, abs=1e-6)
    assert y.max() == pytest.approx(1.0, abs=1e-6)
    unbounded = ResnetGenerator(3, 3, 16, width=8, blocks=1, out_activation="none")
    assert not any(isinstance(m, nn.Tanh) for m in unbounded.modules())


@pytest.mark.parametrize("norm", ["instance", "batch", "none"])
def test_residual_block_preserves_shape_and_adds(norm):
    block = ResnetBlock(8, norm)
    x = torch.randn(2, 8, 7, 5)
    assert block(x).shape == x.shape
    torch.testing.assert_close(block(x), x + block.body(x))
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.zero_()
                if m.bias is not None:
                    m.bias.zero_()
    torch.testing.assert_close(block(x), x)  # F ≡ 0: the identity


@pytest.mark.parametrize(("options", "size"), [(SMALL, 28), (SMALL, 32), (PAPER_128, 128)])
def test_variants_build(options, size):
    fields = _fields(options) | ({"width": 4} if size == 128 else {})
    g = ResnetGenerator(1, 1, size, **fields)
    assert sum(isinstance(m, ResnetBlock) for m in g.modules()) == options.blocks
    assert g(torch.randn(1, 1, size, size)).shape == (1, 1, size, size)


def test_variant_fields():
    assert (PAPER_256.width, PAPER_256.blocks, PAPER_256.downsamplings) == (64, 9, 2)
    assert (PAPER_128.width, PAPER_128.blocks, PAPER_128.downsamplings) == (64, 6, 2)
    assert (SMALL.width, SMALL.blocks, SMALL.downsamplings) == (32, 3, 2)
    assert PAPER_256 == ResnetGeneratorOptions()
    assert {PAPER_256.norm, PAPER_128.norm, SMALL.norm} == {"instance"}


def _param_count(width: int, blocks: int, channels: int) -> int:
    """By hand, two downsamplings and instance norm (no parameters): a k×k convolution from
    a to b channels has k²ab weights, and no bias before a norm."""
    count = 49 * channels * width  # c7s1-w
    count += 9 * width * 2 * width + 9 * 2 * width * 4 * width  # d2w, d4w
    count += blocks * 2 * 9 * (4 * width) ** 2  # R4w
    count += 9 * 4 * width * 2 * width + 9 * 2 * width * width  # u2w, uw
    return count + 49 * width * channels + channels  # c7s1-C, with bias


def test_parameter_count():
    assert _param_count(64, 9, 3) == 11_372_931  # the 256 px CycleGAN generator, 11.4 M
    assert count_parameters(ResnetGenerator(3, 3, 32, width=8, blocks=3)) == _param_count(8, 3, 3)
    batch = ResnetGenerator(3, 3, 32, width=8, blocks=3, norm="batch")
    bn_channels = 8 + 16 + 32 + 3 * 2 * 32 + 16 + 8
    assert count_parameters(batch) == _param_count(8, 3, 3) + 2 * bn_channels


@pytest.mark.parametrize(
    ("size", "downsamplings", "valid"),
    [(28, 3, "0, 1, 2"), (32, 5, "0, 1, 2, 3, 4"), (8, 3, "0, 1, 2"), (12, 4, "0, 1, 2")],
)
def test_bad_downsamplings_names_the_key(size, downsamplings, valid):
    with pytest.raises(
        NetError,
        match=rf"^generator\.downsamplings={downsamplings} does not fit image size {size}, "
        rf"which must be a multiple of 2\*\*downsamplings leaving a side ≥ 2; valid: {valid}$",
    ):
        ResnetGenerator(1, 1, size, downsamplings=downsamplings)


def test_without_blocks_the_bottleneck_may_be_one_pixel():
    g = ResnetGenerator(1, 1, 8, width=4, blocks=0, downsamplings=3, norm="none")
    assert g(torch.randn(2, 1, 8, 8)).shape == (2, 1, 8, 8)
    with pytest.raises(NetError, match=r"side ≥ 1; valid: 0, 1, 2, 3$"):
        ResnetGenerator(1, 1, 8, blocks=0, downsamplings=4)


def test_tiny_size_and_bad_norm_are_refused():
    with pytest.raises(NetError, match="image size 2 cannot be built by resnet"):
        ResnetGenerator(1, 1, 2, downsamplings=0)
    with pytest.raises(
        NetError, match=r"generator\.norm='layer' is not one of: batch, instance, none"
    ):
        ResnetGenerator(1, 1, 32, norm="layer")


def test_options_reject_unknown_keys():
    with pytest.raises(ValueError, match="block"):
        ResnetGeneratorOptions(block=3)
    with pytest.raises(ValueError, match="downsamplings"):
        ResnetGeneratorOptions(downsamplings=-1)
