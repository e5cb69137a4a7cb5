"""What every data source offers the Trainer: a shape, a kind and fast random batches."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict
from torch import Tensor

from gankit.errors import GankitError


class DataError(GankitError, ValueError):
    """Data that cannot be used: unreadable files, wrong shapes, empty folders, NaN/inf."""


class SourceOptions(BaseModel):
    """Base of every data source's options; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def heldout_split(self) -> str | None:
        """The ``split`` value that reads the part of this data held out from training,
        which evaluation measures against; None when the source has none."""
        return None

    def at_shape(self, shape: Sequence[int] | None) -> SourceOptions:
        """These options with a ``size`` left to the images (None) pinned to the side of
        ``shape`` (C, H, W), the shape a run trained at, so that data rebuilt for the run
        fits its networks even if the images changed."""
        if getattr(self, "size", 0) is not None or not shape or len(shape) != 3:
            return self
        return self.model_copy(update={"size": int(shape[-1])})


class DataSource(ABC):
    """Yields real samples. ``kind`` is ``"points"`` (shape ``(d,)``), ``"images"``
    (shape ``(C, H, W)``, values scaled to [−1, 1]), ``"pairs"`` (aligned input and target
    images; ``sample`` gives targets) or ``"unpaired"`` (two image domains; ``sample`` gives
    domain B)."""

    kind: Literal["points", "images", "pairs", "unpaired"]
    shape: tuple[int, ...]

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` samples, shape ``(n, *shape)``, float32, on this source's device.

        All randomness comes from ``generator`` (a CPU ``torch.Generator``), so the same
        generator state gives the same batch on every device."""

    def to(self, device: torch.device | str) -> DataSource:
        """Move in-memory data to ``device`` (no-op for sources without stored data)."""
        return self

    @property
    def classes(self) -> int:
        """Number of class labels its samples carry (0: unlabelled)."""
        return 0

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw ``n`` samples and their class labels (n,) int64, for conditional GANs."""
        raise DataError(
            f"{type(self).__name__} has no class labels: a conditional GAN needs labelled data "
            "(the digit sets, a folder with one sub-folder per class, ring or grid)"
        )

    @property
    def has_density(self) -> bool:
        return False

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact log density of ``x`` (shape ``(n, *shape)``) → ``(n,)``, where defined."""
        raise TypeError(f"{type(self).__name__} has no closed-form density")


class ToySource(DataSource):
    """A distribution in R^d known in closed form, sampled afresh at every call."""

    kind = "points"

    def __init__(self, dim: int) -> None:
        self.shape = (dim,)
        self.device = torch.device("cpu")

    def to(self, device: torch.device | str) -> ToySource:
        self.device = torch.device(device)
        return self

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self._sample_cpu(n, generator).to(self.device)

    @abstractmethod
    def _sample_cpu(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw ``n`` points on the CPU from ``generator``; shape ``(n, d)``."""


class TensorImageSource(DataSource):
    """Images held in memory as one uint8 tensor ``(N, C, H, W)``; batches are gathered
    by random index and scaled to [−1, 1] as x / 127.5 − 1 (no per-image Python)."""

    kind = "images"

    def __init__(
        self,
        images: Tensor,
        labels: Tensor | None = None,
        class_names: list[str] | None = None,
        name: str = "images",
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise DataError(
                f"{name}: expected a uint8 tensor (N, C, H, W), got {images.dtype} "
                f"{tuple(images.shape)}"
            )
        if images.shape[0] == 0:
            raise DataError(f"{name}: no images")
        if labels is not None and labels.shape != (images.shape[0],):
            raise DataError(
                f"{name}: {images.shape[0]} images but labels of shape {tuple(labels.shape)}"
            )
        self.name = name
        self.images = images.contiguous()
        self.labels = None if labels is None else labels.long()
        self.class_names = class_names
        self.shape = tuple(images.shape[1:])

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: torch.device | str) -> TensorImageSource:
        self.images = self.images.to(device)
        if self.labels is not None:
            self.labels = self.labels.to(device)
        return self

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        index = torch.randint(len(self), (n,), generator=generator).to(self.images.device)
        return self.images[index].float().div_(127.5).sub_(1.0)

    @property
    def classes(self) -> int:
        if self.labels is None:
            return 0
        return len(self.class_names) if self.class_names else int(self.labels.max()) + 1

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        if self.labels is None:
            return super().sample_labelled(n, generator)
        index = torch.randint(len(self), (n,), generator=generator).to(self.images.device)
        return self.images[index].float().div_(127.5).sub_(1.0), self.labels[index]


def gaussian_log_prob(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """log N(x; mean, diag(std²)) summed over the last dimension."""
    z = (x - mean) / std
    return (-0.5 * z.pow(2) - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(-1)
