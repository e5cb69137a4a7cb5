"""Fixtures of the dashboard tests: a runs folder and a dashboard server over it, one of
each per test module."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gankit.app.dashboard import make_server
from tests.app.runs_folder import make_runs_folder


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return make_runs_folder(tmp_path_factory.mktemp("dashboard") / "runs")


@pytest.fixture(scope="module")
def server(runs_dir):
    """A dashboard server on a free port of 127.0.0.1, serving from a thread."""
    server = make_server(runs_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
