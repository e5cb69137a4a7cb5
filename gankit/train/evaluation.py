"""Sample-quality metrics during training, and the best checkpoint by one of them.

Every ``eval.every`` steps the :class:`Evaluator` draws ``eval.samples`` images from the
sampler (G's moving average when the run keeps one) on a z fixed for the whole run, scores
them with :func:`gankit.metrics.reference.digit_reference`, and logs the values as
``eval/<name>`` records in metrics.jsonl and TensorBoard. With ``eval.best`` set, the
checkpoint of the best value so far is copied to ``checkpoints/best`` (outside the pruned
``step_*`` folders) and described in ``best.json``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from gankit.files import write_text_atomic
from gankit.metrics.reference import classifier_for, digit_reference
from gankit.metrics.registry import direction
from gankit.seeding import derive_seed
from gankit.train.callbacks import Callback

if TYPE_CHECKING:
    from gankit.train.trainer import Trainer

BEST_FILE = "best.json"
BEST_DIR = "best"


class Evaluator(Callback):
    """Evaluates the sampler every ``eval.every`` steps; keeps the best checkpoint."""

    def on_fit_start(self, trainer: Trainer) -> None:
        options = trainer.config.eval
        name = classifier_for(trainer.config.data, options.metrics)
        train_images = trainer.source.images if "mem" in options.metrics else None
        self.reference = digit_reference(name, trainer.device, train_images)
        generator = torch.Generator().manual_seed(derive_seed(trainer.config.seed, "eval_z"))
        self.z = trainer.prior.sample(options.samples, generator, trainer.device)
        # a conditional G is asked for every class in turn
        self.y = (
            torch.arange(options.samples, device=trainer.device) % trainer.classes
            if trainer.classes
            else None
        )
        self.best_path = trainer.run.path / BEST_FILE
        self.best: dict[str, Any] | None = (
            json.loads(self.best_path.read_text()) if self.best_path.is_file() else None
        )
        self.pending: dict[str, Any] | None = None

    def on_step_end(self, trainer: Trainer, step: int) -> None:
        options = trainer.config.eval
        if step % options.every:
            return
        values = self.reference.measure(
            trainer.sample_from(self.z, self.y), options.metrics, trainer.config.seed, self.y
        )
        record = {"kind": "eval", "step": step, **{f"eval/{k}": v for k, v in values.items()}}
        trainer.emit("on_log", record)
        if options.best is not None and self._improves(values[options.best]):
            self.pending = {"metric": options.best, "value": values[options.best], "step": step}
            if step != trainer.config.train.steps:  # the final checkpoint comes from fit()
                trainer.save_checkpoint()

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None:
        if self.pending is None or self.pending["step"] != trainer.step:
            return
        target = trainer.run.checkpoints_dir / BEST_DIR
        staging = target.with_name(f".{BEST_DIR}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            shutil.copytree(path, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        self.best = {**self.pending, "checkpoint": f"checkpoints/{BEST_DIR}"}
        write_text_atomic(self.best_path, json.dumps(self.best, indent=2) + "\n")
        self.pending = None

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return True
        lower = direction(self.best["metric"]) == "lower"
        return value < self.best["value"] if lower else value > self.best["value"]
