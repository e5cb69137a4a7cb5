"""The reference values the playground's charts put next to D's estimate.

G's density has no closed form, so the "exact" divergence between the data and G is taken
between the data's exact measure and G's samples:

* f-divergences (JS, KL both ways, squared Hellinger, χ² both ways, TV) and the triangular
  discrimination between the two distributions binned onto the cells of the view: the
  data's mass per cell exactly, from the mixture's CDFs, G's as the share of its samples,
  plus one cell for everything outside the view. Binning can only lower an f-divergence
  (data processing), so this is a lower bound that tightens as the cells shrink; it needs
  data with a known density (the Gaussian mixtures, drawn points).
* W1: in 1-D ∫ |F_data − F_G| dx with the data's exact CDF and G's empirical one
  (:func:`gankit.metrics.divergences.wasserstein1_1d`); in 2-D by exact optimal transport
  between equal numbers of real and generated points
  (:func:`gankit.metrics.divergences.wasserstein1_empirical`), for any data.

Mode coverage and the high-quality share follow the PacGAN protocol
(:func:`gankit.metrics.mode_coverage`) on the ring and the grid.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special
from torch import Tensor

from gankit.data import DataSource, GaussianMixture
from gankit.metrics.divergences import wasserstein1_1d, wasserstein1_empirical
from gankit.metrics.modes import mode_coverage

CELLS_1D = 400
"""Cells across the 1-D view for the binned divergences."""
CELLS_2D = 64
"""Cells along each axis of the 2-D view (the surface's grid)."""
CDF_POINTS = 4001
"""Points of the 1-D grid on which W1 integrates |F_data − F_G|."""
COVERAGE_DATA = ("ring", "grid")
"""The data whose modes are scored."""

BINNED = ("js", "kl", "reverse_kl", "hellinger", "pearson", "neyman", "tv", "triangular")
"""The divergences taken between binned distributions."""


class References:
    """Exact references for one data source seen through one view box."""

    def __init__(self, source: DataSource, data_name: str, bounds: list[float]) -> None:
        self.dim = source.shape[0]
        self.bounds = bounds
        self.source = source
        self.mixture = source if isinstance(source, GaussianMixture) else None
        self.coverage = data_name in COVERAGE_DATA and self.mixture is not None
        cells = CELLS_1D if self.dim == 1 else CELLS_2D
        self.edges = [
            np.linspace(bounds[2 * axis], bounds[2 * axis + 1], cells + 1)
            for axis in range(self.dim)
        ]
        self.data_mass = self._data_mass() if self.mixture is not None else None
        if self.dim == 1:
            low = bounds[0] - (bounds[1] - bounds[0])
            high = bounds[1] + (bounds[1] - bounds[0])
            self.cdf_grid = np.linspace(low, high, CDF_POINTS)

    def divergence(
        self, name: str | None, real: Tensor, fake: Tensor, many: Tensor
    ) -> float | None:
        """The reference value of divergence ``name`` between the data and G: binned and in
        1-D from the ``many`` generated samples, in 2-D W1 by optimal transport between
        ``real`` and ``fake`` (as many of each); None where there is none."""
        if name == "w1":
            if self.dim == 1 and self.mixture is not None:
                return self._w1_1d(many)
            return wasserstein1_empirical(real.double().numpy(), fake.double().numpy())
        if name in BINNED and self.data_mass is not None:
            return binned_divergence(name, self.data_mass, self._sample_mass(many))
        return None

    def _w1_1d(self, fake: Tensor) -> float:
        """∫ |F_data − F_G| dx: the data's exact CDF, G's empirical one, on a grid that
        holds every sample (where the empirical CDF jumps)."""
        points = np.sort(fake.double().numpy().reshape(-1))
        grid = np.sort(np.concatenate([self.cdf_grid, points]))
        fake_cdf = np.searchsorted(points, grid, side="right") / len(points)
        return wasserstein1_1d(self._data_cdf(grid), fake_cdf, grid)

    def modes(self, fake: Tensor) -> tuple[float, float] | None:
        """(share of the modes captured, share of high-quality samples) of ``fake`` on the
        ring and the grid; None for other data."""
        if not self.coverage or self.mixture is None:
            return None
        score = mode_coverage(fake, self.mixture.modes, self.mixture.component_stds[:, 0])
        return score.modes_captured / score.modes_total, score.high_quality

    def _data_mass(self) -> np.ndarray:
        """The data's mass on each cell (row-major over the axes) and, last, outside."""
        assert self.mixture is not None
        weights = self.mixture.weights.numpy()
        means, stds = self.mixture.modes.numpy(), self.mixture.component_stds.numpy()
        per_axis = []
        for axis, edges in enumerate(self.edges):
            cdf = special.ndtr((edges[None, :] - means[:, axis, None]) / stds[:, axis, None])
            per_axis.append(np.diff(cdf, axis=1))  # (K, cells)
        if self.dim == 1:
            inside = weights @ per_axis[0]
        else:
            inside = np.einsum("k,ki,kj->ij", weights, per_axis[0], per_axis[1]).reshape(-1)
        return np.append(inside, max(0.0, 1.0 - float(inside.sum())))

    def _sample_mass(self, samples: Tensor) -> np.ndarray:
        """The share of ``samples`` in each cell and, last, outside the view."""
        points = samples.double().numpy().reshape(len(samples), self.dim)
        counts, _ = np.histogramdd(points, bins=self.edges)
        inside = counts.reshape(-1)
        return np.append(inside, len(points) - inside.sum()) / len(points)

    def _data_cdf(self, grid: np.ndarray) -> np.ndarray:
        assert self.mixture is not None
        weights = self.mixture.weights.numpy()
        means = self.mixture.modes.numpy()[:, 0]
        stds = self.mixture.component_stds.numpy()[:, 0]
        return special.ndtr((grid[:, None] - means) / stds) @ weights


def binned_divergence(name: str, p: np.ndarray, q: np.ndarray) -> float:
    """D(P‖Q) between two distributions on the same cells (masses ``p``, ``q``), with
    0·log 0 = 0; inf where Q has no mass where P has (KL, Pearson χ²) or the reverse."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if name == "js":
            m = (p + q) / 2
            return 0.5 * _xlog(p, p / m) + 0.5 * _xlog(q, q / m)
        if name == "kl":
            return _xlog(p, p / q)
        if name == "reverse_kl":
            return _xlog(q, q / p)
        if name == "hellinger":
            return float(((np.sqrt(p) - np.sqrt(q)) ** 2).sum())
        if name == "pearson":
            return _ratio_sum((p - q) ** 2, q)
        if name == "neyman":
            return _ratio_sum((p - q) ** 2, p)
        if name == "tv":
            return 0.5 * float(np.abs(p - q).sum())
        if name == "triangular":
            return _ratio_sum((p - q) ** 2, p + q)
    raise ValueError(f"no binned form of {name!r}; choose from {', '.join(BINNED)}")


def _xlog(weight: np.ndarray, ratio: np.ndarray) -> float:
    """Σ w·log r over the cells where w > 0 (0·log 0 = 0)."""
    mass = weight > 0
    return float((weight[mass] * np.log(ratio[mass])).sum())


def _ratio_sum(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """Σ n/d over the cells where n > 0; inf where some d is 0 there."""
    used = numerator > 0
    if (denominator[used] <= 0).any():
        return math.inf
    return float((numerator[used] / denominator[used]).sum())
