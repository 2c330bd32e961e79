"""The HTTP/1.1 server under `OktaEmulator`: werkzeug's machinery, keep-alive, reused threads.

werkzeug's development server answers every request with `Connection: close` (http.server cannot
tell where an unread body ends) and starts a thread per connection: a sign-in (three requests)
paid three TCP handshakes and three thread starts. Here:

* keep-alive: the body each request announced (Content-Length) is counted as the app reads it and
  the rest drained before the next request line is read; a chunked body, one too large to drain,
  or a body that never came closes the connection instead, as werkzeug always does.
  The read timeout (`StreamRequestHandler.timeout`) bounds idle keep-alive waits too.
* threads: each connection runs on a pooled thread, reused once its connection closes. The pool
  is not bounded: a connection holds its thread while idle, so a bounded pool would let a few
  silent clients stall everyone (tests/emulator/test_emulator_safety.py); idle threads exit
  after a while.
* the head: http.client hands each request's header lines to the email package's MIME parser, a
  third of the emulator's time holding the GIL in a sign-in (py-spy --gil); `read_head` splits
  plain ones into the same `http.client.HTTPMessage` itself.
* stop: the connections still open are shut down, so no thread keeps answering for a stopped org.

A well-kept alternative was weighed: waitress has no TLS; cheroot does its TLS handshake on the
thread that accepts every connection (the stall `server.py` avoids). werkzeug stays.
"""

from __future__ import annotations

import contextlib
import email.parser
import http.client
import io
import queue
import re
import socket
import ssl
import threading
import traceback
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

# The most unread body bytes drained to keep a connection (more: the connection is closed).
DRAIN_LIMIT = 64 * 1024
# Seconds an idle pooled thread waits for a new connection before it exits.
IDLE_THREAD_SECONDS = 30.0


# http.client's bounds on a head: the longest line, the most lines.
_MAX_LINE = 65536
_MAX_HEADERS = 100
# A header line that the email package's parser (compat32) would take as it is: a name of printable
# ASCII but ':', the colon, the value (its leading blanks dropped) and the line's end.
_PLAIN_FIELD = re.compile(r"([\041-\071\073-\176]+):[ \t]*([^\r\n]*)\r?\n")


def read_head(rfile: io.BufferedIOBase) -> http.client.HTTPMessage:
    """The header lines after a request line, as `http.client.parse_headers` reads and parses
    them (the same limits and errors, the same `HTTPMessage`), without the email package's parser
    for a head of plain `Name: value` lines. Any other line (a folded one, one email takes for a
    body or a mailbox's `From `, a bare CR) sends the whole head to email's parser, as before.
    """
    # http.client._read_headers' loop (limits, errors), written out: it is private to http.client.
    lines: list[bytes] = []
    while True:
        line = rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            break
    message = http.client.HTTPMessage()
    for raw in lines[:-1]:
        field = _PLAIN_FIELD.fullmatch(raw.decode("iso-8859-1"))
        if field is None:
            head = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(head)
        message.set_raw(field[1], field[2])
    return message


class _CountingReader:
    """The request body stream as the app sees it, counting what it reads."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.consumed = 0
        # The body stopped short (timeout, end of stream): the connection cannot be reused, and
        # draining it would only wait out the read timeout a second time.
        self.broken = False

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._call(self._raw.read, size)
        if size is not None and size > 0 and len(data) < size:
            self.broken = True
        self.consumed += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data: bytes = self._call(self._raw.readline, size)
        self.consumed += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count: int = self._call(self._raw.readinto, buffer) or 0
        self.broken = self.broken or count < len(buffer)
        self.consumed += count
        return count

    def _call(self, method: Callable[..., Any], argument: Any) -> Any:
        try:
            return method(argument)
        except OSError:
            self.broken = True
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _AccessLine:
    """werkzeug's access-log line for one answer, made when it is formatted (``%s``)."""

    def __init__(self, handler: WSGIRequestHandler, code: int | str, size: int | str) -> None:
        self._handler = handler
        self._code = code
        self._size = size

    def __str__(self) -> str:
        lines: list[str] = []

        def keep(type: str, message: str, *args: Any) -> None:
            lines.append(message % args)

        handler = self._handler
        # werkzeug's own log_request, its `log` caught for this call (the handler is its
        # connection's, on this thread).
        handler.log = keep  # type: ignore[method-assign]
        try:
            WSGIRequestHandler.log_request(handler, self._code, self._size)
        finally:
            del handler.log
        return "".join(lines)


#: What a write to a client that has hung up raises (werkzeug's own list, a module name there).
_CONNECTION_DROPPED: tuple[type[Exception], ...] = (
    ConnectionError,
    socket.timeout,
    ssl.SSLEOFError,
)


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's request handler, speaking HTTP/1.1 with persistent connections."""

    protocol_version = "HTTP/1.1"
    _body: _CountingReader | None = None
    # http.server's buffer of the head being written (`send_header` appends to it).
    _headers_buffer: list[bytes]

    def parse_request(self) -> bool:
        """http.server's `parse_request` for a request line it would take as it is
        (`METHOD target HTTP/1.x`), its head read by `read_head`; any other line goes to
        http.server's own, which answers it as it always has."""
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            return super().parse_request()
        command, path, version = words
        self.command, self.request_version = command, version
        # http.server's guard against an open redirect (gh-87389).
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        self.close_connection = version == "HTTP/1.0"
        try:
            self.headers = read_head(self.rfile)
        except http.client.LineTooLong as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err)
            )
            return False
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if version == "HTTP/1.1" and self.headers.get("Expect", "").lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def run_wsgi(self) -> None:
        length = (self.headers.get("Content-Length") or "0").strip()
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        if chunked or not length.isdigit() or int(length) > DRAIN_LIMIT:
            # werkzeug's own way: Connection: close, and what is left of the body read away.
            self._body = None
            super().run_wsgi()
            self.close_connection = True
            return
        self._body = body = _CountingReader(self.rfile)
        try:
            self._answer()
        except _CONNECTION_DROPPED:
            self.close_connection = True
            return
        left = int(length) - body.consumed
        try:
            while left > 0 and not body.broken:
                chunk = self.rfile.read(min(left, 16384))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            left = -1
        if left or body.broken:
            self.close_connection = True

    def _answer(self) -> None:
        """werkzeug's `run_wsgi` for a body of known length, less two costs of each answer:

        * werkzeug sends the head and the body in two writes; here one. Each socket call lets
          the GIL go, and a client in the same process (a test's) then takes it: the second
          write waited for the client to hand it back.
        * after each answer werkzeug polls the connection for unread body bytes (a selector made,
          registered, polled and closed: four more such calls, and up to 10 ms of waiting for
          the next request); here the body's own count says what is left (`run_wsgi` drains it).

        The rest is werkzeug's: `100 Continue`, the environ, a 500 (logged) for an exception
        escaping the app (EmulatorApp answers every error itself), `Content-Length` or chunking.
        """
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return chunks.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            if self.server.passthrough_errors:
                raise
            self.server.log("error", "Error on request:\n%s", traceback.format_exc())
            chunks.clear()
            chunks.extend(InternalServerError()(environ, start_response))
            self.close_connection = True
        status, headers = started
        code, _, reason = str(status).partition(" ")
        self.send_response(int(code), reason)
        names = set()
        for name, value in headers:
            self.send_header(name, value)
            names.add(name.lower())
        payload = b"".join(chunks)
        if (
            "content-length" not in names
            and self.command != "HEAD"
            and not (100 <= int(code) < 200 or int(code) in (204, 304))
        ):
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            WSGIRequestHandler.send_header(self, "Connection", "close")
        else:
            self.send_header("Connection", "close")  # sent if the body never fully came
        head = b""
        if self.request_version != "HTTP/0.9":  # http.server sends an HTTP/0.9 client no head
            self._headers_buffer.append(b"\r\n")  # end_headers, but written with the body
            head = b"".join(self._headers_buffer)
            self._headers_buffer = []
        self.wfile.write(head + payload)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        if self._body is not None:
            environ["wsgi.input"] = self._body
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # werkzeug builds the access-log line (the path decoded to an IRI, control characters
        # escaped, colours) before it calls `log`, which the emulator's handler makes a no-op:
        # ~50 us of each request. The line is built only if a `log` formats it, as werkzeug would.
        self.log("info", "%s", _AccessLine(self, code, size))

    def send_header(self, keyword: str, value: str) -> None:
        # werkzeug always adds "Connection: close"; it is sent only when the connection will end
        # (a body that never fully came is known by now: the app reads it before answering).
        if keyword.lower() == "connection" and value.lower() == "close":
            body = self._body
            if body is not None and not body.broken:
                return
        super().send_header(keyword, value)


class _ElasticPool:
    """Threads that run one job each at a time, reused while jobs keep coming, never a bound."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]]] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, job: Callable[..., None], *args: Any) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put((job, args))
                return
        threading.Thread(target=self._work, args=(job, args), name=self._name, daemon=True).start()

    def _work(self, job: Callable[..., None], args: tuple[Any, ...]) -> None:
        while True:
            job(*args)
            with self._lock:
                self._idle += 1
            try:
                job, args = self._jobs.get(timeout=IDLE_THREAD_SECONDS)
            except queue.Empty:
                with self._lock:
                    # A job handed over as the wait ended is this thread's (submit counted it).
                    try:
                        job, args = self._jobs.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        return


class PooledWSGIServer(BaseWSGIServer):
    """werkzeug's WSGI server, each connection on a pooled thread; `close_connections` on stop."""

    multithread = True
    daemon_threads = True

    def __init__(self, host: str, port: int, app: Any, handler: type[WSGIRequestHandler]) -> None:
        super().__init__(host, port, app, handler=handler)
        self._pool = _ElasticPool(f"okta-emulator:{self.server_port}")
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        # http.server sends the head and the body in separate writes: on a kept connection Nagle's
        # algorithm would hold the body until the client's delayed ACK (~40 ms an answer).
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._open_lock:
            self._open.add(request)
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
            self.shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection (their threads then see end of stream and return)."""
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
