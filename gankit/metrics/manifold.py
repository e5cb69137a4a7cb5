"""Fidelity and diversity from k-nearest-neighbour balls around feature sets.

The manifold of a feature set {xᵢ} is estimated as the union of the closed balls
B(xᵢ, NND_k(xᵢ)), where NND_k(xᵢ) is the distance from xᵢ to its k-th nearest neighbour in
the same set, itself excluded. With N real features {rᵢ} and M fake features {fⱼ}:

* improved precision and recall (Kynkäänniemi et al., 2019): precision is the share of fake
  samples inside the real manifold (fidelity), recall the share of real samples inside the
  fake manifold (diversity);
* density and coverage (Naeem et al., 2020), both from real balls only, so that outlying
  fakes cannot inflate them:

      density  = (1/(k·M)) Σⱼ Σᵢ 1[fⱼ ∈ B(rᵢ, NND_k(rᵢ))],
      coverage = (1/N) Σᵢ 1[∃ j: fⱼ ∈ B(rᵢ, NND_k(rᵢ))].

  Density counts how many real balls hold each fake; it is about 1 when fakes follow the
  real distribution and may exceed 1. Coverage is the share of real balls holding a fake.

Neighbours are exact: Euclidean distances by ``torch.cdist`` in float64, ``CHUNK_ROWS`` rows
at a time, so memory stays at CHUNK_ROWS × (set size) distances (about 160 MB for sets of
10,000) whatever the number of queries.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from gankit.metrics.frechet import ArrayLike, as_features, check_same_dimension

CHUNK_ROWS = 2048
"""Query rows per block of pairwise distances."""


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019): the share of ``fake``
    inside the real k-NN manifold and the share of ``real`` inside the fake one."""
    real, fake = _checked_pair(real, fake, k, fake_min=k + 1)
    precision = _inside_any(fake, real, knn_radii(real, k)).double().mean()
    recall = _inside_any(real, fake, knn_radii(fake, k)).double().mean()
    return float(precision), float(recall)


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> tuple[float, float]:
    """Density (1/(k·M)) Σⱼ Σᵢ 1[fⱼ ∈ B(rᵢ, NND_k(rᵢ))] and coverage, the share of real
    balls B(rᵢ, NND_k(rᵢ)) holding at least one fake (Naeem et al., 2020)."""
    real, fake = _checked_pair(real, fake, k, fake_min=1)
    radii = knn_radii(real, k)
    inside = 0
    for _, block in _blocks(fake):
        inside += int((torch.cdist(block, real) <= radii).sum())
    density = inside / (k * len(fake))
    nearest_fake = torch.cat([torch.cdist(block, fake).amin(dim=1) for _, block in _blocks(real)])
    coverage = (nearest_fake <= radii).double().mean()
    return density, float(coverage)


def knn_radii(features: Tensor, k: int) -> Tensor:
    """NND_k: the distance from each row of ``features`` (n, d), n > k, to its k-th nearest
    other row (duplicates of a row count as neighbours at distance 0)."""
    radii = []
    for start, block in _blocks(features):
        distances = torch.cdist(block, features)
        rows = torch.arange(len(block), device=features.device)
        distances[rows, start + rows] = torch.inf  # a point is not its own neighbour
        radii.append(distances.topk(k, dim=1, largest=False).values[:, -1])
    return torch.cat(radii)


def _inside_any(queries: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """Whether each query lies in at least one closed ball B(centres[i], radii[i])."""
    return torch.cat(
        [(torch.cdist(block, centres) <= radii).any(dim=1) for _, block in _blocks(queries)]
    )


def _blocks(features: Tensor) -> Iterator[tuple[int, Tensor]]:
    """(start, rows) in blocks of ``CHUNK_ROWS``."""
    for start in range(0, len(features), CHUNK_ROWS):
        yield start, features[start : start + CHUNK_ROWS]


def _checked_pair(real: ArrayLike, fake: ArrayLike, k: int, fake_min: int) -> tuple[Tensor, Tensor]:
    """Both sets as checked float64 features, ``real`` with more than ``k`` samples and
    ``fake`` with at least ``fake_min``."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    real = as_features(real, "real", min_samples=k + 1)
    fake = as_features(fake, "fake", min_samples=fake_min)
    check_same_dimension(real, fake, "real and fake")
    return real, fake.to(real.device)
