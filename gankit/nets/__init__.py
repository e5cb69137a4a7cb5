"""Generator and discriminator networks, registered by name with their options.

A registered generator is called as ``G(z_dim, out_shape, out_activation=..., **fields)``
and maps ``(B, z_dim)`` to ``(B, *out_shape)``; a registered discriminator is called as
``D(in_shape, **fields)`` and maps ``(B, *in_shape)`` to logits ``(B,)``. ``fields`` are the
options model's fields other than ``name``.

Every discriminator is a :class:`Discriminator`, split in two so that one stochastic pass
can serve both a loss on the logits and a loss on the features:

    features(x) -> (B, F)   the body: D's last hidden layer, dropout included, before
                            minibatch discrimination
    classify(h) -> (B,)     logits from features of the whole batch: minibatch
                            discrimination (if enabled), then the linear head
    forward(x)  =  classify(features(x))

Calling ``features`` then ``classify`` is exactly one forward pass with one dropout mask, as
the consistency term needs (Wei et al., 2018); feature matching (Salimans et al., 2016) uses
``features``. ``spectral_norm`` (all the nets but ``affine``) reparametrises every weight,
see :func:`gankit.nets.layers.apply_spectral_norm`.
"""

from __future__ import annotations

from typing import Literal

from torch import nn

# The network modules register themselves in gankit.nets.registry when imported.
from gankit.nets.affine import AffineGenerator, AffineGeneratorOptions
from gankit.nets.dcgan import (
    DCGANDiscriminator,
    DCGANDiscriminatorOptions,
    DCGANGenerator,
    DCGANGeneratorOptions,
    dcgan_init_,
    dcgan_layout,
)
from gankit.nets.discriminator import Discriminator
from gankit.nets.layers import apply_spectral_norm
from gankit.nets.minibatch import MinibatchDiscrimination, MinibatchOptions
from gankit.nets.mlp import (
    MLPDiscriminator,
    MLPDiscriminatorOptions,
    MLPGenerator,
    MLPGeneratorOptions,
)
from gankit.nets.patchgan import PatchDiscriminator, PatchDiscriminatorOptions
from gankit.nets.registry import DISCRIMINATORS, GENERATORS, NetError, NetOptions
from gankit.nets.residual import (
    ResidualDiscriminator,
    ResidualDiscriminatorOptions,
    ResidualGenerator,
    ResidualGeneratorOptions,
)
from gankit.nets.resnet_generator import ResnetGenerator, ResnetGeneratorOptions
from gankit.nets.unet import UNetGenerator, UNetGeneratorOptions
from gankit.registry import Entry, Registry


def count_parameters(module: nn.Module) -> int:
    """Number of scalar parameters in ``module`` (trainable or not)."""
    return sum(p.numel() for p in module.parameters())


def build_generator(
    options: NetOptions,
    z_dim: int,
    out_shape: tuple[int, ...],
    out_activation: Literal["tanh", "none"],
) -> nn.Module:
    """Build the generator ``options.name``, mapping ``(B, z_dim)`` to ``(B, *out_shape)``."""
    entry = _entry(GENERATORS, options)
    return entry.obj(z_dim, tuple(out_shape), out_activation=out_activation, **_fields(options))


def build_discriminator(options: NetOptions, in_shape: tuple[int, ...]) -> nn.Module:
    """Build the discriminator ``options.name``, mapping ``(B, *in_shape)`` to logits ``(B,)``."""
    entry = _entry(DISCRIMINATORS, options)
    return entry.obj(tuple(in_shape), **_fields(options))


TRANSLATORS = ("unet", "resnet")
"""Generators that map an image to an image (pix2pix, CycleGAN) instead of z to a sample."""
PATCH_DISCRIMINATORS = ("patchgan",)
"""Discriminators that score an image with a map of patch logits."""


def build_translator(
    options: NetOptions, in_channels: int, out_channels: int, size: int
) -> nn.Module:
    """Build the image-to-image generator ``options.name`` (one of :data:`TRANSLATORS`)
    mapping ``(B, in_channels, size, size)`` to ``(B, out_channels, size, size)``."""
    entry = _entry(GENERATORS, options)
    if options.name not in TRANSLATORS:  # type: ignore[attr-defined]
        raise NetError(
            f"generator.name={options.name} maps noise to samples; image-to-image tasks take "  # type: ignore[attr-defined]
            f"{' or '.join(TRANSLATORS)}"
        )
    return entry.obj(in_channels, out_channels, size, **_fields(options))


def build_patch_discriminator(options: NetOptions, in_channels: int) -> nn.Module:
    """Build the patch discriminator ``options.name`` for inputs of ``in_channels``."""
    entry = _entry(DISCRIMINATORS, options)
    if options.name not in PATCH_DISCRIMINATORS:  # type: ignore[attr-defined]
        raise NetError(
            f"discriminator.name={options.name} scores whole samples; image-to-image tasks "  # type: ignore[attr-defined]
            f"take {' or '.join(PATCH_DISCRIMINATORS)}"
        )
    return entry.obj(in_channels, **_fields(options))


def _entry(registry: Registry[type[nn.Module]], options: NetOptions) -> Entry[type[nn.Module]]:
    name = getattr(options, "name", None)
    entry = registry.entry(name)
    if entry.options is not None and not isinstance(options, entry.options):
        raise NetError(
            f"{registry.kind}.name={name} takes {entry.options.__name__}, "
            f"got {type(options).__name__}"
        )
    return entry


def _fields(options: NetOptions) -> dict[str, object]:
    return {key: getattr(options, key) for key in type(options).model_fields if key != "name"}


__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "AffineGenerator",
    "AffineGeneratorOptions",
    "DCGANDiscriminator",
    "DCGANDiscriminatorOptions",
    "DCGANGenerator",
    "DCGANGeneratorOptions",
    "Discriminator",
    "MLPDiscriminator",
    "MLPDiscriminatorOptions",
    "MLPGenerator",
    "MLPGeneratorOptions",
    "MinibatchDiscrimination",
    "MinibatchOptions",
    "NetError",
    "NetOptions",
    "PATCH_DISCRIMINATORS",
    "PatchDiscriminator",
    "PatchDiscriminatorOptions",
    "ResidualDiscriminator",
    "ResidualDiscriminatorOptions",
    "ResidualGenerator",
    "ResidualGeneratorOptions",
    "ResnetGenerator",
    "ResnetGeneratorOptions",
    "TRANSLATORS",
    "UNetGenerator",
    "UNetGeneratorOptions",
    "apply_spectral_norm",
    "build_discriminator",
    "build_generator",
    "build_patch_discriminator",
    "build_translator",
    "count_parameters",
    "dcgan_init_",
    "dcgan_layout",
]
