"""Affine generator: a learnable diagonal Gaussian, for fitting a Gaussian to data.

With z ~ N(0, I), G(z) = μ + σ ⊙ z is distributed as N(μ, diag σ²): the generator of the
1-D experiment of Nowozin, Cseke & Tomioka (2016, "f-GAN"), which fits one Gaussian to a
1-D target under each f-divergence. With uniform noise G(z) is uniform, not Gaussian.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from gankit.nets.layers import make_activation
from gankit.nets.registry import GENERATORS, NetError, NetOptions


class AffineGeneratorOptions(NetOptions):
    """Options of the affine generator."""

    name: Literal["affine"] = "affine"
    init_mean: float = Field(0.0, description="initial μ of every output element")
    init_std: float = Field(1.0, gt=0, description="initial σ of every output element")


@GENERATORS.register("affine", options=AffineGeneratorOptions)
class AffineGenerator(nn.Module):
    """Affine generator G(z) = μ + σ ⊙ z, one learnable μ and σ = exp(log σ) per output element.

    z must have one entry per output element (noise.dim = prod(out_shape)). σ is stored as
    log σ so that it stays positive under gradient steps."""

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        init_mean: float = 0.0,
        init_std: float = 1.0,
        out_activation: Literal["tanh", "none"] = "none",
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        size = math.prod(self.out_shape)
        if z_dim != size:
            raise NetError(
                f"generator.name=affine needs noise.dim = {size} (the data dimension), got {z_dim}"
            )
        self.loc = nn.Parameter(torch.full(self.out_shape, float(init_mean)))  # μ, out_shape
        self.log_scale = nn.Parameter(  # log σ, out_shape
            torch.full(self.out_shape, math.log(init_std))
        )
        self.out = make_activation(out_activation)

    @property
    def mean(self) -> Tensor:
        """μ, shape ``out_shape`` (the parameter itself, with its gradient)."""
        return self.loc

    @property
    def std(self) -> Tensor:
        """σ = exp(log σ), shape ``out_shape`` (differentiable)."""
        return self.log_scale.exp()

    def forward(self, z: Tensor) -> Tensor:
        x = self.loc + self.std * z.unflatten(1, self.out_shape)  # (B, *out_shape)
        return self.out(x)
