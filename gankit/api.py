"""The Python API, mirroring the CLI: ``train``, ``resume``, ``load`` and the :class:`Run`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from gankit.config import Config, ConfigError, resolve, validate
from gankit.data import DataSource, build_source
from gankit.nets.conditional import check_labels
from gankit.prior import Prior
from gankit.train.build import build_networks
from gankit.train.callbacks import Callback
from gankit.train.checkpoint import CheckpointError, latest_loadable, load_checkpoint
from gankit.train.rundir import RunDir, run_name
from gankit.train.trainer import Trainer
from gankit.viz import save_samples


class Run:
    """A trained (or training) run: its config, networks, metrics and samples."""

    def __init__(
        self,
        run_dir: RunDir,
        config: Config,
        generator: nn.Module,
        discriminator: nn.Module,
        step: int,
        status: str | None = None,
        sampler: nn.Module | None = None,
        classes: int = 0,
        generator_ba: nn.Module | None = None,
        data_info: dict[str, Any] | None = None,
    ) -> None:
        self.dir = run_dir
        self.config = config
        self.generator = generator
        self.discriminator = discriminator
        self.sampler = sampler if sampler is not None else generator
        """The network :meth:`sample` uses: G's moving average (``train.ema``) or G."""
        self.step = step
        self.status = status
        self.classes = classes
        """Number of labels of a conditional GAN (0 otherwise)."""
        self.generator_ba = generator_ba
        """CycleGAN's generator from domain B to A (``generator`` maps A to B)."""
        self.data_info = data_info or {}
        """What the networks know of the data: kind, shape, classes, input_shape."""
        self._source: DataSource | None = None

    @property
    def path(self) -> Path:
        return self.dir.path

    @property
    def source(self) -> DataSource:
        """The run's real data source (built on first use)."""
        if self._source is None:
            self._source = build_source(self.config.data)
        return self._source

    @torch.no_grad()
    def sample(
        self, n: int = 64, seed: int = 0, label: int | Sequence[int] | Tensor | None = None
    ) -> Tensor:
        """``n`` samples from the sampler (G's moving average when the run keeps one) in eval
        mode, on the CPU; ``seed`` fixes z. A conditional GAN draws class ``label`` (an int,
        or one label per sample); without it, classes 0..K−1 in turn (one class per row of a
        grid of ``n // K`` columns)."""
        prior = Prior(self.config.noise.dim, self.config.noise.distribution)
        device = next(self.sampler.parameters()).device
        z = prior.sample(n, torch.Generator().manual_seed(seed), device)
        y = self.labels_for(n, label, device)
        was_training = self.sampler.training
        self.sampler.eval()
        try:
            return (self.sampler(z) if y is None else self.sampler(z, y)).cpu()
        finally:
            self.sampler.train(was_training)

    def labels_for(
        self,
        n: int,
        label: int | Sequence[int] | Tensor | None = None,
        device: torch.device | str = "cpu",
    ) -> Tensor | None:
        """The labels :meth:`sample` gives G for ``n`` samples (None when unconditional),
        checked against the run's classes."""
        if not self.classes:
            if label is not None:
                raise ConfigError(f"{self.path}: an unconditional run takes no label")
            return None
        if label is None:
            per_class = max(1, n // self.classes)
            return (torch.arange(n, device=device) // per_class) % self.classes
        y = torch.as_tensor(label, dtype=torch.long, device=device)
        y = y.expand(n).clone() if y.ndim == 0 else y
        if y.shape != (n,):
            raise ConfigError(f"give one label or {n}, got {tuple(y.shape)}")
        check_labels(y, self.classes)
        return y

    def save_samples(
        self, path: str | Path, n: int = 64, seed: int = 0, label: int | None = None
    ) -> Path:
        """Write ``n`` samples (of class ``label``, for a conditional GAN): a PNG grid/plot,
        or the raw array for a ``.npy`` path. A conditional grid without a label shows one
        class per row."""
        samples = self.sample(n, seed, label)
        path = Path(path)
        if path.suffix == ".npy":
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, samples.numpy())
            return path
        columns = max(1, n // self.classes) if self.classes and label is None else None
        title = f"{self.path.name} step {self.step}"
        return save_samples(samples, self.source, path, title, columns)

    @torch.no_grad()
    def translate(
        self, images: Tensor, direction: str = "AtoB", seed: int = 0, dropout: bool = True
    ) -> Tensor:
        """Translate ``images`` (N, C, H, W) in [−1, 1] with a pix2pix or CycleGAN run, on
        the CPU. ``direction`` ``BtoA`` uses CycleGAN's second generator; ``seed`` fixes
        pix2pix's dropout noise, ``dropout=False`` switches it off (deterministic output)."""
        network = self._translator(direction)
        expected = self.translation_channels(direction)
        if images.ndim != 4 or images.shape[1] != expected:
            raise ConfigError(
                f"{self.path} translates {direction[0]} images of {expected} channel(s), "
                f"(N, {expected}, H, W); got shape {tuple(images.shape)}"
            )
        device = next(network.parameters()).device
        was_training, kept = network.training, getattr(network, "sample_dropout", None)
        network.eval()
        if kept is not None:
            network.sample_dropout = dropout
        try:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(seed)
                return network(images.to(device)).cpu()
        finally:
            network.train(was_training)
            if kept is not None:
                network.sample_dropout = kept

    def _translator(self, direction: str) -> nn.Module:
        """The generator translating in ``direction`` (AtoB or BtoA)."""
        if self.config.task not in ("paired", "unpaired"):
            raise ConfigError(f"{self.path}: a {self.config.task} run does not translate images")
        if direction not in ("AtoB", "BtoA"):
            raise ConfigError(f"direction must be AtoB or BtoA, got {direction!r}")
        if direction == "AtoB":
            return self.generator
        if self.generator_ba is None:
            raise ConfigError(f"{self.path}: a paired (pix2pix) run translates AtoB only")
        return self.generator_ba

    def translation_channels(self, direction: str) -> int:
        """Channels of the images the generator for ``direction`` reads."""
        data = self.data_info
        source, target = data["input_shape"][0], data["shape"][0]
        return source if direction == "AtoB" else target

    def metrics(self) -> list[dict[str, Any]]:
        """Every record of the run's metrics.jsonl."""
        return self.dir.read_metrics()

    def __repr__(self) -> str:
        return f"Run('{self.path}', step={self.step}, status={self.status!r})"


def train(
    config: str | Mapping[str, Any] | Config | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    *,
    run_dir: str | Path | None = None,
    runs_root: str | Path = "runs",
    callbacks: Iterable[Callback] = (),
    progress: bool = True,
    until_step: int | None = None,
) -> Run:
    """Train a GAN from a preset name, YAML path, dict or Config (default: the main job).

    >>> run = gankit.train("ring-2d", {"train.steps": 500})        # doctest: +SKIP
    """
    overrides = dict(overrides) if isinstance(overrides, Mapping) else list(overrides)
    resolved = resolve(config, overrides)
    if run_dir is not None:
        root, name = Path(run_dir).parent, Path(run_dir).name
    else:
        if isinstance(overrides, Mapping):
            labels = [f"{k}={v}" for k, v in overrides.items()]
        else:
            labels = list(overrides)
        root, name = Path(runs_root), run_name(resolved.preset, labels)
    trainer = Trainer.start(resolved, root, name, callbacks=callbacks, progress=progress)
    status = trainer.fit(until_step)
    return _run_of(trainer, status)


def resume(
    run_dir: str | Path,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    *,
    allow_config_change: bool = False,
    callbacks: Iterable[Callback] = (),
    progress: bool = True,
    until_step: int | None = None,
) -> Run:
    """Continue a run from its newest checkpoint (see :meth:`Trainer.resume`)."""
    trainer = Trainer.resume(
        run_dir, overrides, allow_config_change, callbacks=callbacks, progress=progress
    )
    status = trainer.fit(until_step)
    return _run_of(trainer, status)


def load(run_dir: str | Path, checkpoint: str | Path | None = None, device: str = "cpu") -> Run:
    """Open a run directory for sampling and inspection (newest checkpoint by default)."""
    run = RunDir.open(run_dir)
    if checkpoint is not None:
        ckpt = load_checkpoint(checkpoint)
    else:
        ckpt, _ = latest_loadable(run.checkpoints_dir)
        if ckpt is None:
            raise CheckpointError(f"{run.path}: no loadable checkpoint")
    config = validate(ckpt.state["config"])
    data = ckpt.state["data"]
    torch_state = torch.get_rng_state()
    data.setdefault("classes", 0)
    data.setdefault("input_shape", None)
    networks = build_networks(config, data)
    torch.set_rng_state(torch_state)  # building must not disturb the caller's RNG
    for name, module in networks.items():
        ckpt.restore_module(name, module)
        module.to(device).eval()
    generator, discriminator = networks["generator"], networks["discriminator"]
    sampler = None
    if any(key.startswith("generator_ema.") for key in ckpt.models):
        ema = AveragedModel(generator, use_buffers=True)
        ckpt.restore_module("generator_ema", ema)
        sampler = ema.module.to(device).eval() if int(ema.n_averaged) > 0 else None
    summary = _read_yaml(run.summary_path)
    return Run(
        run,
        config,
        generator,
        discriminator,
        ckpt.step,
        summary.get("status") if summary else None,
        sampler,
        data["classes"],
        networks.get("generator_ba"),
        data,
    )


def _run_of(trainer: Trainer, status: str) -> Run:
    return Run(
        trainer.run,
        trainer.config,
        trainer.generator,
        trainer.discriminator,
        trainer.step,
        status,
        trainer.sampler,
        trainer.classes,
        trainer.generator_ba,
        trainer.data_info,
    )


def _read_yaml(path: Path) -> dict[str, Any] | None:
    return yaml.safe_load(path.read_text()) if path.is_file() else None
