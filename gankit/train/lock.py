"""One trainer per run directory: an exclusive lock on ``RUN/.lock``.

The lock is an ``flock`` on the file, which the operating system releases when the holding
process ends however it ends (kill -9 included). The file records who holds it (pid, host,
since when) and is emptied on a clean release; a lock file that still names a holder but is
not locked was left by a process that died, and is taken over with a warning. ``flock`` is
local to one machine on most network file systems: two machines training the same run
directory over NFS are not kept apart.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

from gankit.errors import GankitError

LOCK_FILE = ".lock"


class RunLockedError(GankitError, RuntimeError):
    """Another process is training this run directory."""


class RunLock:
    """The lock of one run directory; :meth:`acquire` it before writing anything."""

    def __init__(self, run_path: str | Path) -> None:
        self.path = Path(run_path) / LOCK_FILE
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`RunLockedError` naming its holder."""
        if self._handle is not None:
            return
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read(handle))
            handle.close()
            raise RunLockedError(
                f"{self.path.parent} is being trained by {holder}; wait for it to finish or "
                "stop it (Ctrl-C or SIGTERM) first"
            ) from None
        previous = _read(handle)
        if previous:
            print(
                f"warning: taking over the lock of {self.path.parent} left by "
                f"{_describe(previous)}, which is no longer running",
                file=sys.stderr,
            )
        mine = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(mine) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
        self._handle = handle

    def release(self) -> None:
        """Empty the lock file (a clean release) and unlock it."""
        if self._handle is None:
            return
        try:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.flush()
        except OSError:
            pass  # a full disk: unlocking below is what matters
        finally:
            self._handle.close()
            self._handle = None


def _read(handle: IO[str]) -> dict[str, Any]:
    handle.seek(0)
    try:
        holder = json.loads(handle.read() or "{}")
    except ValueError:
        return {"pid": "?", "host": "?"}
    return holder if isinstance(holder, dict) else {"pid": "?", "host": "?"}


def _describe(holder: dict[str, Any]) -> str:
    since = f" since {holder['since']}" if holder.get("since") else ""
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}{since}"
