"""The explorer's HTTP server against hostile clients, over raw sockets: every malformed request
gets a 4xx JSON error and its connection closed (no traceback, no thread held), a model whose
own code raises gets a JSON error too, and the Host and Origin checks take exact names only."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from agree.explorer.web.server import MAX_BODY, ExplorerServer
from agree.explorer.web.session import Session
from agree import Model, Step, invariant
from agree.models.registry import build_model


def serve(model) -> ExplorerServer:
    running = ExplorerServer(Session(model, model.name), "127.0.0.1", 0)
    running.request_timeout = 1.0  # a stalled client is dropped after a second here
    threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return running


@pytest.fixture
def server():
    running = serve(build_model("twophase", {"rms": "2"}))
    yield running
    running.shutdown()
    running.server_close()


def exchange(server: ExplorerServer, request: bytes, wait: float = 10.0) -> tuple[int, dict | str]:
    """Send `request` as is and read until the server closes the connection (it must, within
    `wait` seconds, even though this client never closes its side); (status, body)."""
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as conn:
        conn.sendall(request)
        data, deadline = b"", time.monotonic() + wait
        while time.monotonic() < deadline:
            chunk = conn.recv(65536)  # a socket.timeout here fails the test: the server held on
            if not chunk:
                break
            data += chunk
        else:
            pytest.fail("the server kept the connection open")
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


def post(server: ExplorerServer, route: str, body: bytes, headers: dict | None = None,
         length: str | None = None) -> bytes:
    port = server.server_address[1]
    fields = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json",
              "Content-Length": str(len(body)) if length is None else length, **(headers or {})}
    return (f"POST {route} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode() + body


def get(server: ExplorerServer, route: str, host: str | None = None) -> bytes:
    host = host if host is not None else f"127.0.0.1:{server.server_address[1]}"
    return f"GET {route} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def still_serving(server: ExplorerServer) -> None:
    assert exchange(server, get(server, "/api/state"))[0] == 200


# ----- malformed requests (issue item 8)


@pytest.mark.parametrize("body, words", [
    (b"[" * 100_000 + b"]" * 100_000, "nested more than"),
    (b'{"index": ' + b"7" * 5000 + b"}", "cannot read"),
    (b'{"index": NaN}', "not a JSON number"),
    (b"{not json", "not valid JSON"),
    (b'{"index": "\xff"}', "not UTF-8"),
])
def test_malformed_json_is_a_400_json_error(server, capfd, body, words):
    status, answer = exchange(server, post(server, "/api/load", body))
    assert status == 400 and words in answer["error"], answer
    still_serving(server)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("length, status", [("abc", 400), ("-1", 400), ("1e3", 400), ("9" * 40, 400),
                                            (str(MAX_BODY + 1), 413)])
def test_a_content_length_that_is_not_a_count_or_too_big_is_refused_at_once(server, capfd, length, status):
    got, answer = exchange(server, post(server, "/api/step", b"", length=length), wait=5)
    assert got == status and "error" in answer  # at once: waiting for the body would end in a 408
    still_serving(server)
    assert "Traceback" not in capfd.readouterr().err


def test_a_client_that_stalls_mid_body_is_dropped_with_a_408(server, capfd):
    status, answer = exchange(server, post(server, "/api/step", b'{"ind', length="100"), wait=5)
    assert status == 408 and "in time" in answer["error"]
    still_serving(server)
    assert "Traceback" not in capfd.readouterr().err


def test_a_body_that_ends_early_is_a_400(server):
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(post(server, "/api/step", b'{"in', length="50"))
        conn.shutdown(socket.SHUT_WR)  # the client closes its side: the body will never be whole
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    assert data.split(b" ", 2)[1] == b"400"


class BadView(Model):
    """A model whose `view` raises: the page cannot show a state."""

    name = "badview"

    def init(self):
        yield 0

    def next(self, state):
        yield Step("Tick", {}, (state + 1) % 3)

    def view(self, state):
        raise RuntimeError("no view of this")

    @invariant
    def small(self, state):
        return state < 3


def test_a_model_whose_view_raises_gets_a_json_error_and_the_server_runs_on(capfd):
    running = serve(BadView())
    try:
        for request in (get(running, "/api/state"), get(running, "/api/trace.json"),
                        post(running, "/api/step", b'{"index": 0}')):
            status, answer = exchange(running, request)
            assert status == 422 and answer["error"] == "the model raised RuntimeError: no view of this", answer
        assert exchange(running, get(running, "/"))[0] == 200
    finally:
        running.shutdown()
        running.server_close()
    assert "Traceback" not in capfd.readouterr().err


# ----- the Host and Origin checks (issue item 13)


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:{port}", True), ("localhost:{port}", True), ("LOCALHOST:{port}", True), ("[::1]:{port}", True),
    ("127.0.0.1:1@evil.com", False), ("127.0.0.1:{port}@evil.com", False), ("127.0.0.1:{port}.evil.com", False),
    ("evil.com:{port}", False), ("127.0.0.1", False), ("127.0.0.1:1", False), ("", False),
])
def test_the_host_header_must_be_a_loopback_name_and_this_port(server, host, allowed):
    status, _ = exchange(server, get(server, "/api/state", host.format(port=server.server_address[1])))
    assert status == (200 if allowed else 403)


@pytest.mark.parametrize("origin, allowed", [
    ("http://127.0.0.1:{port}", True), ("https://127.0.0.1:{port}", False), ("ftp://127.0.0.1:{port}", False),
    ("127.0.0.1:{port}", False), ("http://127.0.0.1:{port}/", False), ("http://evil.com:{port}", False),
    ("http://localhost:{port}", False), ("null", False), ("", False),
])
def test_a_post_must_come_from_exactly_this_page(server, origin, allowed):
    request = post(server, "/api/goto", b'{"position": 0}', {"Origin": origin.format(port=server.server_address[1])})
    status, _ = exchange(server, request)
    assert status == (200 if allowed else 403)


def test_an_empty_host_is_refused_not_every_interface(agree):
    ran = agree("explore", "twophase", "--host", "", "--port", "0")
    assert ran.code == 2 and ran.err.count("\n") == 1 and "--host is empty" in ran.err, ran.err
    assert "listening on ," not in ran.err
