"""Least-squares GAN (Mao et al. 2017) as pure functions of D's raw outputs.

With targets a (fake), b (real) and c (what G wants D to believe about its samples),
    min_D ½E_P[(D(x) − b)²] + ½E_Q[(D(G(z)) − a)²],   min_G ½E_Q[(D(G(z)) − c)²].
Pointwise the optimal D is D*(x) = (b·p + a·q)/(p + q), where D's loss equals
(b − a)²·(2 − Δ(P, Q))/8 with Δ(P, Q) = ∫ (p − q)²/(p + q) the triangular discrimination
(Vincze; Le Cam), 0 ≤ Δ ≤ 2. All functions average over every element.
"""

from __future__ import annotations

from torch import Tensor


def least_squares_d_loss(
    real_logits: Tensor, fake_logits: Tensor, a: float = 0.0, b: float = 1.0
) -> Tensor:
    """½E[(D(x) − b)²] + ½E[(D(G(z)) − a)²] (Mao et al. 2017)."""
    return ((real_logits - b) ** 2).mean() / 2 + ((fake_logits - a) ** 2).mean() / 2


def least_squares_g_loss(fake_logits: Tensor, c: float = 1.0) -> Tensor:
    """½E[(D(G(z)) − c)²] (Mao et al. 2017)."""
    return ((fake_logits - c) ** 2).mean() / 2


def triangular_estimate(
    real_logits: Tensor, fake_logits: Tensor, a: float = 0.0, b: float = 1.0
) -> Tensor:
    """Δ̂ = 2 − 8·d_loss/(b − a)²: a lower bound on Δ(P, Q), exact at the optimal D."""
    return 2 - 8 * least_squares_d_loss(real_logits, fake_logits, a, b) / (b - a) ** 2
