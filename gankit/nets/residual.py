"""Residual generator and discriminator for square images (SNGAN, BigGAN family).

The ResNet GAN of Gulrajani et al. (2017, CIFAR-10 ResNet) and Miyato et al. (2018, SNGAN,
appendix B.4), with BigGAN's (Brock et al. 2019) class-conditional BatchNorm and SAGAN's
(Zhang et al. 2019) self-attention as options. An image of size s = b·2^n (4 ≤ b < 8,
n ≥ 1: 8, 12, 14, 16, 28, 32, 64, 128, …) is grown by G from a b×b map through n stages of
residual blocks and shrunk back to b×b by D through n stages; each stage is one resampling
block then ``blocks`` − 1 blocks at its resolution. Channels double inward as in DCGAN:
width·2^(n−1) at b×b, width at s/2 and (in G) at s.

    G:  z → linear → b×b map → n up-stages → BN → ReLU → conv3×3 → tanh
        up-block:    x → BN → ReLU → upsample → conv3×3 → BN → ReLU → conv3×3
                      + conv1×1(upsample(x))
    D:  x → optimized block → n − 1 down-stages → ReLU → Σ over positions → linear
        optimized:   x → conv3×3 → ReLU → conv3×3 → avgpool  +  conv1×1(avgpool(x))
        down-block:  x → ReLU → conv3×3 → ReLU → conv3×3 → avgpool
                      + avgpool(conv1×1(x))

A block that changes neither size nor channels has the identity as its shortcut.
Upsampling is nearest-neighbour ×2, downsampling 2×2 average pooling. Weights are
initialised as in SNGAN's code: Xavier-uniform (Glorot & Bengio 2010) with gain √2 for the
3×3 convolutions of the residual branches and gain 1 elsewhere, biases 0.
"""

from __future__ import annotations

import math
from typing import Literal

import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from gankit.nets.dcgan import check_norm, image_layout
from gankit.nets.discriminator import Discriminator
from gankit.nets.layers import (
    ConditionalBatchNorm2d,
    SelfAttention,
    apply_spectral_norm,
    make_activation,
)
from gankit.nets.minibatch import MinibatchOptions
from gankit.nets.registry import DISCRIMINATORS, GENERATORS, NetError, NetOptions


class ResidualGeneratorOptions(NetOptions):
    """Options of the residual generator."""

    name: Literal["residual"] = "residual"
    width: int = Field(
        64, ge=1, description="channels at the two largest resolutions (doubling inward)"
    )
    blocks: int = Field(
        1, ge=1, description="residual blocks per resolution: one upsampling, then blocks − 1"
    )
    attention: int | None = Field(
        None,
        ge=1,
        description="self-attention (Zhang et al. 2019) after the stage at this resolution, "
        "e.g. 16 for 16×16; null: none",
    )
    norm: Literal["batch", "none"] = Field(
        "batch",
        description="BatchNorm before each ReLU (class-conditional in a conditional run)",
    )
    spectral_norm: bool = Field(
        False, description="spectral normalisation of every weight (Miyato et al., 2018)"
    )


class ResidualDiscriminatorOptions(NetOptions):
    """Options of the residual discriminator."""

    name: Literal["residual"] = "residual"
    width: int = Field(64, ge=1, description="channels of the first block (doubling inward)")
    blocks: int = Field(
        1, ge=1, description="residual blocks per resolution: one downsampling, then blocks − 1"
    )
    attention: int | None = Field(
        None,
        ge=1,
        description="self-attention (Zhang et al. 2019) after the stage at this resolution, "
        "e.g. 16 for 16×16; null: none",
    )
    norm: Literal["none", "layer", "batch"] = Field(
        "none",
        description="normalisation before each ReLU of the blocks after the first; layer = "
        "GroupNorm(1, C), for critics with a gradient penalty",
    )
    spectral_norm: bool = Field(
        True, description="spectral normalisation of every weight (Miyato et al., 2018)"
    )
    dropout: float = Field(
        0.0, ge=0, lt=1, description="dropout probability after each hidden activation"
    )
    minibatch_discrimination: MinibatchOptions | None = Field(
        None, description="minibatch discrimination before the head (Salimans et al., 2016)"
    )


def _conv3(c_in: int, c_out: int, bias: bool = True) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias)
    nn.init.xavier_uniform_(conv.weight, math.sqrt(2))
    return conv


def _conv1(c_in: int, c_out: int) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, 1)
    nn.init.xavier_uniform_(conv.weight)
    return conv


def _zero_biases(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)


def _norm(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def _upsample(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


def _attention_stage(attention: int | None, sizes: list[int], role: str, size: int) -> int | None:
    """Index into ``sizes`` (the resolution after each stage) of the attention layer."""
    if attention is None:
        return None
    if attention not in sizes:
        raise NetError(
            f"{role}.attention={attention} is not a resolution of its feature maps for "
            f"{size}×{size} images; choose one of: {', '.join(map(str, sorted(sizes)))}"
        )
    return sizes.index(attention)


class GeneratorBlock(nn.Module):
    """x → BN → ReLU → [upsample] → conv3×3 → BN → ReLU → conv3×3, plus the shortcut
    conv1×1([upsample](x)), or x itself when neither size nor channels change.

    :meth:`condition_on` makes both BatchNorms class-conditional; then ``forward`` takes
    the condition e of every sample."""

    def __init__(self, c_in: int, c_out: int, upsample: bool, norm: str) -> None:
        super().__init__()
        self.upsample = upsample
        batch = norm == "batch"
        self.norm1 = _norm(norm, c_in)
        self.conv1 = _conv3(c_in, c_out, bias=not batch)  # BatchNorm would cancel its bias
        self.norm2 = _norm(norm, c_out)
        self.conv2 = _conv3(c_out, c_out)
        self.shortcut = _conv1(c_in, c_out) if upsample or c_in != c_out else nn.Identity()

    def condition_on(self, condition_dim: int) -> None:
        """Replace both BatchNorms by :class:`ConditionalBatchNorm2d` of ``condition_dim``."""
        self.norm1 = ConditionalBatchNorm2d(self.norm1.num_features, condition_dim)
        self.norm2 = ConditionalBatchNorm2d(self.norm2.num_features, condition_dim)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        h = F.relu(_normalise(self.norm1, x, condition))
        shortcut = x
        if self.upsample:
            h, shortcut = _upsample(h), _upsample(x)
        h = self.conv1(h)
        h = self.conv2(F.relu(_normalise(self.norm2, h, condition)))
        return h + self.shortcut(shortcut)


def _normalise(norm: nn.Module, x: Tensor, condition: Tensor | None) -> Tensor:
    return norm(x, condition) if isinstance(norm, ConditionalBatchNorm2d) else norm(x)


@GENERATORS.register("residual", options=ResidualGeneratorOptions)
class ResidualGenerator(nn.Module):
    """Residual generator (SNGAN/BigGAN): z → linear → b×b map → n stages of residual
    up-blocks → BN → ReLU → conv3×3 → tanh, with optional self-attention.

    Channels: width·2^(n−1) at b×b, halving at each stage down to width at s/2 and s. In a
    conditional run (:class:`~gankit.nets.conditional.ConditionalGenerator`) z arrives
    joined with the label's embedding e(y), and :meth:`condition_on` makes the BatchNorms
    of every block class-conditional on e(y) (BigGAN); the final BatchNorm stays plain, as
    in SNGAN and BigGAN. Spectral norm (``spectral_norm``, as in SAGAN and BigGAN) wraps
    every weight built here, not the conditional gains, which start at 0."""

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        width: int = 64,
        blocks: int = 1,
        attention: int | None = None,
        norm: Literal["batch", "none"] = "batch",
        spectral_norm: bool = False,
        out_activation: Literal["tanh", "none"] = "tanh",
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        image_channels, b, n = image_layout(self.out_shape, "generator", "residual")
        check_norm(norm, "generator", ("batch", "none"))
        self.norm = norm
        channels = [width << max(n - 1 - k, 0) for k in range(n + 1)]  # at b·2^k
        sizes = [b << k for k in range(n + 1)]
        where = _attention_stage(attention, sizes, "generator", sizes[-1])
        self.linear = nn.Linear(z_dim, channels[0] * b * b)  # (B, z_dim) → (B, c₀·b·b)
        nn.init.xavier_uniform_(self.linear.weight)
        self.base_shape = (channels[0], b, b)
        stages: list[nn.Module] = [SelfAttention(channels[0])] if where == 0 else []
        for k in range(1, n + 1):  # (B, c_{k−1}, h, h) → (B, c_k, 2h, 2h)
            stages.append(GeneratorBlock(channels[k - 1], channels[k], True, norm))
            stages += [
                GeneratorBlock(channels[k], channels[k], False, norm) for _ in range(blocks - 1)
            ]
            if where == k:
                stages.append(SelfAttention(channels[k]))
        self.stages = nn.ModuleList(stages)
        out = nn.Conv2d(channels[n], image_channels, 3, padding=1)
        nn.init.xavier_uniform_(out.weight)
        self.out = nn.Sequential(
            _norm(norm, channels[n]), nn.ReLU(), out, make_activation(out_activation)
        )  # (B, C, s, s)
        _zero_biases(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def condition_on(self, condition_dim: int) -> bool:
        """Make every block's BatchNorm class-conditional on a vector of ``condition_dim``
        values, which ``forward`` then takes as ``condition`` (BigGAN's conditional
        BatchNorm); the gains start at 0, so G computes what it did before. False, and
        nothing changes, when G has no BatchNorm (``norm`` none)."""
        if self.norm != "batch":
            return False
        for stage in self.stages:
            if isinstance(stage, GeneratorBlock):
                stage.condition_on(condition_dim)
        return True

    def forward(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        h = self.linear(z).unflatten(1, self.base_shape)  # (B, c₀, b, b)
        for stage in self.stages:
            h = stage(h, condition) if isinstance(stage, GeneratorBlock) else stage(h)
        return self.out(h)


class OptimizedBlock(nn.Module):
    """D's first block, on the image (SNGAN): x → conv3×3 → ReLU → conv3×3 → avgpool, plus
    conv1×1(avgpool(x)); no activation before its first convolution."""

    def __init__(self, c_in: int, c_out: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = _conv3(c_in, c_out)
        self.conv2 = _conv3(c_out, c_out)
        self.drop = _dropout(dropout)
        self.shortcut = _conv1(c_in, c_out)

    def forward(self, x: Tensor) -> Tensor:
        h = F.avg_pool2d(self.conv2(self.drop(F.relu(self.conv1(x)))), 2)
        return h + self.shortcut(F.avg_pool2d(x, 2))


class DiscriminatorBlock(nn.Module):
    """x → norm → ReLU → conv3×3 → norm → ReLU → conv3×3 → [avgpool], plus the shortcut
    [avgpool](conv1×1(x)), or x itself when neither size nor channels change."""

    def __init__(self, c_in: int, c_out: int, downsample: bool, norm: str, dropout: float) -> None:
        super().__init__()
        self.downsample = downsample
        self.norm1 = _norm(norm, c_in)
        self.conv1 = _conv3(c_in, c_out, bias=norm != "batch")
        self.norm2 = _norm(norm, c_out)
        self.conv2 = _conv3(c_out, c_out)
        self.drop = _dropout(dropout)
        self.shortcut = _conv1(c_in, c_out) if downsample or c_in != c_out else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(self.drop(F.relu(self.norm1(x))))
        h = self.conv2(self.drop(F.relu(self.norm2(h))))
        shortcut = self.shortcut(x)
        if self.downsample:
            h, shortcut = F.avg_pool2d(h, 2), F.avg_pool2d(shortcut, 2)
        return h + shortcut


def _dropout(p: float) -> nn.Module:
    """Element-wise dropout, as the consistency term uses it (Wei et al., 2018)."""
    return nn.Dropout(p) if p > 0 else nn.Identity()


class SumPool(nn.Module):
    """ReLU, then the sum over positions: (B, C, H, W) → (B, C) (SNGAN's global sum pooling)."""

    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.drop = _dropout(dropout)

    def forward(self, h: Tensor) -> Tensor:
        return self.drop(F.relu(h)).sum(dim=(2, 3))


@DISCRIMINATORS.register("residual", options=ResidualDiscriminatorOptions)
class ResidualDiscriminator(Discriminator):
    """Residual discriminator (SNGAN): optimized block → n − 1 stages of residual
    down-blocks to b×b → ReLU → global sum pooling → linear, spectrally normalised by
    default, with optional self-attention.

    ``features(x)`` is the sum-pooled last map, shape ``(B, width·2^(n−1))``: what the
    projection discriminator (Miyato & Koyama 2018) and the AC-GAN classifier read."""

    def __init__(
        self,
        in_shape: tuple[int, ...],
        width: int = 64,
        blocks: int = 1,
        attention: int | None = None,
        norm: Literal["none", "layer", "batch"] = "none",
        spectral_norm: bool = True,
        dropout: float = 0.0,
        minibatch_discrimination: MinibatchOptions | None = None,
    ) -> None:
        image_channels, b, n = image_layout(tuple(in_shape), "discriminator", "residual")
        check_norm(norm, "discriminator", ("none", "layer", "batch"))
        channels = [width << j for j in range(n)]  # after stage j + 1, at s / 2^(j+1)
        sizes = [(b << n) >> (j + 1) for j in range(n)]
        where = _attention_stage(attention, sizes, "discriminator", b << n)
        layers: list[nn.Module] = []
        for j in range(n):  # (B, c, h, h) → (B, c_j, h/2, h/2)
            if j == 0:
                layers.append(OptimizedBlock(image_channels, channels[0], dropout))
            else:
                layers.append(DiscriminatorBlock(channels[j - 1], channels[j], True, norm, dropout))
            layers += [
                DiscriminatorBlock(channels[j], channels[j], False, norm, dropout)
                for _ in range(blocks - 1)
            ]
            if where == j:
                layers.append(SelfAttention(channels[j]))
        body = nn.Sequential(*layers, SumPool(dropout))  # (B, c_{n−1})
        super().__init__(body, channels[-1], minibatch_discrimination)
        self.in_shape = tuple(in_shape)
        nn.init.xavier_uniform_(self.head[0].weight)
        _zero_biases(self)
        if spectral_norm:
            apply_spectral_norm(self)
