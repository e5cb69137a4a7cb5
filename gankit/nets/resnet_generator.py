"""ResNet generator for unpaired image-to-image translation, CycleGAN (Zhu et al., 2017).

The network of Johnson, Alahi & Fei-Fei (2016) as CycleGAN configures it: a 7×7 convolution,
``downsamplings`` stride-2 convolutions, ``blocks`` residual blocks at the lowest resolution,
mirrored transposed convolutions back up, a 7×7 convolution to the output. The paper uses 6
blocks for 128 px images and 9 for 256 px (:data:`PAPER_128`, :data:`PAPER_256`);
:data:`SMALL` is a lighter variant for 28–32 px images.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import Tensor, nn

from gankit.nets.dcgan import dcgan_init_
from gankit.nets.layers import make_activation
from gankit.nets.registry import GENERATORS, NetError, NetOptions
from gankit.nets.unet import Norm, check_norm, norm2d


class ResnetGeneratorOptions(NetOptions):
    """Options of the ResNet generator."""

    name: Literal["resnet"] = "resnet"
    width: int = Field(64, ge=1, description="channels of the first 7×7 convolution")
    blocks: int = Field(
        9, ge=0, description="residual blocks at the lowest resolution: 9 for 256 px, 6 for 128"
    )
    downsamplings: int = Field(
        2, ge=0, description="stride-2 convolutions (doubling the channels); size % 2**it == 0"
    )
    norm: Norm = Field(
        "instance",
        description="normalisation after every convolution but the last; "
        "instance = InstanceNorm2d without affine or running statistics",
    )


PAPER_256 = ResnetGeneratorOptions(blocks=9)
"""CycleGAN's generator for 256×256 images: c7s1-64, d128, d256, nine R256, u128, u64,
c7s1-3 (Zhu et al., 2017, appendix 7.2)."""

PAPER_128 = ResnetGeneratorOptions(blocks=6)
"""CycleGAN's generator for 128×128 images: as :data:`PAPER_256` with six residual blocks."""

SMALL = ResnetGeneratorOptions(width=32, blocks=3)
"""For 28–32 px images: half the paper's width and three blocks. At the 7×7 or 8×8
bottleneck the three blocks already give each unit a 61 px receptive field (7 from the
first convolution, +2 and +4 from the downsamplings, +16 per block), wider than the image."""


class ResnetBlock(nn.Module):
    """Residual block x + F(x) with F = pad1, conv3, norm, ReLU, pad1, conv3, norm, the pads
    reflecting (He et al., 2016; Johnson et al., 2016). Shape preserving."""

    def __init__(self, channels: int, norm: Norm = "instance") -> None:
        super().__init__()
        check_norm(norm, "generator")
        bias = norm == "none"
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            *norm2d(norm, channels),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            *norm2d(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def _check_downsamplings(size: int, downsamplings: int, blocks: int) -> None:
    """The side must halve exactly; a side below 2 cannot be reflection-padded by 1."""
    smallest = 2 if blocks > 0 else 1
    valid = [d for d in range(size.bit_length()) if size % (1 << d) == 0 and size >> d >= smallest]
    if size < 4:
        raise NetError(f"image size {size} cannot be built by resnet: the side must be ≥ 4")
    if downsamplings not in valid:
        raise NetError(
            f"generator.downsamplings={downsamplings} does not fit image size {size}, which must "
            f"be a multiple of 2**downsamplings leaving a side ≥ {smallest}; valid: "
            f"{', '.join(map(str, valid))}"
        )


@GENERATORS.register("resnet", options=ResnetGeneratorOptions)
class ResnetGenerator(nn.Module):
    """CycleGAN's ResNet generator: x (B, C_in, s, s) → y (B, C_out, s, s)
    (Zhu et al., 2017, appendix 7.2; Johnson et al., 2016).

    c7s1-w: ReflectionPad(3), Conv k7, norm, ReLU; ``downsamplings`` × Conv(k3, s2, p1) +
    norm + ReLU doubling the channels; ``blocks`` × :class:`ResnetBlock`; ``downsamplings``
    × ConvTranspose(k3, s2, p1, output_padding 1) + norm + ReLU halving them; ReflectionPad(3),
    Conv k7 to ``out_channels``, ``out_activation``. Weights ~ N(0, 0.02) as the paper;
    convolutions carry a bias only when no norm follows."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        size: int,
        width: int = 64,
        blocks: int = 9,
        downsamplings: int = 2,
        norm: Norm = "instance",
        out_activation: Literal["tanh", "none"] = "tanh",
    ) -> None:
        super().__init__()
        check_norm(norm, "generator")
        _check_downsamplings(size, downsamplings, blocks)
        bias = norm == "none"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, width, 7, bias=bias),  # (B, width, s, s)
            *norm2d(norm, width),
            nn.ReLU(),
        ]
        c = width
        for _ in range(downsamplings):  # (B, c, h, h) → (B, 2c, h/2, h/2)
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), *norm2d(norm, 2 * c), nn.ReLU()]
            c *= 2
        layers += [ResnetBlock(c, norm) for _ in range(blocks)]
        for _ in range(downsamplings):  # (B, c, h, h) → (B, c/2, 2h, 2h)
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                *norm2d(norm, c // 2),
                nn.ReLU(),
            ]
            c //= 2
        layers += [
            nn.ReflectionPad2d(3),
            nn.Conv2d(c, out_channels, 7),  # (B, C_out, s, s)
            make_activation(out_activation),
        ]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
