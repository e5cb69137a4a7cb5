"""Options of the regularisers, the ``regularisers:`` section of a config.

Every regulariser is off (``null``) unless its section is given; setting any of its keys
turns it on with the paper's defaults for the rest, e.g.
``--set regularisers.gradient_penalty.weight=10``. The math lives in
:mod:`gankit.objectives.penalties`; the Trainer applies it.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class GradientPenaltyOptions(_Options):
    """WGAN-GP (Gulrajani et al. 2017): λ·E[(‖∇D(x̂)‖₂ − 1)²] on interpolates x̂."""

    weight: float = Field(10.0, ge=0, description="λ (10 in the paper).")
    target: float = Field(1.0, gt=0, description="The gradient norm aimed at (1: 1-Lipschitz).")
    one_sided: bool = Field(False, description="Penalise only norms above the target.")


class GradientNormOptions(_Options):
    """R1 (real data) or R2 (generated data): γ/2·E‖∇D(x)‖² (Mescheder et al. 2018).

    Lazy regularisation (Karras et al. 2020, StyleGAN2 §B): with ``every`` = k > 1 the
    penalty is computed on D updates 0, k, 2k, … only (counted over the whole run, from 0)
    and weighted by γ·k there, so its average over updates keeps the weight γ at a k-th of
    the cost (StyleGAN2 uses k = 16)."""

    gamma: float = Field(10.0, ge=0, description="γ.")
    every: int = Field(
        1,
        ge=1,
        description="k: apply on every k-th D update with weight γ·k (lazy regularisation, "
        "StyleGAN2 uses 16); 1: every update.",
    )

    def due(self, d_update: int) -> bool:
        """Whether D update number ``d_update`` (from 0) carries the penalty."""
        return d_update % self.every == 0

    @property
    def weight(self) -> float:
        """γ·k, the weight on the updates that carry the penalty."""
        return self.gamma * self.every


class ConsistencyOptions(_Options):
    """Consistency term (Wei et al. 2018): D must agree with itself under dropout on real x."""

    weight: float = Field(2.0, ge=0, description="λ₂ (2 in the paper).")
    feature_weight: float = Field(0.1, ge=0, description="Weight of the penultimate-layer gap.")
    margin: float = Field(0.0, ge=0, description="M′ (0 in the paper).")


class WeightClipOptions(_Options):
    """WGAN weight clipping (Arjovsky et al. 2017): D's parameters clamped to [−c, c]."""

    clip: float = Field(0.01, gt=0, description="c (0.01 in the paper).")


class FeatureMatchingOptions(_Options):
    """Feature matching (Salimans et al. 2016): G matches E f(x) of D's features."""

    weight: float = Field(1.0, ge=0, description="Weight of ‖E f(x) − E f(G(z))‖².")
    adversarial: bool = Field(
        False, description="Keep the objective's G loss as well (the paper replaces it)."
    )


class HistoricalAveragingOptions(_Options):
    """Historical averaging (Salimans et al. 2016): weight·‖θ − mean of past θ‖², both players."""

    weight: float = Field(1e-3, ge=0, description="Weight of the penalty.")


class InstanceNoiseOptions(_Options):
    """Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): N(0, σ(t)²) added to
    real and generated samples before D, with σ annealed from ``std`` to 0."""

    std: float = Field(0.1, ge=0, description="σ at step 0.")
    schedule: Literal["constant", "linear", "cosine"] = Field(
        "linear", description="How σ falls to 0 over anneal_steps."
    )
    anneal_steps: int | None = Field(
        None, ge=1, description="Steps to reach 0 (default: train.steps)."
    )

    def std_at(self, step: int, total_steps: int) -> float:
        """σ(t): constant σ₀; linear σ₀·(1 − t/T); cosine σ₀·½(1 + cos(πt/T)); 0 after T."""
        horizon = self.anneal_steps or total_steps
        progress = min(step / horizon, 1.0)
        if self.schedule == "constant":
            return self.std
        if self.schedule == "linear":
            return self.std * (1 - progress)
        return self.std * 0.5 * (1 + math.cos(math.pi * progress))


class LeCamOptions(_Options):
    """LeCam regularisation (Tseng, Jiang, Liu, Yang & Yang 2021, eq. 3) on D's loss:

        R_LC = E_x[‖D(x) − α_F‖²] + E_z[‖D(G(z)) − α_R‖²]

    with α_R and α_F exponential moving averages of D's mean output on real and generated
    samples, α ← decay·α + (1 − decay)·mean, from 0, updated with each D update's outputs
    before its penalty. It keeps D's real and fake outputs from drifting apart on a small
    data set (the paper ties it to the LeCam divergence). The anchors are checkpointed."""

    weight: float = Field(
        0.3, ge=0, description="λ (the paper tunes it per data set and model; 0.3 here)."
    )
    decay: float = Field(0.99, ge=0, lt=1, description="Decay of the anchors' moving averages.")
    one_sided: bool = Field(
        False,
        description="The official code's variant: E[relu(D(x) − α_F)²] + E[relu(α_R − "
        "D(G(z)))²], penalising only outputs past the other side's anchor.",
    )


class RegularisersOptions(_Options):
    """Penalties and tricks added to the objective; each is off unless given."""

    gradient_penalty: GradientPenaltyOptions | None = None
    r1: GradientNormOptions | None = None
    r2: GradientNormOptions | None = None
    lecam: LeCamOptions | None = None
    consistency: ConsistencyOptions | None = None
    weight_clip: WeightClipOptions | None = None
    feature_matching: FeatureMatchingOptions | None = None
    historical_averaging: HistoricalAveragingOptions | None = None
    instance_noise: InstanceNoiseOptions | None = None
