"""Training events and the callbacks that turn them into files, plots and a progress bar.

The Trainer announces what happens; callbacks decide what to do with it:

    on_fit_start(trainer)               before the first step of a session
    on_step_end(trainer, step)          after every generator update
    on_log(trainer, record)             every ``log.every`` steps: a dict of averaged metrics
    on_samples(trainer, step, samples)  after fixed-z samples have been rendered
    on_checkpoint(trainer, path)        after a checkpoint has been written
    on_fit_end(trainer, status)         "completed", "paused", "interrupted", or when the
                                        session ends in an error "diverged", "aborted"
                                        (a second Ctrl-C) or "failed"

Besides files, a run reports on stderr: a tqdm bar (:class:`ProgressBar`), or plain lines
for logs and pipes (:class:`PlainLog`), after a :class:`StartLine`.

A live dashboard or a health monitor is one more callback listening to the same events;
:class:`gankit.train.status.StatusFile` keeps ``status.json`` that way.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

import torch
from tqdm.auto import tqdm

from gankit.diagnose.verdict import DIAGNOSIS_EVENT, Verdict
from gankit.files import finite_record, strict_json
from gankit.train.rundir import METRICS_SCHEMA, RESUME_EVENT, record_kind, timestamp
from gankit.viz import image_grid, save_samples

if TYPE_CHECKING:
    from pathlib import Path

    from gankit.train.trainer import Trainer


class Callback:
    """Base class: every hook does nothing until overridden.

    In a multi-process run a callback runs on rank 0 alone (it may write and print),
    unless it sets ``every_rank``: then every rank runs it, as it must for a collective
    step such as :meth:`Trainer.save_checkpoint <gankit.train.trainer.Trainer.save_checkpoint>`,
    and its hooks must fire at the same steps on every rank."""

    every_rank: ClassVar[bool] = False

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_step_end(self, trainer: Trainer, step: int) -> None: ...

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None: ...

    def on_samples(self, trainer: Trainer, step: int, samples: torch.Tensor) -> None: ...

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None: ...

    def on_fit_end(self, trainer: Trainer, status: str) -> None: ...


class MetricsFile(Callback):
    """Appends each logged record to ``metrics.jsonl`` (the format is described in
    :mod:`gankit.train.rundir`): one strict JSON object per line with its ``kind`` and
    ``schema``, non-finite values written as null and named under ``"nonfinite"``.

    The file is never rewritten. The first session of a run that already has records (a
    resume) first appends a resume marker at the checkpoint's step, which supersedes the
    records written after that checkpoint; a line a crash cut short is ended first, so it
    stays one unreadable line instead of swallowing the next record."""

    def __init__(self) -> None:
        self._handle: BinaryIO | None = None
        self._sessions = 0

    def on_fit_start(self, trainer: Trainer) -> None:
        self._handle = open(trainer.run.metrics_path, "a+b")
        size = self._handle.seek(0, os.SEEK_END)
        if size:
            self._handle.seek(size - 1)
            if self._handle.read(1) != b"\n":
                self._handle.write(b"\n")
            if self._sessions == 0:
                marker = {"kind": "event", "event": RESUME_EVENT, "step": trainer.step}
                self._write({**marker, "time": timestamp()})
        self._sessions += 1

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self._write(record)

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _write(self, record: dict[str, Any]) -> None:
        record = {"kind": record_kind(record), **record, "schema": METRICS_SCHEMA}
        line = strict_json(finite_record(record)) + "\n"
        self._handle.write(line.encode("utf-8"))
        self._handle.flush()


class TensorBoard(Callback):
    """Writes the same scalars, and the sample grids of image runs, as TensorBoard events."""

    def on_fit_start(self, trainer: Trainer) -> None:
        from torch.utils.tensorboard import SummaryWriter

        resumed = trainer.step > 0
        self._writer = SummaryWriter(
            str(trainer.run.tensorboard_dir), purge_step=trainer.step + 1 if resumed else None
        )

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        step = record["step"]
        for key, value in record.items():
            if key not in ("step", "time") and isinstance(value, int | float):
                self._writer.add_scalar(f"train/{key}", value, step)

    def on_samples(self, trainer: Trainer, step: int, samples: torch.Tensor) -> None:
        if trainer.source.kind != "points":
            grid = image_grid(samples, trainer.grid_columns)
            self._writer.add_image("samples", grid, step, dataformats="HWC")

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        self._writer.close()


class SampleWriter(Callback):
    """Every ``samples.every`` steps, and at the end, renders G on a fixed z: an image grid
    for image data, a histogram or scatter over the true density for points."""

    def on_step_end(self, trainer: Trainer, step: int) -> None:
        every = trainer.config.samples.every
        if every and step % every == 0 and step != trainer.config.train.steps:
            self._write(trainer, step)

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        if status not in ("completed", "paused", "interrupted"):
            return
        path = self._write(trainer, trainer.step)
        if status == "completed":
            shutil.copyfile(path, trainer.run.samples_dir / "final.png")

    def _write(self, trainer: Trainer, step: int) -> Path:
        samples = trainer.sample_fixed().cpu()
        path = trainer.run.samples_dir / f"step_{step:08d}.png"
        save_samples(samples, trainer.source, path, f"step {step}", trainer.grid_columns)
        trainer.emit("on_samples", step, samples)
        return path


class Checkpointer(Callback):
    """Every ``checkpoint.every`` steps writes a checkpoint (the final one is the Trainer's)."""

    every_rank = True

    def on_step_end(self, trainer: Trainer, step: int) -> None:
        every = trainer.config.checkpoint.every
        if every and step % every == 0 and step != trainer.config.train.steps:
            trainer.save_checkpoint()


SHOWN_STATISTICS = ("d_loss", "g_loss", "d_acc")
"""The statistics of a training record that the progress bar and the plain log lines show."""


class ProgressBar(Callback):
    """A tqdm bar over generator steps with ETA, the latest losses and, while a failure
    mode fires, the latest diagnosis (``⚠ d_overpowers_g``)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._health: str | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        self._bar = tqdm(
            total=trainer.config.train.steps,
            initial=trainer.step,
            desc="train",
            unit="step",
            dynamic_ncols=True,
            disable=not self.enabled,
            file=sys.stderr,
            mininterval=0.5,
        )

    def on_step_end(self, trainer: Trainer, step: int) -> None:
        self._bar.update(1)

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if is_diagnosis(record):
            self._health = None if record["severity"] == "ok" else diagnosis_mark(record)
        elif record_kind(record) == "train":
            shown = {k: f"{record[k]:.3f}" for k in SHOWN_STATISTICS if k in record}
            if self._health:
                shown["health"] = self._health
            self._bar.set_postfix(shown, refresh=False)

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        self._bar.close()


class StartLine(Callback):
    """One line on stderr as each session starts: the run, the steps it goes through, the
    device and torch's CPU threads (``threads`` says how many and why, e.g. a
    :class:`gankit.threads.ThreadChoice`; default: torch's count)."""

    def __init__(self, threads: object | None = None) -> None:
        self.threads = threads

    def on_fit_start(self, trainer: Trainer) -> None:
        threads = self.threads or f"{torch.get_num_threads()} CPU threads"
        line = (
            f"{trainer.run.path}: steps {trainer.step} → {trainer.config.train.steps} on "
            f"{trainer.device}, {threads}"
        )
        tqdm.write(line, file=sys.stderr)  # above a progress bar, if there is one


class PlainLog(StartLine):
    """The progress of a run as plain lines on stderr, for logs and pipes (``--no-progress``):
    the start line, then one :func:`log_line` per record, every ``log.every`` steps."""

    def on_fit_start(self, trainer: Trainer) -> None:
        super().on_fit_start(trainer)
        self._clock = time.perf_counter()
        self._earlier = trainer.elapsed  # the run's earlier sessions

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        elapsed = self._earlier + time.perf_counter() - self._clock
        print(log_line(record, trainer.config.train.steps, elapsed), file=sys.stderr, flush=True)


def log_line(record: dict[str, Any], total: int, elapsed: float) -> str:
    """``step 500/3000  12.3s  40.7 it/s  d_loss 1.234  g_loss 0.987  d_acc 0.512`` for a
    training record (``elapsed``: seconds of the whole run; it/s over the record's window);
    ``eval step 500/3000  fid 12.345  …`` for an evaluation; ``diagnosis step 500/3000
    ⚠ d_overpowers_g: <evidence>`` for a verdict."""
    step = f"step {record['step']}/{total}"
    if is_diagnosis(record):
        return f"diagnosis {step}  {diagnosis_mark(record)}: {record['evidence']}"
    if record_kind(record) == "eval":
        values = [(k.removeprefix("eval/"), v) for k, v in record.items() if k.startswith("eval/")]
        return "  ".join([f"eval {step}", *(f"{k} {_number(v)}" for k, v in values)])
    parts = [step, f"{elapsed:.1f}s"]
    if "steps_per_s" in record:
        parts.append(f"{record['steps_per_s']:.1f} it/s")
    parts += [f"{k} {_number(record[k])}" for k in SHOWN_STATISTICS if k in record]
    return "  ".join(parts)


def is_diagnosis(record: dict[str, Any]) -> bool:
    """Whether ``record`` is a verdict of :class:`gankit.train.diagnosis.Diagnosis`."""
    return record_kind(record) == "event" and record.get("event") == DIAGNOSIS_EVENT


def diagnosis_mark(record: dict[str, Any]) -> str:
    """``⚠ d_overpowers_g`` for a verdict's record."""
    return Verdict.from_event(record).mark


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else str(value)
