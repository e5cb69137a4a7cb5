"""Experiment trackers: a run's records and sample grids sent to MLflow or Weights & Biases.

Where experiments are already tracked, ``log.mlflow`` and ``log.wandb`` (each off while
null) add a callback that sends the tracker what the run directory receives:

    every number of a ``train`` or ``eval`` record   a metric at the record's step, named as
                                                     in metrics.jsonl (``d_loss``, ``eval/fid``)
    a diagnosis verdict (an ``event`` record)        ``diagnosis/severity`` at its step (0 ok,
                                                     1 warning, 2 failed) and its text
    each sample grid                                 the PNG that SampleWriter wrote, at its step
    the resolved config                              params or config
    the run directory's name                         the tracker run's name
    how each session ended                           the tracker run's status

Resuming. RUN/trackers.json (written atomically) keeps each tracker's run id and the
last step sent of each kind (``train``, ``eval``, ``event``, ``samples``), so a resumed
session continues the same tracker run and sends only what is newer. A session that
crashed after its last checkpoint had already sent the steps the resume writes again:
those are not sent twice, and the tracker keeps the first values, which equal the new
ones (a resumed run retraces its steps bit for bit) except the timing ``steps_per_s`` and
after a forced config change. A tracker run that is new to a run that has trained before
(a tracker switched on at a resume, or a store that lost the run) is first sent the run's
history up to the checkpoint: metrics.jsonl with its resume markers applied, and samples/.

The packages are imported when a session starts, so a run without trackers never pays
their import time (a second or more each); a tracker switched on without its package is
refused when the Trainer is built, naming the extra to install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

from gankit.errors import ConfigError, GankitError
from gankit.files import write_json_atomic
from gankit.train.callbacks import Callback, diagnosis_mark, is_diagnosis
from gankit.train.rundir import RunDir, RunDirError, record_kind

if TYPE_CHECKING:
    import torch

    from gankit.config import Config, LogOptions, MLflowOptions, WandbOptions
    from gankit.train.trainer import Trainer

TRACKERS_FILE = "trackers.json"
"""The file of a run directory that holds its tracker runs (ids, stores, steps sent)."""

SENT_KINDS = ("train", "eval", "event", "samples")
"""What trackers.json counts the last step sent of: the record kinds and the sample grids."""

SEVERITY_LEVELS = {"ok": 0, "warning": 1, "failed": 2}
"""A verdict's severity as the number ``diagnosis/severity`` plots."""

CLEAN_ENDINGS = ("completed", "paused", "interrupted")
"""Session endings with a checkpoint at the last step; the others end in an error."""

NOT_VALUES = ("step", "schema")
"""Numbers of a record that are not measurements."""

DEFAULT_MLFLOW_STORE = "mlruns"
"""MLflow's own default local store, in the working directory of the run's first session."""

MLFLOW_STATUS = {
    "completed": "FINISHED",
    "paused": "FINISHED",
    "interrupted": "KILLED",
    "aborted": "KILLED",
    "diverged": "FAILED",
    "failed": "FAILED",
}
"""MLflow's run status for each way a session ends."""

MLFLOW_PARAM_BATCH = 100
"""Params per ``log_batch`` call, MLflow's limit."""

_GRID_NAME = re.compile(r"step_(\d+)\.png")


class TrackerError(GankitError, RuntimeError):
    """An experiment tracker that could not start its run or take a record."""


def build_trackers(options: LogOptions) -> list[Tracker]:
    """The tracker callbacks that ``log.mlflow`` and ``log.wandb`` switch on."""
    built: list[Tracker] = []
    if options.mlflow is not None:
        built.append(MLflowTracker(options.mlflow))
    if options.wandb is not None:
        built.append(WandbTracker(options.wandb))
    return built


def read_trackers(run: RunDir) -> dict[str, Any]:
    """RUN/trackers.json: per tracker (``mlflow``, ``wandb``), its run id, its store and
    the last step sent of each of :data:`SENT_KINDS`; empty before any tracker ran."""
    path = run.path / TRACKERS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise RunDirError(
            f"{path} cannot be read as a JSON object; delete it to start new tracker runs"
        )
    return data


def grid_path(run: RunDir, step: int) -> Path:
    """The sample grid SampleWriter writes at ``step``."""
    return run.samples_dir / f"step_{step:08d}.png"


def saved_grids(run: RunDir) -> list[tuple[int, Path]]:
    """The run's sample grids by step (``final.png``, a copy of the last, left out)."""
    found = ((_GRID_NAME.fullmatch(p.name), p) for p in run.samples_dir.glob("step_*.png"))
    return sorted((int(match.group(1)), path) for match, path in found if match)


def numeric_values(record: dict[str, Any]) -> dict[str, float]:
    """The measurements of a train or eval record by name (booleans are not numbers here)."""
    return {
        key: float(value)
        for key, value in record.items()
        if key not in NOT_VALUES and isinstance(value, int | float) and not isinstance(value, bool)
    }


def verdict_text(record: dict[str, Any]) -> str:
    """``⚠ d_overpowers_g: <evidence>`` for a verdict's record."""
    return f"{diagnosis_mark(record)}: {record.get('evidence', '')}"


def flat_config(config: Config) -> dict[str, str]:
    """The config as dotted keys and text: strings as they are, other values as JSON
    (``train.steps`` → ``"2000"``, ``train.ema`` → ``"null"``, ``eval.metrics`` →
    ``'["fid", "classes"]'``)."""
    flat: dict[str, str] = {}
    pending = [("", config.to_dict())]
    while pending:
        prefix, node = pending.pop()
        for key, value in node.items():
            if isinstance(value, dict) and value:
                pending.append((f"{prefix}{key}.", value))
            else:
                flat[prefix + key] = value if isinstance(value, str) else json.dumps(value)
    return flat


class Tracker(Callback, ABC):
    """What both trackers share: which records and grids to send, each once, and the
    tracker run kept in RUN/trackers.json. A subclass opens its tracker's run (a new one,
    or the saved one) and sends values, verdicts and grids in that tracker's terms."""

    key: ClassVar[str]
    """The section of ``log:``, the extra to install and the entry of trackers.json."""
    package: ClassVar[str]
    """The module the tracker needs."""
    product: ClassVar[str]
    """The tracker's name in messages."""

    def __init__(self) -> None:
        if importlib.util.find_spec(self.package) is None:
            raise ConfigError(
                f"log.{self.key}: {self.product} is not installed; "
                f"pip install 'gankit[{self.key}]' (or set log.{self.key}=null)"
            )
        self._entry: dict[str, Any] | None = None
        """This session's entry of trackers.json; None while no tracker run is open."""

    # -- the Trainer's events ---------------------------------------------------------------

    def on_fit_start(self, trainer: Trainer) -> None:
        saved = read_trackers(trainer.run).get(self.key, {})
        with self._reporting():
            entry = self._open(trainer, saved)
        sent = saved.get("sent", {}) if entry["run_id"] == saved.get("run_id") else {}
        entry["sent"] = {kind: sent.get(kind, -1) for kind in SENT_KINDS}
        self._entry = entry
        self._catch_up(trainer)
        self._save(trainer.run)

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if self._is_new(record_kind(record), record["step"]):
            self._send_record(record)
            self._save(trainer.run)

    def on_samples(self, trainer: Trainer, step: int, samples: torch.Tensor) -> None:
        path = grid_path(trainer.run, step)
        if path.is_file() and self._is_new("samples", step):
            self._send_grid(step, path)
            self._save(trainer.run)

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        if self._entry is None:
            return
        self._entry = None
        with self._reporting():
            self._close(status)

    # -- what to send, once -----------------------------------------------------------------

    def _is_new(self, kind: str, step: int) -> bool:
        return self._entry is not None and kind in SENT_KINDS and step > self._entry["sent"][kind]

    def _catch_up(self, trainer: Trainer) -> None:
        """Send, in step order, what the run holds up to the current step that this tracker
        run has not been sent: everything, for a tracker run new to a run that has trained."""
        sent, now = self._entry["sent"], trainer.step
        pending: list[tuple[int, int, dict[str, Any] | Path]] = [
            (record["step"], 0, record)
            for record in trainer.run.read_metrics(("train", "eval", "event"))
            if isinstance(record.get("step"), int) and sent[record["kind"]] < record["step"] <= now
        ]
        pending += [
            (step, 1, path)
            for step, path in saved_grids(trainer.run)
            if sent["samples"] < step <= now
        ]
        for step, _, item in sorted(pending, key=lambda entry: entry[:2]):
            if isinstance(item, Path):
                self._send_grid(step, item)
            else:
                self._send_record(item)

    def _send_record(self, record: dict[str, Any]) -> None:
        kind, step = record_kind(record), record["step"]
        with self._reporting():
            if kind in ("train", "eval"):
                values = numeric_values(record)
                if values:
                    self._log_values(values, step)
            elif is_diagnosis(record):
                self._log_verdict(record, step)
        self._entry["sent"][kind] = step

    def _send_grid(self, step: int, path: Path) -> None:
        with self._reporting():
            self._log_grid(path, step)
        self._entry["sent"]["samples"] = step

    def _save(self, run: RunDir) -> None:
        """Write this tracker's entry into trackers.json, after every record sent: a crash
        between the two sends that one record again at the resume."""
        saved = read_trackers(run)
        saved[self.key] = self._entry
        write_json_atomic(run.path / TRACKERS_FILE, saved)

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        """The tracker's own errors as one line naming it."""
        try:
            yield
        except Exception as err:
            if not isinstance(err, self._failures()):
                raise
            message = " ".join(str(err).split())
            raise TrackerError(f"log.{self.key}: {self.product}: {message}") from err

    # -- in the tracker's terms ---------------------------------------------------------------

    @abstractmethod
    def _open(self, trainer: Trainer, saved: dict[str, Any]) -> dict[str, Any]:
        """Continue the saved tracker run, or start one; its entry for trackers.json."""

    @abstractmethod
    def _failures(self) -> tuple[type[Exception], ...]:
        """The tracker package's own error types, reported as one line."""

    @abstractmethod
    def _log_values(self, values: dict[str, float], step: int) -> None:
        """Send a record's numeric values at ``step``."""

    @abstractmethod
    def _log_verdict(self, record: dict[str, Any], step: int) -> None:
        """Send a diagnosis event record at ``step``."""

    @abstractmethod
    def _log_grid(self, path: Path, step: int) -> None:
        """Send the sample grid saved at ``path`` for ``step``."""

    @abstractmethod
    def _close(self, status: str) -> None:
        """Finish the tracker run with the run's final ``status``."""


class MLflowTracker(Tracker):
    """MLflow (``log.mlflow``; ``pip install 'gankit[mlflow]'``).

    - values: metrics through ``log_batch`` at the record's step; a verdict adds
      ``diagnosis/severity``, the tag ``gankit.diagnosis`` (the latest:
      ``step 500: ⚠ d_overpowers_g: <evidence>``) and the artifact
      ``diagnosis/step_00000500.json`` (its record, remedy included)
    - grids: the artifacts ``samples/step_00000500.png``, the files themselves
    - the config: params with dotted keys (:func:`flat_config`) and the artifact
      ``config.yaml``; MLflow never changes a param, so after a resume that changes
      ``train.steps`` the param keeps the first value and ``config.yaml`` has the new one
    - the run's name is the run directory's; the tag ``gankit.run_dir`` its absolute path;
      the status is RUNNING while a session trains, then :data:`MLFLOW_STATUS`, with
      gankit's own word in the tag ``gankit.status``

    The store is ``tracking_uri``, else the one an earlier session of the run used, else
    ``$MLFLOW_TRACKING_URI``, else ``./mlruns`` (made absolute, so later sessions find it
    from any folder). gankit sets ``MLFLOW_DISABLE_TELEMETRY=true`` unless it is set, so
    MLflow itself reaches no server, and for a local store ``MLFLOW_ALLOW_FILE_STORE=true``
    unless it is set (MLflow 3 refuses file stores without it).
    """

    key = "mlflow"
    package = "mlflow"
    product = "MLflow"

    def __init__(self, options: MLflowOptions) -> None:
        super().__init__()
        self.options = options

    def _failures(self) -> tuple[type[Exception], ...]:
        from mlflow.exceptions import MlflowException

        return (MlflowException,)

    def _open(self, trainer: Trainer, saved: dict[str, Any]) -> dict[str, Any]:
        uri = (
            self.options.tracking_uri
            or saved.get("tracking_uri")
            or os.environ.get("MLFLOW_TRACKING_URI")
            or Path(DEFAULT_MLFLOW_STORE).resolve().as_uri()
        )
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # before mlflow is imported
        if urlparse(uri).scheme in ("", "file"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        from mlflow import MlflowClient
        from mlflow.entities import Metric, Param

        self._metric, client = Metric, MlflowClient(tracking_uri=uri)
        self._client = client
        run_id = saved.get("run_id") if saved.get("tracking_uri") == uri else None
        logged = self._params_of(run_id)
        if logged is None:
            run_id = client.create_run(
                self._experiment_id(),
                run_name=trainer.run.path.name,
                tags={"gankit.run_dir": str(trainer.run.path.resolve())},
            ).info.run_id
            logged = {}
        else:
            client.update_run(run_id, status="RUNNING")
        self._run_id = run_id
        params = [Param(k, v) for k, v in flat_config(trainer.config).items() if k not in logged]
        for start in range(0, len(params), MLFLOW_PARAM_BATCH):
            client.log_batch(run_id, params=params[start : start + MLFLOW_PARAM_BATCH])
        client.log_text(run_id, trainer.config.to_yaml(), "config.yaml")
        return {"run_id": run_id, "tracking_uri": uri}

    def _params_of(self, run_id: str | None) -> dict[str, str] | None:
        """The params of the saved run, or None when there is none to continue (never
        saved, not in this store, or deleted)."""
        if run_id is None:
            return None
        from mlflow.exceptions import MlflowException

        try:
            run = self._client.get_run(run_id)
        except MlflowException as err:
            if err.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return None if run.info.lifecycle_stage == "deleted" else dict(run.data.params)

    def _experiment_id(self) -> str:
        name = self.options.experiment
        experiment = self._client.get_experiment_by_name(name)
        if experiment is None:
            return self._client.create_experiment(name)
        return experiment.experiment_id

    def _log_values(self, values: dict[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        metrics = [self._metric(key, value, now, step) for key, value in values.items()]
        self._client.log_batch(self._run_id, metrics=metrics)

    def _log_verdict(self, record: dict[str, Any], step: int) -> None:
        self._log_values({"diagnosis/severity": SEVERITY_LEVELS[record["severity"]]}, step)
        self._client.set_tag(
            self._run_id, "gankit.diagnosis", f"step {step}: {verdict_text(record)}"
        )
        self._client.log_dict(self._run_id, record, f"diagnosis/step_{step:08d}.json")

    def _log_grid(self, path: Path, step: int) -> None:
        self._client.log_artifact(self._run_id, str(path), artifact_path="samples")

    def _close(self, status: str) -> None:
        self._client.set_tag(self._run_id, "gankit.status", status)
        self._client.set_terminated(self._run_id, MLFLOW_STATUS.get(status, "FAILED"))


class WandbTracker(Tracker):
    """Weights & Biases (``log.wandb``; ``pip install 'gankit[wandb]'``).

    - values: ``run.log(values, step=step)``; a verdict logs ``diagnosis/severity`` and
      ``diagnosis/verdict`` (``⚠ d_overpowers_g: <evidence>``) at its step
    - grids: ``samples``, a ``wandb.Image`` of the PNG (W&B stores the file as it is)
    - the config: the run's config, nested as in config.yaml (W&B shows it with dotted
      keys), updated at each session
    - the run's name is the run directory's; its summary ``status`` is gankit's word for how
      the session ended, and the run ends with exit code 0 for :data:`CLEAN_ENDINGS`, else 1

    Files go to RUN/wandb/. ``mode: offline`` (the default) sends nothing: each session
    writes ``RUN/wandb/offline-run-<time>-<id>/``, all with the run's id, which
    ``wandb sync RUN/wandb/offline-run-*`` uploads in order as one run; gankit also sets
    ``WANDB_ERROR_REPORTING=false`` unless it is set. gankit's console output stays out
    of the W&B run (``console="off"``); W&B still samples system metrics.
    """

    key = "wandb"
    package = "wandb"
    product = "W&B"

    def __init__(self, options: WandbOptions) -> None:
        super().__init__()
        self.options = options

    def _failures(self) -> tuple[type[Exception], ...]:
        import wandb.errors

        return (wandb.errors.Error,)

    def _open(self, trainer: Trainer, saved: dict[str, Any]) -> dict[str, Any]:
        if self.options.mode == "offline":
            os.environ.setdefault("WANDB_ERROR_REPORTING", "false")  # before wandb is imported
        import wandb

        self._wandb = wandb
        self._run = wandb.init(
            project=self.options.project,
            entity=self.options.entity,
            mode=self.options.mode,
            dir=trainer.run.path,
            id=saved.get("run_id"),
            name=trainer.run.path.name,
            resume="allow",
            settings=wandb.Settings(console="off", reinit="create_new"),
        )
        self._run.config.update(trainer.config.to_dict(), allow_val_change=True)
        return {"run_id": self._run.id}

    def _log_values(self, values: dict[str, float], step: int) -> None:
        self._run.log(values, step=step)

    def _log_verdict(self, record: dict[str, Any], step: int) -> None:
        severity = SEVERITY_LEVELS[record["severity"]]
        self._run.log(
            {"diagnosis/severity": severity, "diagnosis/verdict": verdict_text(record)}, step=step
        )

    def _log_grid(self, path: Path, step: int) -> None:
        self._run.log({"samples": self._wandb.Image(str(path))}, step=step)

    def _close(self, status: str) -> None:
        self._run.summary["status"] = status
        self._run.finish(exit_code=0 if status in CLEAN_ENDINGS else 1)
