"""Reading status.json without the training machinery: for dashboards, monitors and
``gankit info``, in processes that never load torch.

:func:`read_status` reads the file :class:`gankit.train.status.StatusFile` writes (its
fields and states are described in :mod:`gankit.train.status`); :func:`stale_reason` says
when a ``starting`` or ``training`` status no longer describes a live process (the pid is
gone on this host, or no heartbeat for :data:`STALE_SECONDS`), as after ``kill -9`` or a
power cut; :func:`describe_status` is ``gankit info``'s line.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from gankit.train.rundir import RunDir

STALE_SECONDS = 30.0
"""A training status whose heartbeat is older than this is stale."""
LIVE_STATES = ("starting", "training")
ERROR_STATES = ("diverged", "aborted", "failed")


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
