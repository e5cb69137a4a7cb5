"""U-Net generator for paired image-to-image translation, pix2pix (Isola et al., 2017).

An encoder of ``depth`` stride-2 convolutions shrinks a size-s image to s/2^depth; a
mirrored decoder of stride-2 transposed convolutions grows it back, each decoder layer
reading the previous decoder output concatenated with the encoder output of the same
resolution (the skip connections), so that detail need not pass through the bottleneck.
Dropout in the decoder is pix2pix's only source of noise, and stays on when sampling.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from gankit.nets.dcgan import dcgan_init_
from gankit.nets.layers import make_activation
from gankit.nets.registry import GENERATORS, NetError, NetOptions

Norm = Literal["batch", "instance", "none"]

_NORMS = ("batch", "instance", "none")
_MAX_AUTO_DEPTH = 8  # 256 px → 1×1, the paper's U-Net
_DROPOUT_LAYERS = 3  # innermost decoder layers with dropout, as the paper


class UNetGeneratorOptions(NetOptions):
    """Options of the U-Net generator."""

    name: Literal["unet"] = "unet"
    width: int = Field(
        64, ge=1, description="channels of the outermost encoder layer (doubling inward, ≤ 8×)"
    )
    depth: int | None = Field(
        None,
        ge=1,
        description="stride-2 encoder layers, size % 2**depth == 0; None = halve while the "
        "side is even and > 1, at most 8 times (256 → 8, 32 → 5, 28 → 2)",
    )
    norm: Norm = Field(
        "batch",
        description="normalisation of the hidden layers but the outermost and innermost; "
        "instance = InstanceNorm2d without affine or running statistics",
    )
    dropout: float = Field(
        0.5, ge=0, lt=1, description="dropout probability on the three innermost decoder layers"
    )
    sample_dropout: bool = Field(
        True, description="keep dropout on in eval mode, as pix2pix's noise when sampling"
    )


def check_norm(norm: str, role: str) -> None:
    """Refuse a normalisation name other than batch, instance or none, naming ``{role}.norm``."""
    if norm not in _NORMS:
        raise NetError(f"{role}.norm={norm!r} is not one of: {', '.join(_NORMS)}")


def norm2d(norm: str, channels: int) -> list[nn.Module]:
    """The normalisation layer named ``norm`` for ``channels`` feature maps, or none.

    ``batch`` is BatchNorm2d; ``instance`` is InstanceNorm2d without affine parameters or
    running statistics (Ulyanov et al., 2016), as pix2pix and CycleGAN use it."""
    if norm == "batch":
        return [nn.BatchNorm2d(channels)]
    if norm == "instance":
        return [nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)]
    return []


def auto_depth(size: int) -> int:
    """Encoder depth for a size-s image: halvings while the side is even and > 1, at most 8."""
    depth = 0
    while size % 2 == 0 and size > 1 and depth < _MAX_AUTO_DEPTH:
        size //= 2
        depth += 1
    return depth


def _check_depth(size: int, depth: int | None) -> int:
    valid = [d for d in range(1, size.bit_length()) if size % (1 << d) == 0]
    if not valid:
        raise NetError(f"image size {size} cannot be built by unet: the side must be even")
    if depth is None:
        return auto_depth(size)
    if depth not in valid:
        raise NetError(
            f"generator.depth={depth} does not fit image size {size}, which must be a multiple "
            f"of 2**depth; valid depths: {', '.join(map(str, valid))}"
        )
    return depth


@GENERATORS.register("unet", options=UNetGeneratorOptions)
class UNetGenerator(nn.Module):
    """pix2pix U-Net: x (B, C_in, s, s) → y (B, C_out, s, s) (Isola et al., 2017, §3.2.1).

    Encoder layer i (1 … depth) is Conv(k4, s2, p1) + norm + LeakyReLU(0.2) with
    min(width·2^(i−1), 8·width) channels, without norm on the outermost layer (i = 1) and
    on the innermost (the bottleneck; this also keeps batch norm defined at batch size 1
    with a 1×1 bottleneck). Decoder layer i mirrors it: ConvTranspose(k4, s2, p1) + norm +
    ReLU reading [decoder output, encoder output i] along channels; the outermost maps to
    ``out_channels`` with ``out_activation`` and no norm. Dropout p = ``dropout`` follows the
    three innermost decoder layers (fewer when the decoder has fewer hidden layers); it is
    on in training mode, and in eval mode while the attribute ``sample_dropout`` is True.
    Weights ~ N(0, 0.02) as the paper; convolutions carry a bias only when no norm follows.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        size: int,
        width: int = 64,
        depth: int | None = None,
        norm: Norm = "batch",
        dropout: float = 0.5,
        sample_dropout: bool = True,
        out_activation: Literal["tanh", "none"] = "tanh",
    ) -> None:
        super().__init__()
        check_norm(norm, "generator")
        self.depth = _check_depth(size, depth)
        self.dropout = dropout
        self.sample_dropout = sample_dropout
        self.dropout_layers = min(_DROPOUT_LAYERS, self.depth - 1)
        widths = [min(width << i, 8 * width) for i in range(self.depth)]

        down: list[nn.Module] = []
        c = in_channels
        for i, w in enumerate(widths):  # (B, c, h, h) → (B, w, h/2, h/2)
            normed = 0 < i < self.depth - 1
            down.append(
                nn.Sequential(
                    nn.Conv2d(c, w, 4, 2, 1, bias=not (normed and norm != "none")),
                    *(norm2d(norm, w) if normed else []),
                    nn.LeakyReLU(0.2),
                )
            )
            c = w

        up: list[nn.Module] = []
        for i in reversed(range(1, self.depth)):  # innermost first, ends at s/2
            c_in = widths[i] if i == self.depth - 1 else 2 * widths[i]  # with the skip
            up.append(
                nn.Sequential(
                    nn.ConvTranspose2d(c_in, widths[i - 1], 4, 2, 1, bias=norm == "none"),
                    *norm2d(norm, widths[i - 1]),
                    nn.ReLU(),
                )
            )
        c_in = widths[0] if self.depth == 1 else 2 * widths[0]
        up.append(
            nn.Sequential(
                nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1),  # (B, C_out, s, s)
                make_activation(out_activation),
            )
        )
        self.down = nn.ModuleList(down)
        self.up = nn.ModuleList(up)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = skips.pop()  # the bottleneck, (B, 8·width, s/2^depth, s/2^depth) at full depth
        for i, layer in enumerate(self.up):
            if i > 0:
                x = torch.cat([x, skips.pop()], dim=1)  # (B, 2·w_i, h, h)
            x = layer(x)
            if i < self.dropout_layers:
                x = F.dropout(x, self.dropout, training=self.training or self.sample_dropout)
        return x
