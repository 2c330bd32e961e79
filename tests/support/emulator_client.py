"""The emulator's test client: a small, independent Okta client over real HTTP on loopback.

Deliberately not the plugin's client: the emulator is checked against what Okta documents, so
these helpers speak the wire format directly. Imported by tests as `support.emulator_client`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from werkzeug.test import Client as WsgiClient

from pytest_okta_user.emulator import DEMO, OktaEmulator


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def half_hash(value: str) -> str:
    """OIDC at_hash / c_hash for RS256: base64url of the left half of SHA-256 of the ASCII value."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def location_params(response: requests.Response) -> dict[str, str]:
    """The parameters of a redirect, from its query or its fragment."""
    location = response.headers["Location"]
    parts = urlsplit(location)
    raw = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def form_params(page: str) -> dict[str, str]:
    """The hidden inputs of a form_post page."""
    return {
        html.unescape(m.group(1)): html.unescape(m.group(2))
        for m in re.finditer(r'<input type="hidden" name="([^"]*)" value="([^"]*)"/>', page)
    }


@dataclass
class Client:
    """A headless client for one emulator: authn, authorize, token."""

    okta: OktaEmulator
    http: requests.Session

    @property
    def verify(self) -> str | bool:
        # Per request, not Session.verify: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from
        # the environment override a session-level verify.
        return self.okta.ca_file or True

    def authn(
        self, username: str = DEMO.user_login, password: str = DEMO.user_password
    ) -> requests.Response:
        return self.http.post(
            f"{self.okta.url}/api/v1/authn",
            json={"username": username, "password": password},
            verify=self.verify,
        )

    def session_token(
        self, username: str = DEMO.user_login, password: str = DEMO.user_password
    ) -> str:
        response = self.authn(username, password)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "SUCCESS", response.json()
        return str(response.json()["sessionToken"])

    def authorize(self, server: str = "default", **params: Any) -> requests.Response:
        base = (
            f"{self.okta.url}/oauth2/v1"
            if server == "org"
            else f"{self.okta.url}/oauth2/{server}/v1"
        )
        query: dict[str, Any] = {
            "client_id": DEMO.web_client_id,
            "redirect_uri": DEMO.web_redirect_uri,
            "response_type": "code",
            "scope": "openid profile email",
            "state": "state-123",
        }
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        return self.http.get(
            f"{base}/authorize", params=query, allow_redirects=False, verify=self.verify
        )

    def token(
        self,
        server: str = "default",
        auth: tuple[str, str] | None = (DEMO.web_client_id, DEMO.web_client_secret),
        **data: Any,
    ) -> requests.Response:
        base = (
            f"{self.okta.url}/oauth2/v1"
            if server == "org"
            else f"{self.okta.url}/oauth2/{server}/v1"
        )
        return self.http.post(f"{base}/token", data=data, auth=auth, verify=self.verify)

    def code(
        self,
        server: str = "default",
        scope: str = "openid profile email",
        verifier: str | None = None,
        **params: Any,
    ) -> str:
        """A fresh authorization code for the demo user (sessionToken, prompt=none)."""
        extra: dict[str, Any] = {}
        if verifier is not None:
            extra = {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
        params.setdefault("sessionToken", self.session_token())
        response = self.authorize(server, scope=scope, prompt="none", **extra, **params)
        assert response.status_code == 302, response.text
        values = location_params(response)
        assert "code" in values, values
        return values["code"]

    def tokens(
        self, server: str = "default", scope: str = "openid profile email"
    ) -> dict[str, Any]:
        """Code + PKCE exchange for the demo web app."""
        verifier, _ = pkce_pair()
        return self.redeem(self.code(server, scope=scope, verifier=verifier), verifier, server)

    def redeem(self, code: str, verifier: str, server: str = "default") -> dict[str, Any]:
        """The demo web app's /token answer for ``code`` (it must succeed)."""
        response = self.token(
            server,
            grant_type="authorization_code",
            code=code,
            redirect_uri=DEMO.web_redirect_uri,
            code_verifier=verifier,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_in_wsgi(okta: OktaEmulator, http: WsgiClient) -> None:
    """A complete code+PKCE sign-in through the WSGI app itself (no sockets): for measuring the
    emulator's own state and memory (tests/emulator/test_emulator_under_load.py,
    benchmarks/bench_memory.py)."""
    authn = http.post(
        f"{okta.url}/api/v1/authn",
        json={"username": DEMO.user_login, "password": DEMO.user_password},
    )
    verifier, challenge = pkce_pair()
    authorize = http.get(
        f"{okta.issuer}/v1/authorize",
        query_string={
            "client_id": DEMO.web_client_id,
            "redirect_uri": DEMO.web_redirect_uri,
            "response_type": "code",
            "scope": "openid profile email",
            "state": "s",
            "prompt": "none",
            "sessionToken": authn.json["sessionToken"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    token = http.post(
        f"{okta.issuer}/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEMO.web_redirect_uri,
            "code_verifier": verifier,
        },
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
    )
    assert token.status_code == 200, token.text
