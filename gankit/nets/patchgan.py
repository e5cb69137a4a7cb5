"""PatchGAN discriminator: one logit per overlapping image patch (Isola et al., 2017).

D sees the channel-concatenation of a conditioning input and an output image and returns
a map of logits, each judging one receptive-field-sized patch (70×70 at ``layers=3``) as
real or fake; the losses average over the map. pix2pix and CycleGAN (Zhu et al., 2017)
both use it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import Tensor, nn

from gankit.nets.dcgan import dcgan_init_
from gankit.nets.layers import apply_spectral_norm
from gankit.nets.registry import DISCRIMINATORS, NetError, NetOptions
from gankit.nets.unet import Norm, check_norm, norm2d


class PatchDiscriminatorOptions(NetOptions):
    """Options of the PatchGAN discriminator."""

    name: Literal["patchgan"] = "patchgan"
    layers: int = Field(
        3, ge=1, description="stride-2 convolutions; 3 gives 70×70 patches, 1 → 16, 2 → 34, 4 → 142"
    )
    width: int = Field(
        64, ge=1, description="channels of the first convolution (doubling inward, ≤ 8×)"
    )
    norm: Norm = Field(
        "batch",
        description="normalisation after each convolution but the first and the last; "
        "instance = InstanceNorm2d without affine or running statistics",
    )
    spectral_norm: bool = Field(
        False, description="spectral normalisation of every weight (Miyato et al., 2018)"
    )


def _kernels(layers: int) -> list[tuple[int, int, int]]:
    """(kernel, stride, padding) of every convolution of a PatchGAN with ``layers``."""
    return [(4, 2, 1)] * layers + [(4, 1, 1), (4, 1, 1)]


def receptive_field(layers: int) -> int:
    """Side of the input patch that one output logit sees, for a PatchGAN with ``layers``.

    Walking the convolutions backwards from one output unit, r ← (r − 1)·stride + kernel,
    starting at r = 1: 16, 34, 70, 142 for layers = 1, 2, 3, 4."""
    r = 1
    for kernel, stride, _ in reversed(_kernels(layers)):
        r = (r - 1) * stride + kernel
    return r


def output_size(size: int, layers: int) -> int:
    """Side of the logit map for an input side ``size``, or 0 when the input is too small.

    Each convolution maps h to ⌊(h + 2·padding − kernel) / stride⌋ + 1, so h → ⌊h/2⌋ at
    stride 2 and h → h − 1 at stride 1: 30 for 256 px at layers = 3, as the paper."""
    for kernel, stride, padding in _kernels(layers):
        size = (size + 2 * padding - kernel) // stride + 1
        if size < 1:
            return 0
    return size


def _check_fits(side: int, layers: int) -> None:
    if output_size(side, layers) >= 1:
        return
    fitting = [n for n in range(1, layers) if output_size(side, n) >= 1]
    if fitting:
        advice = f"the largest that fits is discriminator.layers={fitting[-1]}"
    else:
        smallest = next(s for s in range(1, 64) if output_size(s, 1) >= 1)
        advice = f"no depth fits; images need a side of at least {smallest}"
    raise NetError(
        f"discriminator.layers={layers} is too deep for images of side {side} "
        f"(the logit map would be empty); {advice}"
    )


@DISCRIMINATORS.register("patchgan", options=PatchDiscriminatorOptions)
class PatchDiscriminator(nn.Module):
    """PatchGAN: (B, C, H, W) → logit map (B, 1, h, w), one logit per 70×70 patch at
    ``layers=3`` (Isola et al., 2017, §3.2.2 and appendix 6.1.2).

    Conv(k4, s2, p1) + LeakyReLU(0.2) without norm; ``layers − 1`` more Conv(k4, s2, p1) +
    norm + LeakyReLU with channels doubling from ``width`` up to 8·width; one Conv(k4, s1,
    p1) + norm + LeakyReLU; Conv(k4, s1, p1) to one channel. ``in_channels`` is C_in + C_out
    for the concatenation (input, output). Weights ~ N(0, 0.02) as the paper; convolutions
    carry a bias only when no norm follows."""

    def __init__(
        self,
        in_channels: int,
        layers: int = 3,
        width: int = 64,
        norm: Norm = "batch",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_norm(norm, "discriminator")
        if layers < 1:
            raise NetError(f"discriminator.layers={layers} must be at least 1")
        self.layers = layers
        bias = norm == "none"
        net: list[nn.Module] = [
            nn.Conv2d(in_channels, width, 4, 2, 1),  # (B, C, H, W) → (B, width, H/2, W/2)
            nn.LeakyReLU(0.2),
        ]
        c = width
        for i in range(1, layers + 1):  # stride 2 up to i = layers − 1, then stride 1
            c_out = min(width << i, 8 * width)
            net += [
                nn.Conv2d(c, c_out, 4, 2 if i < layers else 1, 1, bias=bias),
                *norm2d(norm, c_out),
                nn.LeakyReLU(0.2),
            ]
            c = c_out
        net.append(nn.Conv2d(c, 1, 4, 1, 1))  # (B, 1, h, w)
        self.net = nn.Sequential(*net)
        dcgan_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)

    @property
    def receptive_field(self) -> int:
        """Side of the input patch that each output logit sees."""
        return receptive_field(self.layers)

    def forward(self, x: Tensor) -> Tensor:
        for side in x.shape[-2:]:
            _check_fits(side, self.layers)
        return self.net(x)
