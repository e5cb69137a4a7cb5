"""CycleGAN (Zhu et al. 2017): translation between two domains from unpaired images.

    G, F:  w_adv · [L_G(D_B(G(a))) + L_G(D_A(F(b)))]
           + λ · [‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁]            cycle consistency, λ = 10
           + μλ · [‖F(a) − a‖₁ + ‖G(b) − b‖₁]                 identity, μ = 0.5
    D_B:   d_factor · L_D( D_B(b), D_B(pool_B(G(a))) ), and D_A alike

with the generators updated first, as in the paper's code, and each discriminator fed from
a history pool of 50 generated images (Shrivastava et al. 2017), drawn from a random stream
of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from gankit.metrics.digits import scale_images
from gankit.nets import build_patch_discriminator, build_translator
from gankit.objectives.translation import cycle_consistency_loss, identity_loss
from gankit.seeding import derive_seed
from gankit.tasks.base import TaskOptions
from gankit.tasks.history_pool import HistoryPool
from gankit.tasks.translation import Translation

if TYPE_CHECKING:
    from gankit.train.trainer import Trainer


class UnpairedOptions(TaskOptions):
    """CycleGAN's loss weights and history pools."""

    name: Literal["unpaired"] = "unpaired"
    adversarial_weight: float = Field(1.0, ge=0, description="Weight of G's adversarial loss.")
    cycle_weight: float = Field(10.0, ge=0, description="λ of the cycle loss.")
    identity_weight: float = Field(
        0.5, ge=0, description="Identity loss weight as a fraction of cycle_weight."
    )
    d_loss_factor: float = Field(
        0.5, gt=0, description="D's loss is multiplied by this; the paper halves it."
    )
    pool_size: int = Field(
        50,
        ge=0,
        description="Generated images kept per discriminator in a history pool "
        "(Shrivastava et al. 2017); 0: none.",
    )


class Unpaired(Translation):
    """CycleGAN: G: A → B and F: B → A (``generator``, ``generator_ba``), D_B and D_A
    (``discriminator``, ``discriminator_a``)."""

    data_kinds: ClassVar[tuple[str, ...]] = ("unpaired",)
    generators: ClassVar[tuple[str, ...]] = ("generator", "generator_ba")
    discriminators: ClassVar[tuple[str, ...]] = ("discriminator", "discriminator_a")
    streams: ClassVar[tuple[str, ...]] = ("pool",)
    fitting_sources: ClassVar[str] = " (unpaired_folders, mnist2digits8x8)"

    def build_networks(self, data: dict[str, Any]) -> dict[str, nn.Module]:
        config, shape = self.config, tuple(data["shape"])
        c_a, c_b = data["input_shape"][0], shape[0]
        return {
            "generator": build_translator(config.generator, c_a, c_b, shape[-1]),
            "discriminator": build_patch_discriminator(config.discriminator, c_b),
            "generator_ba": build_translator(config.generator, c_b, c_a, shape[-1]),
            "discriminator_a": build_patch_discriminator(config.discriminator, c_a),
        }

    def setup(self, engine: Trainer) -> None:
        self.pools = {domain: HistoryPool(self.options.pool_size) for domain in ("a", "b")}
        generator = torch.Generator().manual_seed(derive_seed(self.config.seed, "fixed_inputs"))
        a, b = engine.source.domain_a.images, engine.source.domain_b.images
        count = self.config.samples.count
        index_a = torch.randperm(len(a), generator=generator)[:count]
        index_b = torch.randperm(len(b), generator=generator)[:count]
        self.fixed = {
            "a": scale_images(a[index_a]).to(engine.device),
            "b": scale_images(b[index_b]).to(engine.device),
        }

    def step(self, engine: Trainer) -> dict[str, Tensor]:
        """Both generators on the adversarial, cycle and identity losses, then both
        discriminators on real images against pooled generated ones."""
        state, objective, weights = engine.state, engine.objective, self.options
        networks = engine.train_networks
        G, F = networks["generator"], networks["generator_ba"]  # A → B, B → A
        D_B, D_A = networks["discriminator"], networks["discriminator_a"]
        m = engine.batch_size  # this rank's share of the batch

        a, b = engine.source.sample_domains(m, state.rngs["data"])  # (m, C, H, W) each
        with engine.local_gradients(*self.discriminators):  # D's are thrown away
            with engine.precision.autocast():  # the forward passes; backward in update
                fake_b, fake_a = G(a), F(b)
                g_adversarial = objective.g_loss(D_B(fake_b).float(), None) + objective.g_loss(
                    D_A(fake_a).float(), None
                )
                cycle = cycle_consistency_loss(a, F(fake_b), b, G(fake_a))
                g_total = weights.adversarial_weight * g_adversarial + weights.cycle_weight * cycle
                identity = torch.zeros((), device=a.device)
                if weights.identity_weight > 0:
                    identity = identity_loss(a, F(a), b, G(b))
                    g_total = g_total + weights.identity_weight * weights.cycle_weight * identity
            g_grad_norm = engine.update("generator", g_total)

        pool_rng = state.rngs["pool"]  # the pools keep float32 images whatever G ran in
        pooled_b = self.pools["b"].query(fake_b.detach().float(), pool_rng)
        pooled_a = self.pools["a"].query(fake_a.detach().float(), pool_rng)
        with engine.precision.autocast():
            d_b = objective.d_loss(D_B(b).float(), D_B(pooled_b).float())
            d_a = objective.d_loss(D_A(a).float(), D_A(pooled_a).float())
            d_loss = weights.d_loss_factor * (d_a + d_b)
        d_grad_norm = engine.update("discriminator", d_loss)

        return {
            "d_loss": d_loss.detach(),
            "g_loss": g_total.detach(),
            "g_adversarial": g_adversarial.detach(),
            "cycle": cycle.detach(),
            "identity": identity.detach(),
            "d_grad_norm": d_grad_norm,
            "g_grad_norm": g_grad_norm,
        }

    def grid_rows(self, engine: Trainer) -> list[tuple[Tensor, ...]]:
        G, F = engine.state.networks["generator"], engine.state.networks["generator_ba"]
        a, b = self.fixed["a"], self.fixed["b"]
        return [(a, G(a), F(G(a))), (b, F(b), G(F(b)))]

    def state_dict(self) -> dict[str, Tensor]:
        return {
            f"image_pool.{domain}.{key}": value
            for domain, pool in self.pools.items()
            for key, value in pool.state_dict().items()
        }

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        for domain, pool in self.pools.items():
            prefix = f"image_pool.{domain}."
            pool.load_state_dict(
                {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            )
