"""The emulator under load: connections kept alive (and ended on stop), keys made once in the
background, records and the request log bounded by count however many sign-ins (no timing)."""

from __future__ import annotations

import json
import socket
import threading

from support.emulator_client import sign_in_wsgi
from werkzeug.test import Client

from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.emulator.faults import RequestLog
from pytest_okta_user.emulator.keys import KeyStore
from pytest_okta_user.emulator.model import Org

PATIENCE = 10.0


def read_answer(connection: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 answer framed by its Content-Length: status line, headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, f"connection closed mid-answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        body += connection.recv(65536)
    return status, headers, body


def get(path: str, port: int, host: str = "127.0.0.1") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


def test_requests_share_one_connection(okta: OktaEmulator) -> None:
    with socket.create_connection(("127.0.0.1", okta.port), timeout=PATIENCE) as connection:
        for _ in range(3):
            connection.sendall(get("/oauth2/default/.well-known/openid-configuration", okta.port))
            status, headers, body = read_answer(connection)
            assert status.startswith("HTTP/1.1 200")
            assert headers.get("connection", "").lower() != "close"
            assert json.loads(body)["issuer"] == okta.issuer


def test_a_body_the_answer_did_not_need_is_skipped_not_read_as_a_request(
    okta: OktaEmulator,
) -> None:
    # A refused Host is answered before the body is read: the body must not become the next
    # request line on a kept connection.
    smuggled = get("/api/v1/authn", okta.port)
    refused = (
        f"POST /api/v1/authn HTTP/1.1\r\nHost: evil.example\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(smuggled)}\r\n\r\n"
    ).encode() + smuggled
    with socket.create_connection(("127.0.0.1", okta.port), timeout=PATIENCE) as connection:
        connection.sendall(refused)
        assert read_answer(connection)[0].startswith("HTTP/1.1 400")
        connection.sendall(get("/oauth2/default/v1/keys", okta.port))
        status, _, body = read_answer(connection)
        assert status.startswith("HTTP/1.1 200")
        assert json.loads(body)["keys"]
    assert okta.count("authn") == 1  # the refused one; the smuggled GET never ran
    assert okta.count("keys") == 1


def test_a_chunked_body_ends_the_connection(okta: OktaEmulator) -> None:
    request = (
        f"POST /api/v1/authn HTTP/1.1\r\nHost: 127.0.0.1:{okta.port}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\n{}\r\n0\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", okta.port), timeout=PATIENCE) as connection:
        connection.sendall(request)
        _, headers, _ = read_answer(connection)
        assert headers.get("connection", "").lower() == "close"


def test_stop_ends_kept_connections() -> None:
    okta = OktaEmulator().start()
    with socket.create_connection(("127.0.0.1", okta.port), timeout=PATIENCE) as connection:
        connection.sendall(get("/oauth2/default/v1/keys", okta.port))
        assert read_answer(connection)[0].startswith("HTTP/1.1 200")
        okta.stop()
        # A stopped emulator answers nothing more on a connection it had kept.
        assert connection.recv(1024) == b""


def test_keys_are_made_once_whoever_asks_first() -> None:
    store = KeyStore()
    makers = store.prepare(["as:default", "next:as:default"])
    got: list[object] = []
    askers = [
        threading.Thread(target=lambda: got.append(store.get("as:default"))) for _ in range(4)
    ]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    for maker in makers:
        maker.join()
    assert len({id(key) for key in got}) == 1
    assert store.get("as:default") is got[0]
    assert store.by_kid(store.get("next:as:default").kid) is not None


def test_start_makes_the_keys_a_first_sign_in_needs() -> None:
    okta = OktaEmulator()
    assert okta.org.first_sign_in_keys() == ["as:default", "next:as:default"]


def test_records_stay_bounded_by_count_over_many_sign_ins() -> None:
    # The WSGI app directly (no sockets: the stores are what is measured), the clock moving a
    # minute per sign-in: an access token lives an hour, so about 60 stay alive at any time.
    okta = OktaEmulator(rate_limits=False)
    http = Client(okta.app)
    sign_ins = 1200
    for _ in range(sign_ins):
        sign_in_wsgi(okta, http)
        okta.clock.advance(60)
    counts = okta.org.record_counts()
    alive = 3600 // 60
    bound = alive + Org.SWEEP_EVERY
    assert counts["access_tokens"] <= bound, counts
    assert counts["codes"] <= Org.SWEEP_EVERY, counts
    assert counts["session_tokens"] <= Org.SWEEP_EVERY, counts
    assert sum(counts.values()) <= 3 * bound, counts
    # The request log keeps its last records, and exact counts of all.
    assert okta.count("authn") == sign_ins
    assert okta.count("token") == sign_ins
    assert len(okta.requests) == min(3 * sign_ins, RequestLog.KEPT)


def test_a_used_code_and_session_token_are_refused_as_before(okta: OktaEmulator) -> None:
    # Dropping used records must not change answers: a used sessionToken and code are refused.
    http = Client(okta.app)
    authn = http.post(
        f"{okta.url}/api/v1/authn",
        json={"username": DEMO.user_login, "password": DEMO.user_password},
    )
    token = authn.json["sessionToken"]
    assert okta.org.redeem_session_token(token) is not None
    assert okta.org.redeem_session_token(token) is None
