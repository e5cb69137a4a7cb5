"""The noise prior p_z that the generator pushes forward into P_G, and the truncation trick."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from gankit.errors import ConfigError


class Prior:
    """z ~ N(0, I_dim) or z ~ U(−1, 1)^dim, drawn from an explicit CPU generator so that
    the same generator state gives the same z on every device."""

    def __init__(self, dim: int, distribution: Literal["normal", "uniform"] = "normal") -> None:
        if distribution not in ("normal", "uniform"):
            raise ValueError(f"unknown prior '{distribution}'; choose normal or uniform")
        self.dim = dim
        self.distribution = distribution

    def sample(
        self,
        n: int,
        generator: torch.Generator,
        device: torch.device | str = "cpu",
        truncation: float | None = None,
    ) -> Tensor:
        """``n`` draws of z, shape ``(n, dim)``, float32, on ``device``; with
        ``truncation`` t (normal prior only), z of the truncated normal, |zᵢ| ≤ t (see
        :func:`truncate_`). Without it, exactly the z of earlier versions."""
        self.check_truncation(truncation)
        if self.distribution == "normal":
            z = torch.randn(n, self.dim, generator=generator)
            if truncation is not None:
                truncate_(z, truncation, generator)
        else:
            z = torch.rand(n, self.dim, generator=generator).mul_(2).sub_(1)
        return z.to(device)

    def check_truncation(self, truncation: float | None) -> None:
        """Refuse a threshold that is not a positive number, or any for a uniform prior."""
        if truncation is None:
            return
        if not math.isfinite(truncation) or truncation <= 0:
            raise ConfigError(f"truncation must be a positive number, got {truncation!r}")
        if self.distribution != "normal":
            raise ConfigError(
                f"truncation applies to a normal prior (BigGAN's truncation trick); this run "
                f"draws z from noise.distribution={self.distribution}"
            )


def truncate_(z: Tensor, threshold: float, generator: torch.Generator) -> Tensor:
    """The truncation trick (Brock et al. 2019, BigGAN, §3.1), in place on standard normal
    ``z``: every coordinate with |zᵢ| > t is resampled from N(0, 1) until it falls inside
    [−t, t]; those already inside are kept. Sampling until inside draws from N(0, 1)
    conditioned on |z| ≤ t, so each resampled coordinate is drawn from that truncated
    normal directly, by the inverse CDF in one pass whatever t:

        zᵢ = Φ⁻¹(Φ(−t) + u·(Φ(t) − Φ(−t))),   u ~ U(0, 1) from ``generator``,

    in float64, clipped to [−t, t] against rounding. Smaller t trades variety for
    fidelity; t beyond ~5 leaves z as it was."""
    outside = z.abs() > threshold
    count = int(outside.sum())
    if count:
        low = torch.special.ndtr(torch.tensor(-threshold, dtype=torch.float64))
        u = torch.rand(count, generator=generator, dtype=torch.float64)
        inside = torch.special.ndtri(low + u * (1 - 2 * low)).clamp_(-threshold, threshold)
        z[outside] = inside.to(z.dtype)
    return z
