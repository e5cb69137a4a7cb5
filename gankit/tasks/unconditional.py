"""The unconditional GAN: G(z) against D(x), Algorithm 1 of Goodfellow et al. (2014).

    for each iteration:
        for k steps:  sample m real x and m noise z; descend D's loss (+ its penalties)
        sample m noise z; descend G's loss (+ its penalties)

Every objective and regulariser of gankit applies: gradient penalty, R1/R2 (lazily every
k-th D update), LeCam, consistency term, weight clipping, historical averaging, feature
matching, instance noise; EMA of G's weights is the Trainer's. With ``augment:`` on, real
and generated images are augmented (:mod:`gankit.augment`, independent draws) before every
evaluation of D, in D's updates and in G's, so G learns through the augmentation and the
penalties see augmented inputs (as in StyleGAN2-ADA); ADA reads its overfitting statistic
from D's real logits of each D update, and the grids never augment. D is called through
``forward`` only, and G's update leaves D's weights alone by stepping G's optimiser only
(D's gradients from G's backward pass are cleared before D's next update), which stays
correct when D is shared across processes. The forward passes run under
``train.precision``'s autocast (:mod:`gankit.train.precision`), the losses on float32
logits. The step is :meth:`~NoiseToSamples.discriminator_updates` then
:meth:`~NoiseToSamples.generator_update`, which ``Trainer.train_part`` also calls one at a
time (``gankit playground`` steps each player on its own).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from gankit.augment import Augment, build_augment
from gankit.errors import ConfigError
from gankit.nets import build_discriminator, build_generator
from gankit.objectives.penalties import (
    HistoricalAverage,
    LeCamAnchors,
    clip_weights_,
    consistency_term,
    feature_matching_loss,
    gradient_norm_penalty,
    gradient_penalty,
    lecam_penalty,
)
from gankit.tasks.base import Task, TaskOptions

if TYPE_CHECKING:
    from gankit.config import Config
    from gankit.data import DataSource
    from gankit.objectives.regularisers import RegularisersOptions
    from gankit.train.trainer import Trainer


class UnconditionalOptions(TaskOptions):
    """G(z) and D(x); no options of its own."""

    name: Literal["unconditional"] = "unconditional"


@dataclass
class DiscriminatorPass:
    """What the generator update of an iteration takes from the last discriminator update
    before it (:meth:`NoiseToSamples.discriminator_updates`): its real batch, labels and D
    as a function of x, the instance-noise σ, and the detached statistics of the updates."""

    real: Tensor
    """The real batch D last saw, augmented and perturbed as D saw it."""
    labels: Tensor | None
    judge: nn.Module
    """D(·, y) for those labels (D itself when unconditional)."""
    noise_std: float
    d_loss: Tensor
    real_logits: Tensor
    fake_logits: Tensor
    d_grad_norm: Tensor
    penalties: dict[str, Tensor]
    """D's weighted penalties in the last update."""
    lazy_sums: dict[str, Tensor]
    """The lazy penalties (R1/R2 with ``every`` > 1) summed over the updates."""
    updates: int
    """k, the discriminator updates made."""


class NoiseToSamples(Task):
    """What every noise-to-sample game shares: the step of Algorithm 1 with the configured
    regularisers, the fixed-z grid and the historical averages. The label of a sample is
    ``None`` here; :class:`~gankit.tasks.conditional.Conditional` supplies one."""

    augments: ClassVar[bool] = True
    """The step applies ``augment:`` (the config refuses the section for other tasks)."""

    @classmethod
    def check_config(cls, config: Config) -> None:
        from gankit.nets import PATCH_DISCRIMINATORS, TRANSLATORS

        kind = _source_kind(config.data)
        if config.augment is not None and kind not in (None, "images"):
            raise ValueError(
                f"augment.name={config.augment.name} augments images; data.name="
                f"{config.data.name} gives {kind}: set augment=null or train on images"
            )

        if config.generator.name in TRANSLATORS:
            raise ValueError(
                f"generator.name={config.generator.name} does not fit task={config.task.name}: "
                "use mlp, dcgan or residual"
            )
        if config.discriminator.name in PATCH_DISCRIMINATORS:
            raise ValueError(
                f"discriminator.name={config.discriminator.name} does not fit task="
                f"{config.task.name}: use mlp, dcgan or residual"
            )
        pack = getattr(config.discriminator, "pack", 1)
        if config.train.batch_size % pack:
            raise ValueError(
                f"train.batch_size={config.train.batch_size} is not a multiple of "
                f"discriminator.pack={pack}: the discriminator scores packs of {pack} samples"
            )

    def data_info(self, source: DataSource) -> dict[str, Any]:
        if self.config.augment is not None and source.kind != "images":
            raise ConfigError(
                f"augment.name={self.config.augment.name} augments images; data.name="
                f"{self.config.data.name} gives {source.kind}: set augment=null"
            )
        return super().data_info(source)

    def build_networks(self, data: dict[str, Any]) -> dict[str, nn.Module]:
        config, shape = self.config, tuple(data["shape"])
        out_activation = "tanh" if data["kind"] == "images" else "none"
        return {
            "generator": build_generator(config.generator, config.noise.dim, shape, out_activation),
            "discriminator": build_discriminator(config.discriminator, shape),
        }

    def setup(self, engine: Trainer) -> None:
        networks = engine.state.networks
        _check_regularisers(self.config.regularisers, networks["discriminator"])
        self.history = (
            {
                player: HistoricalAverage(networks[player])
                for player in ("generator", "discriminator")
            }
            if self.config.regularisers.historical_averaging is not None
            else {}
        )
        lecam = self.config.regularisers.lecam
        self.lecam = LeCamAnchors(lecam.decay, engine.device) if lecam is not None else None
        self.augment: Augment | None = (
            build_augment(self.config.augment, tuple(engine.data_info["shape"]), engine.device)
            if self.config.augment is not None
            else None
        )
        self._d_updates: tuple[int, int] | None = None  # (generator step, D updates before it)
        if self.augment is not None and engine.ranks.distributed:
            self.augment.sum_over_ranks = engine.ranks.sum
        pack = getattr(self.config.discriminator, "pack", 1)
        if engine.batch_size % pack:
            raise ConfigError(
                f"train.batch_size={self.config.train.batch_size} gives each of "
                f"{engine.ranks.world_size} processes {engine.batch_size} samples, not a "
                f"multiple of discriminator.pack={pack}: use a batch of a multiple of "
                f"{pack * engine.ranks.world_size}"
            )

    # -- the step ------------------------------------------------------------------------

    def real_batch(self, engine: Trainer, m: int) -> tuple[Tensor, Tensor | None]:
        """m real samples (and their labels, for a conditional game)."""
        return engine.source.sample(m, engine.state.rngs["data"]), None

    def generate(self, generator: nn.Module, z: Tensor, y: Tensor | None) -> Tensor:
        """G(z) (G(z, y) for a conditional game)."""
        return generator(z)

    def judge(self, discriminator: nn.Module, y: Tensor | None) -> nn.Module:
        """D as a function of x alone for this batch: D itself, or D(·, y)."""
        return discriminator

    def auxiliary_loss(self, real_out: Any, fake_out: Any, y: Tensor | None) -> dict:
        """Extra terms of D's loss from its outputs on real and fake samples (AC-GAN)."""
        return {}

    def auxiliary_g_loss(self, fake_out: Any, y: Tensor | None) -> dict:
        """Extra terms of G's loss from D's output on its samples (AC-GAN)."""
        return {}

    def step(self, engine: Trainer) -> dict[str, Tensor]:
        """One iteration of Algorithm 1: k discriminator updates, then one generator update;
        the configured regularisers add their weighted penalties to each player's loss."""
        d_steps = self.config.train.d_steps_at(engine.state.step)
        return self.generator_update(engine, self.discriminator_updates(engine, d_steps))

    def discriminator_updates(self, engine: Trainer, k: int) -> DiscriminatorPass:
        """The first half of an iteration: ``k`` ≥ 1 discriminator updates at generator step
        ``state.step``, each on a fresh real batch and fresh z, with D's penalties. What the
        generator update of the iteration takes from the last of them comes back."""
        state, objective, regularisers = engine.state, engine.objective, self.config.regularisers
        G, D = engine.train_networks["generator"], engine.train_networks["discriminator"]
        m = engine.batch_size  # this rank's share of the batch
        noise_std = self._instance_noise_std(state.step)
        lazy = self._lazy_penalties()
        first_update = self._d_updates_before(state.step) if lazy else 0
        lazy_sums: dict[str, Tensor] = {}

        for i in range(k):
            with engine.precision.autocast():  # the forward passes; backward in update
                real, y = self.real_batch(engine, m)  # (m, *shape); labels (m,) or None
                real = _perturb(self._augmented(real), noise_std)
                z = engine.prior.sample(m, state.rngs["noise"], engine.device)  # (m, z_dim)
                with torch.no_grad():
                    fake = self.generate(G, z, y)  # (m, *shape)
                fake = _perturb(self._augmented(fake), noise_std)
                D_y = self.judge(D, y)  # D(·, y): penalties see D of x alone
                real_out = D_y(real, with_features=True)
                fake_out = D_y(fake, with_features=True)
                # (m,) each; the losses in float32 whatever precision D ran in
                real_logits, fake_logits = real_out.logits.float(), fake_out.logits.float()
                d_loss = objective.d_loss(real_logits, fake_logits)
                scale = engine.precision.loss_scale("discriminator")
                penalties = self._d_penalties(
                    D_y, real, fake, real_logits, fake_logits, first_update + i, scale
                )
                penalties.update(self.auxiliary_loss(real_out, fake_out, y))
            d_grad_norm = engine.update("discriminator", d_loss + sum(penalties.values()))
            if regularisers.weight_clip is not None:
                clip_weights_(D, regularisers.weight_clip.clip)
            if self.augment is not None:
                self.augment.observe(real_logits, m)  # ADA: sign(D(x_real)) of this update
            for name in lazy:
                if name in penalties:
                    lazy_sums[name] = lazy_sums.get(name, 0) + penalties[name].detach()
        if lazy:
            self._d_updates = (state.step + 1, first_update + k)
        return DiscriminatorPass(
            real=real,
            labels=y,
            judge=D_y,
            noise_std=noise_std,
            d_loss=d_loss.detach(),
            real_logits=real_logits.detach(),
            fake_logits=fake_logits.detach(),
            d_grad_norm=d_grad_norm,
            penalties={name: value.detach() for name, value in penalties.items()},
            lazy_sums=lazy_sums,
            updates=k,
        )

    def generator_update(
        self, engine: Trainer, carried: DiscriminatorPass | None
    ) -> dict[str, Tensor]:
        """The second half of an iteration: one generator update against the discriminator
        as ``carried`` left it (its real batch for the objectives and penalties that read
        one), and the iteration's detached statistics. Without ``carried`` (a generator
        update stepped on its own before any discriminator update) a real batch is drawn
        here and the statistics are the generator's alone."""
        state, objective, regularisers = engine.state, engine.objective, self.config.regularisers
        G, D = engine.train_networks["generator"], engine.train_networks["discriminator"]
        m = engine.batch_size
        if carried is None:
            noise_std = self._instance_noise_std(state.step)
            with engine.precision.autocast():
                real, y = self.real_batch(engine, m)
                real = _perturb(self._augmented(real), noise_std)
            D_y = self.judge(D, y)
        else:
            real, y, D_y, noise_std = carried.real, carried.labels, carried.judge, carried.noise_std

        with engine.local_gradients(*self.discriminators):  # D's are thrown away
            with engine.precision.autocast():
                z = engine.prior.sample(m, state.rngs["noise"], engine.device)
                fake = _perturb(self._augmented(self.generate(G, z, y)), noise_std)
                fake_out = D_y(fake, with_features=True)
                real_for_g = D_y(real).float() if objective.g_loss_needs_real else None
                g_loss = objective.g_loss(fake_out.logits.float(), real_for_g)
                g_penalties = self._g_penalties(D_y, real, fake_out.features)
                g_penalties.update(self.auxiliary_g_loss(fake_out, y))
                matching = regularisers.feature_matching
                replaces_g_loss = matching is not None and not matching.adversarial
                g_total = sum(g_penalties.values()) + (0 if replaces_g_loss else g_loss)
            g_grad_norm = engine.update("generator", g_total)

        with torch.no_grad():
            if carried is None:
                stats = {"g_loss": g_loss.detach(), "g_grad_norm": g_grad_norm}
                stats.update({f"penalty/{k}": v.detach() for k, v in g_penalties.items()})
                return stats
            stats = {
                "d_loss": carried.d_loss,
                "g_loss": g_loss.detach(),
                "d_grad_norm": carried.d_grad_norm,
                "g_grad_norm": g_grad_norm,
            }
            real_logits, fake_logits = carried.real_logits, carried.fake_logits
            if objective.divergence_estimate is not None:
                stats["divergence_estimate"] = objective.divergence_estimate(
                    real_logits, fake_logits
                )
            if objective.logits_are_probabilities:
                stats["d_real"] = torch.sigmoid(real_logits).mean()
                stats["d_fake"] = torch.sigmoid(fake_logits).mean()
                correct = (real_logits > 0).float().mean() + (fake_logits < 0).float().mean()
                stats["d_acc"] = correct / 2
            lazy = self._lazy_penalties()
            for name, value in {**carried.penalties, **g_penalties}.items():
                if name not in lazy:
                    stats[f"penalty/{name}"] = value.detach()
            for name in lazy:  # mean over this step's D updates, 0 on those without it
                none = torch.zeros((), device=engine.device)
                stats[f"penalty/{name}"] = carried.lazy_sums.get(name, none) / carried.updates
            if self.lecam is not None:
                stats["lecam/anchor_real"] = self.lecam.real.clone()
                stats["lecam/anchor_fake"] = self.lecam.fake.clone()
            if self.augment is not None:
                stats.update(self.augment.stats())
            if regularisers.instance_noise is not None:
                stats["instance_noise_std"] = torch.tensor(noise_std)
        return stats

    def _augmented(self, x: Tensor) -> Tensor:
        """x augmented for D with fresh draws (x itself when ``augment`` is off)."""
        return x if self.augment is None else self.augment(x)

    def _lazy_penalties(self) -> tuple[str, ...]:
        """The gradient-norm penalties applied lazily (``every`` > 1)."""
        options = self.config.regularisers
        pairs = (("r1", options.r1), ("r2", options.r2))
        return tuple(name for name, o in pairs if o is not None and o.every > 1)

    def _d_updates_before(self, step: int) -> int:
        """D updates done before generator step ``step``, Σ_{s<step} d_steps_at(s): the run's
        D update count that lazy regularisation keys on (derived, so a resumed run agrees)."""
        if self._d_updates is None or self._d_updates[0] != step:
            train = self.config.train
            self._d_updates = (step, sum(train.d_steps_at(s) for s in range(step)))
        return self._d_updates[1]

    def _d_penalties(
        self,
        D: nn.Module,
        real: Tensor,
        fake: Tensor,
        real_logits: Tensor,
        fake_logits: Tensor,
        d_update: int,
        scale: float = 1.0,
    ) -> dict[str, Tensor]:
        """Weighted penalties on D's loss: gradient penalty, R1 and R2 (on their due D
        updates, with weight γ·k), LeCam, consistency, history. ``real`` and ``fake`` are
        the (augmented) inputs D just scored, ``real_logits`` and ``fake_logits`` its
        outputs, ``d_update`` the number of this D update in the run (from 0), ``scale``
        D's loss scale (float16 training), by which the input gradients are taken."""
        options = self.config.regularisers
        out: dict[str, Tensor] = {}
        if options.gradient_penalty is not None:
            gp = options.gradient_penalty
            out["gradient_penalty"] = gp.weight * gradient_penalty(
                D, real, fake, gp.target, gp.one_sided, scale=scale
            )
        if options.r1 is not None and options.r1.due(d_update):
            out["r1"] = options.r1.weight * gradient_norm_penalty(D, real, scale)
        if options.r2 is not None and options.r2.due(d_update):
            out["r2"] = options.r2.weight * gradient_norm_penalty(D, fake, scale)
        if options.lecam is not None and self.lecam is not None:
            self.lecam.update(real_logits, fake_logits)
            out["lecam"] = options.lecam.weight * lecam_penalty(
                real_logits, fake_logits, self.lecam.real, self.lecam.fake, options.lecam.one_sided
            )
        if options.consistency is not None:
            ct = options.consistency
            out["consistency"] = ct.weight * consistency_term(D, real, ct.feature_weight, ct.margin)
        if "discriminator" in self.history:
            weight = options.historical_averaging.weight  # type: ignore[union-attr]
            out["historical_averaging"] = weight * self.history["discriminator"].penalty()
        return out

    def _g_penalties(self, D: nn.Module, real: Tensor, fake_features: Tensor) -> dict[str, Tensor]:
        """Weighted terms of G's loss besides the adversarial one."""
        options = self.config.regularisers
        out: dict[str, Tensor] = {}
        if options.feature_matching is not None:
            with torch.no_grad():
                real_features = D(real, with_features=True).features
            out["feature_matching"] = options.feature_matching.weight * feature_matching_loss(
                real_features, fake_features
            )
        if "generator" in self.history:
            weight = options.historical_averaging.weight  # type: ignore[union-attr]
            out["historical_averaging_g"] = weight * self.history["generator"].penalty()
        return out

    def after_generator_step(self, engine: Trainer) -> None:
        for average in self.history.values():
            average.update()

    def _instance_noise_std(self, step: int) -> float:
        options = self.config.regularisers.instance_noise
        return 0.0 if options is None else options.std_at(step, self.config.train.steps)

    # -- grid and state ------------------------------------------------------------------

    def fixed_noise(self, engine: Trainer, generator: torch.Generator) -> dict[str, Tensor]:
        """The z (and labels) every sample grid shows, drawn once."""
        count = self.config.samples.count
        return {"z": engine.prior.sample(count, generator, engine.device)}

    def sample_grid(self, engine: Trainer) -> Tensor:
        fixed = engine.fixed_noise
        return engine.sample_from(fixed["z"], fixed.get("y"))

    def state_dict(self) -> dict[str, Tensor]:
        tensors = {
            f"history.{player}.{key}": value
            for player, average in self.history.items()
            for key, value in average.state().items()
        }
        if self.lecam is not None:
            tensors.update({f"lecam.{k}": v for k, v in self.lecam.state().items()})
        if self.augment is not None:
            tensors.update(self.augment.state_dict())
        return tensors

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        for player, average in self.history.items():
            prefix = f"history.{player}."
            average.load_state(
                {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            )
        if self.lecam is not None:
            self.lecam.load_state(
                {k[len("lecam.") :]: v for k, v in tensors.items() if k.startswith("lecam.")}
            )
        if self.augment is not None:
            self.augment.load_state_dict(tensors)


class Unconditional(NoiseToSamples):
    """G(z) against D(x) on unlabelled images or points (Goodfellow et al. 2014)."""


def _source_kind(data: Any) -> str | None:
    """The kind of source (``images``, ``points``, …) the data options ``data`` build, read
    from the return annotation of the registered factory; None when it does not say (the
    source's kind is checked again when it is built)."""
    from gankit.data import SOURCES

    name = getattr(data, "name", None)
    if name not in SOURCES:
        return None
    try:
        returned = typing.get_type_hints(SOURCES.get(name)).get("return")
    except Exception:  # noqa: BLE001 (an annotation that cannot be resolved says nothing)
        return None
    kind = getattr(returned, "kind", None)
    return kind if isinstance(kind, str) else None


def _perturb(x: Tensor, std: float) -> Tensor:
    """x + N(0, std²) noise (instance noise); x itself when std is 0."""
    return x + std * torch.randn_like(x) if std > 0 else x


def _check_regularisers(options: RegularisersOptions, discriminator: nn.Module) -> None:
    """Refuse regularisers that cannot work with this discriminator, naming the fix."""
    batch_norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    has_batch_norm = any(isinstance(m, batch_norms) for m in discriminator.modules())
    if has_batch_norm and (options.gradient_penalty or options.r1 or options.r2):
        raise ConfigError(
            "gradient penalties need a critic without BatchNorm (its gradient w.r.t. one "
            "input depends on the whole batch): set discriminator.norm=layer or none"
        )
    if options.consistency is not None and not any(
        isinstance(m, nn.Dropout) and m.p > 0 for m in discriminator.modules()
    ):
        raise ConfigError(
            "regularisers.consistency needs dropout in the discriminator: set "
            "discriminator.dropout (Wei et al. 2018 use 0.5)"
        )
