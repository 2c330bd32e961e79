"""The emulator's throughput floor: a bare werkzeug app answering the three requests of a
sign-in (authn, authorize, token) with constant, Okta-shaped answers, on werkzeug's own threaded
development server. bench_emulator.py drives it with the same client loop as the emulator.

`BareServer(signing=True)`: the same, but its /token answer holds an access token and an ID token
signed RS256 with an RSA-2048 key, as Okta's are (two signatures a sign-in, the emulator's
unavoidable work: every token is new): a second floor, that says what is left once the
cryptography both must do is counted on both sides.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        return None


def _app(
    environ: dict[str, Any], start_response: Any, *, sign: Callable[[str], str] | None = None
) -> Iterable[bytes]:
    request = Request(environ)
    request.get_data()
    if request.path == "/api/v1/authn":
        response = Response(
            json.dumps({"status": "SUCCESS", "sessionToken": "20111bare"}),
            content_type="application/json",
        )
    elif request.path.endswith("/v1/authorize"):
        redirect = request.args.get("redirect_uri", "http://localhost/cb")
        response = Response(status=302, headers={"Location": f"{redirect}?code=bare&state=bench"})
    else:
        answer = {"access_token": "bare", "token_type": "Bearer", "expires_in": 3600}
        if sign is not None:
            answer["access_token"] = sign("api://default")
            answer["id_token"] = sign("0oabench")
        response = Response(json.dumps(answer), content_type="application/json")
    return response(environ, start_response)


def _signer() -> Callable[[str], str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def sign(audience: str) -> str:
        now = int(time.time())
        claims = {"jti": uuid.uuid4().hex, "iss": "bench", "aud": audience, "iat": now}
        return jwt.encode({**claims, "exp": now + 3600}, key, "RS256", headers={"kid": "bench"})

    return sign


class BareServer:
    def __init__(self, *, signing: bool = False) -> None:
        app = functools.partial(_app, sign=_signer() if signing else None)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.issuer = f"{self.url}/oauth2/default"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> BareServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
