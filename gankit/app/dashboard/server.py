"""The dashboard's HTTP server: the JSON endpoints over a runs folder and the static page.

    GET /                                   the single-page UI (static/index.html)
    GET /static/<file>                      the UI's scripts and styles, uPlot included
    GET /api/runs                           one row per run (see summary.Summaries.row)
    GET /api/runs/<name>                    that run's row
    GET /api/runs/<name>/curves?points=N    every curve, at most N points each (curves.py)
    GET /api/runs/<name>/metrics?offset=N   records appended after byte N, and the new offset
    GET /api/runs/<name>/band               the reference band the run is drawn against
    GET /api/runs/<name>/config             config.yaml's text and its dotted keys' values
    GET /api/runs/<name>/samples            the saved sample grids' steps and files
    GET /api/runs/<name>/eval               eval.json (null when there is none)
    GET /runs/<name>/samples/<file>         a sample grid (PNG)

Anything else, a run name that is not a folder directly under the runs folder, or a file
that is not a saved grid answers 404; a malformed offset or point count answers 400.
"""

from __future__ import annotations

import json
import math
import mimetypes
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gankit.app.dashboard import runs
from gankit.app.dashboard.curves import MAX_POINTS, MIN_POINTS, run_curves
from gankit.app.dashboard.summary import Summaries
from gankit.diagnose.bands import differing_keys, reference_band
from gankit.errors import GankitError

STATIC = resources.files("gankit.app.dashboard") / "static"
"""The UI's files, shipped in the package."""


class DashboardServer(ThreadingHTTPServer):
    """A threading HTTP server that serves the dashboard of the runs under ``root``, with
    the reference bands of ``bands_dir`` (default: the shipped ones)."""

    daemon_threads = True

    def __init__(self, root: Path, address: tuple[str, int], bands_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.bands_dir = bands_dir
        self.summaries = Summaries()
        super().__init__(address, DashboardHandler)

    def server_close(self) -> None:
        self.summaries.close()
        super().server_close()

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        return f"http://{shown}:{port}/"


class DashboardHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD requests; every request reads files, none writes."""

    server: DashboardServer

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        url = urlsplit(self.path)
        parts = [unquote(part) for part in url.path.split("/")[1:]]
        query = parse_qs(url.query)
        try:
            self._route(parts, query)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away
        except OSError as err:  # a file removed or made unreadable while it was read
            self._error(HTTPStatus.NOT_FOUND, f"cannot read it: {err.strerror or err}")

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the page polls every few seconds."""

    def _route(self, parts: list[str], query: dict[str, list[str]]) -> None:
        if parts in ([""], ["index.html"]):
            return self._static("index.html")
        if len(parts) == 2 and parts[0] == "static":
            return self._static(parts[1])
        if parts == ["api", "runs"]:
            root, summaries = self.server.root, self.server.summaries
            return self._json(summaries.rows([root / name for name in runs.run_names(root)]))
        if len(parts) == 3 and parts[:2] == ["api", "runs"]:
            path = runs.run_path(self.server.root, parts[2])
            if path is not None:
                return self._json(self.server.summaries.row(path))
        if len(parts) == 4 and parts[:2] == ["api", "runs"]:
            return self._run_api(parts[2], parts[3], query)
        if len(parts) == 4 and parts[0] == "runs" and parts[2] == "samples":
            path = runs.run_path(self.server.root, parts[1])
            image = None if path is None else runs.sample_file(path, parts[3])
            if image is not None:
                return self._bytes(image.read_bytes(), "image/png")
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def _run_api(self, name: str, what: str, query: dict[str, list[str]]) -> None:
        path = runs.run_path(self.server.root, name)
        if path is None:
            return self._error(HTTPStatus.NOT_FOUND, f"no run {name!r}")
        if what == "metrics":
            offset = query.get("offset", ["0"])[-1]
            if not (offset.isascii() and offset.isdigit()):
                return self._error(HTTPStatus.BAD_REQUEST, "offset must be a byte count >= 0")
            return self._json(runs.metrics_since(path, int(offset)))
        if what == "curves":
            points = query.get("points", [str(MAX_POINTS)])[-1]
            if not (points.isascii() and points.isdigit() and int(points) >= MIN_POINTS):
                return self._error(
                    HTTPStatus.BAD_REQUEST, f"points must be a whole number >= {MIN_POINTS}"
                )
            return self._json(run_curves(path, int(points)))
        if what == "band":
            return self._json(self._band(path))
        if what == "config":
            return self._json({"text": runs.config_text(path), "values": runs.flat_config(path)})
        if what == "samples":
            return self._json(runs.sample_steps(path))
        if what == "eval":
            return self._json(runs.eval_report(path))
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def _band(self, path: Path) -> dict[str, Any]:
        """``{"band": …, "reason": …}``: the reference band of the run's preset when its
        config matches the preset's in every key that shapes the curves (as
        ``bands.band_for_config`` decides; the band's ``config`` left out), else null and
        why not."""
        config = runs.read_config(path)
        preset = (config or {}).get("preset")
        if not isinstance(preset, str):
            return {"band": None, "reason": "config.yaml names no preset"}
        directory = self.server.bands_dir
        try:
            band = reference_band(preset, directory)
            if band is None:
                return {"band": None, "reason": f"no reference band for {preset}"}
            differing = differing_keys(config or {}, band)
            if differing:
                keys = ", ".join(differing)
                return {"band": None, "reason": f"the config differs from {preset}'s in {keys}"}
        except GankitError as err:
            return {"band": None, "reason": str(err)}
        return {"band": {k: v for k, v in band.items() if k != "config"}, "reason": None}

    def _static(self, name: str) -> None:
        file = STATIC / name
        if name.startswith(".") or "/" in name or not file.is_file():
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self._bytes(file.read_bytes(), kind)

    def _json(self, value: Any) -> None:
        body = json.dumps(_finite(value), allow_nan=False, default=str).encode("utf-8")
        self._bytes(body, "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        body = json.dumps({"error": message}).encode("utf-8")
        self._bytes(body, "application/json", status)

    def _bytes(self, body: bytes, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities (a diverged run's losses) as None, which JSON
    can carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
