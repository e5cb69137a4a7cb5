"""The playground's HTTP server: the page, and one training session per browser tab.

    GET    /                                  the page (static/index.html)
    GET    /static/<file>                     its scripts and styles
    GET    /api/options                       data, objectives, regularisers, optimisers,
                                              scenes and the default settings
    POST   /api/sessions                      {"settings": {...}} | {"scene": NAME} | {}
    DELETE /api/sessions/<id>                 stop a session (POST …/close does the same,
                                              for navigator.sendBeacon)
    POST   /api/sessions/<id>/control         {"action": play|pause|step_d|step_g|step|reset,
                                               "speed"?: 0.05..1}
    POST   /api/sessions/<id>/settings        {"changes": {"dotted.key": value, ...}}
    POST   /api/sessions/<id>/data            {"points": [[x, y], ...]}: drawn data
    POST   /api/sessions/<id>/load            {"yaml": "<config text>"}
    GET    /api/sessions/<id>/frame?after=N   the newest frame (waits up to 1 s for a newer)
    GET    /api/sessions/<id>/export.yaml     the config that ``gankit train`` retrains it with
    POST   /api/sessions/<id>/export-run      a run directory under the runs folder

The HTTP contract in full is docs/playground.md's. A bad request answers 400 and an
unknown session 404, each with ``{"error": "<one line>"}``.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gankit.app.playground import settings as playground_settings
from gankit.app.playground.scenes import SCENES
from gankit.app.playground.session import Sessions
from gankit.errors import GankitError

STATIC = resources.files("gankit.app.playground") / "static"
"""The page's files, shipped in the package."""
MAX_BODY = 1 << 20
"""The largest request body read (a config, or the points of a drawing)."""
FRAME_WAIT = 1.0
"""Seconds a frame request waits for a frame newer than the one it names."""
MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class BadRequest(GankitError, ValueError):
    """A request body or query the server cannot read."""


class PlaygroundServer(ThreadingHTTPServer):
    """A threading HTTP server holding the sessions, with a thread that stops idle ones."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        runs_dir: Path,
        idle_minutes: float,
        max_sessions: int,
    ) -> None:
        self.sessions = Sessions(Path(runs_dir), idle_minutes * 60, max_sessions)
        self._stop_reaper = threading.Event()
        super().__init__(address, PlaygroundHandler)
        self._reaper = threading.Thread(target=self._reap, daemon=True)
        self._reaper.start()

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        return f"http://{shown}:{port}/"

    def server_close(self) -> None:
        self._stop_reaper.set()
        self.sessions.close_all()
        super().server_close()

    def _reap(self) -> None:
        """Stop idle sessions, checking every quarter of the idle time (at most a minute)."""
        every = min(60.0, max(0.05, self.sessions.idle_seconds / 4))
        while not self._stop_reaper.wait(every):
            self.sessions.reap()


class PlaygroundHandler(BaseHTTPRequestHandler):
    """Routes the page's requests to the sessions."""

    server: PlaygroundServer

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the page polls for frames many times a second."""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [unquote(part) for part in url.path.split("/")[1:]]
        try:
            self._route(method, parts, parse_qs(url.query))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away
        except GankitError as err:
            self._error(HTTPStatus.BAD_REQUEST, str(err))
        except Exception as err:  # noqa: BLE001 (one line to the page, the trace to stderr)
            traceback.print_exc(file=sys.stderr)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {err}")

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]]) -> None:
        if method == "GET" and parts in ([""], ["index.html"]):
            return self._static("index.html")
        if method == "GET" and len(parts) == 2 and parts[0] == "static":
            return self._static(parts[1])
        if method == "GET" and parts == ["api", "options"]:
            return self._json(_options())
        if parts == ["api", "sessions"] and method == "POST":
            session = self.server.sessions.create(self._body())
            frame = session.control("pause")
            return self._json({"id": session.id, "settings": session.settings(), "frame": frame})
        if len(parts) in (3, 4) and parts[:2] == ["api", "sessions"]:
            what = parts[3] if len(parts) == 4 else ""
            return self._session(method, parts[2], what, query)
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def _session(self, method: str, session_id: str, what: str, query: dict) -> None:
        if (method, what) in (("DELETE", ""), ("POST", "close")):
            if not self.server.sessions.close(session_id):
                return self._error(HTTPStatus.NOT_FOUND, f"no session {session_id!r}")
            return self._json({"ok": True})
        session = self.server.sessions.get(session_id)
        if session is None:
            return self._error(HTTPStatus.NOT_FOUND, f"no session {session_id!r}")
        if method == "GET" and what == "frame":
            return self._json(session.wait_frame(_after(query), FRAME_WAIT))
        if method == "GET" and what == "export.yaml":
            text, note = session.export_yaml()
            headers = {"Content-Disposition": 'attachment; filename="playground.yaml"'}
            if note is not None:
                headers["X-Gankit-Note"] = note.encode("ascii", "replace").decode("ascii")
            return self._bytes(text.encode("utf-8"), "text/yaml; charset=utf-8", headers=headers)
        if method != "POST":
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        if what == "control":
            body = self._body()
            frame = session.control(body.get("action"), body.get("speed"))
            return self._json({"frame": frame})
        if what == "settings":
            frame, reset = session.change(self._body().get("changes"))
            answer = {"settings": session.settings(), "frame": frame}
            return self._json({**answer, "reset": True} if reset else answer)
        if what == "data":
            frame = session.draw(self._body().get("points"))
            return self._json({"settings": session.settings(), "frame": frame, "reset": True})
        if what == "load":
            frame = session.load(self._body().get("yaml"))
            return self._json({"settings": session.settings(), "frame": frame, "reset": True})
        if what == "export-run":
            return self._json({"path": str(session.export_run())})
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def _body(self) -> dict[str, Any]:
        """The request's JSON object ({} when there is no body)."""
        length = self.headers.get("Content-Length")
        if not length:
            return {}
        if not length.isdigit() or int(length) > MAX_BODY:
            raise BadRequest(f"the request body must be at most {MAX_BODY} bytes of JSON")
        raw = self.rfile.read(int(length))
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise BadRequest("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest(f"the request body must be a JSON object, not {type(body).__name__}")
        return body

    def _static(self, name: str) -> None:
        file = STATIC / name
        if name.startswith(".") or "/" in name or not file.is_file():
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        kind = MIME.get(Path(name).suffix, "application/octet-stream")
        self._bytes(file.read_bytes(), kind)

    def _json(self, value: Any) -> None:
        body = json.dumps(value, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self._bytes(body, "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        body = json.dumps({"error": message}).encode("utf-8")
        self._bytes(body, "application/json", status)

    def _bytes(
        self,
        body: bytes,
        kind: str,
        status: HTTPStatus = HTTPStatus.OK,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _options() -> dict[str, Any]:
    defaults = playground_settings.settings_of(playground_settings.base_config())
    return {
        **playground_settings.options(),
        "scenes": [scene.describe() for scene in SCENES.values()],
        "defaults": {**defaults, "scene": None},
    }


def _after(query: dict[str, list[str]]) -> int:
    after = query.get("after", ["-1"])[-1]
    if not (after.lstrip("-").isdigit() and after.isascii()):
        raise BadRequest("after must be a frame number")
    return int(after)
