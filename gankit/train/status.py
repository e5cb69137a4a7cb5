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
:data:`STALE_SECONDS`), as after ``kill -9`` or a power cut.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gankit.files import write_json_atomic, write_text_atomic
from gankit.train.callbacks import Callback
from gankit.train.checkpoint import list_checkpoints
from gankit.train.rundir import RunDir, timestamp

if TYPE_CHECKING:
    from gankit.train.trainer import Trainer

STATUS_SCHEMA = 1
HEARTBEAT_SECONDS = 5.0
"""How often the heartbeat thread rewrites status.json while a session trains."""
STALE_SECONDS = 30.0
"""A training status whose heartbeat is older than this is stale."""
RATE_WINDOW_SECONDS = 60.0
"""steps_per_s is measured over about this many seconds."""
LIVE_STATES = ("starting", "training")
ERROR_STATES = ("diverged", "aborted", "failed")
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


def read_status(path: str | Path) -> dict[str, Any] | None:
    """The status of a run: ``path`` is its directory or its status.json. None when there
    is none, or it is not a JSON object with a string ``state`` (a hand-edited file)."""
    path = Path(path)
    if path.is_dir():
        path = RunDir(path).status_path
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(status, dict) or not isinstance(status.get("state"), str):
        return None
    return status


def heartbeat_age(status: dict[str, Any], now: datetime | None = None) -> float | None:
    """Seconds since ``status`` was written, or None when its heartbeat_at is unreadable."""
    try:
        written = datetime.fromisoformat(status["heartbeat_at"]).astimezone()
    except (KeyError, TypeError, ValueError):
        return None
    return ((now or datetime.now()).astimezone() - written).total_seconds()


def stale_reason(
    status: dict[str, Any], max_age: float = STALE_SECONDS, now: datetime | None = None
) -> str | None:
    """Why a ``starting`` or ``training`` status no longer describes a live process, or
    None (also for every other state, which needs no process).

    Stale: its pid is not running on this host (checked only when ``host`` is this
    machine), or — for ``training``, whose heartbeat thread writes every few seconds — its
    heartbeat is older than ``max_age`` seconds or unreadable. ``starting`` has no heartbeat
    (building a large data set may take minutes), so only its pid is checked."""
    if status.get("state") not in LIVE_STATES:
        return None
    pid, host = status.get("pid"), status.get("host")
    if host == socket.gethostname() and _is_pid(pid) and not _running(pid):
        return f"pid {pid} on {host} is not running"
    if status["state"] == "training":
        age = heartbeat_age(status, now)
        if age is None:
            return "its heartbeat time is unreadable"
        if age > max_age:
            return f"no heartbeat for {_duration(age)}"
    return None


def is_stale(
    status: dict[str, Any], max_age: float = STALE_SECONDS, now: datetime | None = None
) -> bool:
    """Whether a live-looking status was left by a process that is gone (:func:`stale_reason`)."""
    return stale_reason(status, max_age, now) is not None


def describe_status(status: dict[str, Any], now: datetime | None = None) -> str:
    """One line for ``gankit info``: state, step/total, rate, ETA, heartbeat age, and why a
    live-looking status is stale."""
    state = str(status.get("state"))
    step, total = status.get("step"), status.get("total_steps")
    text = state
    if _is_number(step):
        text += f" at step {step}/{total if _is_number(total) else '?'}"
    if state == "training":
        rate, eta = status.get("steps_per_s"), status.get("eta_seconds")
        if _is_number(rate):
            text += f", {rate:.3g} steps/s"
        if _is_number(eta):
            text += f", ETA {_duration(eta)}"
    if status.get("signal"):
        text += f" ({status['signal']})"
    if status.get("message") and state in ERROR_STATES:
        text += f": {' '.join(str(status['message']).split())}"
    age = heartbeat_age(status, now)
    if state in LIVE_STATES:
        if age is not None:
            text += f", heartbeat {_duration(max(age, 0.0))} ago"
        text += f" (pid {status.get('pid', '?')} on {status.get('host', '?')})"
    elif age is not None:
        text += f" (updated {_duration(max(age, 0.0))} ago)"
    reason = stale_reason(status, now=now)
    if reason is not None:
        text += f" — stale: {reason}"
    return text


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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_pid(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but is not ours (EPERM), or the answer is unknown
    return True


def _duration(seconds: float) -> str:
    """``"42 s"``, ``"12 min 5 s"``, ``"3 h 20 min"``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
