"""Training-health diagnosis in the training process (``log.diagnosis``).

:class:`SampleDiversity` adds the statistic the mode-collapse rule reads to the training
records; :class:`Diagnosis` runs :mod:`gankit.diagnose`'s rules on each record as it is
logged and appends a ``diagnosis`` event to metrics.jsonl when the verdict changes.
``gankit doctor RUN`` runs the same rules on the file afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import yaml

from gankit.diagnose import Monitor, Verdict
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
        self.monitor = Monitor(trainer.config.objective.name)
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


def diagnose_run(run: RunDir) -> tuple[list[Verdict], list[Verdict]]:
    """The rules replayed over a run directory's metrics.jsonl (resume markers applied):
    every change of verdict in order, and the modes firing at the last record."""
    records = run.read_metrics()
    if not any(r["kind"] == "train" for r in records):
        raise RunDirError(f"{run.path}: metrics.jsonl holds no training records to diagnose")
    monitor = Monitor(_objective_name(run))
    for path in list_checkpoints(run.checkpoints_dir):
        _add_checkpoint(monitor, path)
    changes = [change for record in records for change in monitor.observe(record)]
    return changes, list(monitor.active.values())


def _add_checkpoint(monitor: Monitor, path: Path) -> None:
    """Tell ``monitor`` of the checkpoint folder ``path`` (``checkpoints/step_00000500``)."""
    if path.name.startswith("step_"):
        monitor.add_checkpoint(int(path.name.removeprefix("step_")), f"checkpoints/{path.name}")


def _objective_name(run: RunDir) -> str | None:
    """The objective of the run's config.yaml, None when it cannot be read."""
    try:
        config = yaml.safe_load(run.config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    objective = config.get("objective") if isinstance(config, dict) else None
    return objective.get("name") if isinstance(objective, dict) else None
