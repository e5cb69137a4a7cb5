"""The registry of augmentations and what every augmentation offers the training step.

Kept in its own module so that ``diffaugment`` and ``ada`` can register into ``AUGMENTS``
without importing the package ``__init__`` that imports them (as :mod:`gankit.nets.registry`
does for networks).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict
from torch import Tensor

from gankit.errors import ConfigError
from gankit.registry import Registry


class AugmentOptions(BaseModel):
    """Base of every augmentation's options, the config's ``augment:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str


class Augment(ABC):
    """A differentiable augmentation of the images D sees in training.

    The step calls it on every batch of real and generated images before every evaluation
    of D (each call an independent draw), in D's updates and in G's, so G learns through
    it and the penalties see augmented inputs; sampling never calls it. An adaptive
    augmentation reads D's outputs on the augmented real images through :meth:`observe`
    and keeps its state (checkpointed) in :meth:`state_dict`."""

    def __init__(self, options: Any, shape: tuple[int, ...], device: torch.device) -> None:
        if len(shape) != 3:
            raise ConfigError(
                f"augment.name={options.name} augments images (C, H, W); the data has shape "
                f"{tuple(shape)}: set augment=null"
            )
        self.options = options
        self.shape = tuple(shape)
        self.device = torch.device(device)
        self.sum_over_ranks: Callable[[Tensor], Tensor] | None = None
        """Σ over the processes of a multi-process run, so that an adaptive state (ADA's p)
        is the same on every rank; None alone."""

    @abstractmethod
    def __call__(self, x: Tensor) -> Tensor:
        """The batch ``x`` (B, C, H, W), augmented with fresh random draws."""

    def observe(self, real_logits: Tensor, batch_size: int) -> None:
        """D's logits on the augmented real images of one D update (``batch_size`` images)."""
        return None  # a hook: nothing to do unless overridden

    def stats(self) -> dict[str, Tensor]:
        """Detached scalars for the step's statistics (e.g. ``augment_p``)."""
        return {}

    def state_dict(self) -> dict[str, Tensor]:
        """Tensors to checkpoint, by name (prefixed ``augment.``)."""
        return {}

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        """Restore :meth:`state_dict` from a checkpoint's tensors (all of them: pick yours)."""
        return None  # a hook: nothing to do unless overridden


AUGMENTS: Registry[type[Augment]] = Registry("augmentation")


def build_augment(options: AugmentOptions, shape: tuple[int, ...], device: torch.device) -> Augment:
    """The augmentation ``options.name`` selects, for images of ``shape`` on ``device``."""
    return AUGMENTS.get(options.name)(options, shape, device)
