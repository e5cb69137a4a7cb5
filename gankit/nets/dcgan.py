"""DCGAN generator and discriminator for square images (Radford, Metz & Chintala, 2016).

An image of size s = b·2^n (4 ≤ b < 8, n ≥ 1) is grown by G from a b×b map through n
stride-2 transposed convolutions, and shrunk back to b×b by D through n stride-2
convolutions. Channels halve at every step of G and double at every step of D, so the
widest layer (width·2^(n−1) channels) sits at b×b on both sides. D's logit is a linear map
of that flattened b×b map, the same function as the paper's final b×b convolution.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import Tensor, nn

from gankit.nets.discriminator import Discriminator
from gankit.nets.layers import apply_spectral_norm, make_activation
from gankit.nets.minibatch import MinibatchOptions
from gankit.nets.registry import DISCRIMINATORS, GENERATORS, NetError, NetOptions

_SHOWN_UP_TO = 64  # valid sizes listed in error messages


class DCGANGeneratorOptions(NetOptions):
    """Options of the DCGAN generator."""

    name: Literal["dcgan"] = "dcgan"
    width: int = Field(64, ge=1, description="channels of the last hidden layer (doubling inward)")
    norm: Literal["batch", "none"] = Field(
        "batch", description="normalisation after each hidden transposed convolution"
    )
    spectral_norm: bool = Field(
        False, description="spectral normalisation of every weight (Miyato et al., 2018)"
    )


class DCGANDiscriminatorOptions(NetOptions):
    """Options of the DCGAN discriminator."""

    name: Literal["dcgan"] = "dcgan"
    width: int = Field(64, ge=1, description="channels of the first convolution (doubling inward)")
    norm: Literal["batch", "none", "layer"] = Field(
        "batch",
        description="normalisation after each hidden convolution but the first; "
        "layer = GroupNorm(1, C), for critics with a gradient penalty",
    )
    spectral_norm: bool = Field(
        False, description="spectral normalisation of every weight (Miyato et al., 2018)"
    )
    dropout: float = Field(
        0.0, ge=0, lt=1, description="dropout probability after each hidden activation"
    )
    minibatch_discrimination: MinibatchOptions | None = Field(
        None, description="minibatch discrimination before the head (Salimans et al., 2016)"
    )


def dcgan_layout(size: int, network: str = "dcgan") -> tuple[int, int]:
    """Split an image size into ``(b, n)`` with size = b·2^n, integer 4 ≤ b < 8 and n ≥ 1.

    n = floor(log2(size / 4)); e.g. 28 → (7, 2), 32 → (4, 3), 64 → (4, 4). The error for
    another size names ``network``, the convolutional net that needs the layout."""
    if size >= 8:
        n = (size // 4).bit_length() - 1
        if size % (1 << n) == 0:
            return size >> n, n
    shown = _valid_sizes(_SHOWN_UP_TO)
    below = [s for s in _valid_sizes(max(size, 8)) if s < size]
    above = next(s for s in _valid_sizes(2 * max(size, 8)) if s > size)
    nearest = ", ".join(str(s) for s in [*below[-1:], above])
    raise NetError(
        f"image size {size} cannot be built by {network}: sizes are b·2^n with 4 ≤ b < 8 and "
        f"n ≥ 1 ({', '.join(map(str, shown))}, …); nearest: {nearest}"
    )


def _valid_sizes(limit: int) -> list[int]:
    sizes = (b << n for b in range(4, 8) for n in range(1, limit.bit_length()))
    return sorted(s for s in sizes if s <= limit)


def image_layout(shape: tuple[int, ...], role: str, network: str = "dcgan") -> tuple[int, int, int]:
    """``(channels, b, n)`` of a square image shape (see :func:`dcgan_layout`), or a
    NetError naming ``{role}.name={network}``."""
    if len(shape) != 3 or shape[1] != shape[2]:
        what = {1: "points", 3: "images"}.get(len(shape), "data")
        raise NetError(
            f"{role}.name={network} needs square images (C, H, W), but the data gives {what} "
            f"of shape {shape}; use {role}.name=mlp"
        )
    return (shape[0], *dcgan_layout(shape[1], network))


def check_norm(norm: str, role: str, allowed: tuple[str, ...]) -> None:
    """Refuse a ``{role}.norm`` outside ``allowed``, naming the allowed values."""
    if norm not in allowed:
        raise NetError(f"{role}.norm={norm!r} is not one of: {', '.join(allowed)}")


def _norm2d(norm: str, channels: int) -> list[nn.Module]:
    if norm == "batch":
        return [nn.BatchNorm2d(channels)]
    if norm == "layer":
        return [nn.GroupNorm(1, channels)]
    return []


def _dropout(p: float) -> list[nn.Module]:
    """Element-wise dropout, as the consistency term uses it (Wei et al., 2018); none at 0."""
    return [nn.Dropout(p)] if p > 0 else []


def dcgan_init_(module: nn.Module) -> nn.Module:
    """DCGAN initialisation in place: conv/linear weights ~ N(0, 0.02), BatchNorm weights
    ~ N(1, 0.02), all their biases 0 (Radford et al., 2016, §4). Call it before
    :func:`~gankit.nets.layers.apply_spectral_norm`, which turns ``weight`` into a function."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


@GENERATORS.register("dcgan", options=DCGANGeneratorOptions)
class DCGANGenerator(nn.Module):
    """DCGAN generator: z → b×b map → n stride-2 transposed convolutions → square image.

    z is projected by a linear layer to width·2^(n−1)·b·b units and reshaped to a b×b map
    ("project and reshape", as in the paper), followed by BatchNorm and ReLU. The
    hidden layers carry no bias when BatchNorm follows them, as its shift would cancel it."""

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        width: int = 64,
        norm: Literal["batch", "none"] = "batch",
        spectral_norm: bool = False,
        out_activation: Literal["tanh", "none"] = "tanh",
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        image_channels, b, n = image_layout(self.out_shape, "generator")
        check_norm(norm, "generator", ("batch", "none"))
        bias = norm != "batch"
        c = width << (n - 1)
        layers: list[nn.Module] = [
            nn.Linear(z_dim, c * b * b, bias=bias),  # (B, z_dim) → (B, c·b·b)
            nn.Unflatten(1, (c, b, b)),  # (B, c, b, b)
            *_norm2d(norm, c),
            nn.ReLU(),
        ]
        for _ in range(n - 1):  # (B, c, h, h) → (B, c/2, 2h, 2h)
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=bias),
                *_norm2d(norm, c // 2),
                nn.ReLU(),
            ]
            c //= 2
        layers += [
            nn.ConvTranspose2d(c, image_channels, 4, 2, 1),  # (B, C, s, s)
            make_activation(out_activation),
        ]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


@DISCRIMINATORS.register("dcgan", options=DCGANDiscriminatorOptions)
class DCGANDiscriminator(Discriminator):
    """DCGAN discriminator: n stride-2 convolutions down to b×b, then a linear layer to one
    logit. No norm on the first layer; LeakyReLU(0.2) throughout.

    ``features(x)`` is the flattened b×b map, shape ``(B, width·2^(n−1)·b·b)``."""

    def __init__(
        self,
        in_shape: tuple[int, ...],
        width: int = 64,
        norm: Literal["batch", "none", "layer"] = "batch",
        spectral_norm: bool = False,
        dropout: float = 0.0,
        minibatch_discrimination: MinibatchOptions | None = None,
    ) -> None:
        image_channels, b, n = image_layout(tuple(in_shape), "discriminator")
        check_norm(norm, "discriminator", ("batch", "none", "layer"))
        c = width
        layers: list[nn.Module] = [
            nn.Conv2d(image_channels, c, 4, 2, 1),  # (B, C, s, s) → (B, width, s/2, s/2)
            nn.LeakyReLU(0.2),
            *_dropout(dropout),
        ]
        for _ in range(n - 1):  # (B, c, h, h) → (B, 2c, h/2, h/2)
            layers += [
                nn.Conv2d(c, 2 * c, 4, 2, 1, bias=norm != "batch"),
                *_norm2d(norm, 2 * c),
                nn.LeakyReLU(0.2),
                *_dropout(dropout),
            ]
            c *= 2
        body = nn.Sequential(*layers, nn.Flatten())  # (B, c·b·b)
        super().__init__(body, c * b * b, minibatch_discrimination)
        self.in_shape = tuple(in_shape)
        dcgan_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)
