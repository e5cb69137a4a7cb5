"""Fully connected generator and discriminator, for points and for small flattened images.

The discriminator can score samples in packs (PacGAN, Lin et al., 2018): with ``pack`` = m it
concatenates m consecutive samples of the batch into one input and gives one logit per pack,
so it sees m samples of one distribution at a time and a generator that puts too many of its
samples on a few modes is easier to tell apart from the data.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field
from torch import Tensor, nn

from gankit.nets.discriminator import Discriminator
from gankit.nets.layers import Activation, apply_spectral_norm, make_activation
from gankit.nets.minibatch import MinibatchOptions
from gankit.nets.registry import DISCRIMINATORS, GENERATORS, NetError, NetOptions

Norm = Literal["none", "batch", "layer"]


class _MLPOptions(NetOptions):
    width: int = Field(128, ge=1, description="units in each hidden layer")
    depth: int = Field(2, ge=1, description="number of hidden layers")
    norm: Norm = Field(
        "none", description="normalisation after each hidden linear layer: none, batch, layer"
    )
    spectral_norm: bool = Field(
        False, description="spectral normalisation of every weight (Miyato et al., 2018)"
    )


class MLPGeneratorOptions(_MLPOptions):
    """Options of the MLP generator."""

    name: Literal["mlp"] = "mlp"
    activation: Activation = Field(
        "relu", description="hidden activation: relu, leaky_relu (0.2), elu, gelu, tanh, silu"
    )


class MLPDiscriminatorOptions(_MLPOptions):
    """Options of the MLP discriminator."""

    name: Literal["mlp"] = "mlp"
    activation: Activation = Field(
        "leaky_relu",
        description="hidden activation: relu, leaky_relu (0.2), elu, gelu, tanh, silu",
    )
    dropout: float = Field(
        0.0, ge=0, lt=1, description="dropout probability after each hidden activation"
    )
    minibatch_discrimination: MinibatchOptions | None = Field(
        None, description="minibatch discrimination before the head (Salimans et al., 2016)"
    )
    pack: int = Field(
        1,
        ge=1,
        description="PacGAN packing (Lin et al., 2018): score this many samples jointly, "
        "concatenated into one input, one logit per pack; train.batch_size must be a "
        "multiple of it (1: no packing)",
    )


def _hidden_layers(
    in_features: int, width: int, depth: int, activation: str, norm: str, dropout: float = 0.0
) -> list[nn.Module]:
    """``depth`` × [Linear → norm → activation → dropout]; no bias before BatchNorm (it would
    cancel), no dropout module when its probability is 0."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(in_features if i == 0 else width, width, bias=norm != "batch"))
        layers.extend(_norm1d(norm, width))
        layers.append(make_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers


def _norm1d(norm: str, features: int) -> list[nn.Module]:
    if norm == "none":
        return []
    if norm == "batch":
        return [nn.BatchNorm1d(features)]
    if norm == "layer":
        return [nn.LayerNorm(features)]
    raise NetError(f"mlp norm={norm!r} is not one of: none, batch, layer")


class Pack(nn.Module):
    """(B, *shape) → (B/m, m·prod(shape)): rows k·m … k·m + m − 1 of the batch, flattened and
    concatenated in order, form pack k (PacGAN, Lin et al., 2018)."""

    def __init__(self, pack: int) -> None:
        super().__init__()
        self.pack = pack

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[0]
        if batch % self.pack:
            raise NetError(
                f"discriminator.pack={self.pack} scores packs of {self.pack} samples, but got "
                f"a batch of {batch}, which is not a multiple of {self.pack}: make "
                f"train.batch_size a multiple of {self.pack}"
            )
        return x.reshape(batch // self.pack, -1)

    def extra_repr(self) -> str:
        return f"pack={self.pack}"


@GENERATORS.register("mlp", options=MLPGeneratorOptions)
class MLPGenerator(nn.Module):
    """Fully connected generator: z → depth hidden layers → prod(out_shape) values."""

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        width: int = 128,
        depth: int = 2,
        activation: Activation = "relu",
        norm: Norm = "none",
        spectral_norm: bool = False,
        out_activation: Literal["tanh", "none"] = "none",
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        self.net = nn.Sequential(
            *_hidden_layers(z_dim, width, depth, activation, norm),  # (B, width)
            nn.Linear(width, math.prod(self.out_shape)),  # (B, prod(out_shape))
            make_activation(out_activation),
            nn.Unflatten(1, self.out_shape),  # (B, *out_shape)
        )
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


@DISCRIMINATORS.register("mlp", options=MLPDiscriminatorOptions)
class MLPDiscriminator(Discriminator):
    """Fully connected discriminator: flattened input → depth hidden layers → one logit.

    ``features(x)`` is the last hidden layer, shape ``(B, width)``. With ``pack`` = m > 1
    the input (B, *in_shape) is first packed into (B/m, m·prod(in_shape)) (B must be a
    multiple of m, else :class:`NetError`): ``features(x)`` is then ``(B/m, width)`` and
    D(x) gives ``(B/m,)`` logits, one per pack. The losses average over the logits, so
    every objective works unchanged; penalties on ∇ₓD (gradient penalty, R1, R2) then take
    each sample's share of its pack's gradient, ∂D(pack)/∂xᵢ."""

    def __init__(
        self,
        in_shape: tuple[int, ...],
        width: int = 128,
        depth: int = 2,
        activation: Activation = "leaky_relu",
        norm: Norm = "none",
        spectral_norm: bool = False,
        dropout: float = 0.0,
        minibatch_discrimination: MinibatchOptions | None = None,
        pack: int = 1,
    ) -> None:
        if pack < 1:
            raise NetError(f"discriminator.pack must be at least 1, got {pack}")
        flatten = nn.Flatten() if pack == 1 else Pack(pack)  # (B/m, m·prod(in_shape))
        in_features = pack * math.prod(in_shape)
        body = nn.Sequential(
            flatten, *_hidden_layers(in_features, width, depth, activation, norm, dropout)
        )  # (B/m, width)
        super().__init__(body, width, minibatch_discrimination)
        self.in_shape = tuple(in_shape)
        self.pack = pack
        if spectral_norm:
            apply_spectral_norm(self)
