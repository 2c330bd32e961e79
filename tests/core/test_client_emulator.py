"""OktaClient step by step against the emulator (real HTTP on loopback), and the redaction of
secrets from messages, logs and traceback locals."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import jwt
import pyotp
import pytest
import requests

from pytest_okta_user import diagnosis as d
from pytest_okta_user import errors as e
from pytest_okta_user.client import ClientAuth, HttpOptions, OktaClient
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.flows import exchange, pkce_pair
from pytest_okta_user.redact import Credentials
from pytest_okta_user.tokens import Variant
from pytest_okta_user.verify import KeySet, verify_id_token


def at(issuer: str) -> Variant:
    """A variant of the demo web app at ``issuer``, for its endpoints."""
    return Variant(
        issuer, DEMO.web_client_id, DEMO.user_login, "code", ("openid",), DEMO.web_redirect_uri
    )


@pytest.fixture
def client(okta: OktaEmulator) -> Iterator[OktaClient]:
    with OktaClient(okta.url, sleep=okta.clock.advance, clock=okta.clock) as c:
        yield c


def session_token(client: OktaClient) -> str:
    answer = client.authn(DEMO.user_login, DEMO.user_password)
    assert answer["status"] == "SUCCESS"
    return str(answer["sessionToken"])


def authorize_code(
    okta: OktaEmulator, client: OktaClient, *, challenge: str | None = None, **extra: str
) -> str:
    params = {
        "client_id": DEMO.web_client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": DEMO.web_redirect_uri,
        "state": "state-1",
        "nonce": "nonce-1",
        "prompt": "none",
        "sessionToken": session_token(client),
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    result = client.authorize(at(okta.issuer).authorize_url, params)
    assert result.mode == "query"
    assert result.params["state"] == "state-1"
    return str(result.params["code"])


WEB_AUTH = ClientAuth(DEMO.web_client_id, DEMO.web_client_secret)


def redeem(okta: OktaEmulator, client: OktaClient, code: str, **extra: str) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO.web_redirect_uri}
    form.update(extra)
    return client.token(at(okta.issuer).token_url, form, WEB_AUTH)


def test_discovery_and_keys(okta: OktaEmulator, client: OktaClient) -> None:
    for issuer in (okta.url, okta.issuer):
        meta = client.discovery(issuer)
        assert meta["issuer"] == issuer
        assert meta["authorization_endpoint"] == at(issuer).authorize_url
        assert meta["token_endpoint"] == at(issuer).token_url
        assert meta["jwks_uri"] == at(issuer).keys_url
        keys = client.keys(meta["jwks_uri"])
        assert keys["keys"]
        assert all(k["kty"] == "RSA" and k["kid"] for k in keys["keys"])


@pytest.mark.parametrize("server", ["org", "custom"])
def test_the_id_token_key_is_chosen_by_kid(
    okta: OktaEmulator, client: OktaClient, server: str
) -> None:
    # The JWKS holds several keys in no particular order; only the kid says which signed
    # (https://developer.okta.com/docs/concepts/key-rotation/).
    issuer = okta.url if server == "org" else okta.issuer
    published = client.keys(at(issuer).keys_url)["keys"]
    assert len(published) >= 2
    tokens = exchange(
        Variant(
            issuer, DEMO.web_client_id, DEMO.user_login, "code", ("openid",), DEMO.web_redirect_uri
        ),
        Credentials(password=DEMO.user_password, client_secret=DEMO.web_client_secret),
        clock=okta.clock,
    )
    assert tokens.id_token is not None
    kid = jwt.get_unverified_header(tokens.id_token)["kid"]
    assert published[0]["kid"] != kid  # taking the first key would fail
    keys = KeySet()
    keys.load(client.keys(at(issuer).keys_url))
    claims = verify_id_token(
        tokens.id_token,
        issuer=issuer,
        client_id=DEMO.web_client_id,
        keys=keys,
        clock=okta.clock,
    )
    assert claims["sub"] == DEMO.user_id
    others = KeySet()
    others.load({"keys": [k for k in published if k["kid"] != kid]})
    with pytest.raises(e.TokenVerificationError, match="not in the issuer's JWKS"):
        verify_id_token(
            tokens.id_token,
            issuer=issuer,
            client_id=DEMO.web_client_id,
            keys=others,
            clock=okta.clock,
        )


def test_code_is_single_use(okta: OktaEmulator, client: OktaClient) -> None:
    code = authorize_code(okta, client)
    assert redeem(okta, client, code)["access_token"]
    with pytest.raises(e.InvalidGrant) as info:
        redeem(okta, client, code)
    assert info.value.status == 400
    assert "The authorization code is invalid or has expired." in str(info.value)
    assert "5 minutes" in str(info.value)
    assert code not in str(info.value)


def test_code_expires_after_five_minutes(okta: OktaEmulator, client: OktaClient) -> None:
    code = authorize_code(okta, client)
    okta.clock.advance(301)
    with pytest.raises(e.InvalidGrant, match="invalid or has expired"):
        redeem(okta, client, code)


def test_pkce_verifier_mismatch(okta: OktaEmulator, client: OktaClient) -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = authorize_code(okta, client, challenge=challenge)
    with pytest.raises(e.InvalidGrant) as info:
        redeem(okta, client, code, code_verifier=other_verifier)
    assert "PKCE verification failed." in str(info.value)
    assert "code_verifier" in str(info.value)


def test_redirect_uri_mismatch_at_token(okta: OktaEmulator, client: OktaClient) -> None:
    code = authorize_code(okta, client)
    with pytest.raises(e.InvalidGrant) as info:
        redeem(okta, client, code, redirect_uri="http://localhost:8080/elsewhere")
    assert d.REDIRECT_URI in str(info.value)


def test_session_token_is_single_use(okta: OktaEmulator, client: OktaClient) -> None:
    token = session_token(client)
    params = {
        "client_id": DEMO.web_client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": DEMO.web_redirect_uri,
        "state": "s",
        "prompt": "none",
        "sessionToken": token,
    }
    url = at(okta.issuer).authorize_url
    assert "code" in client.authorize(url, params).params
    # A fresh client has no session cookie: only the (used) sessionToken could sign it in.
    with OktaClient(okta.url) as fresh:
        answer = fresh.authorize(url, params).params
    assert answer["error"] == "login_required"
    assert answer["state"] == "s"


def test_session_token_expires_after_five_minutes(okta: OktaEmulator, client: OktaClient) -> None:
    token = session_token(client)
    okta.clock.advance(301)
    params = {
        "client_id": DEMO.web_client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": DEMO.web_redirect_uri,
        "state": "s",
        "prompt": "none",
        "sessionToken": token,
    }
    assert client.authorize(at(okta.issuer).authorize_url, params).params["error"] == (
        "login_required"
    )


def test_sign_in_page_without_prompt_none(okta: OktaEmulator, client: OktaClient) -> None:
    # No session and no prompt=none: a 200 sign-in page without Location
    # (https://developer.okta.com/docs/reference/api/oidc/#authorize, "prompt").
    params = {
        "client_id": DEMO.web_client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": DEMO.web_redirect_uri,
        "state": "s",
    }
    with pytest.raises(e.LoginRequired) as info:
        client.authorize(at(okta.issuer).authorize_url, params)
    assert "sign-in page" in str(info.value)
    assert info.value.status == 200


def test_login_required_redirect_with_prompt_none(okta: OktaEmulator, client: OktaClient) -> None:
    params = {
        "client_id": DEMO.web_client_id,
        "response_type": "code",
        "response_mode": "form_post",
        "scope": "openid",
        "redirect_uri": DEMO.web_redirect_uri,
        "state": "s",
        "prompt": "none",
    }
    result = client.authorize(at(okta.issuer).authorize_url, params)
    assert result.mode == "form_post"
    assert result.params["error"] == "login_required"
    assert result.params["state"] == "s"


def test_no_session_cookie_reaches_authorize(okta: OktaEmulator) -> None:
    """With an Okta session cookie, Classic ignores the sessionToken, so a reused session would
    sign the second user in as the first (https://developer.okta.com/docs/guides/session-cookie/main/)."""
    okta.org.add_user("second@example.com", "Second-Passw0rd!")
    session = CookieWatcher()
    logins = []
    for user, password in [
        (DEMO.user_login, DEMO.user_password),
        ("second@example.com", "Second-Passw0rd!"),
    ]:
        variant = Variant(
            okta.issuer, DEMO.spa_client_id, user, "pkce", ("openid",), DEMO.spa_redirect_uri
        )
        tokens = exchange(
            variant, Credentials(password=password), clock=okta.clock, session=session
        )
        logins.append(tokens.access_claims["sub"])
    assert logins == [DEMO.user_login, "second@example.com"]
    assert "sid" in session.cookies_received
    assert session.authorize_cookies == ["", ""]


class CookieWatcher(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.authorize_cookies: list[str] = []
        self.cookies_received: set[str] = set()

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        if "/authorize" in (request.url or ""):
            self.authorize_cookies.append(request.headers.get("Cookie", ""))
        response = super().send(request, **kw)
        self.cookies_received.update(response.cookies.keys())
        return response


def test_verify_factor_by_href(okta: OktaEmulator, client: OktaClient) -> None:
    secret = pyotp.random_base32()
    okta.org.add_user("mfa@example.com", "Mfa-Passw0rd!", totp_secret=secret)
    answer = client.authn("mfa@example.com", "Mfa-Passw0rd!")
    assert answer["status"] == "MFA_REQUIRED"
    factor = answer["_embedded"]["factors"][0]
    assert factor["factorType"] == "token:software:totp"
    href = factor["_links"]["verify"]["href"]
    with pytest.raises(e.InvalidPasscode):
        client.verify_factor(
            href,
            answer["stateToken"],
            "000000" if pyotp.TOTP(secret).at(okta.clock()) != "000000" else "111111",
        )
    done = client.verify_factor(href, answer["stateToken"], pyotp.TOTP(secret).at(okta.clock()))
    assert done["status"] == "SUCCESS"
    assert done["sessionToken"]


def test_5xx_on_token_with_a_code_is_not_retried(okta: OktaEmulator, client: OktaClient) -> None:
    code = authorize_code(okta, client)
    okta.faults.add("token", status=503)
    with pytest.raises(e.UnexpectedResponse, match="503"):
        redeem(okta, client, code)
    assert okta.count("token") == 1


def test_5xx_on_client_credentials_is_retried(okta: OktaEmulator) -> None:
    okta.faults.add("token", status=500)
    sleeps: list[float] = []
    with OktaClient(okta.url, sleep=sleeps.append, clock=okta.clock) as c:
        answer = c.token(
            at(okta.issuer).token_url,
            {"grant_type": "client_credentials", "scope": "api:read"},
            ClientAuth(DEMO.service_client_id, DEMO.service_client_secret),
        )
    assert answer["access_token"]
    assert okta.count("token") == 2
    assert sleeps == [0.5]


def test_5xx_on_authn_is_not_retried(okta: OktaEmulator, client: OktaClient) -> None:
    okta.faults.add("authn", status=503)
    with pytest.raises(e.UnexpectedResponse, match="503"):
        client.authn(DEMO.user_login, DEMO.user_password)
    assert okta.count("authn") == 1


def test_retries_exhausted_on_keys(okta: OktaEmulator) -> None:
    okta.faults.add("keys", status=503, times=5)
    sleeps: list[float] = []
    with (
        OktaClient(okta.url, sleep=sleeps.append, http=HttpOptions(retries=2)) as c,
        pytest.raises(e.UnexpectedResponse, match="503"),
    ):
        c.keys(at(okta.url).keys_url)
    assert okta.count("keys") == 3
    assert sleeps == [0.5, 1.0]


def test_tls_without_the_ca_then_with_it() -> None:
    with OktaEmulator(tls=True) as okta:
        variant = Variant(
            okta.issuer,
            DEMO.spa_client_id,
            DEMO.user_login,
            "pkce",
            ("openid",),
            DEMO.spa_redirect_uri,
        )
        creds = Credentials(password=DEMO.user_password)
        with pytest.raises(e.TlsError) as info:
            exchange(variant, creds, clock=okta.clock, http=HttpOptions(retries=0))
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
        assert "REQUESTS_CA_BUNDLE" in str(info.value)
        assert okta.count("authn") == 0
        tokens = exchange(
            variant, creds, clock=okta.clock, http=HttpOptions(ca_bundle=okta.ca_file)
        )
        assert tokens.access_token


# --- redaction ------------------------------------------------------------------------------------


class Recorder(requests.Session):
    """Collects every secret value that crossed the wire (sent or answered)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(request.url or "")
        found = dict(parse_qsl(parts.query))
        body = request.body
        if isinstance(body, bytes):
            body = body.decode()
        if body and body.startswith("{"):
            found.update({k: v for k, v in json.loads(body).items() if isinstance(v, str)})
        elif body:
            found.update(parse_qsl(body))
        response = super().send(request, **kw)
        location = response.headers.get("Location", "")
        found.update(parse_qsl(urlsplit(location).query))
        found.update(parse_qsl(urlsplit(location).fragment))
        with contextlib.suppress(ValueError):
            found.update({k: v for k, v in response.json().items() if isinstance(v, str)})
        for key in (
            "sessionToken",
            "stateToken",
            "code",
            "code_verifier",
            "access_token",
            "id_token",
            "refresh_token",
            "password",
            "client_secret",
            "passCode",
        ):
            if found.get(key):
                self.secrets.add(found[key])
        return response


def _frame_locals(tb: TracebackType | None) -> Iterator[tuple[str, str]]:
    """The locals of our frames in a traceback, as --showlocals would show them."""
    while tb is not None:
        if "pytest_okta_user" in tb.tb_frame.f_code.co_filename:
            for name, value in tb.tb_frame.f_locals.items():
                yield f"{tb.tb_frame.f_code.co_name}.{name}", repr(value)
        tb = tb.tb_next


def _assert_clean(text: str, secrets: set[str]) -> None:
    for secret in secrets:
        assert secret not in text


MFA_SECRET = pyotp.random_base32()
MFA_PASSWORD = "Mfa-Passw0rd-redact!"
CLIENT_SECRET = DEMO.web_client_secret


def _mfa_setup(okta: OktaEmulator) -> tuple[Variant, Credentials]:
    okta.org.add_user("redact@example.com", MFA_PASSWORD, totp_secret=MFA_SECRET)
    variant = Variant(
        okta.issuer,
        DEMO.web_client_id,
        "redact@example.com",
        "pkce",
        ("openid", "profile", "offline_access"),
        DEMO.web_redirect_uri,
    )
    return variant, Credentials(
        password=MFA_PASSWORD, client_secret=CLIENT_SECRET, totp_secret=MFA_SECRET
    )


def test_logs_carry_no_secrets(okta: OktaEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    variant, creds = _mfa_setup(okta)
    session = Recorder()
    tokens = exchange(variant, creds, clock=okta.clock, session=session)
    secrets = session.secrets | {MFA_PASSWORD, CLIENT_SECRET, MFA_SECRET}
    assert len(session.secrets) >= 8  # password, stateToken, sessionToken, code, verifier, tokens
    assert tokens.refresh_token in secrets
    ours = [r for r in caplog.records if r.name == "pytest_okta_user"]
    assert {r.getMessage().split()[0] for r in ours} >= {"GET", "POST"}
    assert any("/api/v1/authn -> 200" in r.getMessage() for r in ours)
    # urllib3 logs request lines at DEBUG: present, but without their query strings.
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    _assert_clean(caplog.text, secrets)
    _assert_clean(repr(tokens) + repr(creds) + str(tokens), secrets)


def test_traceback_locals_carry_no_secrets(okta: OktaEmulator) -> None:
    """What --showlocals would show for an error once sessionToken, code and verifier exist."""
    variant, creds = _mfa_setup(okta)
    okta.faults.add(
        "token",
        status=400,
        body={"error": "invalid_grant", "error_description": "PKCE verification failed."},
    )
    session = Recorder()
    with pytest.raises(e.InvalidGrant) as info:
        exchange(variant, creds, clock=okta.clock, session=session)
    secrets = session.secrets | {MFA_PASSWORD, CLIENT_SECRET, MFA_SECRET}
    assert len(session.secrets) >= 5
    seen = list(_frame_locals(info.tb))
    assert any(name.startswith("_browser_flow.") for name, _ in seen)
    for name, text in seen:
        for secret in secrets:
            assert secret not in text, name
    _assert_clean(str(info.value), secrets)
    assert info.value.__cause__ is None


def test_traceback_locals_on_transport_errors(okta: OktaEmulator) -> None:
    variant, creds = _mfa_setup(okta)
    okta.faults.add("authorize", status=None, delay=0.5)
    session = Recorder()
    with pytest.raises(e.RequestTimeout) as info:
        exchange(variant, creds, clock=okta.clock, session=session, http=HttpOptions(timeout=0.05))
    secrets = session.secrets | {MFA_PASSWORD, CLIENT_SECRET, MFA_SECRET}
    for name, text in _frame_locals(info.tb):
        for secret in secrets:
            assert secret not in text, name
    _assert_clean(str(info.value), secrets)
    # The requests exception (whose text has the URL with the sessionToken) is not chained.
    assert info.value.__suppress_context__ or info.value.__context__ is None
    assert sys.exc_info()[0] is None
