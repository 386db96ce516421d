"""The explorer's HTTP server: the standard library's ThreadingHTTPServer, a page, its script and a
small JSON API. Nothing is fetched from the internet; the page comes from files in this package.

The server is for one person on their own machine: it binds to 127.0.0.1 unless told otherwise,
answers only requests whose Host is exactly a loopback name and its port (no DNS rebinding) and
refuses POSTs whose Origin is not exactly http://that-host:port, so a web page elsewhere cannot
drive it. It writes no files: a saved trace is a download the browser keeps.

Whatever a client sends gets an answer, never a traceback or a dropped connection: a request it
cannot take (a Content-Length that is not a count of bytes, a body over MAX_BODY, JSON nested too
deep or with numbers too long, a client that stalls past `request_timeout` seconds) gets a 4xx
JSON error and its connection closed, so no handler thread is held; an error in the model's own
code (a rule, a property, `view`) is a 422 JSON error naming it, and the server keeps running.

API: GET /api/state; GET /api/trace.json (the path so far, as a trace file); POST /api/step
{"index": i}, /api/goto {"position": p},
/api/restart {"initial": i} (a new path from the i-th initial state), /api/load (a trace file's JSON), /api/counterexample.
"""

from __future__ import annotations

import errno
import json
import re
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import urlsplit

from agree.explorer.traces.html import asset
from agree.explorer.web.session import Session
from agree.explorer.web.views import snapshot
from agree.properties import files as user_files
from agree.properties.errors import InputError
from agree.explorer.traces.format import trace_to_json

STATIC = {"/": ("index.html", "text/html"), "/static/explorer.js": ("explorer.js", "text/javascript"),
          "/static/explorer.css": ("explorer.css", "text/css")}
MAX_BODY = 32 * 1024 * 1024  # a trace upload larger than this is refused
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
HOST_NAMES = ("127.0.0.1", "localhost", "[::1]")  # how a Host header names a loopback address
MODEL_FAILED = HTTPStatus.UNPROCESSABLE_ENTITY  # the model's code raised: the user's input, as on the command line
_DIGITS = re.compile(r"[0-9]{1,12}")
_REFUSED = object()  # what _body returns once it has answered with an error


def static_text(name: str) -> str:
    return files("agree.explorer.web").joinpath("static", name).read_text(encoding="utf-8")


class ExplorerHandler(BaseHTTPRequestHandler):
    server: "ExplorerServer"

    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # a stalled client frees its thread
        super().setup()

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
                self._guarded(lambda: self._send_trace(session))
        else:
            self._send(HTTPStatus.NOT_FOUND, "not found", "text/plain")

    def _send_trace(self, session: Session) -> None:
        body = json.dumps(trace_to_json(session.trace()), indent=1) + "\n"
        name = f"{session.model.name or 'model'}-path.json"
        self._send(HTTPStatus.OK, body, "application/json", {"Content-Disposition": f'attachment; filename="{name}"'})

    def do_POST(self) -> None:
        if not self._host_allowed() or not self._same_origin():
            return
        route = urlsplit(self.path).path
        body = self._body()
        if body is _REFUSED:
            return
        session = self.server.session
        with session.lock:
            self._guarded(lambda: self._answer(route, body, session))

    def _body(self):
        """The request's JSON, or _REFUSED once a 4xx has been sent (and the connection is to close:
        what is left of a refused body must not be read as the next request)."""
        raw = self.headers.get("Content-Length")
        if raw is not None and not _DIGITS.fullmatch(raw.strip()):
            return self._refuse(f"Content-Length must be a count of bytes, got {raw[:40]!r}", HTTPStatus.BAD_REQUEST)
        length = int(raw) if raw is not None else 0
        if length > MAX_BODY:
            return self._refuse(f"the request is {length:,} bytes, over the {MAX_BODY:,}-byte limit",
                                HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            data = self.rfile.read(length)
        except TimeoutError:
            return self._refuse("the request body did not arrive in time", HTTPStatus.REQUEST_TIMEOUT)
        if len(data) < length:
            return self._refuse("the request body ended early", HTTPStatus.BAD_REQUEST)
        try:
            return user_files.parse_json(data.decode("utf-8") or "{}", "the request")
        except UnicodeDecodeError as err:
            return self._refuse(f"the request is not UTF-8 (byte {err.start})", HTTPStatus.BAD_REQUEST)
        except InputError as err:  # not JSON, nested too deep, a number too long, NaN...
            return self._refuse(str(err), HTTPStatus.BAD_REQUEST)

    def _refuse(self, message: str, status: HTTPStatus) -> object:
        self.close_connection = True
        self._json({"error": message}, status, {"Connection": "close"})
        return _REFUSED

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
        except Exception as err:  # noqa: BLE001 - the model is the user's code: say what it raised
            self._json({"error": f"the model raised {type(err).__name__}: {err}"}, MODEL_FAILED)

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
        """On a loopback address, answer only requests whose Host is exactly a loopback name and
        this port (`127.0.0.1:1@evil.com` is not: a rebinding page may send anything after it)."""
        if self.server.server_address[0] not in LOOPBACK:
            return True
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").lower()
        if host in {f"{name}:{port}" for name in HOST_NAMES} or (port == 80 and host in HOST_NAMES):
            return True
        self._send(HTTPStatus.FORBIDDEN, "the explorer answers only requests to 127.0.0.1 or localhost", "text/plain")
        return False

    def _same_origin(self) -> bool:
        """A browser's POST must come from this very page: Origin exactly http:// and the Host."""
        origin = self.headers.get("Origin")
        if origin is None or origin.lower() == f"http://{self.headers.get('Host') or ''}".lower():
            return True
        self._send(HTTPStatus.FORBIDDEN, "cross-site requests are refused", "text/plain")
        return False

    def _json(self, data, status: HTTPStatus = HTTPStatus.OK, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data), "application/json", headers)

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
    request_timeout = 30.0  # seconds a client may pause while sending a request

    def __init__(self, session: Session, host: str, port: int) -> None:
        if not host.strip():
            raise InputError("--host is empty, which would listen on every interface: give an address, "
                             "e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface)")
        self.session = session
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            super().__init__((host, port), ExplorerHandler)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} on {host} is in use: choose another with --port "
                                 "(--port 0 picks a free one)") from None
            raise InputError(f"cannot listen on {host} port {port}: {err.strerror or err}") from None

    def handle_error(self, request, client_address) -> None:
        """A client that went away is not news; anything else is one line, never a traceback."""
        err = sys.exc_info()[1]
        if not isinstance(err, OSError):
            print(f"agree explore: a request failed: {type(err).__name__}: {err}", file=sys.stderr)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

