"""Does a generator copy its training set? A nearest-neighbour test against held-out data.

A generator that memorises reproduces training samples, so its samples lie unusually close
to their nearest training sample. "Unusually" needs a reference: real samples themselves
sit at some natural distance from their nearest training neighbour, which depends on the
data, the features and the size of the training set. The reference is therefore a held-out
real set, drawn from the same distribution as the training set but not trained on:

* dᵍ: the distance from each generated sample to its nearest training sample;
* dʰ: the same for each held-out real sample;
* ratio = median(dᵍ)/median(dʰ): about 1 for a generator that does not copy (its samples are
  as far from the training set as new real samples are), well below 1 when it copies;
* copy rate: the share of generated samples with dᵍ below the 1st percentile of dʰ. Held-out
  samples fall below it 1 % of the time by construction, so a generator that does not copy
  scores about 0.01, and one that copies every sample scores about 1.

The distances are exact Euclidean distances in float64, computed in blocks of
:data:`gankit.metrics.manifold.CHUNK_ROWS` rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from gankit.metrics.frechet import ArrayLike, as_features, check_same_dimension
from gankit.metrics.manifold import CHUNK_ROWS

COPY_PERCENTILE = 1.0
"""Generated samples nearer to the training set than this percentile of the held-out
distances count as copies."""


@dataclass(frozen=True)
class Memorisation:
    """Outcome of :func:`memorisation`."""

    generated_median: float
    """Median distance from a generated sample to its nearest training sample."""
    heldout_median: float
    """Median distance from a held-out real sample to its nearest training sample."""
    ratio: float
    """generated_median/heldout_median: ≈ 1 without copying, ≪ 1 with it (NaN when
    heldout_median is 0)."""
    copy_threshold: float
    """The 1st percentile of the held-out distances."""
    copy_rate: float
    """Share of generated samples nearer to the training set than ``copy_threshold``."""


def memorisation(generated: ArrayLike, train: ArrayLike, heldout: ArrayLike) -> Memorisation:
    """Compare the nearest-training-neighbour distances of ``generated`` samples with those
    of ``heldout`` real samples (all feature sets (n, d) with the same d): their medians,
    the ratio of the medians and the share of generated samples nearer than the 1st
    percentile of the held-out distances."""
    generated = as_features(generated, "generated")
    train = as_features(train, "train").to(generated.device)
    heldout = as_features(heldout, "heldout").to(generated.device)
    check_same_dimension(generated, train, "generated and train")
    check_same_dimension(heldout, train, "heldout and train")
    to_generated = nearest_distances(generated, train)
    to_heldout = nearest_distances(heldout, train)
    generated_median = _median(to_generated)
    heldout_median = _median(to_heldout)
    threshold = float(torch.quantile(to_heldout, COPY_PERCENTILE / 100))
    return Memorisation(
        generated_median=generated_median,
        heldout_median=heldout_median,
        ratio=generated_median / heldout_median if heldout_median > 0 else math.nan,
        copy_threshold=threshold,
        copy_rate=float((to_generated < threshold).double().mean()),
    )


def nearest_distances(queries: Tensor, reference: Tensor) -> Tensor:
    """Distance from each row of ``queries`` to its nearest row of ``reference``."""
    return torch.cat(
        [
            torch.cdist(queries[start : start + CHUNK_ROWS], reference).amin(dim=1)
            for start in range(0, len(queries), CHUNK_ROWS)
        ]
    )


def _median(values: Tensor) -> float:
    """The median, averaging the two middle values of an even number of them."""
    return float(torch.quantile(values, 0.5))
