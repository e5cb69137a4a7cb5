"""Relativistic GANs (Jolicoeur-Martineau 2018) as pure functions of critic outputs C(x).

D estimates how much more realistic real data is than fake data: RSGAN uses
D̃(x_r, x_f) = σ(C(x_r) − C(x_f)) on pairs; RaSGAN compares each sample with the average
of the other batch, σ(C(x_r) − E_f[C(x_f)]) and σ(C(x_f) − E_r[C(x_r)]). Written with
−log σ(z) = softplus(−z) and −log(1 − σ(z)) = softplus(z). G's loss swaps the roles of
real and fake, so it needs C(x_r) too: the caller computes it with D's weights frozen and
nothing is detached here. All functions average over every element.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def _paired(winner: Tensor, loser: Tensor) -> Tensor:
    """−E[log σ(C_w − C_l)], element by element."""
    if winner.shape != loser.shape:
        raise ValueError(
            "the relativistic (non-average) loss pairs real and fake outputs one to one, "
            f"but got shapes {tuple(winner.shape)} and {tuple(loser.shape)}"
        )
    return F.softplus(loser - winner).mean()


def _averaged(winner: Tensor, loser: Tensor) -> Tensor:
    """−E_w[log σ(C_w − E[C_l])] − E_l[log(1 − σ(C_l − E[C_w]))]."""
    return F.softplus(loser.mean() - winner).mean() + F.softplus(loser - winner.mean()).mean()


def _needs_real(real_logits: Tensor | None) -> Tensor:
    if real_logits is None:
        raise ValueError("the relativistic generator loss needs D's outputs on real data")
    return real_logits


def rsgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """RSGAN: E[softplus(−(C(x_r) − C(x_f)))], pairing samples by index."""
    return _paired(real_logits, fake_logits)


def rsgan_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """RSGAN: E[softplus(−(C(x_f) − C(x_r)))], pairing samples by index."""
    return _paired(fake_logits, _needs_real(real_logits))


def rasgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """RaSGAN: E_r[softplus(−(C(x_r) − E_f C(x_f)))] + E_f[softplus(C(x_f) − E_r C(x_r))].

    Jolicoeur-Martineau (2018)."""
    return _averaged(real_logits, fake_logits)


def rasgan_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """RaSGAN: E_f[softplus(−(C(x_f) − E_r C(x_r)))] + E_r[softplus(C(x_r) − E_f C(x_f))].

    Jolicoeur-Martineau (2018)."""
    return _averaged(fake_logits, _needs_real(real_logits))
