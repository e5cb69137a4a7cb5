"""Reconstruction losses of image-to-image translation, added to the adversarial loss.

pix2pix (Isola et al. 2017) pulls G(x) towards the paired target y; CycleGAN (Zhu et al.
2017) has no pairs and instead asks two generators G: A → B and F: B → A to undo each
other. Each E‖·‖₁ below averages |·| over every element (batch, channels and pixels), so
the weights are those of the papers' implementations. Inputs of different shapes are an
error rather than broadcast.
"""

from __future__ import annotations

from torch import Tensor

PIX2PIX_L1_WEIGHT = 100.0
"""λ of pix2pix's G* = arg min_G max_D L_cGAN(G, D) + λ·L_L1(G) (Isola et al. 2017)."""
CYCLE_WEIGHT = 10.0
"""λ of CycleGAN's L_GAN(G, D_B) + L_GAN(F, D_A) + λ·L_cyc(G, F) (Zhu et al. 2017, eq. 3)."""
IDENTITY_WEIGHT = 0.5
"""Weight of the identity loss as a fraction of ``CYCLE_WEIGHT``: 0.5·λ (Zhu et al. 2017)."""


def l1_loss(output: Tensor, target: Tensor) -> Tensor:
    """pix2pix's L1 term L_L1(G) = E‖y − G(x, z)‖₁ = mean |output − target|
    (Isola et al. 2017, eq. 3); weighted by ``PIX2PIX_L1_WEIGHT``."""
    return _mean_abs_difference(output, target, "output", "target")


def cycle_consistency_loss(
    real_a: Tensor, reconstructed_a: Tensor, real_b: Tensor, reconstructed_b: Tensor
) -> Tensor:
    """L_cyc(G, F) = E‖F(G(a)) − a‖₁ + E‖G(F(b)) − b‖₁ (Zhu et al. 2017, eq. 2).

    ``reconstructed_a`` = F(G(a)), ``reconstructed_b`` = G(F(b)); weighted by
    ``CYCLE_WEIGHT``."""
    return _mean_abs_difference(
        reconstructed_a, real_a, "reconstructed_a", "real_a"
    ) + _mean_abs_difference(reconstructed_b, real_b, "reconstructed_b", "real_b")


def identity_loss(real_a: Tensor, same_a: Tensor, real_b: Tensor, same_b: Tensor) -> Tensor:
    """L_identity(G, F) = E‖F(a) − a‖₁ + E‖G(b) − b‖₁ (Zhu et al. 2017, §5.2, after
    Taigman et al. 2017).

    ``same_a`` = F(a) and ``same_b`` = G(b): each generator fed a real image of its own
    output domain should leave it unchanged, which keeps colours. Weighted by
    ``IDENTITY_WEIGHT · CYCLE_WEIGHT``."""
    return _mean_abs_difference(same_a, real_a, "same_a", "real_a") + _mean_abs_difference(
        same_b, real_b, "same_b", "real_b"
    )


def _mean_abs_difference(x: Tensor, y: Tensor, x_name: str, y_name: str) -> Tensor:
    """mean |x − y| over every element; the shapes must be equal."""
    if x.shape != y.shape:
        raise ValueError(
            f"{x_name} has shape {tuple(x.shape)} but {y_name} has shape {tuple(y.shape)}"
        )
    return (x - y).abs().mean()
