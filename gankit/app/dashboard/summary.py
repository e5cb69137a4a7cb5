"""The runs list's rows: answered from the end of each metrics.jsonl at once, completed in the
background, then kept up to date by reading only what each file gained.

A :class:`MetricsDigest` holds what the list shows from one metrics.jsonl: the last training
record, the evaluations (for the best value of each metric) and the latest health verdict.
Its first update reads only the file's last :data:`TAIL_BYTES` (the *tail*, from the start of
a line), which holds the last training record and, usually, the latest verdict: that is
enough to answer the list within moments of start-up on hundreds of long runs. The bytes
before the tail (the *head*) are read by one background thread (:class:`Summaries`), the
runs in turn; until a run's head is read its row says ``complete: false`` and its best eval
values cover the tail only. Later updates read the bytes appended since the last one.

Only the lines the list needs are parsed: the bytes are searched for ``"eval/`` and
``"event"`` (the lines of evaluations and events) and the last training record is found by
parsing lines backwards from the end, so a long file costs little more than reading it.
Nothing is locked or written: the writer appends while this reads, and a line it has not
finished is read whole at the next update.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from gankit.app.dashboard import runs
from gankit.diagnose.verdict import DIAGNOSIS_EVENT
from gankit.metrics.registry import direction
from gankit.train.rundir import RunDir, apply_markers, is_resume_marker, record_kind

HEALTH_KEYS = ("code", "severity", "step", "evidence", "remedy")
TAIL_BYTES = 64 * 1024
"""How much of the end of a metrics.jsonl the runs list reads before it first answers:
about 300 training records of a typical run, a few milliseconds per file."""
CHUNK_BYTES = 8 * 1024 * 1024
"""How much of a head the background reader holds in memory at a time."""
MARKS = re.compile(rb'"eval/|"event"')
"""Bytes found only in the lines of evaluations and events, which the list parses (one
regular expression finds both in one pass over the bytes)."""


class Shown:
    """What the runs list shows from records given in file order."""

    def __init__(self) -> None:
        self.last_train: dict[str, Any] | None = None
        self.evaluations: list[dict[str, Any]] = []  # eval records and resume markers
        self.health: dict[str, Any] | None = None
        self._best: dict[str, dict[str, dict[str, Any]]] = {}

    def best_eval(self, task: str) -> dict[str, dict[str, Any]]:
        """:func:`best_eval` of the evaluations, for runs of ``task``."""
        if task not in self._best:
            self._best[task] = best_eval(self.evaluations, task)
        return self._best[task]

    def add(self, record: dict[str, Any]) -> None:
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


class MetricsDigest:
    """What the runs list needs from one metrics.jsonl: its tail read at once, its head read
    by :meth:`read_head`, what is appended read by later :meth:`update` calls.

    The records kept are those :func:`needed_records` picks, the training records pruned
    to the last one; replaying the head's and then the tail's through :class:`Shown` gives
    what one pass over the whole file would."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self._clear(None)

    def _clear(self, identity: tuple[int, int] | None) -> None:
        self.generation += 1
        self.identity = identity  # (device, inode) of the file read
        self.offset = 0  # the end of the complete lines read
        self.split = 0  # the head is [0, split); the tail and what follows start here
        self.head: list[dict[str, Any]] | None = []  # None until the head is read
        self.tail: list[dict[str, Any]] = []
        self._shown: Shown | None = None

    @property
    def complete(self) -> bool:
        """Whether the head has been read: what is shown covers the whole file."""
        return self.head is not None

    def update(self, path: Path) -> int | None:
        """Read the complete lines appended to ``path``'s metrics.jsonl since the last update;
        the first update (and the first after the file was replaced) reads its tail. Returns
        the generation whose head is left to :meth:`read_head`, else None."""
        with self.lock:
            try:
                with open(RunDir(path).metrics_path, "rb") as handle:
                    stat = os.fstat(handle.fileno())
                    identity = (stat.st_dev, stat.st_ino)
                    restart = identity != self.identity or stat.st_size < self.offset
                    if restart:
                        self._clear(identity)
                        self.split = self.offset = line_start(
                            handle, max(0, stat.st_size - TAIL_BYTES)
                        )
                        if self.split > 0:
                            self.head = None
                    handle.seek(self.offset)
                    data = handle.read(stat.st_size - self.offset)
            except OSError:
                return None
            end = data.rfind(b"\n") + 1
            if end:
                _extend(self.tail, needed_records(data, end))
                self.offset += end
                self._shown = None
            return self.generation if restart and self.head is None else None

    def read_head(self, path: Path, generation: int) -> None:
        """Read the head of ``path``'s metrics.jsonl (without holding the lock, so the list
        answers meanwhile) and keep its records unless the file was replaced since."""
        with self.lock:
            split, identity = self.split, self.identity
        if generation != self.generation:
            return
        kept: list[dict[str, Any]] = []
        try:
            with open(RunDir(path).metrics_path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                if (stat.st_dev, stat.st_ino) != identity:
                    return
                position, size = 0, CHUNK_BYTES
                while position < split:
                    handle.seek(position)  # each read starts a line, nothing is copied twice
                    data = handle.read(min(size, split - position))
                    if len(data) < min(size, split - position):
                        return  # shorter than it was: the next update starts again
                    end = data.rfind(b"\n") + 1
                    if end == 0:
                        size *= 2  # a line longer than the read: read more at once
                        continue
                    _extend(kept, needed_records(data, end))
                    position += end
        except OSError:
            return
        with self.lock:
            if generation == self.generation:
                self.head = kept
                self._shown = None

    def shown(self) -> tuple[Shown, bool]:
        """What the list shows from the records read so far, and whether they are complete."""
        with self.lock:
            if self._shown is None:
                shown = Shown()
                for record in [*(self.head or ()), *self.tail]:
                    shown.add(record)
                self._shown = shown
            return self._shown, self.complete


class Summaries:
    """The rows of the runs list, one :class:`MetricsDigest` per run directory, safe to
    use from the server's request threads; one background thread reads the heads."""

    def __init__(self) -> None:
        self._digests: dict[Path, MetricsDigest] = {}
        self._configs: dict[Path, tuple[tuple[int, int] | None, tuple[Any, Any]]] = {}
        self._lock = threading.Lock()
        self._heads: queue.SimpleQueue = queue.SimpleQueue()  # (digest, path, generation)
        self._reader: threading.Thread | None = None

    def rows(self, paths: list[Path]) -> list[dict[str, Any]]:
        """The rows of the run directories ``paths`` (see :meth:`row`). The heads left to
        read are read once the rows are made, so that the first answer does not wait for
        them."""
        try:
            return [self._row(path) for path in paths]
        finally:
            self._start_reader()

    def row(self, path: Path) -> dict[str, Any]:
        """The runs list's row of the run directory ``path``: name, preset, task, live
        status, last training record, best eval values, latest health verdict, and
        ``complete``: whether the whole metrics.jsonl has been read (else the best eval
        values cover its end only, and a verdict not found there is still to come)."""
        return self.rows([path])[0]

    def _row(self, path: Path) -> dict[str, Any]:
        with self._lock:
            digest = self._digests.setdefault(path, MetricsDigest())
        generation = digest.update(path)
        if generation is not None:
            self._heads.put((digest, path, generation))
        shown, complete = digest.shown()
        preset, task = self._preset_and_task(path)
        status = runs.status_of(path)
        if status["step"] is None and shown.last_train is not None:
            status["step"] = shown.last_train.get("step")
        return {
            "name": path.name,
            "preset": preset,
            "task": task,
            "status": status,
            "last_train": shown.last_train,
            "best_eval": shown.best_eval(str(task or "unconditional")),
            "health": shown.health,
            "complete": complete,
        }

    def close(self) -> None:
        """Stop the background reader (the heads not yet read stay unread)."""
        with self._lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            self._heads.put(None)
            reader.join(timeout=5)

    def _start_reader(self) -> None:
        """Start the background reader of the heads, if it is not running."""
        with self._lock:
            if self._reader is None and not self._heads.empty():
                self._reader = threading.Thread(
                    target=self._read_heads, name="gankit-dashboard-heads", daemon=True
                )
                self._reader.start()

    def _read_heads(self) -> None:
        while (item := self._heads.get()) is not None:
            digest, path, generation = item
            digest.read_head(path, generation)

    def _preset_and_task(self, path: Path) -> tuple[Any, Any]:
        """config.yaml's ``preset`` and task name (:func:`runs.preset_and_task`), read again
        only when the file changes."""
        stamp = runs.config_stamp(path)
        with self._lock:
            kept = self._configs.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        found = runs.preset_and_task(path)
        with self._lock:
            self._configs[path] = (stamp, found)
        return found


def line_start(handle: Any, position: int) -> int:
    """The offset of the first line that starts at or after byte ``position`` of the open
    file ``handle`` (``position`` itself when it is 0 or follows a newline), or, when no
    line starts between ``position`` and the end, the start of the line holding it."""
    if position == 0:
        return 0
    handle.seek(position - 1)
    ahead = handle.read()
    newline = ahead.find(b"\n")
    if newline != -1 and newline + 1 < len(ahead):
        return position + newline
    while position > 0:  # one line fills the end of the file: find where it starts
        start = max(0, position - TAIL_BYTES)
        handle.seek(start)
        found = handle.read(position - start).rfind(b"\n")
        if found != -1:
            return start + found + 1
        position = start
    return 0


def needed_records(data: bytes, end: int | None = None) -> list[dict[str, Any]]:
    """The records of ``data[:end]`` (complete lines; ``end`` defaults to the whole of it,
    and is given so that a large read is not copied) the runs list needs, in file order:
    every line holding :data:`MARKS` (evaluations and events) and the last training record.
    Lines that are not a JSON object are skipped."""
    end = len(data) if end is None else end
    starts = set()
    position = 0
    while found := MARKS.search(data, position, end):
        start = data.rfind(b"\n", 0, found.start()) + 1
        starts.add(start)
        position = data.find(b"\n", found.end(), end) + 1 or end
    records = {start: _parse(data[start : data.find(b"\n", start, end)]) for start in starts}
    while end > 0:  # the last training record, parsing lines backwards
        start = data.rfind(b"\n", 0, end - 1) + 1
        if start not in starts:
            record = _parse(data[start:end])
            if record is not None and record_kind(record) == "train":
                records[start] = record
                break
        end = start
    return [record for _, record in sorted(records.items()) if record is not None]


def _extend(kept: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    """Append ``records`` to ``kept``, keeping only the last training record: the list
    shows no other, and a later one supersedes whatever came before it."""
    for record in records:
        if record_kind(record) == "train":
            kept[:] = [other for other in kept if record_kind(other) != "train"]
        kept.append(record)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


@lru_cache(maxsize=1024)
def _direction(value: str, task: str) -> str | None:
    return direction(value, task)


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
            side = _direction(key.removeprefix("eval/"), task)
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
