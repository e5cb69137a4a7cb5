"""pix2pix (Isola et al. 2017): translation learned from aligned (input, target) pairs.

D:  d_factor · L_D( D(x, y), D(x, G(x)) )           D sees the pair joined on channels
G:  w_adv · L_G( D(x, G(x)) ) + λ · ‖y − G(x)‖₁     λ = 100; dropout is G's noise
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from gankit.metrics.digits import scale_images
from gankit.nets import build_patch_discriminator, build_translator
from gankit.objectives.translation import l1_loss
from gankit.seeding import derive_seed
from gankit.tasks.base import TaskOptions
from gankit.tasks.translation import Translation

if TYPE_CHECKING:
    from gankit.train.trainer import Trainer


class PairedOptions(TaskOptions):
    """pix2pix's loss weights."""

    name: Literal["paired"] = "paired"
    adversarial_weight: float = Field(
        1.0, ge=0, description="Weight of G's adversarial loss (0: L1 only, the ablation)."
    )
    l1_weight: float = Field(
        100.0, ge=0, description="λ of the L1 distance to the target (0: cGAN only)."
    )
    d_loss_factor: float = Field(
        0.5, gt=0, description="D's loss is multiplied by this; the paper halves it."
    )


class Paired(Translation):
    """pix2pix on aligned pairs: a U-Net (or ResNet) G and a PatchGAN on the joined pair."""

    data_kinds: ClassVar[tuple[str, ...]] = ("pairs",)
    fitting_sources: ClassVar[str] = " (aligned, paired_folders, edges2digits)"

    def build_networks(self, data: dict[str, Any]) -> dict[str, nn.Module]:
        config, shape = self.config, tuple(data["shape"])
        c_in, c_out = data["input_shape"][0], shape[0]
        return {
            "generator": build_translator(config.generator, c_in, c_out, shape[-1]),
            # D judges the (input, output) pair joined on channels
            "discriminator": build_patch_discriminator(config.discriminator, c_in + c_out),
        }

    def setup(self, engine: Trainer) -> None:
        source = engine.source
        generator = torch.Generator().manual_seed(derive_seed(self.config.seed, "fixed_inputs"))
        index = torch.randperm(len(source), generator=generator)[: self.config.samples.count]
        self.fixed = {
            "x": scale_images(source.inputs[index]).to(engine.device),
            "y": scale_images(source.targets[index]).to(engine.device),
        }

    def step(self, engine: Trainer) -> dict[str, Tensor]:
        """k discriminator updates on (input, target) vs (input, G(input)) pairs, then one
        generator update on the adversarial and L1 losses."""
        state, objective, weights = engine.state, engine.objective, self.options
        G, D = engine.train_networks["generator"], engine.train_networks["discriminator"]
        m = engine.batch_size  # this rank's share of the batch

        for _ in range(self.config.train.d_steps_at(state.step)):
            x, y = engine.source.sample_pairs(m, state.rngs["data"])  # (m, Cx, H, W), (m, Cy, H, W)
            with engine.precision.autocast():  # the forward passes; backward in update
                with torch.no_grad():
                    fake = G(x)  # (m, Cy, H, W)
                # (m, 1, h, w): one logit per patch, in float32 for the loss
                real_logits = D(torch.cat([x, y], dim=1)).float()
                fake_logits = D(torch.cat([x, fake], dim=1)).float()
                d_loss = weights.d_loss_factor * objective.d_loss(real_logits, fake_logits)
            d_grad_norm = engine.update("discriminator", d_loss)

        with engine.local_gradients(*self.discriminators):  # D's are thrown away
            with engine.precision.autocast():
                fake = G(x)
                g_adversarial = objective.g_loss(D(torch.cat([x, fake], dim=1)).float(), None)
                l1 = l1_loss(fake, y)
                g_total = weights.adversarial_weight * g_adversarial + weights.l1_weight * l1
            g_grad_norm = engine.update("generator", g_total)

        return {
            "d_loss": d_loss.detach(),
            "g_loss": g_total.detach(),
            "g_adversarial": g_adversarial.detach(),
            "l1": l1.detach(),
            "d_grad_norm": d_grad_norm,
            "g_grad_norm": g_grad_norm,
        }

    def grid_rows(self, engine: Trainer) -> list[tuple[Tensor, ...]]:
        x, y = self.fixed["x"], self.fixed["y"]
        return [(x, engine.state.networks["generator"](x), y)]
