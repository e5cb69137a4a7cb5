"""Toy distributions in R^1 and R^2.

Gaussian mixtures know their density exactly (the 1-D pictures of Goodfellow et al., 2014;
the 2D-ring and 2D-grid of PacGAN, Lin et al., 2018; ``drawn``, points drawn by hand in
``gankit playground``, each the centre of a small Gaussian). The swiss roll, two moons and
two-armed spiral have no closed-form density. Every sample is drawn from the CPU
``torch.Generator`` passed in, so a seed fixes every batch.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import Annotated, Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor

from gankit.data.base import SourceOptions, ToySource, gaussian_log_prob
from gankit.data.registry import SOURCES

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class GaussianMixture(ToySource):
    """p(x) = Σ_k w_k N(x; μ_k, diag(σ_k²)) in R^d, sampled ancestrally.

    ``weights`` (K,) positive (normalised to sum 1), ``means`` (K, d), ``stds`` (K,) for
    isotropic components or (K, d). Parameters are kept in float64; samples are float32.
    """

    def __init__(
        self,
        weights: Sequence[float] | Tensor,
        means: Sequence[Sequence[float]] | Tensor,
        stds: Sequence[float] | Sequence[Sequence[float]] | Tensor,
    ) -> None:
        w = torch.as_tensor(weights, dtype=torch.float64)
        mu = torch.as_tensor(means, dtype=torch.float64)
        sigma = torch.as_tensor(stds, dtype=torch.float64)
        if mu.ndim != 2 or mu.shape[0] == 0:
            raise ValueError(f"means must have shape (K, d) with K ≥ 1, got {tuple(mu.shape)}")
        k, d = mu.shape
        if w.shape != (k,):
            raise ValueError(f"weights must have shape ({k},), got {tuple(w.shape)}")
        if sigma.shape == (k,):
            sigma = sigma[:, None].expand(k, d)
        if sigma.shape != (k, d):
            raise ValueError(f"stds must have shape ({k},) or ({k}, {d}), got {tuple(sigma.shape)}")
        if not (torch.isfinite(w).all() and (w > 0).all()):
            raise ValueError("weights must be positive and finite")
        if not (torch.isfinite(sigma).all() and (sigma > 0).all()):
            raise ValueError("stds must be positive and finite")
        if not torch.isfinite(mu).all():
            raise ValueError("means must be finite")
        super().__init__(d)
        self._weights = w / w.sum()
        self._means = mu.clone()
        self._stds = sigma.clone()

    @property
    def has_density(self) -> bool:
        return True

    @property
    def weights(self) -> Tensor:
        """Mixture weights (K,), summing to 1 (float64, CPU)."""
        return self._weights

    @property
    def modes(self) -> Tensor:
        """Component means (K, d) (float64, CPU)."""
        return self._means

    @property
    def component_stds(self) -> Tensor:
        """Per-component, per-axis standard deviations (K, d) (float64, CPU)."""
        return self._stds

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) = logsumexp_k [log w_k + log N(x; μ_k, diag(σ_k²))]; (n, d) → (n,).

        Computed in ``x``'s floating dtype on ``x``'s device."""
        dtype = x.dtype if x.is_floating_point() else torch.float64
        x = x.to(dtype)
        mu, sigma = self._means.to(x), self._stds.to(x)
        per_component = gaussian_log_prob(x[:, None, :], mu[None], sigma[None])  # (n, K)
        return torch.logsumexp(per_component + self._weights.to(x).log(), dim=1)

    def nearest_mode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Index (n,) of the mean closest to each point of ``x`` (n, d), and the distance (n,)."""
        dtype = x.dtype if x.is_floating_point() else torch.float64
        distances = torch.cdist(x.to(dtype), self._means.to(x.device, dtype))  # (n, K)
        distance, index = distances.min(dim=1)
        return index, distance

    @property
    def classes(self) -> int:
        """The components: a point's label is the index of the mode it was drawn from."""
        return len(self._weights)

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw ``n`` points (n, d) and the component index (n,) each was drawn from."""
        x, index = self._draw(n, generator)
        return x.to(self.device), index.to(self.device)

    def _sample_cpu(self, n: int, generator: torch.Generator) -> Tensor:
        return self._draw(n, generator)[0]

    def _draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        index = torch.multinomial(self._weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.shape[0], generator=generator)
        x = self._means.float()[index] + self._stds.float()[index] * noise
        return x, index


class NoisyCurve(ToySource):
    """Points on a planar curve, scaled by ``scale``, plus N(0, noise²) per coordinate."""

    def __init__(self, noise: float, scale: float) -> None:
        super().__init__(2)
        self.noise = noise
        self.scale = scale

    def _sample_cpu(self, n: int, generator: torch.Generator) -> Tensor:
        points = self.scale * self._curve(n, generator)
        return points + self.noise * torch.randn(n, 2, generator=generator)

    @abstractmethod
    def _curve(self, n: int, generator: torch.Generator) -> Tensor:
        """``n`` noise-free points (n, 2) of the unscaled curve, inside the unit disc."""


class SwissRoll(NoisyCurve):
    """The 2-D swiss roll (t cos t, t sin t)/(4.5π), t ~ U[1.5π, 4.5π]; outer radius ``scale``."""

    def _curve(self, n: int, generator: torch.Generator) -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
        return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (4.5 * math.pi)


class TwoMoons(NoisyCurve):
    """Two interleaved half circles of radius ``scale``, centred at ±scale·(0.5, 0.25).

    Upper moon (cos θ − 0.5, sin θ − 0.25), θ ~ U[0, π]; the lower one is its point
    reflection through the origin; each point picks a moon with probability 1/2."""

    def _curve(self, n: int, generator: torch.Generator) -> Tensor:
        theta = math.pi * torch.rand(n, generator=generator)
        sign = 1.0 - 2.0 * torch.randint(0, 2, (n, 1), generator=generator)
        upper = torch.stack([torch.cos(theta) - 0.5, torch.sin(theta) - 0.25], dim=1)
        return sign * upper


class Spiral(NoisyCurve):
    """Two Archimedean arms r = s, angle = 3πs (+π for the second arm), s = √u, u ~ U[0, 1].

    s = √u spreads points roughly evenly along the arms; outer radius ``scale``."""

    def _curve(self, n: int, generator: torch.Generator) -> Tensor:
        s = torch.rand(n, generator=generator).sqrt()
        arm = torch.randint(0, 2, (n,), generator=generator)
        angle = 3 * math.pi * s + math.pi * arm
        return s[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


class Normal1dOptions(SourceOptions):
    """Options of ``normal1d``."""

    name: Literal["normal1d"] = "normal1d"
    mean: Finite = Field(0.0, description="Mean of the Gaussian.")
    std: Positive = Field(1.0, description="Standard deviation of the Gaussian (> 0).")


class _Mixture1dOptions(SourceOptions):
    """Shared check of 1-D mixture options: one weight, mean and std per component."""

    weights: list[Positive]
    means: list[Finite]
    stds: list[Positive]

    @model_validator(mode="after")
    def _same_length(self) -> _Mixture1dOptions:
        lengths = (len(self.weights), len(self.means), len(self.stds))
        if len(set(lengths)) != 1:
            raise ValueError(
                "weights, means and stds must have the same length, got "
                f"{lengths[0]}, {lengths[1]} and {lengths[2]}"
            )
        return self


class Bimodal1dOptions(_Mixture1dOptions):
    """Options of ``bimodal1d``: exactly two components."""

    name: Literal["bimodal1d"] = "bimodal1d"
    weights: list[Positive] = Field(
        [0.7, 0.3],
        min_length=2,
        max_length=2,
        description="Weights of the left and right bumps (> 0; normalised to sum 1).",
    )
    means: list[Finite] = Field(
        [-1.5, 2.0], min_length=2, max_length=2, description="Centres of the two bumps."
    )
    stds: list[Positive] = Field(
        [0.35, 0.5], min_length=2, max_length=2, description="Widths of the two bumps (> 0)."
    )


class Gmm1dOptions(_Mixture1dOptions):
    """Options of ``gmm1d``: any number of components."""

    name: Literal["gmm1d"] = "gmm1d"
    weights: list[Positive] = Field(
        [0.2, 0.5, 0.3],
        min_length=1,
        description="Component weights (> 0; normalised to sum 1).",
    )
    means: list[Finite] = Field([-2.5, 0.0, 2.5], min_length=1, description="Component means.")
    stds: list[Positive] = Field(
        [0.3, 0.4, 0.3], min_length=1, description="Component standard deviations (> 0)."
    )


class RingOptions(SourceOptions):
    """Options of ``ring`` (PacGAN's 2D-ring defaults)."""

    name: Literal["ring"] = "ring"
    modes: int = Field(8, ge=1, description="Number of Gaussians; mode k sits at angle 2πk/modes.")
    radius: Positive = Field(1.0, description="Radius of the circle of means.")
    std: Positive = Field(0.01, description="Standard deviation of each Gaussian (> 0).")


class GridOptions(SourceOptions):
    """Options of ``grid`` (PacGAN's 2D-grid defaults)."""

    name: Literal["grid"] = "grid"
    size: int = Field(5, ge=1, description="Number of Gaussians per side (size² in all).")
    spacing: Positive = Field(2.0, description="Distance between neighbouring means.")
    std: Positive = Field(0.05, description="Standard deviation of each Gaussian (> 0).")


class SwissRollOptions(SourceOptions):
    """Options of ``swissroll``."""

    name: Literal["swissroll"] = "swissroll"
    noise: NonNegative = Field(0.1, description="Std of the Gaussian noise added to each point.")
    scale: Positive = Field(3.0, description="Outer radius of the roll.")


class MoonsOptions(SourceOptions):
    """Options of ``moons``."""

    name: Literal["moons"] = "moons"
    noise: NonNegative = Field(0.1, description="Std of the Gaussian noise added to each point.")
    scale: Positive = Field(2.0, description="Radius of each half circle.")


class SpiralOptions(SourceOptions):
    """Options of ``spiral``."""

    name: Literal["spiral"] = "spiral"
    noise: NonNegative = Field(0.1, description="Std of the Gaussian noise added to each point.")
    scale: Positive = Field(3.0, description="Outer radius of the arms.")


MAX_DRAWN_POINTS = 10_000
"""The most points a ``drawn`` distribution holds (they live in the config)."""


class DrawnOptions(SourceOptions):
    """Options of ``drawn``: a 2-D distribution given as points, e.g. drawn by hand in
    ``gankit playground``."""

    name: Literal["drawn"] = "drawn"
    points: list[tuple[Finite, Finite]] = Field(
        min_length=1,
        max_length=MAX_DRAWN_POINTS,
        description="The points (x, y); a sample is one of them, picked uniformly, plus jitter.",
    )
    jitter: Positive = Field(
        0.03, description="Std of the Gaussian noise added to each coordinate of a sample (> 0)."
    )


@SOURCES.register("normal1d", options=Normal1dOptions)
def normal1d(options: Normal1dOptions) -> GaussianMixture:
    """A single Gaussian N(mean, std²) on the line."""
    return GaussianMixture([1.0], [[options.mean]], [options.std])


@SOURCES.register("bimodal1d", options=Bimodal1dOptions)
def bimodal1d(options: Bimodal1dOptions) -> GaussianMixture:
    """Lopsided two-bump mixture on the line (the 1-D picture of Goodfellow et al., 2014)."""
    return _mixture1d(options)


@SOURCES.register("gmm1d", options=Gmm1dOptions)
def gmm1d(options: Gmm1dOptions) -> GaussianMixture:
    """Any Gaussian mixture on the line: Σ_k w_k N(μ_k, σ_k²)."""
    return _mixture1d(options)


def _mixture1d(options: _Mixture1dOptions) -> GaussianMixture:
    return GaussianMixture(options.weights, [[m] for m in options.means], options.stds)


@SOURCES.register("ring", options=RingOptions)
def ring(options: RingOptions) -> GaussianMixture:
    """Equal Gaussians on a circle (PacGAN 2D-ring; Lin et al., 2018)."""
    angle = 2 * math.pi * torch.arange(options.modes, dtype=torch.float64) / options.modes
    means = options.radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return GaussianMixture(
        torch.ones(options.modes), means, torch.full((options.modes,), options.std)
    )


@SOURCES.register("grid", options=GridOptions)
def grid(options: GridOptions) -> GaussianMixture:
    """Equal Gaussians on a square grid centred at 0 (PacGAN 2D-grid; Lin et al., 2018)."""
    steps = torch.arange(options.size, dtype=torch.float64) - (options.size - 1) / 2
    axis = options.spacing * steps
    xs, ys = torch.meshgrid(axis, axis, indexing="ij")
    means = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    k = means.shape[0]
    return GaussianMixture(torch.ones(k), means, torch.full((k,), options.std))


@SOURCES.register("swissroll", options=SwissRollOptions)
def swissroll(options: SwissRollOptions) -> SwissRoll:
    """A noisy 2-D swiss roll (no closed-form density)."""
    return SwissRoll(options.noise, options.scale)


@SOURCES.register("moons", options=MoonsOptions)
def moons(options: MoonsOptions) -> TwoMoons:
    """Two interleaved noisy half circles (no closed-form density)."""
    return TwoMoons(options.noise, options.scale)


@SOURCES.register("spiral", options=SpiralOptions)
def spiral(options: SpiralOptions) -> Spiral:
    """A noisy two-armed spiral (no closed-form density)."""
    return Spiral(options.noise, options.scale)


@SOURCES.register("drawn", options=DrawnOptions)
def drawn(options: DrawnOptions) -> GaussianMixture:
    """The drawn points, each picked with probability 1/K, plus N(0, jitter²) per
    coordinate: the equal-weight mixture Σ_k (1/K) N(p_k, jitter²·I), density known."""
    k = len(options.points)
    return GaussianMixture(torch.ones(k), options.points, torch.full((k,), options.jitter))
