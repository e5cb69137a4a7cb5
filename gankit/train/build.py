"""Build the networks a config describes for data of a given shape."""

from __future__ import annotations

from torch import nn

from gankit.config import Config
from gankit.nets import build_discriminator, build_generator


def build_networks(
    config: Config, data_shape: tuple[int, ...], data_kind: str
) -> tuple[nn.Module, nn.Module]:
    """(G, D) on the CPU, initialised from torch's global RNG; G ends in tanh for images
    (data scaled to [−1, 1]) and is linear for points."""
    out_activation = "tanh" if data_kind == "images" else "none"
    generator = build_generator(config.generator, config.noise.dim, data_shape, out_activation)
    discriminator = build_discriminator(config.discriminator, data_shape)
    return generator, discriminator
