"""Helpers shared by the core tests that sign in against the emulator (tests/core/test_flows_*):
the demo variants and credentials, a recording session, and checks of a user's tokens.

Expectations come from Okta's documented behaviour (cited where used), never from the emulator's
code.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyotp
import pytest
import requests

from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.flows import exchange
from pytest_okta_user.redact import Credentials
from pytest_okta_user.tokens import TokenSet, Variant

SCOPES = ("openid", "profile", "email")
REDIRECT_URI = "http://localhost:8080/plus/callback"


def web(okta: OktaEmulator, flow: str = "code", *, issuer: str | None = None, **kw: Any) -> Variant:
    fields: dict[str, Any] = {
        "issuer": issuer or okta.issuer,
        "client_id": DEMO.web_client_id,
        "user": DEMO.user_login,
        "flow": flow,
        "scopes": SCOPES,
        "redirect_uri": DEMO.web_redirect_uri,
    }
    fields.update(kw)
    return Variant(**fields)


def spa(okta: OktaEmulator, **kw: Any) -> Variant:
    fields: dict[str, Any] = {
        "client_id": DEMO.spa_client_id,
        "redirect_uri": DEMO.spa_redirect_uri,
    }
    fields.update(kw)
    return web(okta, "pkce", **fields)


WEB_CREDS = Credentials(password=DEMO.user_password, client_secret=DEMO.web_client_secret)
SPA_CREDS = Credentials(password=DEMO.user_password)


class Recorder(requests.Session):
    """A real session that keeps what was sent and answered, so tests can see the parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[requests.PreparedRequest, requests.Response]] = []
        self.attempts: list[str] = []

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        self.attempts.append(urlsplit(request.url or "").path)
        response = super().send(request, **kw)
        self.sent.append((request, response))
        return response

    def sent_params(self, path_end: str) -> dict[str, str]:
        """The query (GET) or form body (POST) of the first request whose path ends so."""
        for request, _ in self.sent:
            parts = urlsplit(request.url or "")
            if parts.path.endswith(path_end):
                if request.method == "GET":
                    return dict(parse_qsl(parts.query))
                body = request.body or ""
                return dict(parse_qsl(body if isinstance(body, str) else body.decode()))
        raise AssertionError(f"no request to {path_end}")

    def sent_headers(self, path_end: str) -> dict[str, str]:
        for request, _ in self.sent:
            if urlsplit(request.url or "").path.endswith(path_end):
                return dict(request.headers)
        raise AssertionError(f"no request to {path_end}")


def run(okta: OktaEmulator, variant: Variant, creds: Credentials, **kw: Any) -> TokenSet:
    kw.setdefault("clock", okta.clock)
    kw.setdefault("sleep", okta.clock.advance)
    return exchange(variant, creds, **kw)


def check_user_tokens(okta: OktaEmulator, tokens: TokenSet, variant: Variant) -> None:
    now = okta.clock()
    assert tokens.token_type == "Bearer"
    assert tokens.access_token
    assert now - 5 <= tokens.obtained_at <= now
    assert tokens.expires_at == pytest.approx(tokens.obtained_at + 3600, abs=1)
    assert set(tokens.scopes) == set(variant.scopes)
    assert tokens.user["profile"]["login"] == DEMO.user_login
    assert tokens.user["id"] == DEMO.user_id
    assert tokens.id_claims["aud"] == variant.client_id
    assert tokens.id_claims["iss"] == variant.issuer
    assert tokens.id_claims["sub"] == DEMO.user_id
    assert tokens.access_claims["iss"] == variant.issuer
    # amr, idp, auth_time always; user access tokens carry uid and cid
    # (https://developer.okta.com/docs/reference/api/oidc/#tokens-and-claims).
    assert "pwd" in tokens.id_claims["amr"]
    assert tokens.id_claims["auth_time"] <= now
    assert tokens.id_claims["idp"]
    assert tokens.access_claims["uid"] == DEMO.user_id
    assert tokens.access_claims["cid"] == variant.client_id


MFA_LOGIN = "mfa@example.com"
MFA_PASSWORD = "Mfa-Passw0rd!"


def mfa_user(okta: OktaEmulator) -> str:
    secret = pyotp.random_base32()
    okta.org.add_user(MFA_LOGIN, MFA_PASSWORD, totp_secret=secret)
    return secret


def sent_values(session: Recorder, path_end: str, key: str) -> list[str]:
    """``key`` of every request whose path ends so (query for GET, form body for POST)."""
    values = []
    for request, _ in session.sent:
        parts = urlsplit(request.url or "")
        if parts.path.endswith(path_end):
            raw = parts.query if request.method == "GET" else request.body or ""
            params = dict(parse_qsl(raw if isinstance(raw, str) else raw.decode()))
            values.append(params[key])
    return values


class WaitingClock:
    """The injected sleep: records each wait and moves the emulator's (frozen) clock by it."""

    def __init__(self, okta: OktaEmulator) -> None:
        okta.clock.freeze(at=float(int(okta.clock())))  # whole seconds, as Okta's reset
        self.okta = okta
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.okta.clock.advance(seconds)
