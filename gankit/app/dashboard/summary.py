"""The runs list's rows, kept up to date by reading only what each metrics.jsonl gained.

A :class:`MetricsDigest` remembers the byte offset it has read a run's metrics.jsonl to and
what the list shows from it: the last training record, the evaluations (for the best value
of each metric) and the latest health verdict. Each poll of the runs list reads only the
bytes appended since, so a folder of long runs costs one full read per run, once, and that
read parses only the lines the list shows.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from gankit.app.dashboard import runs
from gankit.diagnose.verdict import DIAGNOSIS_EVENT
from gankit.metrics.registry import direction
from gankit.train.rundir import RunDir, apply_markers, is_resume_marker, record_kind

HEALTH_KEYS = ("code", "severity", "step", "evidence", "remedy")


class MetricsDigest:
    """What the runs list needs from one metrics.jsonl, read incrementally."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.offset = 0
        self.last_train: dict[str, Any] | None = None
        self.evaluations: list[dict[str, Any]] = []  # eval records and resume markers
        self.health: dict[str, Any] | None = None

    def update(self, path: Path) -> None:
        """Read the lines appended to ``path``'s metrics.jsonl since the last update (all of
        them again when the file was replaced by a shorter one).

        Only the lines the list needs are parsed: those of evaluations and events, and the
        last training record, so a first read of a long run costs little more than reading
        its bytes."""
        with self.lock:
            try:
                with open(RunDir(path).metrics_path, "rb") as handle:
                    if os.fstat(handle.fileno()).st_size < self.offset:
                        self._clear()
                    handle.seek(self.offset)
                    data = handle.read()
            except OSError:
                return
            end = data.rfind(b"\n") + 1
            for record in _needed_records(data[:end].split(b"\n")):
                self._add(record)
            self.offset += end

    def _add(self, record: dict[str, Any]) -> None:
        kind = record_kind(record)
        if kind == "train":
            self.last_train = record
        elif kind == "eval":
            self.evaluations.append(record)
        elif is_resume_marker(record):
            self.evaluations.append(record)
            if self.last_train is not None and _step(self.last_train) > record["step"]:
                self.last_train = None  # superseded: the resumed run writes its step again
        elif record.get("event") == DIAGNOSIS_EVENT:
            self.health = {key: record.get(key) for key in HEALTH_KEYS}


class Summaries:
    """The rows of the runs list, one :class:`MetricsDigest` per run directory, safe to
    use from the server's request threads."""

    def __init__(self) -> None:
        self._digests: dict[Path, MetricsDigest] = {}
        self._lock = threading.Lock()

    def row(self, path: Path) -> dict[str, Any]:
        """The runs list's row of the run directory ``path``: name, preset, task, live
        status, last training record, best eval values and latest health verdict."""
        with self._lock:
            digest = self._digests.setdefault(path, MetricsDigest())
        digest.update(path)
        config = runs.read_config(path) or {}
        task = config.get("task", "unconditional") if config else None
        task_name = task.get("name") if isinstance(task, dict) else task
        status = runs.status_of(path)
        if status["step"] is None and digest.last_train is not None:
            status["step"] = digest.last_train.get("step")
        return {
            "name": path.name,
            "preset": config.get("preset"),
            "task": task_name,
            "status": status,
            "last_train": digest.last_train,
            "best_eval": best_eval(digest.evaluations, str(task_name or "unconditional")),
            "health": digest.health,
        }


def _needed_records(lines: list[bytes]) -> list[dict[str, Any]]:
    """The records of ``lines`` the runs list needs, in file order: every line of an
    evaluation or an event, and the last training record. Lines that are not a JSON object
    are skipped."""
    needed = [i for i, line in enumerate(lines) if b'"eval/' in line or b'"event"' in line]
    chosen = set(needed)
    for i in range(len(lines) - 1, -1, -1):
        if i not in chosen and (record := _parse(lines[i])) is not None:
            if record_kind(record) == "train":
                needed.append(i)
                break
    records = (_parse(lines[i]) for i in sorted(needed))
    return [record for record in records if record is not None]


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def best_eval(records: list[dict[str, Any]], task: str) -> dict[str, dict[str, Any]]:
    """For each eval value whose better side is known, its best ``value`` and ``step`` over
    the eval ``records`` (in file order, with resume markers: superseded ones left out)."""
    best: dict[str, dict[str, Any]] = {}
    for record in apply_markers(records):
        if record_kind(record) != "eval":
            continue
        for key, value in record.items():
            if not key.startswith("eval/") or not _is_number(value):
                continue
            side = direction(key.removeprefix("eval/"), task)
            if side is None:
                continue
            kept = best.get(key)
            better = kept is None or (value - kept["value"]) * (1 if side == "higher" else -1) > 0
            if better:
                best[key] = {"value": value, "step": record.get("step")}
    return best


def _step(record: dict[str, Any]) -> float:
    step = record.get("step")
    return step if _is_number(step) else -1


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
