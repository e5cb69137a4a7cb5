"""Conditional networks: G(z, y) and D(x, y) for a class label y (Mirza & Osindero 2014).

The label enters as a one-hot vector or a learned embedding e(y) of ``embed_dim`` values:

* G(z, y) = G₀([z, e(y)]): the unconditional generator G₀ reads the concatenation (for
  DCGAN this is "concatenated to z", for an MLP its input); a G₀ with class-conditional
  BatchNorm (the residual generator, BigGAN-style) also takes e(y) for the gains and
  biases of its BatchNorms, G₀([z, e(y)], e(y));
* D(x, y), ``concat``: the unconditional discriminator D₀ reads x joined with e(y) — as
  extra input features for points (MLP), as e(y) broadcast to extra input channels for
  images (DCGAN);
* D(x, y), ``projection`` (Miyato & Koyama 2018, eq. 3): D(x, y) = ψ(φ(x)) + ⟨V e_y, φ(x)⟩,
  D₀'s logit plus the inner product of a learned class embedding with D₀'s features φ(x);
* an auxiliary classifier on D's features for the AC-GAN loss (Odena et al. 2017), present
  when asked for: its class logits come with ``D(x, y, with_features=True)``.

A conditional discriminator keeps the ``features``/``classify`` split of
:class:`~gankit.nets.discriminator.Discriminator` with the label as second argument, and
gives every output through ``forward``; :class:`LabelBound` fixes the label of a batch so
that every penalty written for D(x) (gradient penalty, R1, consistency) works unchanged on
D(·, y).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.nets.discriminator import DiscriminatorOutput
from gankit.nets.registry import NetError

Embedding = Literal["onehot", "learned"]
Joining = Literal["concat", "projection"]


class LabelEmbedding(nn.Module):
    """y (B,) int64 → e(y) (B, dim): one-hot (dim = classes) or a learned table."""

    def __init__(self, classes: int, embedding: Embedding = "onehot", dim: int = 16) -> None:
        super().__init__()
        if classes < 2:
            raise NetError(f"a conditional network needs at least 2 classes, got {classes}")
        self.classes = classes
        self.onehot = embedding == "onehot"
        self.dim = classes if self.onehot else dim
        self.table = None if self.onehot else nn.Embedding(classes, dim)

    def forward(self, y: Tensor) -> Tensor:
        check_labels(y, self.classes)
        if self.table is None:
            return F.one_hot(y, self.classes).float()
        return self.table(y)


def check_labels(y: Tensor, classes: int) -> None:
    """Refuse labels that are not integers in 0..classes−1, naming the bad value."""
    if y.dtype not in (torch.int64, torch.int32) or y.ndim != 1:
        raise NetError(f"labels must be integers of shape (B,), got {y.dtype} {tuple(y.shape)}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= classes):
        bad = int(y.min()) if int(y.min()) < 0 else int(y.max())
        raise NetError(
            f"label {bad} is out of range: this run has {classes} classes (0–{classes - 1})"
        )


class ConditionalGenerator(nn.Module):
    """G(z, y) = G₀([z, e(y)]); ``base`` was built for inputs of z_dim + embedding.dim.

    A ``base`` with a ``condition_on(dim)`` method (the residual generator) is asked to
    condition its normalisation on e(y) too; when it agrees (it has BatchNorm), G(z, y) =
    G₀([z, e(y)], e(y)) (conditional BatchNorm, de Vries et al. 2017; BigGAN, Brock et
    al. 2019)."""

    def __init__(self, base: nn.Module, embedding: LabelEmbedding) -> None:
        super().__init__()
        self.base = base
        self.embedding = embedding
        condition_on = getattr(base, "condition_on", None)
        self.conditional_norm = bool(condition_on is not None and condition_on(embedding.dim))

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        e = self.embedding(y).to(z.dtype)  # (B, dim)
        joined = torch.cat([z, e], dim=1)
        return self.base(joined, e) if self.conditional_norm else self.base(joined)


class ConditionalDiscriminator(nn.Module):
    """D(x, y) from an unconditional discriminator ``base`` (a ``Discriminator``).

    ``joining`` = ``concat``: ``base`` was built for inputs with the label appended, as
    extra channels of an image when ``channels`` (convolutional D) and else as extra
    features of the flattened x; ``projection``: ``base`` sees x alone and a class embedding
    V (classes × F) adds ⟨V_y, φ(x)⟩ to its logit. ``auxiliary`` adds a linear classifier
    of the features (AC-GAN)."""

    def __init__(
        self,
        base: nn.Module,
        classes: int,
        joining: Joining,
        embedding: LabelEmbedding | None = None,
        channels: bool = False,
        auxiliary: bool = False,
    ) -> None:
        super().__init__()
        if joining == "concat" and embedding is None:
            raise NetError("a concat discriminator needs the label embedding")
        self.base = base
        self.classes = classes
        self.joining = joining
        self.embedding = embedding  # used by concat only
        self.channels = channels
        feature_dim = base.feature_dim
        self.projection = nn.Embedding(classes, feature_dim) if joining == "projection" else None
        if self.projection is not None:
            nn.init.normal_(self.projection.weight, 0.0, 0.02)
        self.auxiliary = nn.Linear(feature_dim, classes) if auxiliary else None

    def features(self, x: Tensor, y: Tensor) -> Tensor:
        """φ(x) (projection) or φ([x, e(y)]) (concat), shape (B, F)."""
        check_labels(y, self.classes)
        if self.joining == "projection":
            return self.base.features(x)
        assert self.embedding is not None
        e = self.embedding(y).to(x.dtype)  # (B, dim)
        if self.channels:  # images: the label as constant extra channels
            e = e[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            return self.base.features(torch.cat([x, e], dim=1))
        return self.base.features(torch.cat([x.flatten(1), e], dim=1))

    def classify(self, h: Tensor, y: Tensor) -> Tensor:
        """Logits (B,) from features h: D₀'s head, plus ⟨V_y, h⟩ for projection."""
        logits = self.base.classify(h)
        if self.projection is not None:
            logits = logits + (self.projection(y) * h).sum(dim=1)
        return logits

    def class_logits(self, h: Tensor) -> Tensor:
        """The auxiliary classifier's logits (B, classes) from features h (AC-GAN)."""
        if self.auxiliary is None:
            raise NetError("this discriminator has no auxiliary classifier")
        return self.auxiliary(h)

    def forward(
        self, x: Tensor, y: Tensor, with_features: bool = False
    ) -> Tensor | DiscriminatorOutput:
        """Logits ``(B,)`` of D(x, y); with ``with_features`` also the features of this pass
        and the auxiliary classifier's class logits (AC-GAN) when D has one."""
        h = self.features(x, y)
        logits = self.classify(h, y)
        if not with_features:
            return logits
        class_logits = self.auxiliary(h) if self.auxiliary is not None else None
        return DiscriminatorOutput(logits, h, class_logits)


class LabelBound(nn.Module):
    """A conditional discriminator with the batch's labels fixed: D(·, y) as a function of x
    alone, for the penalties and regularisers. It calls D (or the wrapper around it) through
    ``forward`` only."""

    def __init__(self, discriminator: nn.Module, y: Tensor) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.y = y

    def forward(self, x: Tensor, with_features: bool = False) -> Tensor | DiscriminatorOutput:
        return self.discriminator(x, self.y, with_features=with_features)


def label_rows(classes: int, count: int) -> Tensor:
    """Labels for a sample grid with one class per row: each of 0..classes−1 repeated
    max(1, count // classes) times, in order."""
    return torch.arange(classes).repeat_interleave(max(1, count // classes))
