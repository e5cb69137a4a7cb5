"""The Trainer: Algorithm 1 of Goodfellow et al. (2014), one visible loop for every GAN.

    for each iteration:
        for k steps:  sample m real x and m noise z; ascend D's objective
        sample m noise z; descend G's objective

Everything the loop touches is built from a :class:`~gankit.config.Config`; everything it
produces goes to a :class:`~gankit.train.rundir.RunDir` through callbacks.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gankit import __version__
from gankit.config import Config, ConfigError, resolve, validate
from gankit.data import build_source
from gankit.devices import select_device
from gankit.errors import GankitError
from gankit.files import write_json_atomic, write_text_atomic
from gankit.nets import count_parameters
from gankit.nets.conditional import LabelBound, label_rows
from gankit.objectives import build_objective
from gankit.objectives.penalties import (
    HistoricalAverage,
    clip_weights_,
    consistency_term,
    feature_matching_loss,
    gradient_norm_penalty,
    gradient_penalty,
)
from gankit.optim import build_optimizer, grad_norm
from gankit.prior import Prior
from gankit.train.build import build_networks, data_info
from gankit.train.callbacks import (
    Callback,
    Checkpointer,
    MetricsFile,
    ProgressBar,
    SampleWriter,
    TensorBoard,
)
from gankit.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    latest_loadable,
    list_checkpoints,
    save_checkpoint,
)
from gankit.train.evaluation import Evaluator
from gankit.train.history import HistoryPool
from gankit.train.lock import RunLock
from gankit.train.memory import check_memory
from gankit.train.rundir import RunDir
from gankit.train.rundir import run_name as default_run_name
from gankit.train.stopping import StopSignals
from gankit.train.translation import (
    cyclegan_step,
    fixed_inputs,
    pix2pix_step,
    translation_grid,
)

# Config keys that may change when a run is resumed: they steer how long it runs and what
# it writes, never the math of a step.
RESUMABLE_KEYS = ("train.steps", "log.", "samples.", "checkpoint.", "device")


class TrainingDiverged(GankitError, RuntimeError):
    """A loss, gradient norm or weight became NaN/inf; the last good checkpoint is left
    untouched."""


def derive_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one random stream ("data", "noise", …) of a run."""
    entropy = [seed, *stream.encode()]
    return int(np.random.SeedSequence(entropy).generate_state(2, np.uint64)[0] >> np.uint64(1))


class Trainer:
    """Trains one GAN as configured, writing into a run directory.

    Random streams are separate and checkpointed: ``data`` (which real samples),
    ``noise`` (which z), and torch's global generator (weight init, dropout), so a resumed
    run continues bit for bit where the checkpoint left off."""

    def __init__(
        self,
        config: Config,
        run: RunDir,
        callbacks: Iterable[Callback] = (),
        progress: bool = True,
    ) -> None:
        self.config = config
        self.run = run
        self.device = select_device(config.device)

        torch.manual_seed(config.seed)  # weight initialisation (on the CPU, then moved)
        self.source = build_source(config.data).to(self.device)
        self.data_info = data_info(config, self.source)
        check_memory(config, self.data_info, self.device)  # before allocating batches
        self.classes = self.data_info["classes"]  # 0 unless conditional
        # Image nets run in channels-last layout: faster convolutions on CPU and GPU alike.
        layout = torch.preserve_format if self.source.kind == "points" else torch.channels_last
        networks = {
            name: module.to(self.device, memory_format=layout)
            for name, module in build_networks(config, self.data_info).items()
        }
        self.generator, self.discriminator = networks["generator"], networks["discriminator"]
        # CycleGAN's second pair: G_BA maps B → A, D_A judges domain A
        self.generator_ba = networks.get("generator_ba")
        self.discriminator_a = networks.get("discriminator_a")
        self.objective = build_objective(config.objective)
        self._auxiliary_weight = config.condition.auxiliary_weight if self.classes else 0.0
        self.regularisers = config.regularisers
        _check_regularisers(config, self.discriminator)
        self.history = (
            {
                "generator": HistoricalAverage(self.generator),
                "discriminator": HistoricalAverage(self.discriminator),
            }
            if config.regularisers.historical_averaging is not None
            else {}
        )
        self.generator_ema = (
            AveragedModel(
                self.generator,
                multi_avg_fn=get_ema_multi_avg_fn(config.train.ema.decay),
                use_buffers=True,
            )
            if config.train.ema is not None
            else None
        )
        self.prior = Prior(config.noise.dim, config.noise.distribution)
        # one optimiser per player; CycleGAN's two generators (and two critics) share one
        self.g_optimizer = build_optimizer(
            _parameters(self.generator, self.generator_ba), config.train.g_optimizer
        )
        self.d_optimizer = build_optimizer(
            _parameters(self.discriminator, self.discriminator_a), config.train.d_optimizer
        )
        # CycleGAN's history pools of generated images, one per discriminator
        self.pools = (
            {domain: HistoryPool(config.translation.pool_size) for domain in ("a", "b")}
            if config.task == "unpaired"
            else {}
        )
        streams = ("data", "noise", "pool") if self.pools else ("data", "noise")
        self.rngs = {
            stream: torch.Generator().manual_seed(derive_seed(config.seed, stream))
            for stream in streams
        }
        self.fixed_inputs = fixed_inputs(
            self.source, config.samples.count, derive_seed(config.seed, "fixed_inputs")
        )
        if self.fixed_inputs is not None:
            self.fixed_inputs = {k: v.to(self.device) for k, v in self.fixed_inputs.items()}
        fixed = torch.Generator().manual_seed(derive_seed(config.seed, "fixed_z"))
        # Conditional grids show one class per row: labels 0..K−1, count // K of each.
        self.fixed_y = label_rows(self.classes, config.samples.count) if self.classes else None
        self.grid_columns = None if self.fixed_y is None else len(self.fixed_y) // self.classes
        if self.fixed_inputs is not None:
            self.grid_columns = 3  # input | output | target (or reconstruction)
        fixed_count = config.samples.count if self.fixed_y is None else len(self.fixed_y)
        self.fixed_z = self.prior.sample(fixed_count, fixed, self.device)
        if self.fixed_y is not None:
            self.fixed_y = self.fixed_y.to(self.device)

        self.lock = RunLock(run.path)
        self.stop_signal: str | None = None
        """The signal that interrupted the last :meth:`fit` ("SIGINT", "SIGTERM") or None."""
        self._signals: StopSignals | None = None
        self.step = 0
        self.elapsed = 0.0  # wall-clock seconds over all sessions of this run
        self._last_checkpoint_step = -1
        self._sums: dict[str, Tensor] = {}
        self._window = (0, time.perf_counter())  # (steps, start) since the last log line

        defaults: list[Callback] = [MetricsFile(), SampleWriter(), Checkpointer()]
        if config.eval is not None:
            defaults.append(Evaluator())
        if config.log.tensorboard:
            defaults.append(TensorBoard())
        defaults.append(ProgressBar(enabled=progress))
        self.callbacks = defaults + list(callbacks)

    # -- construction from a run directory --------------------------------------------------

    @classmethod
    def start(
        cls,
        config: Config,
        run_root: str | Path = "runs",
        run_name: str | None = None,
        *,
        exact: bool = False,
        **kwargs: Any,
    ) -> Trainer:
        """A Trainer for a new run directory, with ``config.yaml`` written into it.

        A taken name gets ``-2``, ``-3``… appended, unless ``exact`` (a directory the user
        named), which refuses a folder that exists and is not empty."""
        name = run_name or default_run_name(config.preset, [])
        trainer_run = RunDir.create(run_root, name, exact=exact)
        lock = RunLock(trainer_run.path)
        try:
            lock.acquire()
            write_text_atomic(trainer_run.config_path, config.to_yaml())
            trainer = cls(config, trainer_run, **kwargs)
        except BaseException:
            lock.release()
            for leftover in (trainer_run.config_path, lock.path):
                leftover.unlink(missing_ok=True)
            _remove_if_empty(trainer_run.path)
            raise
        trainer.lock = lock
        return trainer

    @classmethod
    def resume(
        cls,
        run_dir: str | Path,
        overrides: Iterable[str] | Mapping[str, Any] = (),
        allow_config_change: bool = False,
        **kwargs: Any,
    ) -> Trainer:
        """Continue a run from its newest loadable checkpoint.

        ``overrides`` may change how long the run goes on and what it writes
        (``train.steps``, ``log.*``, ``samples.*``, ``checkpoint.*``, ``device``); any other
        change is refused unless ``allow_config_change``."""
        run = RunDir.open(run_dir)
        lock = RunLock(run.path)
        lock.acquire()
        try:
            trainer = cls._resumed(run, overrides, allow_config_change, **kwargs)
        except BaseException:
            lock.release()
            raise
        trainer.lock = lock
        return trainer

    @classmethod
    def _resumed(
        cls,
        run: RunDir,
        overrides: Iterable[str] | Mapping[str, Any],
        allow_config_change: bool,
        **kwargs: Any,
    ) -> Trainer:
        checkpoint, skipped = latest_loadable(run.checkpoints_dir)
        for reason in skipped:
            print(f"warning: skipping unloadable checkpoint: {reason}", file=sys.stderr)
        if checkpoint is None:
            raise CheckpointError(f"{run.path}: no loadable checkpoint to resume from")
        saved = validate(checkpoint.state["config"])
        config = resolve(saved, overrides)
        changed = _changed_keys(saved.to_dict(), config.to_dict())
        refused = [k for k in changed if not k.startswith(RESUMABLE_KEYS)]
        if refused and not allow_config_change:
            raise ConfigError(
                f"resuming with a changed {', '.join(refused)} is refused (only train.steps, "
                "log.*, samples.*, checkpoint.* and device may change); pass "
                "--allow-config-change to force it"
            )
        trainer = cls(config, run, **kwargs)
        trainer.load_checkpoint(checkpoint)
        run.truncate_metrics(checkpoint.step)
        write_text_atomic(run.config_path, config.to_yaml())
        return trainer

    # -- the loop -------------------------------------------------------------------------

    def fit(self, until_step: int | None = None) -> str:
        """Train up to ``train.steps`` (or ``until_step``, if smaller) and checkpoint.

        Returns "completed", "paused" (stopped at ``until_step``) or "interrupted" (Ctrl-C
        or SIGTERM, honoured at the next step boundary; see :mod:`gankit.train.stopping`).
        Divergence raises :class:`TrainingDiverged` and a second Ctrl-C KeyboardInterrupt,
        after the summary records them ("diverged", "aborted"). The run directory is locked
        while the loop runs."""
        target = min(until_step or self.config.train.steps, self.config.train.steps)
        self.lock.acquire()
        session_start = time.perf_counter()
        self._window = (self._window[0], session_start)
        status = "failed"
        try:
            self.emit("on_fit_start")
            with StopSignals() as signals:
                self._signals = signals
                while self.step < target and not signals.requested:
                    self._accumulate(self.train_step())
                    self.step += 1
                    if self.step % self.config.log.every == 0:
                        self._log()
                    self.emit("on_step_end", self.step)
                self.stop_signal = signals.requested
                ending = "interrupted" if signals.requested else "completed"
                if ending == "completed" and self.step < self.config.train.steps:
                    ending = "paused"
                if ending == "completed" and self._sums:
                    self._log()  # a paused run keeps its partial window in the checkpoint
                self.elapsed += time.perf_counter() - session_start
                self.save_checkpoint()
                status = ending
        except TrainingDiverged:
            status = "diverged"
            raise
        except KeyboardInterrupt:
            status = "aborted"
            raise
        finally:
            self._signals = None
            try:
                self.emit("on_fit_end", status)
                self._write_summary(status)
            except Exception:
                if status in ("completed", "paused", "interrupted"):
                    raise  # otherwise a first error is on its way: that is the one to report
            finally:
                if status != "paused":
                    self.lock.release()
        return status

    def train_step(self) -> dict[str, Tensor]:
        """One iteration of the task's game; detached scalar statistics of the step."""
        if self.config.task == "paired":
            return pix2pix_step(self)
        if self.config.task == "unpaired":
            return cyclegan_step(self)
        return self.noise_to_sample_step()

    def noise_to_sample_step(self) -> dict[str, Tensor]:
        """One iteration of Algorithm 1: k discriminator updates, then one generator update.

        The configured regularisers add their weighted penalties to each player's loss.
        Returns detached scalar statistics of the step (no host sync)."""
        G, D, objective = self.generator, self.discriminator, self.objective
        m = self.config.train.batch_size
        noise_std = self._instance_noise_std()
        self.schedule_learning_rates()

        for _ in range(self.config.train.d_steps_at(self.step)):
            real, y = self._real_batch(m)  # (m, *shape); labels (m,) or None
            real = self._perturb(real, noise_std)
            z = self.prior.sample(m, self.rngs["noise"], self.device)  # (m, z_dim)
            with torch.no_grad():
                fake = self._perturb(self._generate(G, z, y), noise_std)  # (m, *shape)
            D_y = D if y is None else LabelBound(D, y)  # D(·, y): penalties see D of x alone
            real_features, fake_features = D_y.features(real), D_y.features(fake)
            real_logits = D_y.classify(real_features)  # (m,) each; maps for patch critics
            fake_logits = D_y.classify(fake_features)
            d_loss = objective.d_loss(real_logits, fake_logits)
            penalties = self._d_penalties(D_y, real, fake)
            if self._auxiliary_weight:
                penalties["auxiliary_class"] = self._auxiliary_weight * (
                    F.cross_entropy(D.class_logits(real_features), y)
                    + F.cross_entropy(D.class_logits(fake_features), y)
                )
            self.d_optimizer.zero_grad(set_to_none=True)
            (d_loss + sum(penalties.values())).backward()
            d_grad_norm = grad_norm(D)
            self.d_optimizer.step()
            if self.regularisers.weight_clip is not None:
                clip_weights_(D, self.regularisers.weight_clip.clip)

        z = self.prior.sample(m, self.rngs["noise"], self.device)
        D.requires_grad_(False)  # G's update needs ∂D/∂x only, not D's weight gradients
        fake_features = D_y.features(self._perturb(self._generate(G, z, y), noise_std))
        real_for_g = D_y(real) if objective.g_loss_needs_real else None
        g_loss = objective.g_loss(D_y.classify(fake_features), real_for_g)
        g_penalties = self._g_penalties(D_y, real, fake_features)
        if self._auxiliary_weight:
            g_penalties["auxiliary_class"] = self._auxiliary_weight * F.cross_entropy(
                D.class_logits(fake_features), y
            )
        matching = self.regularisers.feature_matching
        replaces_g_loss = matching is not None and not matching.adversarial
        g_total = sum(g_penalties.values()) + (0 if replaces_g_loss else g_loss)
        self.g_optimizer.zero_grad(set_to_none=True)
        g_total.backward()
        D.requires_grad_(True)
        g_grad_norm = grad_norm(G)
        self.g_optimizer.step()
        self._after_g_step()

        with torch.no_grad():
            stats = {
                "d_loss": d_loss.detach(),
                "g_loss": g_loss.detach(),
                "d_grad_norm": d_grad_norm,
                "g_grad_norm": g_grad_norm,
            }
            if objective.divergence_estimate is not None:
                stats["divergence_estimate"] = objective.divergence_estimate(
                    real_logits, fake_logits
                )
            if objective.logits_are_probabilities:
                stats["d_real"] = torch.sigmoid(real_logits).mean()
                stats["d_fake"] = torch.sigmoid(fake_logits).mean()
                correct = (real_logits > 0).float().mean() + (fake_logits < 0).float().mean()
                stats["d_acc"] = correct / 2
            for name, value in {**penalties, **g_penalties}.items():
                stats[f"penalty/{name}"] = value.detach()
            if self.regularisers.instance_noise is not None:
                stats["instance_noise_std"] = torch.tensor(noise_std)
        return stats

    def _real_batch(self, m: int) -> tuple[Tensor, Tensor | None]:
        """m real samples, with their labels for a conditional GAN (the fakes of the step
        take the same labels, so the label marginal matches the data's)."""
        if self.classes:
            return self.source.sample_labelled(m, self.rngs["data"])
        return self.source.sample(m, self.rngs["data"]), None

    @staticmethod
    def _generate(generator: nn.Module, z: Tensor, y: Tensor | None) -> Tensor:
        """G(z), or G(z, y) for a conditional GAN."""
        return generator(z) if y is None else generator(z, y)

    def _d_penalties(self, D: nn.Module, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """Weighted penalties on D's loss: gradient penalty, R1, R2, consistency, history."""
        options = self.regularisers
        out: dict[str, Tensor] = {}
        if options.gradient_penalty is not None:
            gp = options.gradient_penalty
            out["gradient_penalty"] = gp.weight * gradient_penalty(
                D, real, fake, gp.target, gp.one_sided
            )
        if options.r1 is not None:
            out["r1"] = options.r1.gamma * gradient_norm_penalty(D, real)
        if options.r2 is not None:
            out["r2"] = options.r2.gamma * gradient_norm_penalty(D, fake)
        if options.consistency is not None:
            ct = options.consistency
            out["consistency"] = ct.weight * consistency_term(D, real, ct.feature_weight, ct.margin)
        if "discriminator" in self.history:
            weight = options.historical_averaging.weight  # type: ignore[union-attr]
            out["historical_averaging"] = weight * self.history["discriminator"].penalty()
        return out

    def _g_penalties(self, D: nn.Module, real: Tensor, fake_features: Tensor) -> dict[str, Tensor]:
        """Weighted terms of G's loss besides the adversarial one."""
        options = self.regularisers
        out: dict[str, Tensor] = {}
        if options.feature_matching is not None:
            with torch.no_grad():
                real_features = D.features(real)
            out["feature_matching"] = options.feature_matching.weight * feature_matching_loss(
                real_features, fake_features
            )
        if "generator" in self.history:
            weight = options.historical_averaging.weight  # type: ignore[union-attr]
            out["historical_averaging_g"] = weight * self.history["generator"].penalty()
        return out

    def _after_g_step(self) -> None:
        """Fold this step's weights into the running averages (history, EMA)."""
        for average in self.history.values():
            average.update()
        ema = self.config.train.ema
        if self.generator_ema is not None and ema is not None and self.step >= ema.start:
            self.generator_ema.update_parameters(self.generator)

    def schedule_learning_rates(self) -> None:
        """Set each optimiser's lr to its configured value times the schedule's factor (a
        function of the step alone, so a resumed run needs no scheduler state)."""
        factor = self.config.train.lr_factor_at(self.step)
        for optimizer, options in (
            (self.g_optimizer, self.config.train.g_optimizer),
            (self.d_optimizer, self.config.train.d_optimizer),
        ):
            for group in optimizer.param_groups:
                group["lr"] = options.lr * factor

    def _instance_noise_std(self) -> float:
        options = self.regularisers.instance_noise
        return 0.0 if options is None else options.std_at(self.step, self.config.train.steps)

    @staticmethod
    def _perturb(x: Tensor, std: float) -> Tensor:
        """x + N(0, std²) noise (instance noise); x itself when std is 0."""
        return x + std * torch.randn_like(x) if std > 0 else x

    # -- sampling -------------------------------------------------------------------------

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples: G's moving average once it has started, else G."""
        ema = self.generator_ema
        return ema.module if ema is not None and int(ema.n_averaged) > 0 else self.generator

    def sample_fixed(self) -> Tensor:
        """What the sample grids show, in eval mode (BatchNorm uses running statistics): the
        sampler on the run's fixed z (and labels, one class per row, when conditional), or
        for a translation run rows of input | output | target on its fixed inputs."""
        if self.fixed_inputs is not None:
            # pix2pix samples with dropout on: a stream of its own, the same at every grid
            devices = [self.device] if self.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(derive_seed(self.config.seed, "sample_dropout"))
                return translation_grid(self)
        return self.sample_from(self.fixed_z, self.fixed_y)

    @torch.no_grad()
    def sample_from(self, z: Tensor, y: Tensor | None = None, batch_size: int = 500) -> Tensor:
        """The sampler on ``z`` (and labels ``y``) in eval mode, in batches; training mode is
        restored. A conditional sampler without ``y`` cycles through the classes."""
        sampler = self.sampler
        if self.classes and y is None:
            y = torch.arange(len(z), device=z.device) % self.classes
        was_training = sampler.training
        sampler.eval()
        try:
            if y is None:
                return torch.cat([sampler(chunk) for chunk in z.split(batch_size)])
            return torch.cat(
                [
                    sampler(zc, yc)
                    for zc, yc in zip(z.split(batch_size), y.split(batch_size), strict=True)
                ]
            )
        finally:
            sampler.train(was_training)

    # -- state ----------------------------------------------------------------------------

    def save_checkpoint(self) -> Path:
        """Checkpoint the whole training state at the current step (once per step)."""
        directory = self.run.checkpoints_dir
        if self._last_checkpoint_step == self.step:
            return directory / f"step_{self.step:08d}"
        for name, module in self._modules().items():
            if not all(torch.isfinite(p).all() for p in module.parameters()):
                raise TrainingDiverged(
                    f"step {self.step}: {name} weights contain NaN/inf; not checkpointing. "
                    f"{self._last_good_checkpoint()}"
                )
        protect = self._signals.protect() if self._signals is not None else nullcontext()
        with protect:
            path = self._write_checkpoint(directory)
        self._last_checkpoint_step = self.step
        self.emit("on_checkpoint", path)
        return path

    def _write_checkpoint(self, directory: Path) -> Path:
        return save_checkpoint(
            directory,
            self.step,
            self._modules(),
            {"generator": self.g_optimizer, "discriminator": self.d_optimizer},
            self._rng_states(),
            {
                **{f"log.{k}": v for k, v in self._sums.items()},
                **{
                    f"history.{player}.{k}": v
                    for player, average in self.history.items()
                    for k, v in average.state().items()
                },
                **{
                    f"image_pool.{domain}.{k}": v
                    for domain, pool in self.pools.items()
                    for k, v in pool.state_dict().items()
                },
            },
            {
                "config": self.config.to_dict(),
                "data": self.data_info,
                "elapsed_seconds": self.elapsed,
                "log_window_start": self._window[0],
                "gankit_version": __version__,
                "torch_version": torch.__version__,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
            keep=self.config.checkpoint.keep,
        )

    def _last_good_checkpoint(self) -> str:
        """Where a diverged run can go back to, for its error message."""
        saved = list_checkpoints(self.run.checkpoints_dir)
        if not saved:
            return (
                "No checkpoint was written before it (checkpoint.every="
                f"{self.config.checkpoint.every}); start again with lower learning rates or "
                "another objective"
            )
        return (
            f"The last good checkpoint is {saved[-1]} (lower the learning rates or change "
            "the objective, then start again or resume with --allow-config-change)"
        )

    def load_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Restore models, optimisers, counters and every RNG from ``checkpoint``."""
        for name, module in self._modules().items():
            checkpoint.restore_module(name, module)
        self._restore_optimizer(checkpoint, "generator", self.g_optimizer, "g_optimizer")
        self._restore_optimizer(checkpoint, "discriminator", self.d_optimizer, "d_optimizer")
        for stream, generator in self.rngs.items():
            generator.set_state(checkpoint.rng_state(stream))
        torch.set_rng_state(checkpoint.rng_state("torch"))
        if self.device.type == "cuda" and "cuda" in checkpoint.rng_names():
            torch.cuda.set_rng_state(checkpoint.rng_state("cuda"), self.device)
        self._sums = checkpoint.tensors_with_prefix("log.")
        for player, average in self.history.items():
            average.load_state(checkpoint.tensors_with_prefix(f"history.{player}."))
        for domain, pool in self.pools.items():
            pool.load_state_dict(checkpoint.tensors_with_prefix(f"image_pool.{domain}."))
        self.step = checkpoint.step
        self.elapsed = float(checkpoint.state.get("elapsed_seconds", 0.0))
        self._window = (int(checkpoint.state.get("log_window_start", self.step)), 0.0)
        self._last_checkpoint_step = checkpoint.step

    def _restore_optimizer(
        self, checkpoint: Checkpoint, name: str, optimizer: torch.optim.Optimizer, key: str
    ) -> None:
        """Restore an optimiser's state; hyper-parameters follow the current config (they
        differ only when a resume was forced), and a different optimiser starts afresh."""
        options = getattr(self.config.train, key)
        saved_name = checkpoint.state["config"]["train"][key]["name"]
        if saved_name != options.name:
            print(
                f"warning: train.{key} changed from {saved_name} to {options.name}; "
                f"the {name}'s optimiser state starts afresh",
                file=sys.stderr,
            )
            return
        checkpoint.restore_optimizer(name, optimizer)
        fresh = build_optimizer([nn.Parameter(torch.zeros(1))], options).param_groups[0]
        for group in optimizer.param_groups:
            group.update({k: v for k, v in fresh.items() if k != "params"})

    def parameter_counts(self) -> dict[str, int]:
        return {name: count_parameters(m) for name, m in self._modules().items()}

    def emit(self, event: str, *args: Any) -> None:
        """Call hook ``event`` on every callback, in order."""
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)

    def _modules(self) -> dict[str, nn.Module]:
        modules = {"generator": self.generator, "discriminator": self.discriminator}
        if self.generator_ba is not None and self.discriminator_a is not None:
            modules["generator_ba"] = self.generator_ba
            modules["discriminator_a"] = self.discriminator_a
        if self.generator_ema is not None:
            modules["generator_ema"] = self.generator_ema
        return modules

    def _rng_states(self) -> dict[str, Tensor]:
        states = {stream: g.get_state() for stream, g in self.rngs.items()}
        states["torch"] = torch.get_rng_state()
        if self.device.type == "cuda":
            states["cuda"] = torch.cuda.get_rng_state(self.device)
        return states

    # -- logging --------------------------------------------------------------------------

    def _accumulate(self, stats: dict[str, Tensor]) -> None:
        for key, value in stats.items():
            self._sums[key] = self._sums[key] + value if key in self._sums else value.clone()

    def _log(self) -> None:
        """Average the statistics since the last record and announce them."""
        steps_done, started = self._window
        now = time.perf_counter()
        count = self.step - steps_done
        record: dict[str, Any] = {"step": self.step}
        record.update({k: (v / count).item() for k, v in self._sums.items()})
        record["steps_per_s"] = count / max(now - started, 1e-9)
        self._sums = {}
        self._window = (self.step, now)
        broken = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
        self.emit("on_log", record)
        if broken:
            first, *others = broken
            also = f" (also non-finite: {', '.join(others)})" if others else ""
            raise TrainingDiverged(
                f"step {self.step}: {first} is {record[first]}; training diverged{also}. "
                f"{self._last_good_checkpoint()}"
            )

    def _write_summary(self, status: str) -> None:
        records = self.run.read_metrics()
        training = [r for r in records if "d_loss" in r]
        evaluations = [r for r in records if any(key.startswith("eval/") for key in r)]
        saved = list_checkpoints(self.run.checkpoints_dir)
        summary = {
            "status": status,
            "signal": self.stop_signal if status == "interrupted" else None,
            "step": self.step,
            "steps": self.config.train.steps,
            "wall_seconds": round(self.elapsed, 2),
            "device": str(self.device),
            "parameters": self.parameter_counts(),
            "last_metrics": training[-1] if training else None,
            "last_evaluation": evaluations[-1] if evaluations else None,
            "final_samples": str(self.run.samples_dir / f"step_{self.step:08d}.png"),
            "checkpoint": str(saved[-1]) if saved else None,
        }
        write_json_atomic(self.run.summary_path, summary)


def _parameters(*modules: nn.Module | None) -> list[nn.Parameter]:
    """The parameters of every module given (None skipped), in order."""
    return [p for module in modules if module is not None for p in module.parameters()]


def _check_regularisers(config: Config, discriminator: nn.Module) -> None:
    """Refuse regularisers that cannot work with this discriminator, naming the fix."""
    options = config.regularisers
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


def _changed_keys(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested dicts."""
    changed = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed += _changed_keys(a, b, f"{prefix}{key}.")
        elif a != b:
            changed.append(f"{prefix}{key}")
    return changed


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
