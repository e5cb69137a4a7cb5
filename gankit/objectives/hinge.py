"""Hinge GAN (Lim & Ye 2017; Miyato et al. 2018) as pure functions of D's raw outputs.

Pointwise, p·relu(1 − D) + q·relu(1 + D) is smallest at D = sign(p − q), where it equals
p + q − |p − q|; so D's minimal loss is 2 − 2·TV(P, Q) with TV = ½∫|p − q|. All functions
average over every element.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[relu(1 − D(x))] + E[relu(1 + D(G(z)))] (Lim & Ye 2017; Miyato et al. 2018)."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    """−E[D(G(z))] (Lim & Ye 2017; Miyato et al. 2018)."""
    return -fake_logits.mean()


def tv_estimate(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """1 − d_loss/2: a lower bound on TV(P, Q), exact at D = sign(p − q)."""
    return 1 - hinge_d_loss(real_logits, fake_logits) / 2
