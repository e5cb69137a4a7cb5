"""The noise prior p_z that the generator pushes forward into P_G."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor


class Prior:
    """z ~ N(0, I_dim) or z ~ U(−1, 1)^dim, drawn from an explicit CPU generator so that
    the same generator state gives the same z on every device."""

    def __init__(self, dim: int, distribution: Literal["normal", "uniform"] = "normal") -> None:
        if distribution not in ("normal", "uniform"):
            raise ValueError(f"unknown prior '{distribution}'; choose normal or uniform")
        self.dim = dim
        self.distribution = distribution

    def sample(
        self, n: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> Tensor:
        """``n`` draws of z, shape ``(n, dim)``, float32, on ``device``."""
        if self.distribution == "normal":
            z = torch.randn(n, self.dim, generator=generator)
        else:
            z = torch.rand(n, self.dim, generator=generator).mul_(2).sub_(1)
        return z.to(device)
