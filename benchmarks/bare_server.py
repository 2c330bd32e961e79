"""The emulator's throughput floor: a bare werkzeug app answering the three requests of a
sign-in (authn, authorize, token) with constant, Okta-shaped answers, on werkzeug's own threaded
development server. bench_emulator.py drives it with the same client loop as the emulator.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        return None


def _app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
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
        response = Response(
            json.dumps({"access_token": "bare", "token_type": "Bearer", "expires_in": 3600}),
            content_type="application/json",
        )
    return response(environ, start_response)


class BareServer:
    def __init__(self) -> None:
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, _app, threaded=True, request_handler=_Quiet
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
