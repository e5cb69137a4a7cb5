"""Fully connected generator and discriminator, for points and for small flattened images."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field
from torch import Tensor, nn

from gankit.nets import DISCRIMINATORS, GENERATORS, NetError, NetOptions
from gankit.nets.layers import Activation, make_activation

Norm = Literal["none", "batch", "layer"]


class _MLPOptions(NetOptions):
    width: int = Field(128, ge=1, description="units in each hidden layer")
    depth: int = Field(2, ge=1, description="number of hidden layers")
    norm: Norm = Field(
        "none", description="normalisation after each hidden linear layer: none, batch, layer"
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


def _hidden_layers(
    in_features: int, width: int, depth: int, activation: str, norm: str
) -> list[nn.Module]:
    """``depth`` × [Linear → norm → activation]; no bias before BatchNorm (it would cancel)."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(in_features if i == 0 else width, width, bias=norm != "batch"))
        layers.extend(_norm1d(norm, width))
        layers.append(make_activation(activation))
    return layers


def _norm1d(norm: str, features: int) -> list[nn.Module]:
    if norm == "none":
        return []
    if norm == "batch":
        return [nn.BatchNorm1d(features)]
    if norm == "layer":
        return [nn.LayerNorm(features)]
    raise NetError(f"mlp norm={norm!r} is not one of: none, batch, layer")


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

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


@DISCRIMINATORS.register("mlp", options=MLPDiscriminatorOptions)
class MLPDiscriminator(nn.Module):
    """Fully connected discriminator: flattened input → depth hidden layers → one logit."""

    def __init__(
        self,
        in_shape: tuple[int, ...],
        width: int = 128,
        depth: int = 2,
        activation: Activation = "leaky_relu",
        norm: Norm = "none",
    ) -> None:
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.body = nn.Sequential(
            nn.Flatten(),  # (B, prod(in_shape))
            *_hidden_layers(math.prod(self.in_shape), width, depth, activation, norm),
        )
        self.head = nn.Sequential(nn.Linear(width, 1), nn.Flatten(0))  # (B, width) → (B,)

    def features(self, x: Tensor) -> Tensor:
        """Activations of the last hidden layer, shape ``(B, width)``."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))
