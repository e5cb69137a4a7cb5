"""Mixed precision, ``train.precision``: autocast and one gradient scaler per player.

As PyTorch's Automatic Mixed Precision describes it (https://pytorch.org/docs/stable/amp.html,
examples in https://pytorch.org/docs/stable/notes/amp_examples.html):

    fp32   every operation in float32: no autocast, no scaling (the default)
    bf16   forward passes under ``torch.autocast(dtype=torch.bfloat16)``; bfloat16 has
           float32's range, so gradients need no scaling
    fp16   forward passes under ``torch.autocast(dtype=torch.float16)``; each player's loss
           is multiplied by the scale of its own ``torch.amp.GradScaler`` before backward,
           so that small gradients do not underflow float16, and its gradients divided by
           it before the step; an update whose gradients overflowed is skipped and the
           scale halved, and the scale doubles after 2000 updates without overflow

Autocast runs matrix products and convolutions in the low-precision format and keeps
reductions and losses in float32; backward passes run outside autocast, as the docs ask.
The scalers' state (scale, growth tracker) is part of the training state and checkpointed,
so a resumed fp16 run continues bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import Tensor

from gankit.errors import ConfigError

DTYPES: dict[str, torch.dtype | None] = {
    "fp32": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}
"""The autocast dtype of each ``train.precision`` (None: no autocast)."""


class Precision:
    """Autocast for the forward passes and a ``GradScaler`` per player (enabled for fp16
    only: a disabled scaler passes the loss and the step through unchanged)."""

    def __init__(self, precision: str, device: torch.device, players: Iterable[str]) -> None:
        check_supported(precision, device)
        self.dtype = DTYPES[precision]
        self.device = device
        self.scalers = {
            player: torch.amp.GradScaler(device.type, enabled=precision == "fp16")
            for player in players
        }
        self.skipped = 0
        """Updates the scalers skipped since the last :meth:`step_statistics`."""

    @property
    def scaling(self) -> bool:
        return any(scaler.is_enabled() for scaler in self.scalers.values())

    def autocast(self) -> AbstractContextManager[object]:
        """The context for forward passes: ``torch.autocast`` to the configured dtype on the
        trainer's device, or nothing for fp32."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def loss_scale(self, player: str) -> float:
        """The factor ``player``'s loss is multiplied by before backward (1.0 unless fp16)."""
        return self.scalers[player].get_scale()

    def step(self, player: str, optimizer: torch.optim.Optimizer) -> None:
        """``scaler.step(optimizer)`` then ``scaler.update()``: the optimiser steps unless
        the gradients hold inf/NaN, in which case the scale is lowered (backoff) and the
        skipped update counted."""
        scaler = self.scalers[player]
        scale = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        if scaler.get_scale() < scale:
            self.skipped += 1

    def step_statistics(self, stats: dict[str, Tensor]) -> dict[str, Tensor]:
        """A step's statistics, with ``amp/skipped_updates`` when scaling. In a step where
        a scaler skipped an update, the values that are not finite (gradient norms and
        input-gradient penalties computed from the overflowed gradients) count as 0 in the
        log's averages; ``amp/skipped_updates`` says how many updates were skipped."""
        if not self.scaling:
            return stats
        skipped, self.skipped = self.skipped, 0
        if skipped:
            stats = {k: torch.nan_to_num(v, nan=0, posinf=0, neginf=0) for k, v in stats.items()}
        return {**stats, "amp/skipped_updates": torch.tensor(float(skipped), device=self.device)}


def check_supported(precision: str, device: torch.device) -> None:
    """Refuse a precision that ``device`` cannot compute in, naming the fix."""
    dtype = DTYPES[precision]
    if dtype is None:
        return
    if not torch.amp.is_autocast_available(device.type):
        raise ConfigError(
            f"train.precision={precision}: torch {torch.__version__} has no autocast on "
            f"{device.type}: set train.precision=fp32"
        )
    if device.type == "cuda" and dtype is torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise ConfigError(
            f"train.precision=bf16: {torch.cuda.get_device_name(device)} does not compute in "
            "bfloat16: set train.precision=fp16 (or fp32)"
        )
