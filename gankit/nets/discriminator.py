"""The structure every discriminator shares: body → [minibatch discrimination] → linear head.

Every output comes from ``forward``: ``D(x)`` gives the logits, ``D(x, with_features=True)``
a :class:`DiscriminatorOutput` with the features of the same pass (one dropout mask), so a
wrapper around D (DistributedDataParallel, ``torch.compile``, a counting hook) sees every
evaluation of D.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor, nn

from gankit.nets.minibatch import MinibatchDiscrimination, MinibatchOptions


class DiscriminatorOutput(NamedTuple):
    """What one pass of D gives when asked for more than logits."""

    logits: Tensor
    """(B,) — or a patch map for patch discriminators."""
    features: Tensor
    """(B, F): D's last hidden layer, before minibatch discrimination and the head."""
    class_logits: Tensor | None = None
    """(B, classes) of an auxiliary classifier (AC-GAN), when D has one."""


class Discriminator(nn.Module):
    """D(x) = classify(features(x)): ``body`` gives features h of width F; ``classify`` appends
    the minibatch features (Salimans et al., 2016, §3.2) when enabled and maps to one logit
    with a linear layer of F (+ kernels) inputs."""

    def __init__(
        self, body: nn.Module, feature_dim: int, minibatch: MinibatchOptions | None
    ) -> None:
        super().__init__()
        self.body = body  # (B, *in_shape) → (B, F)
        self.feature_dim = feature_dim  # F
        if minibatch is None:
            self.minibatch: nn.Module = nn.Identity()
        else:
            self.minibatch = MinibatchDiscrimination(
                feature_dim, minibatch.kernels, minibatch.kernel_dim
            )  # (B, F) → (B, F + kernels)
            feature_dim += minibatch.kernels
        self.head = nn.Sequential(nn.Linear(feature_dim, 1), nn.Flatten(0))  # (B, ·) → (B,)

    def features(self, x: Tensor) -> Tensor:
        """The body's output h, shape ``(B, F)``: D's last hidden layer, dropout included."""
        return self.body(x)

    def classify(self, h: Tensor) -> Tensor:
        """Logits ``(B,)`` from features ``h`` of the whole batch (minibatch discrimination
        compares the samples of ``h`` with each other)."""
        return self.head(self.minibatch(h))

    def forward(self, x: Tensor, with_features: bool = False) -> Tensor | DiscriminatorOutput:
        """Logits ``(B,)``; with ``with_features`` the logits and the features of this pass."""
        h = self.features(x)
        logits = self.classify(h)
        return DiscriminatorOutput(logits, h) if with_features else logits
