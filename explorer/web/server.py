"""The explorer's HTTP server: the standard library's ThreadingHTTPServer, a page, its script and a
small JSON API. Nothing is fetched from the internet; the page comes from files in this package.

The server is for one person on their own machine: it binds to 127.0.0.1 unless told otherwise,
answers only requests addressed to the name it was reached by (no DNS rebinding) and refuses
cross-site POSTs, so a web page elsewhere cannot drive it. It writes no files: a saved trace is a
download the browser keeps.

API: GET /api/state; GET /api/trace.json (the path so far, as a trace file); POST /api/step
{"index": i}, /api/goto {"position": p},
/api/restart {"initial": i} (a new path from the i-th initial state), /api/load (a trace file's JSON), /api/counterexample.
"""

from __future__ import annotations

import errno
import json
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import urlsplit

from agree.explorer.traces.html import asset
from agree.explorer.web.session import Session
from agree.explorer.web.views import snapshot
from agree.properties.errors import InputError
from agree.explorer.traces.format import trace_to_json

STATIC = {"/": ("index.html", "text/html"), "/static/explorer.js": ("explorer.js", "text/javascript"),
          "/static/explorer.css": ("explorer.css", "text/css")}
MAX_BODY = 32 * 1024 * 1024  # a trace upload larger than this is refused
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def static_text(name: str) -> str:
    return files("agree.explorer.web").joinpath("static", name).read_text(encoding="utf-8")


class ExplorerHandler(BaseHTTPRequestHandler):
    server: "ExplorerServer"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the terminal shows the URL only
        pass

    def do_GET(self) -> None:
        if not self._host_allowed():
            return
        route = urlsplit(self.path).path
        if route in STATIC:
            name, kind = STATIC[route]
            self._send(HTTPStatus.OK, static_text(name), kind)
        elif route == "/static/page.css":
            self._send(HTTPStatus.OK, asset("page.css"), "text/css")
        elif route == "/api/state":
            with self.server.session.lock:
                self._guarded(lambda: self._json(snapshot(self.server.session)))
        elif route == "/api/trace.json":
            session = self.server.session
            with session.lock:
                body = json.dumps(trace_to_json(session.trace()), indent=1) + "\n"
            name = f"{session.model.name or 'model'}-path.json"
            self._send(HTTPStatus.OK, body, "application/json",
                       {"Content-Disposition": f'attachment; filename="{name}"'})
        else:
            self._send(HTTPStatus.NOT_FOUND, "not found", "text/plain")

    def do_POST(self) -> None:
        if not self._host_allowed() or not self._same_origin():
            return
        route = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json({"error": "the upload is too large"}, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            self._json({"error": f"the request is not valid JSON: {err}"}, HTTPStatus.BAD_REQUEST)
            return
        session = self.server.session
        with session.lock:
            self._guarded(lambda: self._answer(route, body, session))

    def _answer(self, route: str, body, session: Session) -> None:
        try:
            message = self._act(route, body, session)
        except InputError as err:
            self._json({**snapshot(session), "error": str(err)}, HTTPStatus.BAD_REQUEST)
            return
        if message is None:
            self._send(HTTPStatus.NOT_FOUND, "not found", "text/plain")
            return
        self._json(snapshot(session, message))

    def _guarded(self, answer) -> None:
        """An error in the model's own code is shown on the page; the server keeps running."""
        try:
            answer()
        except Exception as err:
            self._json({"error": f"the model raised {type(err).__name__}: {err}"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _act(self, route: str, body, session: Session) -> str | None:
        """Do what a POST asks; return the message to show, or None for an unknown route."""
        if not isinstance(body, dict):
            raise InputError("the request must be a JSON object")
        if route == "/api/step":
            session.take(_whole(body.get("index"), "index"))
            return ""
        if route == "/api/restart":
            session.restart(_whole(body.get("initial", 0), "initial"))
            return "a new path from the chosen initial state"
        if route == "/api/goto":
            session.goto(_whole(body.get("position"), "position"))
            return ""
        if route == "/api/load":
            session.load(body, "the loaded file")
            return f"loaded a trace of {len(session.steps)} steps"
        if route == "/api/counterexample":
            return session.find_counterexample()
        return None

    def _host_allowed(self) -> bool:
        """On a loopback address, answer only requests sent to a loopback name."""
        if self.server.server_address[0] not in LOOPBACK:
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host in LOOPBACK:
            return True
        self._send(HTTPStatus.FORBIDDEN, "the explorer answers only requests to 127.0.0.1 or localhost", "text/plain")
        return False

    def _same_origin(self) -> bool:
        origin = self.headers.get("Origin")
        if origin is None or urlsplit(origin).netloc == self.headers.get("Host"):
            return True
        self._send(HTTPStatus.FORBIDDEN, "cross-site requests are refused", "text/plain")
        return False

    def _json(self, data, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(data), "application/json")

    def _send(self, status: HTTPStatus, text: str, kind: str, headers: dict | None = None) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _whole(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    return value


class ExplorerServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck browser connection never keeps Ctrl-C from ending the program

    def __init__(self, session: Session, host: str, port: int) -> None:
        self.session = session
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            super().__init__((host, port), ExplorerHandler)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} on {host} is in use: choose another with --port "
                                 "(--port 0 picks a free one)") from None
            raise InputError(f"cannot listen on {host} port {port}: {err.strerror or err}") from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

