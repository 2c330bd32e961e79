"""The three bare HTTP requests of a code + PKCE sign-in, shared by the benchmarks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import requests

from pytest_okta_user.emulator import DEMO


class Target(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def issuer(self) -> str: ...


def bare_sign_in(target: Target, http: requests.Session) -> None:
    """POST /api/v1/authn, GET /authorize (sessionToken, prompt=none, S256), POST /token."""
    authn = http.post(
        f"{target.url}/api/v1/authn",
        json={"username": DEMO.user_login, "password": DEMO.user_password},
    )
    authn.raise_for_status()
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    authorize = http.get(
        f"{target.issuer}/v1/authorize",
        params={
            "client_id": DEMO.web_client_id,
            "redirect_uri": DEMO.web_redirect_uri,
            "response_type": "code",
            "scope": "openid profile email",
            "state": "bench",
            "prompt": "none",
            "sessionToken": authn.json()["sessionToken"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    token = http.post(
        f"{target.issuer}/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEMO.web_redirect_uri,
            "code_verifier": verifier,
        },
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
    )
    token.raise_for_status()
    assert "access_token" in token.json()
