"""Deterministic held-out splits of the labelled digit sets.

The shipped digit classifiers (:mod:`gankit.metrics.digits`) were trained on the training
part of these splits and their held-out part is the evaluation's real reference set. A run
that trains on ``split: train`` never sees the held-out digits, so they can also tell
whether its generator copies its training set (the memorisation check).
"""

from __future__ import annotations

import hashlib

import torch
from torch import Tensor

SPLIT_SEED = 0
HELDOUT_PER_CLASS = {"mnist5k": 100, "digits8x8": 36}
"""Images held out per digit class of each embedded digit set (20 % of the data)."""


def stratified_split(labels: Tensor, heldout_per_class: int, seed: int) -> tuple[Tensor, Tensor]:
    """Deterministic stratified split → (train_index, heldout_index), both sorted.

    Within each class the ``heldout_per_class`` images with the smallest keys
    sha256(f"{seed}:{index}") are held out (ties impossible). The rule depends on no random
    number generator, so every version of every library gives the same split."""
    labels = labels.detach().cpu().long()
    if labels.ndim != 1:
        raise ValueError(f"expected labels of shape (N,), got {tuple(labels.shape)}")
    if heldout_per_class < 0:
        raise ValueError(f"heldout_per_class must be ≥ 0, got {heldout_per_class}")
    heldout: list[int] = []
    for label in torch.unique(labels).tolist():
        members = torch.nonzero(labels == label).flatten().tolist()
        if len(members) <= heldout_per_class:
            raise ValueError(
                f"class {label} has {len(members)} images: cannot hold out "
                f"{heldout_per_class} and still train on it"
            )
        heldout += sorted(members, key=lambda index: _split_key(seed, index))[:heldout_per_class]
    is_heldout = torch.zeros(len(labels), dtype=torch.bool)
    is_heldout[heldout] = True
    return torch.nonzero(~is_heldout).flatten(), torch.nonzero(is_heldout).flatten()


def digit_split(name: str, labels: Tensor) -> tuple[Tensor, Tensor]:
    """(train_index, heldout_index) of the embedded digit set ``name`` with ``labels``."""
    if name not in HELDOUT_PER_CLASS:
        raise ValueError(f"no held-out split for '{name}' (known: {', '.join(HELDOUT_PER_CLASS)})")
    return stratified_split(labels, HELDOUT_PER_CLASS[name], SPLIT_SEED)


def _split_key(seed: int, index: int) -> str:
    """Sort key of image ``index`` in :func:`stratified_split`: sha256(f"{seed}:{index}")."""
    return hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()
