"""The keep-alive server's own answer path (serving.KeepAliveHandler): one write per answer, no
poll after it, and werkzeug's behaviour kept for HEAD, bodies without a length, pipelined
requests and an exception escaping the app (no timing)."""

from __future__ import annotations

import http.client
import io
import json
import socket
import struct
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from pytest_okta_user.emulator import OktaEmulator
from pytest_okta_user.emulator.serving import KeepAliveHandler, PooledWSGIServer, read_head

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PATIENCE = 10.0


def get(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


class Answers:
    """HTTP/1.1 answers read off one connection, each framed by its Content-Length; bytes of the
    next answer that arrived with one are kept for it (pipelining)."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.data = b""

    def next(self) -> tuple[str, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.data:
            chunk = self.connection.recv(65536)
            assert chunk, f"connection closed mid-answer: {self.data!r}"
            self.data += chunk
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(self.data) < length:
            chunk = self.connection.recv(65536)
            assert chunk, "connection closed mid-body"
            self.data += chunk
        body, self.data = self.data[:length], self.data[length:]
        return status, headers, body


def read_answer(connection: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One answer on a connection nothing else is pipelined on."""
    answers = Answers(connection)
    answer = answers.next()
    assert answers.data == b"", "more than one answer arrived"
    return answer


class _Quiet(KeepAliveHandler):
    timeout = PATIENCE

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


@contextmanager
def serving(app: App, ended: threading.Semaphore | None = None) -> Iterator[tuple[int, list[str]]]:
    """`app` behind the emulator's server; yields its port and what the server logged, an error
    escaping a connection's handler among it. `ended` is released as each connection ends."""
    logged: list[str] = []
    server = PooledWSGIServer("127.0.0.1", 0, app, _Quiet)
    server.log = lambda type, message, *args: logged.append(message % args)  # type: ignore[method-assign]
    server.handle_error = lambda request, address: logged.append(traceback.format_exc())  # type: ignore[method-assign]
    if ended is not None:
        close = server.shutdown_request

        def shutdown_request(request: Any) -> None:
            close(request)
            ended.release()

        server.shutdown_request = shutdown_request  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_port, logged
    finally:
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join(PATIENCE)


def test_head_has_the_get_length_and_no_body_and_keeps_the_connection(
    okta: OktaEmulator,
) -> None:
    path = "/oauth2/default/v1/keys"
    head = f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1:{okta.port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", okta.port), timeout=PATIENCE) as connection:
        connection.sendall(get(path, okta.port))
        _, _, body = read_answer(connection)
        connection.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        status, _, rest = data.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 200")
        assert f"Content-Length: {len(body)}".encode() in status
        assert rest == b""
        # Nothing followed the head: the next answer on the connection is the next request's.
        connection.sendall(get(path, okta.port))
        status_line, _, again = read_answer(connection)
        assert status_line.startswith("HTTP/1.1 200")
        assert json.loads(again) == json.loads(body)


def test_pipelined_requests_are_answered_in_order(okta: OktaEmulator) -> None:
    paths = ["/oauth2/default/v1/keys", "/oauth2/default/.well-known/openid-configuration"]
    with socket.create_connection(("127.0.0.1", okta.port), timeout=PATIENCE) as connection:
        connection.sendall(b"".join(get(path, okta.port) for path in paths))
        answers = Answers(connection)
        first = json.loads(answers.next()[2])
        second = json.loads(answers.next()[2])
    assert "keys" in first
    assert second["issuer"] == okta.issuer


def test_a_body_without_a_length_gets_one_and_the_connection_stays() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"one ", b"two"]

    with serving(app) as (port, _), socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(PATIENCE)
        for _ in range(2):
            connection.sendall(get("/", port))
            status, headers, body = read_answer(connection)
            assert status.startswith("HTTP/1.1 200")
            assert headers["content-length"] == "7"
            assert body == b"one two"
            assert headers.get("connection", "").lower() != "close"


def test_a_client_gone_before_its_answer_ends_the_connection_quietly() -> None:
    """A client that hangs up (an RST) while its answer is made: the answer's write fails, and
    the connection ends as a dropped one, with no error escaping the handler (it once named a
    werkzeug attribute that does not exist, and an AttributeError's traceback went to stderr)."""
    inside, gone, ended = threading.Event(), threading.Event(), threading.Semaphore(0)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        inside.set()
        gone.wait(PATIENCE)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x" * 1_000_000]

    with serving(app, ended) as (port, logged):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(get("/", port))
        assert inside.wait(PATIENCE)
        # Linger 0: close() sends an RST, so the server's next write fails at once.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
        gone.set()
        assert ended.acquire(timeout=PATIENCE)
    assert logged == []


def test_an_exception_escaping_the_app_is_a_logged_500_that_ends_the_connection() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise RuntimeError("boom")

    with (
        serving(app) as (port, logged),
        socket.create_connection(("127.0.0.1", port)) as connection,
    ):
        connection.settimeout(PATIENCE)
        connection.sendall(get("/", port))
        status, headers, _ = read_answer(connection)
        assert status.startswith("HTTP/1.1 500")
        assert headers["connection"].lower() == "close"
        assert connection.recv(1024) == b""
    assert any("RuntimeError: boom" in line for line in logged)


HEADS = {
    "plain": b"Host: a\r\nContent-Length: 3\r\nX-A:  spaced value \r\n\r\n",
    "repeated": b"Accept: a\r\nAccept: b\r\nAccept: c\r\n\r\n",
    "bare LF": b"Host: a\nX-B: 1\n\n",
    "empty value": b"X-Empty:\r\nX-Tab:\t\tv\r\n\r\n",
    "folded": b"X-Long: one\r\n  two\r\n\tthree\r\nHost: a\r\n\r\n",
    "first line folded": b" stray\r\nHost: a\r\n\r\n",
    "no colon ends the fields": b"Host: a\r\nnot a header\r\nX-After: b\r\n\r\n",
    "space in a name": b"Bad Name: x\r\nHost: a\r\n\r\n",
    "empty name": b": x\r\nHost: a\r\n\r\n",
    "mailbox From": b"From someone\r\nHost: a\r\n\r\n",
    "From header": b"From: someone\r\n\r\n",
    "bare CR in a value": b"X-A: one\rtwo\r\nHost: a\r\n\r\n",
    "latin-1": "X-Name: Zoë\r\n\r\n".encode("latin-1"),
    "end of stream": b"Host: a\r\n",
    "nothing": b"\r\n",
}


@pytest.mark.parametrize("head", HEADS.values(), ids=HEADS.keys())
def test_a_head_is_read_as_http_client_reads_it(head: bytes) -> None:
    """`read_head` skips the email package's parser for plain lines only: every head gives the
    fields, in order, that `http.client.parse_headers` gives, and leaves the stream where it
    does (at the body)."""
    ours, theirs = io.BytesIO(head + b"BODY"), io.BytesIO(head + b"BODY")
    read = read_head(ours)
    expected = http.client.parse_headers(theirs)
    assert list(read.items()) == list(expected.items())
    assert type(read) is type(expected)
    assert ours.read() == theirs.read()


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"X-Long: " + b"a" * 70000 + b"\r\n\r\n", b"Line too long"),
        (b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\n", b"Too many headers"),
    ],
    ids=["line too long", "too many headers"],
)
def test_a_head_over_http_clients_bounds_gets_a_431(
    okta: OktaEmulator, head: bytes, reason: bytes
) -> None:
    request = f"GET /oauth2/default/v1/keys HTTP/1.1\r\nHost: 127.0.0.1:{okta.port}\r\n".encode()
    with socket.create_connection(("127.0.0.1", okta.port), timeout=PATIENCE) as connection:
        connection.sendall(request + head)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 431 " + reason)


ODD_REQUEST_LINES = {
    "HTTP/2.0": b"GET / HTTP/2.0",
    "no version number": b"GET / HTTP/1.x",
    "four words": b"GET / x HTTP/1.1",
    "HTTP/0.9": b"GET /",
    "HTTP/0.9 POST": b"POST /",
}


def _answer_to(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    # The only bytes two answers to one request may differ in: the clock's and the version's.
    return b"\r\n".join(
        line for line in data.split(b"\r\n") if not line.startswith((b"Date:", b"Server:"))
    )


@pytest.mark.parametrize("line", ODD_REQUEST_LINES.values(), ids=ODD_REQUEST_LINES.keys())
def test_a_request_line_off_the_fast_path_is_answered_as_werkzeug_answers_it(line: bytes) -> None:
    """Only `METHOD target HTTP/1.x` is read by `KeepAliveHandler.parse_request` itself; every
    other line gets the answer werkzeug's own handler gives, byte for byte."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]

    request = line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    theirs = make_server("127.0.0.1", 0, app, request_handler=_QuietWerkzeug)
    thread = threading.Thread(target=theirs.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        expected = _answer_to(theirs.server_port, request)
    finally:
        theirs.shutdown()
        theirs.server_close()
        thread.join(PATIENCE)
    with serving(app) as (port, logged):
        assert _answer_to(port, request) == expected
    assert logged == []


class _QuietWerkzeug(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # as KeepAliveHandler's

    def log(self, type: str, message: str, *args: Any) -> None:
        return None
