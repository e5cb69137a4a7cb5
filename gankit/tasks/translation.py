"""What pix2pix and CycleGAN share: image-to-image networks, translation-only objectives,
fixed inputs shown as rows of three images, and evaluation against held-out targets."""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch
from torch import Tensor

from gankit.nets import PATCH_DISCRIMINATORS, TRANSLATORS
from gankit.nets.modes import evaluating
from gankit.seeding import derive_seed
from gankit.tasks.base import Task, channels_to

if TYPE_CHECKING:
    from gankit.config import Config
    from gankit.data import DataSource
    from gankit.train.trainer import Trainer


class Translation(Task):
    """An image-to-image game: G maps images of one domain to another; no z, no EMA, no
    noise-to-sample regularisers."""

    samples_from_noise: ClassVar[bool] = False
    evaluation: ClassVar[Literal["samples", "translation"]] = "translation"
    grid_columns = 3  # input | output | target (or reconstruction)

    @classmethod
    def check_config(cls, config: Config) -> None:
        from gankit.objectives import build_objective

        name = config.task.name
        if config.generator.name not in TRANSLATORS:
            raise ValueError(
                f"generator.name={config.generator.name} does not fit task={name}: use "
                f"{' or '.join(TRANSLATORS)}"
            )
        if config.discriminator.name not in PATCH_DISCRIMINATORS:
            raise ValueError(
                f"discriminator.name={config.discriminator.name} does not fit task={name}: use "
                f"{' or '.join(PATCH_DISCRIMINATORS)}"
            )
        used = [f"regularisers.{k}" for k, v in config.regularisers.model_dump().items() if v]
        used += ["train.ema"] if config.train.ema is not None else []
        if used:
            raise ValueError(
                f"task={name} does not take {', '.join(used)} (made for GANs that map noise "
                "to samples)"
            )
        if build_objective(config.objective).g_loss_needs_real:
            raise ValueError(
                f"objective.name={config.objective.name} compares generated with real samples "
                f"in G's loss, which task={name} does not draw for G: use nonsaturating, "
                "least_squares, hinge, wasserstein or an f-GAN divergence"
            )

    def data_info(self, source: DataSource) -> dict[str, Any]:
        info = super().data_info(source)
        input_shape = getattr(source, "input_shape", None) or getattr(source, "shape_a", None)
        return {**info, "input_shape": list(input_shape)}

    @abstractmethod
    def grid_rows(self, engine: Trainer) -> list[tuple[Tensor, ...]]:
        """Rows of three images for the run's fixed inputs."""

    @torch.no_grad()
    def sample_grid(self, engine: Trainer) -> Tensor:
        """Rows of three images for the run's fixed inputs, in eval mode, sampled with a
        dropout stream of their own (the same at every grid). One channel is repeated to
        three where the row mixes them."""
        networks = [engine.state.networks[name] for name in self.generators]
        devices = [engine.device] if engine.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), evaluating(*networks):
            torch.manual_seed(derive_seed(self.config.seed, "sample_dropout"))
            rows = self.grid_rows(engine)
        channels = max(t.shape[1] for row in rows for t in row)
        images = [torch.stack([channels_to(t, channels) for t in row], dim=1) for row in rows]
        return torch.cat(images).flatten(0, 1)  # (rows·3, C, H, W), row-major
