"""``gankit playground``: GAN Lab in the browser, driven by gankit's own Trainer.

Each browser tab gets a session (:mod:`.session`): a real :class:`~gankit.train.trainer.Trainer`
built from settings the page edits (:mod:`.settings`, a view of one gankit config), played
in a thread of its own, stepped one player at a time or a whole iteration at a time, and
drawn as frames (:mod:`.views`) of samples, D's surface, G's gradients, G's manifold and
the charts (:mod:`.measures`); :mod:`.scenes` sets up the lab's theory experiments in one
click. The standard library's HTTP server answers the page (:mod:`.server`); the page,
its scripts and uPlot are shipped in ``static/`` (no CDN).
"""

from __future__ import annotations

from pathlib import Path

from gankit.app.playground.server import PlaygroundServer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8788
DEFAULT_IDLE_MINUTES = 10.0
DEFAULT_MAX_SESSIONS = 8


def make_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    runs_dir: str | Path = "runs",
    idle_minutes: float = DEFAULT_IDLE_MINUTES,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
) -> PlaygroundServer:
    """A playground server, bound but not yet serving (``port`` 0: a free port; the chosen
    one is in ``server.url``). Exports go under ``runs_dir``; a session without a request
    for ``idle_minutes`` stops; more than ``max_sessions`` at once are refused."""
    return PlaygroundServer((host, port), Path(runs_dir), idle_minutes, max_sessions)
