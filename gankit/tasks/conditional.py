"""The conditional GAN: G(z, y) against D(x, y) for class labels y (Mirza & Osindero 2014).

The label reaches G as a one-hot vector or a learned embedding concatenated to z, and D by
concatenation (extra input features or channels) or projection (Miyato & Koyama 2018); an
auxiliary classifier on D's features adds the AC-GAN class loss (Odena et al. 2017). The
fakes of a step take the labels of its real batch, so the label marginal matches the
data's. Every objective and regulariser applies, through D(·, y) with the batch's labels.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from gankit.errors import ConfigError
from gankit.nets import build_discriminator, build_generator
from gankit.nets.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    LabelBound,
    LabelEmbedding,
    label_rows,
)
from gankit.tasks.base import TaskOptions
from gankit.tasks.unconditional import NoiseToSamples

if TYPE_CHECKING:
    from gankit.config import Config
    from gankit.data import DataSource
    from gankit.train.trainer import Trainer


class ConditionalOptions(TaskOptions):
    """How a conditional GAN reads its label y."""

    name: Literal["conditional"] = "conditional"
    embedding: Literal["onehot", "learned"] = Field(
        "onehot", description="y as a one-hot vector or a learned embedding of embed_dim values."
    )
    embed_dim: int = Field(16, ge=1, description="Size of the learned embedding.")
    discriminator: Literal["concat", "projection"] = Field(
        "concat",
        description="concat: y joined to D's input (extra channels for DCGAN); projection: "
        "D(x, y) = ψ(φ(x)) + ⟨V_y, φ(x)⟩ (Miyato & Koyama 2018).",
    )
    auxiliary_weight: float = Field(
        0.0,
        ge=0,
        description="Weight of the AC-GAN class loss, cross-entropy of an auxiliary classifier "
        "on D's features for real and generated samples (Odena et al. 2017); 0: none.",
    )


class Conditional(NoiseToSamples):
    """G(z, y) against D(x, y) on labelled images or points."""

    @classmethod
    def check_config(cls, config: Config) -> None:
        super().check_config(config)
        if getattr(config.discriminator, "pack", 1) > 1:
            raise ValueError(
                "discriminator.pack > 1 scores packs of samples, which do not share one label: "
                "use pack=1 with task=conditional"
            )
        if config.generator.name == "affine":
            raise ValueError(
                "generator.name=affine cannot read a label: use mlp, dcgan or residual"
            )

    def data_info(self, source: DataSource) -> dict[str, Any]:
        if source.classes < 2:
            raise ConfigError(
                f"task=conditional needs data with at least 2 class labels; data.name="
                f"{self.config.data.name} has {source.classes or 'none'} (use the digit sets, "
                "a folder with one sub-folder per class, ring or grid)"
            )
        names = getattr(source, "class_names", None) or [str(i) for i in range(source.classes)]
        return {**super().data_info(source), "classes": source.classes, "class_names": names}

    def build_networks(self, data: dict[str, Any]) -> dict[str, nn.Module]:
        """G(z, y) = G₀([z, e(y)]) and D(x, y) by concatenation or projection."""
        config, options = self.config, self.options
        shape, classes = tuple(data["shape"]), data["classes"]
        out_activation = "tanh" if data["kind"] == "images" else "none"
        g_embedding = LabelEmbedding(classes, options.embedding, options.embed_dim)
        base_g = build_generator(
            config.generator, config.noise.dim + g_embedding.dim, shape, out_activation
        )
        generator = ConditionalGenerator(base_g, g_embedding)
        auxiliary = options.auxiliary_weight > 0
        if options.discriminator == "projection":
            base_d = build_discriminator(config.discriminator, shape)
            discriminator = ConditionalDiscriminator(
                base_d, classes, "projection", auxiliary=auxiliary
            )
            return {"generator": generator, "discriminator": discriminator}
        d_embedding = LabelEmbedding(classes, options.embedding, options.embed_dim)
        channels = data["kind"] == "images" and config.discriminator.name != "mlp"
        if channels:
            c, h, w = shape
            joined_shape: tuple[int, ...] = (c + d_embedding.dim, h, w)
        else:
            joined_shape = (math.prod(shape) + d_embedding.dim,)
        base_d = build_discriminator(config.discriminator, joined_shape)
        discriminator = ConditionalDiscriminator(
            base_d, classes, "concat", d_embedding, channels=channels, auxiliary=auxiliary
        )
        return {"generator": generator, "discriminator": discriminator}

    def setup(self, engine: Trainer) -> None:
        super().setup(engine)
        self.classes = engine.data_info["classes"]
        # a grid shows one class per row: labels 0..K−1, count // K of each
        self.grid_columns = max(1, self.config.samples.count // self.classes)

    def real_batch(self, engine: Trainer, m: int) -> tuple[Tensor, Tensor | None]:
        return engine.source.sample_labelled(m, engine.state.rngs["data"])

    def generate(self, generator: nn.Module, z: Tensor, y: Tensor | None) -> Tensor:
        return generator(z, y)

    def judge(self, discriminator: nn.Module, y: Tensor | None) -> nn.Module:
        assert y is not None
        return LabelBound(discriminator, y)

    def auxiliary_loss(self, real_out: Any, fake_out: Any, y: Tensor | None) -> dict:
        weight = self.options.auxiliary_weight
        if not weight:
            return {}
        return {
            "auxiliary_class": weight
            * (
                F.cross_entropy(real_out.class_logits, y)
                + F.cross_entropy(fake_out.class_logits, y)
            )
        }

    def auxiliary_g_loss(self, fake_out: Any, y: Tensor | None) -> dict:
        weight = self.options.auxiliary_weight
        if not weight:
            return {}
        return {"auxiliary_class": weight * F.cross_entropy(fake_out.class_logits, y)}

    def fixed_noise(self, engine: Trainer, generator: torch.Generator) -> dict[str, Tensor]:
        y = label_rows(self.classes, self.config.samples.count)
        return {
            "z": engine.prior.sample(len(y), generator, engine.device),
            "y": y.to(engine.device),
        }
