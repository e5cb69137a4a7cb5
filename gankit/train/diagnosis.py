"""Training-health diagnosis in the training process (``log.diagnosis``).

:class:`SampleDiversity` and :class:`HeldoutAccuracy` add the statistics the mode-collapse
and over-fitting rules read to the training records; :class:`Diagnosis` runs
:mod:`gankit.diagnose`'s rules on each record as it is logged and appends a ``diagnosis``
event to metrics.jsonl when the verdict changes.
``gankit doctor RUN`` runs the same rules on the file afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import yaml
from torch import Tensor, nn

from gankit.data import TensorImageSource, build_source
from gankit.diagnose import Monitor, Verdict
from gankit.diagnose.bands import band_for_config
from gankit.nets.modes import evaluating
from gankit.train.callbacks import Callback
from gankit.train.checkpoint import list_checkpoints
from gankit.train.rundir import RunDir, RunDirError

if TYPE_CHECKING:
    from pathlib import Path

    from gankit.train.trainer import Trainer

DIVERSITY_EVERY = 4
"""Training records between two measurements of the samples' diversity."""
DIVERSITY_SAMPLES = 256
"""Fixed-z samples the diversity is measured on."""
HELDOUT_IMAGES = 256
"""Real images (at most) in each of the two fixed batches D's accuracy is measured on."""


def mean_pairwise_distance(samples: torch.Tensor) -> float:
    """E‖x_i − x_j‖₂ over pairs i ≠ j of the flattened ``samples``: near 0 when G maps
    every z to (nearly) the same output."""
    flat = samples.flatten(1).double()
    n = len(flat)
    if n < 2:
        return 0.0
    return float(torch.cdist(flat, flat).sum() / (n * (n - 1)))


class SampleDiversity(Callback):
    """Adds ``sample_diversity`` — :func:`mean_pairwise_distance` of the first
    :data:`DIVERSITY_SAMPLES` fixed-z samples — to the 1st, 5th, 9th… training record of a
    noise-to-sample task (every :data:`DIVERSITY_EVERY`, counted by step, so a resumed run
    measures at the same steps), before it is written."""

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if record.get("kind", "train") != "train" or not trainer.task.samples_from_noise:
            return
        index = record["step"] // trainer.config.log.every - 1
        if index % DIVERSITY_EVERY == 0:
            samples = trainer.sample_fixed()[:DIVERSITY_SAMPLES]
            record["sample_diversity"] = mean_pairwise_distance(samples)


class HeldoutAccuracy(Callback):
    """Adds ``d_acc_real_train`` and ``d_acc_real_heldout`` to every training record: the
    share of real images D calls real (logit > 0) in a fixed batch of the images it trains
    on and in one of the same size from the data's held-out split, which it never sees;
    and ``d_membership_auc``, :func:`membership_auc` of D's logits on the two batches. A D
    that memorises its training set tells those apart from generated images while its
    outputs on held-out reals drift toward the generated ones (Karras et al. 2020, §2 and
    Fig. 1b), so the training accuracy stays high as the held-out one falls.

    Measured where the comparison means something: a noise-to-sample task whose objective
    reads D's logits as probabilities (``d_acc`` is logged), on a source with a held-out
    split that the run leaves out (``data.split=train`` of the digit sets). The batches are
    :data:`HELDOUT_IMAGES` evenly spaced images of each set (classes stored in order are
    all represented), fixed for the run. D runs without gradients in eval mode (dropout
    off, spectral normalisation without its power iteration) except that BatchNorm
    normalises each batch by its own statistics, as in D's training step, on copies of its
    buffers: no weight, buffer or random stream of training changes, so a resumed run logs
    the same values. The cost is two forward passes of D per record."""

    def __init__(self) -> None:
        self.batches: dict[str, tuple[Tensor, Tensor | None]] | None = None
        self.started = False

    def on_fit_start(self, trainer: Trainer) -> None:
        if not self.started:  # a later session of the same Trainer keeps its batches
            self.batches, self.started = heldout_batches(trainer), True

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if record.get("kind", "train") != "train" or self.batches is None:
            return
        logits = {
            key: real_logits(trainer.discriminator, x, y).flatten().double()
            for key, (x, y) in self.batches.items()
        }
        for key, values in logits.items():
            record[key] = float((values > 0).double().mean())
        record["d_membership_auc"] = membership_auc(
            logits["d_acc_real_train"], logits["d_acc_real_heldout"]
        )


def membership_auc(seen: Tensor, unseen: Tensor) -> float:
    """P(s > u) + ½·P(s = u) for s drawn from ``seen`` and u from ``unseen``: the area under
    the ROC curve of D's logit as a test of whether a real image was trained on (the
    membership inference of Hayes et al. 2019, LOGAN). 0.5 when D scores unseen reals like
    the ones it trains on; 1 when every training image outscores every held-out one."""
    difference = seen[:, None] - unseen[None, :]
    return float(((difference > 0).double() + 0.5 * (difference == 0).double()).mean())


def heldout_batches(trainer: Trainer) -> dict[str, tuple[Tensor, Tensor | None]] | None:
    """The fixed real batches of :class:`HeldoutAccuracy` (images and, for a conditional
    task, labels) under their record keys, on the run's device; None where it does not
    apply."""
    data = trainer.config.data
    split = data.heldout_split()
    if (
        not trainer.task.samples_from_noise
        or not trainer.objective.logits_are_probabilities
        or split is None
        or getattr(data, "split", None) != "train"
        or not isinstance(trainer.source, TensorImageSource)
    ):
        return None
    options = data.at_shape(trainer.data_info["shape"]).model_copy(update={"split": split})
    heldout = build_source(options)
    assert isinstance(heldout, TensorImageSource)
    pack = getattr(trainer.config.discriminator, "pack", 1)
    count = min(HELDOUT_IMAGES, len(trainer.source), len(heldout)) // pack * pack
    if count == 0:  # fewer images than D scores in one pack
        return None
    batches = {}
    for key, source in (("d_acc_real_train", trainer.source), ("d_acc_real_heldout", heldout)):
        index = torch.linspace(0, len(source) - 1, count).round().long()
        x = source.images[index.to(source.images.device)].float().div_(127.5).sub_(1.0)
        y = source.labels[index.to(source.labels.device)] if trainer.classes else None
        batches[key] = (x.to(trainer.device), None if y is None else y.to(trainer.device))
    return batches


@torch.no_grad()
def real_logits(discriminator: nn.Module, x: Tensor, y: Tensor | None) -> Tensor:
    """D's logits on ``x`` (and labels ``y``) in eval mode but for BatchNorm, which uses
    the batch's statistics (as in training) and updates copies of D's buffers, never D's."""
    buffers = {name: b.clone() for name, b in discriminator.named_buffers()}
    with evaluating(discriminator):
        for module in discriminator.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.train()
        args = (x,) if y is None else (x, y)
        return torch.func.functional_call(discriminator, buffers, args)


class Diagnosis(Callback):
    """Runs the diagnosis rules on every training and evaluation record; a verdict that
    changes is announced as an ``on_log`` record of kind ``event`` (``"event":
    "diagnosis"``), which :class:`~gankit.train.callbacks.MetricsFile` (before this
    callback) writes and the progress bar shows. :attr:`current` is the latest verdict.

    A resumed run first reads the records kept in metrics.jsonl, so the rules see the whole
    run and only changes after the checkpoint are announced."""

    def __init__(self) -> None:
        self.monitor: Monitor | None = None

    @property
    def current(self) -> Verdict | None:
        return self.monitor.current if self.monitor is not None else None

    def on_fit_start(self, trainer: Trainer) -> None:
        if self.monitor is not None:  # a later session of the same Trainer
            return
        band = band_for_config(trainer.config.to_dict())
        self.monitor = Monitor(trainer.config.objective.name, band)
        for path in list_checkpoints(trainer.run.checkpoints_dir):
            self._add_checkpoint(path)
        for record in trainer.run.read_metrics():
            if record["step"] <= trainer.step:
                self.monitor.observe(record)

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None:
        self._add_checkpoint(path)

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        for verdict in self.monitor.observe(record):
            trainer.emit("on_log", verdict.to_event())

    def _add_checkpoint(self, path: Path) -> None:
        _add_checkpoint(self.monitor, path)


def diagnose_run(
    run: RunDir, band_directory: Path | None = None
) -> tuple[list[Verdict], list[Verdict]]:
    """The rules replayed over a run directory's metrics.jsonl (resume markers applied):
    every change of verdict in order, and the modes firing at the last record. The run is
    compared with its preset's reference band (from ``band_directory``, default the
    shipped ones) when its config.yaml matches the preset's."""
    records = run.read_metrics()
    if not any(r["kind"] == "train" for r in records):
        raise RunDirError(f"{run.path}: metrics.jsonl holds no training records to diagnose")
    config = _run_config(run)
    objective = config.get("objective") if isinstance(config, dict) else None
    name = objective.get("name") if isinstance(objective, dict) else None
    monitor = Monitor(name, band_for_config(config, band_directory))
    for path in list_checkpoints(run.checkpoints_dir):
        _add_checkpoint(monitor, path)
    changes = [change for record in records for change in monitor.observe(record)]
    return changes, list(monitor.active.values())


def _add_checkpoint(monitor: Monitor, path: Path) -> None:
    """Tell ``monitor`` of the checkpoint folder ``path`` (``checkpoints/step_00000500``)."""
    if path.name.startswith("step_"):
        monitor.add_checkpoint(int(path.name.removeprefix("step_")), f"checkpoints/{path.name}")


def _run_config(run: RunDir) -> dict[str, Any] | None:
    """The run's config.yaml as a dict, None when it cannot be read."""
    try:
        config = yaml.safe_load(run.config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return config if isinstance(config, dict) else None
