"""Objectives: what D and G minimise, as pure functions of D's outputs.

An :class:`Objective` bundles ``d_loss(real, fake)``, ``g_loss(fake)`` and the divergence
estimate its discriminator implies. New objectives (f-GAN divergences, Wasserstein,
hinge, least squares) register here with their options, and regularisers add
``weight · penalty`` terms on top in the Trainer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from gankit.objectives.gan import (
    js_estimate,
    minimax_d_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
)
from gankit.registry import Registry

__all__ = [
    "OBJECTIVES",
    "Objective",
    "build_objective",
    "js_estimate",
    "minimax_d_loss",
    "minimax_g_loss",
    "nonsaturating_g_loss",
]


@dataclass(frozen=True)
class Objective:
    """The losses of one GAN game and the divergence its discriminator estimates."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    divergence_estimate: Callable[[Tensor, Tensor], Tensor]
    divergence: str
    logits_are_probabilities: bool = True
    """True when σ(logit) is D's probability that the input is real (D(x) and accuracy
    are then meaningful); False for critics such as WGAN's."""


OBJECTIVES: Registry = Registry("objective")


class ObjectiveOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MinimaxOptions(ObjectiveOptions):
    name: Literal["minimax"] = Field("minimax", description="The original saturating game.")


class NonSaturatingOptions(ObjectiveOptions):
    name: Literal["nonsaturating"] = Field(
        "nonsaturating", description="Minimax D loss with the −log D(G(z)) generator loss."
    )


@OBJECTIVES.register("minimax", options=MinimaxOptions)
def minimax(options: MinimaxOptions) -> Objective:
    """Original minimax GAN: G minimises E[log(1 − D(G(z)))] (saturates early)."""
    return Objective("minimax", minimax_d_loss, minimax_g_loss, js_estimate, "js")


@OBJECTIVES.register("nonsaturating", options=NonSaturatingOptions)
def nonsaturating(options: NonSaturatingOptions) -> Objective:
    """Non-saturating GAN: G minimises −E[log D(G(z))] (Goodfellow et al. 2014)."""
    return Objective("nonsaturating", minimax_d_loss, nonsaturating_g_loss, js_estimate, "js")


def build_objective(options: ObjectiveOptions) -> Objective:
    """The :class:`Objective` named by ``options.name``."""
    return OBJECTIVES.get(options.name)(options)
