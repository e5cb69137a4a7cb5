"""``gankit dashboard``: a local web app over a folder of run directories.

It reads what training writes (status.json, metrics.jsonl, config.yaml, samples/,
eval.json) and never writes there, so it needs nothing inside the training process. The
standard library's HTTP server answers JSON endpoints (:mod:`.server`) over the readers of
:mod:`.runs`; the page, its scripts and uPlot are shipped in ``static/`` (no CDN).
"""

from __future__ import annotations

from pathlib import Path

from gankit.app.dashboard.server import DashboardServer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def make_server(
    root: str | Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    bands_dir: str | Path | None = None,
) -> DashboardServer:
    """A dashboard server over the runs under ``root``, bound but not yet serving
    (``port`` 0: a free port; the chosen one is in ``server.url``); ``bands_dir`` holds the
    reference bands (default: those shipped in ``gankit.diagnose``)."""
    return DashboardServer(Path(root), (host, port), None if bands_dir is None else Path(bands_dir))
