import pytest
import torch
from torch import nn

from gankit.nets import NetError, count_parameters
from gankit.nets.patchgan import (
    PatchDiscriminator,
    PatchDiscriminatorOptions,
    output_size,
    receptive_field,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(("layers", "field"), [(1, 16), (2, 34), (3, 70), (4, 142), (5, 286)])
def test_receptive_field_analytic(layers, field):
    assert receptive_field(layers) == field
    assert PatchDiscriminator(2, layers=layers, width=2).receptive_field == field


def _seen_by_central_logit(d: PatchDiscriminator, size: int) -> torch.Tensor:
    """Input pixels with a non-zero gradient of the central logit: with all weights positive
    and norm none, no two paths cancel, so this is exactly the receptive field."""
    with torch.no_grad():
        for p in d.parameters():
            p.fill_(0.5)
    x = torch.rand(1, 2, size, size, dtype=torch.float64, requires_grad=True)
    logits = d.double()(x)
    h, w = logits.shape[-2:]
    logits[0, 0, h // 2, w // 2].backward()
    return x.grad[0].abs().sum(0) > 0


@pytest.mark.parametrize(("layers", "size"), [(1, 40), (2, 64), (3, 128), (4, 256)])
def test_receptive_field_measured(layers, size):
    seen = _seen_by_central_logit(PatchDiscriminator(2, layers, width=2, norm="none"), size)
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    assert rows.min() > 0 and cols.min() > 0  # not clipped by the border
    assert rows.max() < size - 1 and cols.max() < size - 1
    assert rows.max() - rows.min() + 1 == receptive_field(layers)
    assert cols.max() - cols.min() + 1 == receptive_field(layers)
    assert seen.sum() == receptive_field(layers) ** 2  # a full square


# side of the logit map by hand: k4 s2 p1 halves (rounding down), k4 s1 p1 takes one off
@pytest.mark.parametrize(
    ("size", "layers", "side"),
    [
        (8, 1, 2),
        (16, 1, 6),
        (16, 2, 2),
        (28, 2, 5),
        (28, 3, 1),
        (32, 3, 2),
        (64, 3, 6),
        (128, 3, 14),
    ],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_logit_map_shape(size, layers, side, channels):
    assert output_size(size, layers) == side
    d = PatchDiscriminator(2 * channels, layers, width=8)
    pair = torch.cat(
        [torch.randn(3, channels, size, size), torch.randn(3, channels, size, size)], 1
    )
    assert d(pair).shape == (3, 1, side, side)


def test_paper_size_and_non_square():
    d = PatchDiscriminator(6, width=4)
    assert d(torch.randn(1, 6, 256, 256)).shape == (1, 1, 30, 30)  # the paper's 30×30 map
    assert d(torch.randn(2, 6, 32, 64)).shape == (2, 1, 2, 6)


@pytest.mark.parametrize(
    ("size", "layers", "advice"),
    [
        (16, 3, "the largest that fits is discriminator.layers=2"),
        (8, 3, "the largest that fits is discriminator.layers=1"),
        (27, 4, "the largest that fits is discriminator.layers=3"),
        (5, 1, "no depth fits; images need a side of at least 6"),
    ],
)
def test_too_small_input_names_the_key(size, layers, advice):
    assert output_size(size, layers) == 0
    d = PatchDiscriminator(2, layers, width=2)
    with pytest.raises(
        NetError,
        match=rf"^discriminator\.layers={layers} is too deep for images of side {size} "
        rf"\(the logit map would be empty\); {advice}$",
    ):
        d(torch.randn(1, 2, size, size))
    with pytest.raises(NetError, match=rf"side {size}"):
        d(torch.randn(1, 2, 64, size))


def test_bad_layers_and_norm_are_refused():
    with pytest.raises(NetError, match=r"discriminator\.layers=0 must be at least 1"):
        PatchDiscriminator(2, layers=0)
    with pytest.raises(NetError, match=r"discriminator\.norm='layer' is not one of"):
        PatchDiscriminator(2, norm="layer")


def _param_count(width: int, layers: int, channels: int) -> int:
    """By hand: a k4 convolution from a to b channels has 16ab weights, + b biases when no
    norm follows; BatchNorm on c channels has 2c parameters."""
    w = [min(width * 2**i, 8 * width) for i in range(layers + 1)]
    count = 16 * channels * w[0] + w[0]
    count += sum(16 * a * b + 2 * b for a, b in zip(w[:-1], w[1:], strict=True))
    return count + 16 * w[-1] + 1


def test_parameter_count_of_the_paper_patchgan():
    assert _param_count(64, 3, 6) == 2_768_705  # 70×70 PatchGAN on RGB pairs, 2.77 M
    assert count_parameters(PatchDiscriminator(6, width=8)) == _param_count(8, 3, 6)
    assert count_parameters(PatchDiscriminator(2, 5, width=4)) == _param_count(4, 5, 2)


def test_layout_and_norms():
    d = PatchDiscriminator(6, layers=3, width=4)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.stride[0], c.out_channels) for c in convs] == [
        (2, 4),
        (2, 8),
        (2, 16),
        (1, 32),
        (1, 1),
    ]
    assert [c.bias is not None for c in convs] == [True, False, False, False, True]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 3
    widths = [
        m.out_channels
        for m in PatchDiscriminator(6, 5, width=4).modules()
        if isinstance(m, nn.Conv2d)
    ]
    assert widths == [4, 8, 16, 32, 32, 32, 1]
    instance = PatchDiscriminator(6, width=4, norm="instance")
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in instance.modules()) == 3
    plain = PatchDiscriminator(6, width=4, norm="none")
    assert all(m.bias is not None for m in plain.modules() if isinstance(m, nn.Conv2d))


def test_spectral_norm_on_every_conv():
    d = PatchDiscriminator(6, width=4, spectral_norm=True)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 5
    for conv in convs:
        assert hasattr(conv, "parametrizations")
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), 2)
        assert sigma.item() == pytest.approx(1.0, abs=0.05)
    plain = PatchDiscriminator(6, width=4)
    assert not any(hasattr(m, "parametrizations") for m in plain.modules())
    assert d(torch.randn(2, 6, 32, 32)).shape == (2, 1, 2, 2)


def test_options():
    options = PatchDiscriminatorOptions()
    assert options.model_dump() == {
        "name": "patchgan",
        "layers": 3,
        "width": 64,
        "norm": "batch",
        "spectral_norm": False,
    }
    with pytest.raises(ValueError, match="layer"):
        PatchDiscriminatorOptions(layer=2)
    with pytest.raises(ValueError, match="layers"):
        PatchDiscriminatorOptions(layers=0)
