"""The original GAN game (Goodfellow et al. 2014) as pure functions of D's logits.

D(x) = σ(l(x)) for a logit l. The value function is
    V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))],
with log σ(l) = −softplus(−l) and log(1 − σ(l)) = −softplus(l), so every loss below is
computed from logits without forming σ(l) (stable for |l| in the hundreds). All functions
average over every element, so they accept a vector of scores or a PatchGAN map alike.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor


def minimax_d_loss(
    real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0
) -> Tensor:
    """D's loss −V = −E[log D(x)] − E[log(1 − D(G(z)))] (Goodfellow et al. 2014, eq. 1).

    One-sided label smoothing α (Salimans et al. 2016, §3.4) sets D's target for real
    samples to 1 − α and keeps 0 for fakes: the real term becomes
    −(1 − α)·log D(x) − α·log(1 − D(x)) = (1 − α)·softplus(−l) + α·softplus(l)."""
    alpha = label_smoothing
    real_term = (1 - alpha) * F.softplus(-real_logits) + alpha * F.softplus(real_logits)
    return real_term.mean() + F.softplus(fake_logits).mean()


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """Saturating G loss E[log(1 − D(G(z)))], the minimax game's own generator objective.

    Its gradient in the logit is −σ(l): it vanishes when D confidently rejects G(z)."""
    return -F.softplus(fake_logits).mean()


def nonsaturating_g_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating G loss −E[log D(G(z))] (Goodfellow et al. 2014, §3).

    Same fixed point as the minimax loss, but its logit gradient −(1 − σ(l)) stays near −1
    when D rejects G(z), so G still learns early in training."""
    return F.softplus(-fake_logits).mean()


def js_estimate(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Jensen–Shannon estimate implied by D: JS ≈ (V(D, G) + log 4) / 2.

    With the optimal D, V = 2·JS(P_data‖P_G) − log 4 (Goodfellow et al. 2014, Thm. 1); for
    any other D the value is a lower bound."""
    return (math.log(4.0) - minimax_d_loss(real_logits, fake_logits)) / 2
