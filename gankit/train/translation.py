"""The training steps of image-to-image translation, one function per task.

Both run inside the :class:`~gankit.train.trainer.Trainer` (same run directory, logging,
checkpoints and resume as every task); the Trainer dispatches to them for ``task: paired``
and ``task: unpaired``.

pix2pix (Isola et al. 2017), for aligned pairs (x, y):

    D:  d_factor · L_D( D(x, y), D(x, G(x)) )           D sees the pair joined on channels
    G:  w_adv · L_G( D(x, G(x)) ) + λ · ‖y − G(x)‖₁     λ = 100; dropout is G's noise

CycleGAN (Zhu et al. 2017), for domains A and B, G: A → B, F: B → A, D_B and D_A:

    G, F:  w_adv · [L_G(D_B(G(a))) + L_G(D_A(F(b)))]
           + λ · [‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁]            cycle consistency, λ = 10
           + μλ · [‖F(a) − a‖₁ + ‖G(b) − b‖₁]                 identity, μ = 0.5
    D_B:   d_factor · L_D( D_B(b), D_B(pool_B(G(a))) ), and D_A alike

with the generators updated first, as in the paper's code, and each discriminator fed from
a history pool of 50 generated images (Shrivastava et al. 2017).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from gankit.data import DataSource, PairedImageSource, UnpairedImageSource
from gankit.metrics.digits import scale_images
from gankit.objectives.translation import cycle_consistency_loss, identity_loss, l1_loss
from gankit.optim import grad_norm

if TYPE_CHECKING:
    from gankit.train.trainer import Trainer


def pix2pix_step(trainer: Trainer) -> dict[str, Tensor]:
    """One pix2pix iteration: k discriminator updates on (input, target) vs (input, G(input))
    pairs, then one generator update on the adversarial and L1 losses."""
    G, D, objective = trainer.generator, trainer.discriminator, trainer.objective
    weights = trainer.config.translation
    m = trainer.config.train.batch_size
    trainer.schedule_learning_rates()

    for _ in range(trainer.config.train.d_steps_at(trainer.step)):
        x, y = trainer.source.sample_pairs(m, trainer.rngs["data"])  # (m, Cx, H, W), (m, Cy, H, W)
        with torch.no_grad():
            fake = G(x)  # (m, Cy, H, W)
        real_logits = D(torch.cat([x, y], dim=1))  # (m, 1, h, w): one logit per patch
        fake_logits = D(torch.cat([x, fake], dim=1))
        d_loss = weights.d_loss_factor * objective.d_loss(real_logits, fake_logits)
        trainer.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        d_grad_norm = grad_norm(D)
        trainer.d_optimizer.step()

    fake = G(x)
    D.requires_grad_(False)
    g_adversarial = objective.g_loss(D(torch.cat([x, fake], dim=1)), None)
    l1 = l1_loss(fake, y)
    g_total = weights.adversarial_weight * g_adversarial + weights.l1_weight * l1
    trainer.g_optimizer.zero_grad(set_to_none=True)
    g_total.backward()
    D.requires_grad_(True)
    g_grad_norm = grad_norm(G)
    trainer.g_optimizer.step()

    return {
        "d_loss": d_loss.detach(),
        "g_loss": g_total.detach(),
        "g_adversarial": g_adversarial.detach(),
        "l1": l1.detach(),
        "d_grad_norm": d_grad_norm,
        "g_grad_norm": g_grad_norm,
    }


def cyclegan_step(trainer: Trainer) -> dict[str, Tensor]:
    """One CycleGAN iteration: both generators on the adversarial, cycle and identity
    losses, then both discriminators on real images against pooled generated ones."""
    G, F = trainer.generator, trainer.generator_ba  # A → B, B → A
    D_B, D_A = trainer.discriminator, trainer.discriminator_a
    assert F is not None and D_A is not None
    objective, weights = trainer.objective, trainer.config.translation
    m = trainer.config.train.batch_size
    trainer.schedule_learning_rates()

    a, b = trainer.source.sample_domains(m, trainer.rngs["data"])  # (m, C, H, W) each
    fake_b, fake_a = G(a), F(b)
    D_A.requires_grad_(False)
    D_B.requires_grad_(False)
    g_adversarial = objective.g_loss(D_B(fake_b), None) + objective.g_loss(D_A(fake_a), None)
    cycle = cycle_consistency_loss(a, F(fake_b), b, G(fake_a))
    g_total = weights.adversarial_weight * g_adversarial + weights.cycle_weight * cycle
    identity = torch.zeros((), device=a.device)
    if weights.identity_weight > 0:
        identity = identity_loss(a, F(a), b, G(b))
        g_total = g_total + weights.identity_weight * weights.cycle_weight * identity
    trainer.g_optimizer.zero_grad(set_to_none=True)
    g_total.backward()
    D_A.requires_grad_(True)
    D_B.requires_grad_(True)
    g_grad_norm = grad_norm(G, F)
    trainer.g_optimizer.step()

    pool_rng = trainer.rngs["pool"]
    pooled_b = trainer.pools["b"].query(fake_b.detach(), pool_rng)
    pooled_a = trainer.pools["a"].query(fake_a.detach(), pool_rng)
    d_b = objective.d_loss(D_B(b), D_B(pooled_b))
    d_a = objective.d_loss(D_A(a), D_A(pooled_a))
    d_loss = weights.d_loss_factor * (d_a + d_b)
    trainer.d_optimizer.zero_grad(set_to_none=True)
    d_loss.backward()
    d_grad_norm = grad_norm(D_A, D_B)
    trainer.d_optimizer.step()

    return {
        "d_loss": d_loss.detach(),
        "g_loss": g_total.detach(),
        "g_adversarial": g_adversarial.detach(),
        "cycle": cycle.detach(),
        "identity": identity.detach(),
        "d_grad_norm": d_grad_norm,
        "g_grad_norm": g_grad_norm,
    }


def fixed_inputs(source: DataSource, count: int, seed: int) -> dict[str, Tensor] | None:
    """The images a translation run shows in every sample grid, chosen once from ``seed``:
    ``count`` (input, target) pairs, or ``count`` images of each domain; None for other
    data."""
    generator = torch.Generator().manual_seed(seed)
    if isinstance(source, PairedImageSource):
        index = torch.randperm(len(source), generator=generator)[:count]
        return {"x": scale_images(source.inputs[index]), "y": scale_images(source.targets[index])}
    if isinstance(source, UnpairedImageSource):
        a, b = source.domain_a.images, source.domain_b.images
        index_a = torch.randperm(len(a), generator=generator)[:count]
        index_b = torch.randperm(len(b), generator=generator)[:count]
        return {"a": scale_images(a[index_a]), "b": scale_images(b[index_b])}
    return None


@torch.no_grad()
def translation_grid(trainer: Trainer) -> Tensor:
    """Rows of three images for the run's fixed inputs, in eval mode (pix2pix's dropout
    stays on when sampling): input | G(input) | target for pix2pix; a | G(a) | F(G(a)) then
    b | F(b) | G(F(b)) for CycleGAN. One channel is repeated to three where the row mixes
    them."""
    inputs = trainer.fixed_inputs
    assert inputs is not None
    networks = [m for m in (trainer.generator, trainer.generator_ba) if m is not None]
    modes = [m.training for m in networks]
    for m in networks:
        m.eval()
    try:
        if "x" in inputs:
            x, y = inputs["x"], inputs["y"]
            rows = [(x, trainer.generator(x), y)]
        else:
            G, F = trainer.generator, trainer.generator_ba
            assert F is not None
            a, b = inputs["a"], inputs["b"]
            rows = [(a, G(a), F(G(a))), (b, F(b), G(F(b)))]
    finally:
        for m, mode in zip(networks, modes, strict=True):
            m.train(mode)
    channels = max(t.shape[1] for row in rows for t in row)
    images = [torch.stack([_channels(t, channels) for t in row], dim=1) for row in rows]
    return torch.cat(images).flatten(0, 1)  # (rows·3, C, H, W), row-major


def _channels(images: Tensor, channels: int) -> Tensor:
    return images.expand(-1, channels, -1, -1) if images.shape[1] < channels else images
