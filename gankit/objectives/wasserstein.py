"""Wasserstein GAN (Arjovsky, Chintala & Bottou 2017) as pure functions of critic outputs.

By Kantorovich–Rubinstein duality W1(P, Q) = sup_{‖f‖_L ≤ 1} E_P[f(x)] − E_Q[f(x)]. The
critic f has no sigmoid: its raw outputs are the "logits" below. Keeping f Lipschitz
(weight clipping, gradient penalty) is a regulariser's job, not the loss's. All functions
average over every element.
"""

from __future__ import annotations

from torch import Tensor


def wasserstein_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Critic loss E[f(G(z))] − E[f(x)], minus the W1 estimate (Arjovsky et al. 2017)."""
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(fake_logits: Tensor) -> Tensor:
    """Generator loss −E[f(G(z))], the part of the W1 estimate that depends on G."""
    return -fake_logits.mean()


def w1_estimate(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[f(x)] − E[f(G(z))]: a lower bound on W1(P, Q) whenever f is 1-Lipschitz."""
    return real_logits.mean() - fake_logits.mean()
