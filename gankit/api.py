"""The Python API, mirroring the CLI: ``train``, ``resume``, ``load`` and the :class:`Run`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from gankit.config import Config, resolve, validate
from gankit.data import DataSource, build_source
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
    ) -> None:
        self.dir = run_dir
        self.config = config
        self.generator = generator
        self.discriminator = discriminator
        self.sampler = sampler if sampler is not None else generator
        """The network :meth:`sample` uses: G's moving average (``train.ema``) or G."""
        self.step = step
        self.status = status
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
    def sample(self, n: int = 64, seed: int = 0) -> Tensor:
        """``n`` samples from the sampler (G's moving average when the run keeps one) in eval
        mode, on the CPU; ``seed`` fixes z."""
        prior = Prior(self.config.noise.dim, self.config.noise.distribution)
        device = next(self.sampler.parameters()).device
        z = prior.sample(n, torch.Generator().manual_seed(seed), device)
        was_training = self.sampler.training
        self.sampler.eval()
        try:
            return self.sampler(z).cpu()
        finally:
            self.sampler.train(was_training)

    def save_samples(self, path: str | Path, n: int = 64, seed: int = 0) -> Path:
        """Write ``n`` samples: a PNG grid/plot, or the raw array for a ``.npy`` path."""
        samples = self.sample(n, seed)
        path = Path(path)
        if path.suffix == ".npy":
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, samples.numpy())
            return path
        return save_samples(samples, self.source, path, title=f"{self.path.name} step {self.step}")

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
    generator, discriminator = build_networks(config, tuple(data["shape"]), data["kind"])
    torch.set_rng_state(torch_state)  # building must not disturb the caller's RNG
    ckpt.restore_module("generator", generator)
    ckpt.restore_module("discriminator", discriminator)
    sampler = None
    if any(key.startswith("generator_ema.") for key in ckpt.models):
        ema = AveragedModel(generator, use_buffers=True)
        ckpt.restore_module("generator_ema", ema)
        sampler = ema.module.to(device).eval() if int(ema.n_averaged) > 0 else None
    summary = _read_yaml(run.summary_path)
    return Run(
        run,
        config,
        generator.to(device).eval(),
        discriminator.to(device).eval(),
        ckpt.step,
        summary.get("status") if summary else None,
        sampler,
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
    )


def _read_yaml(path: Path) -> dict[str, Any] | None:
    return yaml.safe_load(path.read_text()) if path.is_file() else None
