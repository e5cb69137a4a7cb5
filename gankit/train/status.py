"""status.json: what the process training a run is doing now, for dashboards and monitors.

While a run trains, ``RUN/status.json`` is rewritten atomically (never half-written): when
the Trainer is being set up (:func:`starting_status`), when a session starts, after every
checkpoint, when the session ends, and every :data:`HEARTBEAT_SECONDS` in between by a
background thread of :class:`StatusFile`, however long a step takes. Its fields:

    schema         the version of this layout (:data:`STATUS_SCHEMA`)
    state          starting, training, paused, completed, interrupted, aborted, diverged,
                   failed (see below)
    step           the generator steps done (null while starting a resume)
    total_steps    ``train.steps`` (null while starting a resume)
    steps_per_s    steps per second over about the last minute of this session (null
                   before the session's first step)
    eta_seconds    seconds left at that rate while training, else null
    pid, host      the process writing it
    started_at     when this process began to set up the run (:func:`starting_status`),
                   else its first session (ISO 8601, with the UTC offset)
    heartbeat_at   when this version was written (ISO 8601, with the UTC offset)
    reason         what wrote it: starting, fit_start, heartbeat, checkpoint, fit_end
    checkpoint     the newest checkpoint's folder name, or null
    signal         the signal that ended the session: "SIGTERM" or "SIGINT"
                   (interrupted), "SIGINT" (aborted); else null
    message        why the session ended in error (diverged, failed, aborted), else null

The states: ``starting`` (building the data and networks, loading the checkpoint),
``training``, and how a session ended, as in summary.json: ``paused`` (stopped at the
requested step; the process may go on), ``completed``, ``interrupted`` (Ctrl-C or SIGTERM:
the step finished and was checkpointed), ``aborted`` (a second Ctrl-C: stopped at once, no
checkpoint at ``step``; resuming goes back to ``checkpoint``), ``diverged`` and ``failed``.

``starting`` and ``training`` describe a process that should be alive: :func:`stale_reason`
says when it is not (the pid is gone on this host, or no heartbeat for
:data:`STALE_SECONDS`), as after ``kill -9`` or a power cut. The readers
(:func:`read_status`, :func:`stale_reason`, :func:`describe_status`) live in
:mod:`gankit.train.status_reading`, which needs no torch, and are re-exported here.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gankit.files import write_json_atomic, write_text_atomic
from gankit.train.callbacks import Callback
from gankit.train.checkpoint import list_checkpoints
from gankit.train.rundir import RunDir, timestamp
from gankit.train.status_reading import (
    ERROR_STATES,
    LIVE_STATES,
    STALE_SECONDS,
    describe_status,
    heartbeat_age,
    is_stale,
    read_status,
    stale_reason,
)

if TYPE_CHECKING:
    from gankit.train.trainer import Trainer

__all__ = [
    "ERROR_STATES",
    "HEARTBEAT_SECONDS",
    "LIVE_STATES",
    "STALE_SECONDS",
    "STATUS_SCHEMA",
    "StatusFile",
    "describe_status",
    "heartbeat_age",
    "is_stale",
    "read_status",
    "stale_reason",
    "starting_status",
]

STATUS_SCHEMA = 1
HEARTBEAT_SECONDS = 5.0
"""How often the heartbeat thread rewrites status.json while a session trains."""
RATE_WINDOW_SECONDS = 60.0
"""steps_per_s is measured over about this many seconds."""
_WRITING = threading.Lock()  # one status.json writer at a time: the loop or a heartbeat


class StatusFile(Callback):
    """Keeps ``status.json`` up to date from the Trainer's events and a heartbeat thread.

    The thread (a daemon, stopped at the end of each session) rewrites the file every
    ``heartbeat`` seconds (default :data:`HEARTBEAT_SECONDS`) with the current step, rate
    and ETA. Writing status.json never stops training: a failed write (a full disk) prints
    one warning and is tried again at the next heartbeat."""

    def __init__(self, heartbeat: float | None = None) -> None:
        self.heartbeat = HEARTBEAT_SECONDS if heartbeat is None else heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic time, step)
        self._session_step = 0
        self._started_at: str | None = None
        self._checkpoint: str | None = None
        self._warned = False

    def on_fit_start(self, trainer: Trainer) -> None:
        if self._started_at is None:
            earlier = read_status(trainer.run.status_path) or {}
            setting_up = earlier.get("state") == "starting" and earlier.get("pid") == os.getpid()
            self._started_at = earlier.get("started_at") if setting_up else timestamp()
        saved = list_checkpoints(trainer.run.checkpoints_dir)
        self._checkpoint = saved[-1].name if saved else None
        self._session_step = trainer.step
        self._samples = deque([(time.monotonic(), trainer.step)])
        self._write(trainer, "training", "fit_start")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(trainer, self._stop), name="gankit-status", daemon=True
        )
        self._thread.start()

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None:
        self._checkpoint = path.name
        self._write(trainer, "training", "checkpoint")

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        self._stop.set()
        signal = {"interrupted": trainer.stop_signal, "aborted": "SIGINT"}.get(status)
        error = sys.exc_info()[1] if status in ERROR_STATES else None
        message = (str(error) or None) if error is not None else None
        self._write(trainer, status, "fit_end", signal=signal, message=message)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _beat(self, trainer: Trainer, stop: threading.Event) -> None:
        """The heartbeat thread's loop; it never raises."""
        while not stop.wait(self.heartbeat):
            try:
                self._write(trainer, "training", "heartbeat", stop=stop)
            except Exception as err:  # a bug here must not reach training either
                self._warn(trainer.run.status_path, err)

    def _write(
        self,
        trainer: Trainer,
        state: str,
        reason: str,
        *,
        signal: str | None = None,
        message: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        with _WRITING:
            if stop is not None and stop.is_set():
                return  # the session has ended: its final state is written
            step, total = trainer.step, trainer.config.train.steps
            rate = self._rate(step)
            eta = (total - step) / rate if state == "training" and rate else None
            status = _status(
                state,
                reason,
                step=step,
                total_steps=total,
                steps_per_s=None if rate is None else round(rate, 4),
                eta_seconds=None if eta is None else round(eta, 1),
                started_at=self._started_at or timestamp(),
                checkpoint=self._checkpoint,
                signal=signal,
                message=message,
            )
            try:
                write_json_atomic(trainer.run.status_path, status)
            except OSError as err:
                self._warn(trainer.run.status_path, err)

    def _rate(self, step: int) -> float | None:
        """Steps per second since the oldest sample of the last RATE_WINDOW_SECONDS (the
        samples are taken at each write); None before the session's first step."""
        now = time.monotonic()
        self._samples.append((now, step))
        while len(self._samples) > 1 and self._samples[1][0] <= now - RATE_WINDOW_SECONDS:
            self._samples.popleft()
        if step == self._session_step:
            return None
        then, before = self._samples[0]
        return (step - before) / (now - then) if now > then else None

    def _warn(self, path: Path, err: Exception) -> None:
        if not self._warned:
            self._warned = True
            reason = getattr(err, "strerror", None) or err
            print(f"warning: cannot update {path} ({reason}); training goes on", file=sys.stderr)


@contextmanager
def starting_status(
    run: RunDir, total_steps: int | None = None, step: int | None = None
) -> Iterator[None]:
    """State ``starting`` in ``run``'s status.json while the block sets up a Trainer.

    Enter it right after taking the run's lock. If the block fails (a refused resume, a
    config error, Ctrl-C), the status.json that was there before is put back (or removed,
    if there was none), so a run is never left "starting" by a process that gave up. A
    status that cannot be written (a full disk) is skipped with a warning."""
    path = run.status_path
    try:
        previous: str | None = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        previous = None
    saved = list_checkpoints(run.checkpoints_dir)
    status = _status(
        "starting",
        "starting",
        step=step,
        total_steps=total_steps,
        started_at=timestamp(),
        checkpoint=saved[-1].name if saved else None,
    )
    try:
        with _WRITING:
            write_json_atomic(path, status)
    except OSError as err:
        print(f"warning: cannot write {path} ({err.strerror or err})", file=sys.stderr)
    try:
        yield
    except BaseException:
        try:
            with _WRITING:
                if previous is None:
                    path.unlink(missing_ok=True)
                else:
                    write_text_atomic(path, previous)
        except OSError:
            pass  # the error on its way is the one to report
        raise


def _status(
    state: str,
    reason: str,
    *,
    step: int | None,
    total_steps: int | None,
    started_at: str,
    checkpoint: str | None,
    steps_per_s: float | None = None,
    eta_seconds: float | None = None,
    signal: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """The fields of status.json, in their documented order."""
    return {
        "schema": STATUS_SCHEMA,
        "state": state,
        "step": step,
        "total_steps": total_steps,
        "steps_per_s": steps_per_s,
        "eta_seconds": eta_seconds,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": started_at,
        "heartbeat_at": timestamp(),
        "reason": reason,
        "checkpoint": checkpoint,
        "signal": signal,
        "message": message,
    }
