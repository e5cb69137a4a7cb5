"""Fixtures of the dashboard tests: a runs folder, a folder of reference bands and a
dashboard server over them, one of each per test module."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gankit.app.dashboard import make_server
from tests.app.runs_folder import make_bands_folder, make_runs_folder


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return make_runs_folder(tmp_path_factory.mktemp("dashboard") / "runs")


@pytest.fixture(scope="module")
def bands_dir(tmp_path_factory, runs_dir) -> Path:
    return make_bands_folder(tmp_path_factory.mktemp("bands"), runs_dir / "a")


@pytest.fixture(scope="module")
def server(runs_dir, bands_dir):
    """A dashboard server on a free port of 127.0.0.1, serving from a thread."""
    server = make_server(runs_dir, port=0, bands_dir=bands_dir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
