"""The Python API, mirroring the CLI: ``train``, ``resume``, ``load`` and the :class:`Run`."""

from __future__ import annotations

import itertools
import math
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel
from tqdm.auto import tqdm

from gankit.config import Config, ConfigError, resolve, validate, warn_inert
from gankit.data import DataSource, build_source
from gankit.errors import GankitError
from gankit.files import OutputError, check_output, write_atomic
from gankit.nets.conditional import check_labels
from gankit.nets.modes import evaluating
from gankit.prior import Prior
from gankit.train.build import build_networks
from gankit.train.callbacks import Callback
from gankit.train.checkpoint import (
    CheckpointError,
    latest_loadable,
    list_checkpoints,
    load_checkpoint,
)
from gankit.train.rundir import RunDir, data_label, run_name
from gankit.train.trainer import Trainer
from gankit.viz import save_samples

_NAMES_SHOWN = 20  # class names listed in an error, then "and N more"


Label = int | str | Sequence[int | str] | Tensor | None
"""The class(es) a conditional run draws: an index 0..K−1 or a class name, or one per sample."""


class Run:
    """A trained (or training) run: its config, networks, metrics and samples."""

    PICTURE_FORMATS = (".png", ".jpg", ".jpeg")
    """Extensions :meth:`save_samples` writes as a picture (.jpg/.jpeg as JPEG); .npy
    writes the raw array."""
    PICTURE_LIMITS = {"images": 10_000, "points": 200_000}
    """The most samples one picture shows (an image grid, a point plot); more go to .npy."""

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
        checkpoint: Path | None = None,
        skipped_checkpoints: Sequence[dict[str, str]] = (),
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
        """What the networks know of the data: kind, shape, classes (and their
        class_names), input_shape."""
        self.checkpoint = checkpoint
        """The checkpoint folder the networks were read from, or, for the Run that
        :func:`train` or :func:`resume` returns, the one they were saved to."""
        self.skipped_checkpoints = [dict(entry) for entry in skipped_checkpoints]
        """Newer checkpoints :func:`load` could not load, newest first, each
        ``{"checkpoint": folder name, "reason": why}``; empty when the newest loaded."""
        self._source: DataSource | None = None

    def checkpoint_warnings(self) -> list[str]:
        """One line for each newer checkpoint that was skipped for an older one."""
        used = self.checkpoint.name if self.checkpoint is not None else f"step {self.step}"
        return [
            f"checkpoint {entry['checkpoint']} of {self.path} is unloadable "
            f"({entry['reason']}); used {used}"
            for entry in self.skipped_checkpoints
        ]

    @property
    def path(self) -> Path:
        return self.dir.path

    @property
    def source(self) -> DataSource:
        """The run's real data source (built on first use), at the size the run trained at."""
        if self._source is None:
            self._source = build_source(self.config.data.at_shape(self.data_info.get("shape")))
        return self._source

    def sample(
        self,
        n: int = 64,
        seed: int = 0,
        label: Label = None,
        truncation: float | None = None,
    ) -> Tensor:
        """``n`` samples from the sampler (G's moving average when the run keeps one) in eval
        mode, on the CPU; ``seed`` fixes z. A conditional GAN draws class ``label`` (an
        index or a class name, or one per sample); without it, classes 0..K−1 in turn (one
        class per row of a grid of ``n // K`` columns). ``truncation`` t draws z from
        N(0, I) truncated to |zᵢ| ≤ t (BigGAN's truncation trick,
        :func:`gankit.prior.truncate_`: coordinates inside are those of the untruncated z,
        those outside are redrawn), trading variety for fidelity; None gives the
        untruncated z. All ``n`` at once: :meth:`sample_batches` for many."""
        return self.generate(self.latents(n, seed, truncation), label)

    def latents(self, n: int = 64, seed: int = 0, truncation: float | None = None) -> Tensor:
        """The z ``(n, noise.dim)`` (CPU, float32) that :meth:`sample` with these arguments
        feeds G: ``sample(n, seed, label, truncation)`` is
        ``generate(latents(n, seed, truncation), label)``."""
        prior = self._prior(truncation)
        return prior.sample(n, torch.Generator().manual_seed(seed), "cpu", truncation)

    def generate(self, z: Tensor, label: Label = None) -> Tensor:
        """G(z) (of class ``label`` for a conditional GAN, as :meth:`labels_for` gives
        them) from given latent vectors ``z`` ``(n, noise.dim)``, by the sampler in eval
        mode, on the CPU."""
        self._prior(None)  # refuses a translation run
        dim = self.config.noise.dim
        if z.ndim != 2 or z.shape[1] != dim or not z.is_floating_point():
            raise ConfigError(
                f"{self.path}: z must be floating-point vectors (n, {dim}), got {z.dtype} "
                f"{tuple(z.shape)}"
            )
        device = next(self.sampler.parameters()).device
        y = self.labels_for(len(z), label, device)
        return self._generate(z.to(device, torch.float32), y)

    def sample_batches(
        self,
        n: int,
        seed: int = 0,
        label: Label = None,
        batch_size: int | None = None,
        truncation: float | None = None,
    ) -> Iterator[Tensor]:
        """:meth:`sample` of ``n`` as batches of at most ``batch_size`` (default
        :meth:`sample_batch_size`), so memory holds one batch at a time. z is drawn batch by
        batch from one generator seeded with ``seed``: for ``n ≤ batch_size`` the one batch
        equals ``sample(n, seed, label, truncation)``; the labels are always those
        ``sample(n)`` gives. Arguments are checked here, before the first batch is asked
        for."""
        prior = self._prior(truncation)
        if n < 1:
            raise ConfigError(f"the number of samples must be at least 1, got {n}")
        size = self.sample_batch_size() if batch_size is None else batch_size
        if size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {size}")
        return self._batches(prior, n, seed, size, self._label_slices(n, label), truncation)

    def sample_batch_size(self) -> int:
        """Samples per batch of :meth:`sample_batches`: about 2²⁰ values, 1 to 8192 samples."""
        values = math.prod(self.data_info.get("shape") or (1,))
        return max(1, min(8192, 2**20 // max(1, values)))

    def _batches(
        self,
        prior: Prior,
        n: int,
        seed: int,
        size: int,
        labels: Callable[[int, int], Tensor | None],
        truncation: float | None,
    ) -> Iterator[Tensor]:
        device = next(self.sampler.parameters()).device
        generator = torch.Generator().manual_seed(seed)
        for start in range(0, n, size):
            stop = min(n, start + size)
            z = prior.sample(stop - start, generator, device, truncation)
            y = labels(start, stop)
            yield self._generate(z, None if y is None else y.to(device))

    def _label_slices(self, n: int, label: Label) -> Callable[[int, int], Tensor | None]:
        """Labels of samples ``start:stop`` of ``n`` (as :meth:`labels_for` gives them),
        without holding all ``n`` when none or one class is asked for."""
        if not self.classes:
            self.labels_for(1, label)  # refuses a label
            return lambda start, stop: None
        label = self._indices(label)
        if label is None:
            per_class = max(1, n // self.classes)
            return lambda start, stop: (torch.arange(start, stop) // per_class) % self.classes
        if torch.as_tensor(label).ndim == 0:
            one = self.labels_for(1, label)
            return lambda start, stop: one.expand(stop - start)
        every = self.labels_for(n, label)
        return lambda start, stop: every[start:stop]

    def _generate(self, z: Tensor, y: Tensor | None) -> Tensor:
        with evaluating(self.sampler), torch.no_grad():
            return (self.sampler(z) if y is None else self.sampler(z, y)).cpu()

    def _prior(self, truncation: float | None) -> Prior:
        """The run's prior, after refusing a translation run (it draws no z) and a
        ``truncation`` the prior cannot take."""
        if self.config.task.name in ("paired", "unpaired"):
            raise ConfigError(
                f"{self.path}: a {self.config.task.name} run translates images and draws no "
                "samples from z; use `gankit translate` (Run.translate)"
            )
        prior = Prior(self.config.noise.dim, self.config.noise.distribution)
        try:
            prior.check_truncation(truncation)
        except ConfigError as err:
            raise ConfigError(f"{self.path}: {err}") from None
        return prior

    def labels_for(
        self,
        n: int,
        label: Label = None,
        device: torch.device | str = "cpu",
    ) -> Tensor | None:
        """The labels :meth:`sample` gives G for ``n`` samples (None when unconditional),
        checked against the run's classes; class names become their indices."""
        if not self.classes:
            if label is not None:
                raise ConfigError(f"{self.path}: an unconditional run takes no label")
            return None
        label = self._indices(label)
        if label is None:
            per_class = max(1, n // self.classes)
            return (torch.arange(n, device=device) // per_class) % self.classes
        y = torch.as_tensor(label, dtype=torch.long, device=device)
        y = y.expand(n).clone() if y.ndim == 0 else y
        if y.shape != (n,):
            raise ConfigError(f"give one label or {n}, got {tuple(y.shape)}")
        check_labels(y, self.classes)
        return y

    @property
    def class_names(self) -> list[str] | None:
        """The names of a conditional run's classes 0..K−1 (a folder's sub-folders, "0" to
        "9" for the digit sets), from its checkpoint; None for an unconditional run or a
        checkpoint written before names were kept."""
        names = self.data_info.get("class_names")
        return list(names) if names else None

    def class_index(self, label: int | str) -> int:
        """The index of class ``label``, given by index or by name; an unknown name is
        refused, naming the classes."""
        if not isinstance(label, str):
            return int(label)
        names = self.class_names
        if names is None:
            raise ConfigError(
                f"{self.path}: its checkpoint stores no class names (written by an earlier "
                f"gankit); give the label as a number 0–{self.classes - 1}, not {label!r}"
            )
        if label not in names:
            shown = ", ".join(names[:_NAMES_SHOWN])
            more = f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else ""
            raise ConfigError(
                f"{self.path}: no class named {label!r}; its classes are {shown}{more}"
            )
        return names.index(label)

    def _indices(self, label: Label) -> Label:
        """``label`` with every class name replaced by its index."""
        if isinstance(label, str):
            return self.class_index(label)
        if isinstance(label, Sequence) and any(isinstance(one, str) for one in label):
            return [self.class_index(one) for one in label]
        return label

    def save_samples(
        self,
        path: str | Path,
        n: int = 64,
        seed: int = 0,
        label: int | str | None = None,
        *,
        batch_size: int | None = None,
        progress: bool = False,
        truncation: float | None = None,
    ) -> Path:
        """Write ``n`` samples (of class ``label``, for a conditional GAN; of z truncated
        at ``truncation``), replacing ``path`` atomically; the samples are those of
        :meth:`sample_batches`.

        ``.png``, ``.jpg``/``.jpeg`` (written as JPEG): a picture, of at most
        :attr:`PICTURE_LIMITS` samples: an image grid (a conditional grid without a label
        shows one class per row), drawn from the checkpoint alone, or points plotted over
        the real distribution (over the samples alone, titled "real data unavailable", when
        the run's data source cannot be built). ``.npy``: the float32 array ``(n, *shape)``,
        written batch by batch, so memory stays that of one batch whatever ``n``; refused
        up front when the disk lacks the room. ``progress`` shows a bar over the batches
        when there is more than one. Anything else, or a folder, is refused."""
        raw, path = str(path), Path(path).expanduser()
        if raw.endswith(("/", os.sep)) or path.is_dir():
            raise OutputError(f"{path} is a folder; name a .png, .jpg, .jpeg or .npy file")
        suffix = path.suffix.lower()
        if suffix != ".npy" and suffix not in self.PICTURE_FORMATS:
            raise OutputError(
                f"{path}: cannot write samples as "
                f"{repr(suffix) if suffix else 'a file without an extension'}; name a .png, "
                ".jpg or .jpeg file (a picture) or a .npy file (the array)"
            )
        batches = self.sample_batches(n, seed, label, batch_size, truncation)
        if suffix == ".npy":
            return self._write_array(path, n, batches, progress)
        kind = self.data_info.get("kind") or self.source.kind
        what = "points" if kind == "points" else "images"
        limit = self.PICTURE_LIMITS[what]
        if n > limit:
            raise GankitError(
                f"a picture shows at most {limit:,} {what}, not {n:,}: write them to a .npy "
                f"file instead (-o {path.with_suffix('.npy').name})"
            )
        check_output(path)
        samples = torch.cat(list(self._with_progress(batches, n, progress)))
        columns = max(1, n // self.classes) if self.classes and label is None else None
        rows = self._row_names(n, columns) if columns and what == "images" else None
        title = f"{self.path.name} step {self.step}"
        source = None
        if what == "points":  # the real distribution is drawn where it can be built
            try:
                source = self.source
            except GankitError:
                title += " (real data unavailable)"
        return save_samples(samples, source, path, title, columns, kind, rows)

    def _row_names(self, n: int, columns: int) -> list[str]:
        """The class of each row of a grid of ``n`` samples in ``columns`` columns drawn
        without a label, by name (by index for a checkpoint without names)."""
        names = self.class_names or [str(k) for k in range(self.classes)]
        labels = self.labels_for(n)
        return [names[int(labels[start])] for start in range(0, n, columns)]

    def _write_array(self, path: Path, n: int, batches: Iterator[Tensor], progress: bool) -> Path:
        """Stream ``batches`` of ``n`` samples into the .npy file ``path``."""
        path = check_output(path)
        first = next(batches)
        shape, dtype = (n, *first.shape[1:]), first.numpy().dtype
        size = math.prod(shape) * dtype.itemsize
        free = shutil.disk_usage(path.parent).free
        if size > free:
            raise OutputError(
                f"cannot write {path}: {n:,} samples need {size / 1e9:.2f} GB and "
                f"{path.parent} has {free / 1e9:.2f} GB free"
            )

        def write(handle) -> None:
            header = {
                "descr": np.lib.format.dtype_to_descr(dtype),
                "fortran_order": False,
                "shape": shape,
            }
            np.lib.format.write_array_header_1_0(handle, header)
            rows = 0
            for batch in self._with_progress(itertools.chain([first], batches), n, progress):
                handle.write(batch.contiguous().numpy().tobytes())
                rows += len(batch)
            if rows != n:
                raise RuntimeError(f"wrote {rows} samples, expected {n}")

        return write_atomic(path, write)

    @staticmethod
    def _with_progress(batches: Iterable[Tensor], n: int, progress: bool) -> Iterator[Tensor]:
        """``batches`` of ``n`` samples, with a progress bar (on stderr) when ``progress``
        and there is more than one batch."""
        bar = None
        try:
            for batch in batches:
                if bar is None and progress and len(batch) < n:
                    bar = tqdm(total=n, unit="sample", desc="sampling")
                if bar is not None:
                    bar.update(len(batch))
                yield batch
        finally:
            if bar is not None:
                bar.close()

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
        kept = getattr(network, "sample_dropout", None)
        if kept is not None:
            network.sample_dropout = dropout
        try:
            with (
                evaluating(network),
                torch.random.fork_rng(devices=[device] if device.type == "cuda" else []),
            ):
                torch.manual_seed(seed)
                return network(images.to(device)).cpu()
        finally:
            if kept is not None:
                network.sample_dropout = kept

    def _translator(self, direction: str) -> nn.Module:
        """The generator translating in ``direction`` (AtoB or BtoA)."""
        if self.config.task.name not in ("paired", "unpaired"):
            raise ConfigError(
                f"{self.path}: task={self.config.task.name} runs do not translate images; use a "
                "pix2pix (task=paired) or CycleGAN (task=unpaired) run"
            )
        if direction not in ("AtoB", "BtoA"):
            raise ConfigError(f"direction must be AtoB or BtoA, got {direction!r}")
        if direction == "AtoB":
            return self.generator
        if self.generator_ba is None:
            raise ConfigError(f"{self.path}: a paired (pix2pix) run translates AtoB only")
        return self.generator_ba

    def translation_channels(self, direction: str) -> int:
        """Channels of the images the generator for ``direction`` reads (a run that does
        not translate, or a direction it has no generator for, is refused)."""
        self._translator(direction)
        data = self.data_info
        source, target = data["input_shape"][0], data["shape"][0]
        return source if direction == "AtoB" else target

    def metrics(self, kinds: Sequence[str] = ("train", "eval")) -> list[dict[str, Any]]:
        """The run's metrics.jsonl records of the given kinds ("train", "eval", "event"),
        without those a resume superseded (see :meth:`RunDir.read_metrics`)."""
        return self.dir.read_metrics(kinds)

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

    Without ``run_dir`` the run goes to ``runs_root/<preset>-<overrides>-<time>``, or to
    ``runs_root/<data>-<other overrides>-<time>`` when the overrides train on other data
    than the preset's (:func:`gankit.train.rundir.run_name`).

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
        data = resolved.data.model_dump(mode="json")
        named_by_data = _other_data(config, labels, data)
        root = Path(runs_root)
        name = run_name(resolved.preset, labels, data if named_by_data else None)
    trainer = Trainer.start(
        resolved, root, name, exact=run_dir is not None, callbacks=callbacks, progress=progress
    )
    if trainer.ranks.is_main:
        warn_inert(trainer.config)
    status = trainer.fit(until_step)
    return _run_of(trainer, status)


def _other_data(
    config: str | Mapping[str, Any] | Config | None, labels: list[str], data: dict[str, Any]
) -> bool:
    """Whether overrides (``labels``, as ``key=value``) make a run train on other data than
    the config it starts from: another source or path (:func:`data_label`), not merely
    another option of the same data (``data.size``)."""
    keys = [label.partition("=")[0].strip() for label in labels]
    if not any(key == "data" or key.startswith("data.") for key in keys):
        return False
    try:
        start = resolve(config)
    except ConfigError:  # the config is complete only with the overrides' data
        return True
    return data_label(start.data.model_dump(mode="json")) != data_label(data)


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
    if trainer.ranks.is_main:
        warn_inert(trainer.config)
    status = trainer.fit(until_step)
    return _run_of(trainer, status)


def load(run_dir: str | Path, checkpoint: str | Path | None = None, device: str = "cpu") -> Run:
    """Open a run directory for sampling and inspection: the newest checkpoint that loads
    (newer ones that do not are named, with why, in :attr:`Run.skipped_checkpoints`), or
    ``checkpoint``: a checkpoint folder of this run (a path, or a folder name such as
    ``step_00000020``); a checkpoint of another run is refused. Needs neither summary.json
    nor the training data."""
    run = RunDir.open(run_dir)
    skipped: list[dict[str, str]] = []
    if checkpoint is not None:
        ckpt = load_checkpoint(_checkpoint_of(run, checkpoint))
    else:
        ckpt, failed = latest_loadable(run.checkpoints_dir)
        skipped = [{"checkpoint": s.path.name, "reason": s.reason} for s in failed]
        if ckpt is None:
            why = "; ".join(f"{e['checkpoint']}: {e['reason']}" for e in skipped)
            raise CheckpointError(
                f"{run.path}: no loadable checkpoint"
                + (f" ({why})" if why else f" in {run.checkpoints_dir}")
            )
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
    try:  # only for the status; a missing or broken summary.json does not matter here
        summary = _read_yaml(run.summary_path)
    except (OSError, ValueError, yaml.YAMLError):
        summary = None
    return Run(
        run,
        config,
        generator,
        discriminator,
        ckpt.step,
        summary.get("status") if isinstance(summary, dict) else None,
        sampler,
        data["classes"],
        networks.get("generator_ba"),
        data,
        ckpt.path,
        skipped,
    )


def _checkpoint_of(run: RunDir, checkpoint: str | Path) -> Path:
    """The folder ``checkpoint`` names (a path, or a folder name inside ``run``'s
    checkpoints); refused unless it is one of ``run``'s checkpoints."""
    path = Path(checkpoint).expanduser()
    if not path.exists() and len(path.parts) == 1:
        path = run.checkpoints_dir / path
    if not path.is_dir():
        names = ", ".join(p.name for p in list_checkpoints(run.checkpoints_dir)) or "none"
        raise CheckpointError(f"{checkpoint}: no such checkpoint folder ({run.path} has: {names})")
    if path.resolve().parent != run.checkpoints_dir.resolve():
        owner = path.resolve().parent.parent
        of = f"run {owner}" if (owner / "config.yaml").is_file() else str(path.resolve().parent)
        raise CheckpointError(
            f"{checkpoint} is not a checkpoint of {run.path} but of {of}; give one of "
            f"{run.checkpoints_dir}"
        )
    return path


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
        trainer.run.checkpoints_dir / f"step_{trainer.step:08d}",
    )


def _read_yaml(path: Path) -> dict[str, Any] | None:
    return yaml.safe_load(path.read_text()) if path.is_file() else None
