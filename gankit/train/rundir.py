"""The run directory: everything one run produces, and enough to resume, sample or audit it.

RUN/config.yaml          fully resolved config
RUN/metrics.jsonl        one JSON record per line, appended to and never rewritten
RUN/samples/*.png        fixed-z sample grids or point plots
RUN/checkpoints/step_*/  safetensors weights + JSON training state
RUN/tensorboard/         TensorBoard event files
RUN/status.json          what the training process is doing now (see gankit.train.status)
RUN/summary.json         how the last session ended
RUN/.lock                who is training it (see gankit.train.lock)

metrics.jsonl (schema 2) is only ever appended to, so a reader that remembers its byte
offset never loses its place. Every record has a ``kind``: ``train`` (the Trainer's
averaged statistics), ``eval`` (the Evaluator's ``eval/<metric>`` values) or ``event``, and
the schema number ``schema``. The one event so far: ``{"kind": "event", "event": "resume",
"step": N, ...}``, written when a session resumes from the checkpoint of step N; it
supersedes the ``train`` and ``eval`` records above it whose step is greater than N (the
resumed run writes those steps again). Schema 1 files (gankit 0.1.0) have neither ``kind``
nor ``schema`` and no events: a record with an ``eval/`` key is an evaluation, any other a
training record. A line a crash cut short is skipped.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from gankit.errors import GankitError

METRICS_SCHEMA = 2
"""The version of metrics.jsonl's records; files without one are schema 1."""
RESUME_EVENT = "resume"


class RunDirError(GankitError, ValueError):
    """A path that is not a gankit run directory, or one that cannot be created."""


class RunDir:
    """Paths and small file operations of one run directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @classmethod
    def create(cls, root: str | Path, name: str, exact: bool = False) -> RunDir:
        """A new, empty run directory ``root/name``: ``-2``, ``-3``… is appended if the name
        is taken, unless ``exact``, which refuses a folder that exists and is not empty."""
        root = Path(root)
        candidate, n = root / name, 1
        if exact and candidate.exists():
            if not candidate.is_dir() or any(candidate.iterdir()):
                raise RunDirError(
                    f"run directory '{candidate}' already exists: continue it with "
                    f"`gankit train --resume {candidate}` or choose another --run-dir"
                )
        while candidate.exists() and not exact:
            n += 1
            candidate = root / f"{name}-{n}"
        try:
            candidate.mkdir(parents=True, exist_ok=exact)
        except OSError as err:
            raise RunDirError(
                f"cannot create run directory '{candidate}': {err.strerror}"
            ) from None
        return cls(candidate)

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run directory; fails clearly when ``path`` is not one."""
        run = cls(path)
        if not run.path.is_dir():
            raise RunDirError(f"run directory '{path}' does not exist")
        if not run.config_path.is_file():
            raise RunDirError(f"'{path}' is not a gankit run directory (no config.yaml)")
        return run

    def read_metrics(
        self, kinds: Collection[str] = ("train", "eval"), *, raw: bool = False
    ) -> list[dict[str, Any]]:
        """The records of metrics.jsonl of the given ``kinds``, in file order.

        Resume markers are applied (the records they supersede are left out) and every
        record carries its ``kind``, inferred for schema 1 files. ``raw=True`` returns the
        records as written instead: superseded ones included, nothing added. Lines that are
        not a JSON object (a line a crash cut short) are skipped."""
        records, _ = read_metrics_from(self.metrics_path)
        if not raw:
            records = [{**r, "kind": record_kind(r)} for r in apply_markers(records)]
        return [r for r in records if record_kind(r) in kinds]


def record_kind(record: dict[str, Any]) -> str:
    """A record's ``kind``; for schema 1 records, "eval" when a key starts with "eval/",
    else "train"."""
    kind = record.get("kind")
    if isinstance(kind, str):
        return kind
    return "eval" if any(key.startswith("eval/") for key in record) else "train"


def is_resume_marker(record: dict[str, Any]) -> bool:
    """Whether ``record`` is a resume marker with an integer step."""
    step = record.get("step")
    return (
        record.get("kind") == "event"
        and record.get("event") == RESUME_EVENT
        and isinstance(step, int)
        and not isinstance(step, bool)
    )


def apply_markers(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` (in file order) without the train and eval records that a later resume
    marker supersedes: those whose step is greater than the marker's."""
    kept: list[dict[str, Any]] = []
    limit = math.inf  # the smallest marker step below the current record
    for record in reversed(list(records)):
        if is_resume_marker(record):
            limit = min(limit, record["step"])
        elif record_kind(record) != "event":
            step = record.get("step")
            if isinstance(step, int | float) and step > limit:
                continue
        kept.append(record)
    return kept[::-1]


def read_metrics_from(path: str | Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The records of the complete lines of a metrics.jsonl after byte ``offset``, and the
    offset to read on from: the end of the last complete line, so a line being written is
    read whole next time. Lines that are not a JSON object are skipped."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    records = []
    for line in data[:end].splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # torn, not UTF-8, or absurdly nested
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, offset + end


def timestamp() -> str:
    """The local time now in ISO 8601, to the millisecond, with its UTC offset."""
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


DATA_PATH_KEYS = ("path", "images", "inputs", "root")
"""Keys of a ``data:`` section that name where the data is, the first one given naming it."""


def run_name(
    preset: str | None, overrides: list[str], data: Mapping[str, Any] | None = None
) -> str:
    """``<preset>[-<overrides>]-<YYYYmmdd-HHMMSS>``, safe as a folder name.

    ``data``, the data section of a run whose data is not its preset's, names the run
    instead of the preset: ``<data label>[-<other overrides>]-<time>`` (see
    :func:`data_label`; ``gankit train dcgan-mnist --set data.name=folder --set
    data.path=my_images/`` → ``folder-my_images-<time>``)."""
    if data is None:
        parts = [preset or "custom"]
    else:
        parts = [_safe(data_label(data)).strip("-.") or "data"]
        shown = {"data", "data.name", *(f"data.{key}" for key in DATA_PATH_KEYS)}
        overrides = [o for o in overrides if o.partition("=")[0].strip() not in shown]
    if overrides:
        slug = "_".join(_short_override(o) for o in overrides)
        parts.append(_safe(slug))
    parts.append(time.strftime("%Y%m%d-%H%M%S"))
    return "-".join(parts)


def data_label(data: Mapping[str, Any]) -> str:
    """``<name>[-<last part of its path>]`` of a data section: ``folder-my_images`` for
    ``{name: folder, path: my_images/}``, ``ring`` for ``{name: ring}``."""
    name = str(data.get("name", "data"))
    where = next((data[k] for k in DATA_PATH_KEYS if isinstance(data.get(k), str)), None)
    if where is None:
        return name
    path = Path(where).expanduser()
    return f"{name}-{path.name or path.resolve().name}"


def _safe(text: str) -> str:
    """``text`` with the characters a folder name should not hold dropped, at most 60."""
    return re.sub(r"[^A-Za-z0-9=_.+-]", "", text)[:60]


def _short_override(text: str) -> str:
    """``"train.g_optimizer.lr=0.001"`` → ``"lr=0.001"``."""
    key, _, value = text.partition("=")
    return f"{key.split('.')[-1]}={value}"
