"""Stopping a run cleanly: Ctrl-C and SIGTERM end it at a step boundary with a checkpoint.

The first SIGINT (Ctrl-C) or SIGTERM (what a cluster scheduler sends before it kills a job)
asks the loop to stop after the current step; the Trainer then writes a checkpoint and
exits with status ``interrupted``. A second Ctrl-C aborts at once — except while a
checkpoint is being written: that write completes (the run stops right after it anyway),
so the newest checkpoint is always whole.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class StopSignals:
    """Context manager that turns SIGINT/SIGTERM into a stop request (main thread only;
    elsewhere the handlers stay as they are)."""

    def __init__(self) -> None:
        self.requested: str | None = None
        """The name of the signal that asked to stop ("SIGINT", "SIGTERM"), or None."""
        self._previous: dict[int, Any] = {}
        self._protected = 0

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    @contextmanager
    def protect(self) -> Iterator[None]:
        """A section a second Ctrl-C must not cut short: a checkpoint write."""
        self._protected += 1
        try:
            yield
        finally:
            self._protected -= 1

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.requested is None:
            self.requested = name
            what = "Interrupted" if name == "SIGINT" else f"{name} received"
            again = " (Ctrl-C again aborts)" if name == "SIGINT" else ""
            print(f"\n{what}: finishing this step and saving a checkpoint{again}.", file=sys.stderr)
            return
        if name != "SIGINT":
            return  # a repeated SIGTERM changes nothing: the checkpoint is on its way
        if self._protected:
            print("\nA checkpoint is being written: stopping once it is complete.", file=sys.stderr)
            return
        raise KeyboardInterrupt
