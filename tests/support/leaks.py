"""The leak search: :class:`Tap` keeps every secret that crossed an emulator, :func:`find_leaks`
looks for them in what an inner run printed and wrote.

:class:`Tap` wraps the emulator's WSGI app and keeps every value of a secret-bearing field that
crossed it (passwords, client secrets, stateTokens, sessionTokens, codes, PKCE verifiers, access,
ID and refresh tokens), in requests and in answers (JSON, redirects, form_post pages, Basic and
Bearer headers). :func:`find_leaks` then looks for each of them in stdout, stderr, the JUnit XML,
the log file and the test ids: whole, escaped as XML/JSON/URL text, across line breaks, and as any
12-character piece of a long one.

Six-digit TOTP codes are not searched (they would match any number in the output, and expire in
30 s); TOTP secrets are.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote

if TYPE_CHECKING:
    from pytest_okta_user.emulator import OktaEmulator

#: Fields whose values are secrets, wherever they travel (query, form, JSON, HTML inputs).
SECRET_FIELDS = {
    "password": "password",
    "passCode": "TOTP code",
    "stateToken": "stateToken",
    "sessionToken": "sessionToken",
    "code": "authorization code",
    "code_verifier": "PKCE code verifier",
    "access_token": "access token",
    "id_token": "ID token",
    "refresh_token": "refresh token",
    "client_secret": "client secret",
    "token": "token",
}
#: Shorter values are not searched: six-digit TOTP codes would match any number in the output
#: (and a code is worthless after its 30 s step).
MIN_SECRET = 8
#: Pieces of this length of a long secret are searched too: a token may be cut or wrapped.
PIECE = 12


# ---- the tap: every secret that crossed the emulator ---------------------------------------------


class Tap:
    """A WSGI wrapper around an emulator's app, installed before the emulator starts.

    Keeps every secret value that went in or out (:attr:`secrets`: value -> kind), and runs
    per-user actions on the emulator when a request of that user arrives (:attr:`on_authn`,
    :attr:`after_authn`, :attr:`on_code`), so that faults reach the test meant for them whatever
    order pytest runs the inner tests in.
    """

    def __init__(self, okta: OktaEmulator) -> None:
        self.okta = okta
        self.app = okta.app
        self.secrets: dict[str, str] = {}
        self.grants: list[str] = []
        self.on_authn: dict[str, Callable[[], None]] = {}
        self.after_authn: dict[str, Callable[[Mapping[str, Any]], None]] = {}
        self.on_code: dict[str, Callable[[Any], None]] = {}
        self._lock = threading.Lock()
        okta.app = self  # type: ignore[assignment]  # make_server() serves okta.app

    def __getattr__(self, name: str) -> Any:
        # okta.count(), okta.requests and the rest read the wrapped app.
        return getattr(self.app, name)

    def add(self, kind: str, value: str | None) -> None:
        if value and len(value) >= MIN_SECRET:
            with self._lock:
                self.secrets.setdefault(value, kind)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = str(environ.get("PATH_INFO", ""))
        sent = list(request_fields(environ, body))
        for name, value in sent:
            if name in SECRET_FIELDS:
                self.add(SECRET_FIELDS[name], value)
        fields = dict(sent)
        if fields.get("grant_type"):
            with self._lock:
                self.grants.append(fields["grant_type"])
        login = fields.get("username", "") if path.endswith("/api/v1/authn") else ""
        if login in self.on_authn:
            self.on_authn[login]()
        if path.endswith("/v1/token") and fields.get("code"):
            self._code_action(fields["code"])
        headers: list[tuple[str, str]] = []

        def capture(status: str, response_headers: list[tuple[str, str]], *exc: Any) -> Any:
            headers.extend(response_headers)
            return start_response(status, response_headers, *exc)

        answer = b"".join(self.app(environ, capture))
        answered = list(response_fields(headers, answer))
        for name, value in answered:
            self.add(SECRET_FIELDS[name], value)
        if login in self.after_authn:
            self.after_authn[login](dict(answered))
        return [answer]

    def _code_action(self, code: str) -> None:
        org = self.okta.org
        with org.lock:
            record = org.codes.get(code)
            user = org.user(record.user_id) if record is not None else None
            action = self.on_code.get(user.login) if user is not None else None
            if action is not None:
                action(record)


def request_fields(environ: Mapping[str, Any], body: bytes) -> Iterator[tuple[str, str]]:
    yield from parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    kind = str(environ.get("CONTENT_TYPE", ""))
    text = body.decode("utf-8", "replace")
    if "json" in kind:
        yield from _json_fields(_json(text))
    elif "form" in kind:
        yield from parse_qsl(text, keep_blank_values=True)
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() == "basic":
        decoded = base64.b64decode(credentials + "==").decode("utf-8", "replace")
        yield "client_secret", unquote(decoded.partition(":")[2])
    elif scheme.lower() == "bearer":
        yield "access_token", credentials


def response_fields(headers: Iterable[tuple[str, str]], body: bytes) -> Iterator[tuple[str, str]]:
    for name, value in headers:
        if name.lower() == "location":
            _, _, rest = value.partition("?")
            query, _, fragment = rest.partition("#")
            if "#" in value and "?" not in value.split("#")[0]:
                query, fragment = "", value.partition("#")[2]
            for part in (query, fragment):
                for key, item in parse_qsl(part, keep_blank_values=True):
                    if key in SECRET_FIELDS:
                        yield key, item
    text = body.decode("utf-8", "replace")
    yield from ((k, v) for k, v in _json_fields(_json(text)) if k in SECRET_FIELDS)
    for tag in re.findall(r"<input\b[^>]*>", text):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        if attrs.get("name") in SECRET_FIELDS:
            yield attrs["name"], html.unescape(attrs.get("value", ""))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_fields(data: Any) -> Iterator[tuple[str, str]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(value, str):
                yield str(key), value
            else:
                yield from _json_fields(value)
    elif isinstance(data, list):
        for item in data:
            yield from _json_fields(item)


# ---- the search ----------------------------------------------------------------------------------


def _forms(secret: str) -> set[str]:
    """How a secret can be written out: as is, escaped as XML, JSON, a repr or a URL, or in
    base64 (standard and URL-safe, with and without padding)."""
    encoded = base64.b64encode(secret.encode()).decode()
    return {
        secret,
        html.escape(secret, quote=True),
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        encoded,
        encoded.rstrip("="),
        base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }


def basic_credentials(client_id: str, secret: str) -> dict[str, str]:
    """The Basic header values a client secret travels in (RFC 7617, and RFC 6749 section 2.3.1's
    form-urlencoded variant), to be searched for as secrets of their own."""
    found = {}
    for user, password in ((client_id, secret), (quote_plus(client_id), quote_plus(secret))):
        found[base64.b64encode(f"{user}:{password}".encode()).decode()] = "client secret (Basic)"
    return found


def find_leaks(secrets: Mapping[str, str], outputs: Mapping[str, str]) -> list[str]:
    """``"<kind> in <output>"`` for each secret found in an output, whole or as a piece.

    ``secrets``: value -> kind. White space is taken out of the outputs first, so a secret wrapped
    over lines is still found whole; secrets of 16 characters or more are also looked for as each
    of their 12-character pieces.
    """
    found: list[str] = []
    for where, text in outputs.items():
        squeezed = re.sub(r"\s+", "", text)
        pieces = {squeezed[i : i + PIECE] for i in range(len(squeezed) - PIECE + 1)}
        for secret, kind in secrets.items():
            forms = _forms(secret)
            if any(form in squeezed for form in forms):
                found.append(f"{kind} in {where}")
            elif len(secret) >= 16 and any(
                cut[i : i + PIECE] in pieces
                for cut in map(_searched_part, forms)
                for i in range(len(cut) - PIECE + 1)
            ):
                found.append(f"{kind} in {where} (a piece)")
    return found


def _searched_part(secret: str) -> str:
    """What pieces are taken from: a JWT's header is left out (it is the same for every token of
    a key: a leaked access token would otherwise count as a leaked ID token too)."""
    header, dot, rest = secret.partition(".")
    return rest if header.startswith("eyJ") and dot and rest.count(".") == 1 else secret
