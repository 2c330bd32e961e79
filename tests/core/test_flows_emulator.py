"""flows.exchange / flows.refresh end to end against the emulator over real HTTP on loopback.

Expectations come from okta-api-facts.md, never from the emulator's code.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pyotp
import pytest
import requests

from pytest_okta_user import errors as e
from pytest_okta_user.client import HttpOptions
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.flows import Credentials, exchange, refresh
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
    # Facts §4.2: amr, idp, auth_time always; facts §4.1: user tokens carry uid and cid.
    assert "pwd" in tokens.id_claims["amr"]
    assert tokens.id_claims["auth_time"] <= now
    assert tokens.id_claims["idp"]
    assert tokens.access_claims["uid"] == DEMO.user_id
    assert tokens.access_claims["cid"] == variant.client_id


# --- every flow and response mode ----------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, "query", "fragment", "form_post"])
def test_code_flow(okta: OktaEmulator, mode: str | None) -> None:
    variant = web(okta)
    session = Recorder()
    tokens = run(okta, variant, WEB_CREDS, response_mode=mode, session=session)
    check_user_tokens(okta, tokens, variant)
    assert tokens.access_claims["aud"] == DEMO.audience
    assert tokens.access_claims["sub"] == DEMO.user_login
    assert set(tokens.access_claims["scp"]) == set(SCOPES)
    assert [okta.count(x) for x in ("authn", "authorize", "token")] == [1, 1, 1]
    sent = session.sent_params("/authorize")
    assert sent["response_mode"] == (mode or "query")
    assert sent["prompt"] == "none"
    assert sent["response_type"] == "code"
    assert "sessionToken" in sent
    assert "code_challenge" not in sent
    # client_secret_basic by default: the secret is in the header, not the body.
    assert session.sent_headers("/token")["Authorization"].startswith("Basic ")
    assert "client_secret" not in session.sent_params("/token")
    assert session.sent_headers("/token")["Accept"] == "application/json"
    assert session.sent_headers("/authn")["Accept"] == "application/json"
    # /authorize is a browser endpoint: no JSON Accept that could change its answers.
    assert session.sent_headers("/authorize")["Accept"] != "application/json"
    assert session.sent_headers("/authorize")["User-Agent"].startswith("pytest-okta-user/")


@pytest.mark.parametrize("mode", [None, "query", "fragment", "form_post"])
def test_pkce_public_client(okta: OktaEmulator, mode: str | None) -> None:
    variant = spa(okta)
    session = Recorder()
    tokens = run(okta, variant, SPA_CREDS, response_mode=mode, session=session)
    check_user_tokens(okta, tokens, variant)
    sent = session.sent_params("/authorize")
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) == 43
    form = session.sent_params("/token")
    assert form["client_id"] == DEMO.spa_client_id
    assert len(form["code_verifier"]) >= 43
    assert "Authorization" not in session.sent_headers("/token")


def test_pkce_confidential_client(okta: OktaEmulator) -> None:
    variant = web(okta, "pkce")
    check_user_tokens(okta, run(okta, variant, WEB_CREDS), variant)


@pytest.mark.parametrize("mode", [None, "fragment", "form_post"])
def test_implicit(okta: OktaEmulator, mode: str | None) -> None:
    variant = web(okta, "implicit")
    session = Recorder()
    tokens = run(okta, variant, WEB_CREDS, response_mode=mode, session=session)
    check_user_tokens(okta, tokens, variant)
    assert okta.count("token") == 0
    sent = session.sent_params("/authorize")
    assert set(sent["response_type"].split()) == {"id_token", "token"}
    assert sent["response_mode"] == (mode or "fragment")
    assert tokens.id_claims["nonce"] == sent["nonce"]


def test_implicit_on_the_org_server_needs_no_more_than_its_thin_id_token(
    okta: OktaEmulator,
) -> None:
    # Facts §4.2: with id_token token, the org server's ID token has only email and
    # name / preferred_username of the profile claims; who signed in comes from authn.
    variant = web(okta, "implicit", issuer=okta.url)
    tokens = run(okta, variant, WEB_CREDS)
    check_user_tokens(okta, tokens, variant)
    assert "given_name" not in tokens.id_claims
    assert tokens.id_claims["preferred_username"] == DEMO.user_login
    assert tokens.user["profile"]["firstName"] == DEMO.user_first_name


def test_org_server_access_token_is_decoded_not_verified(okta: OktaEmulator) -> None:
    variant = web(okta, issuer=okta.url)
    tokens = run(okta, variant, WEB_CREDS)
    check_user_tokens(okta, tokens, variant)
    assert tokens.access_claims["aud"] == okta.url
    # Facts §4.5: the org server's access-token key is not in its JWKS.
    kid = jwt.get_unverified_header(tokens.access_token or "")["kid"]
    keys = [r for r in okta.requests if r.endpoint == "keys"]
    assert keys, "the ID token is verified against the org JWKS"
    assert kid not in {k["kid"] for k in okta.org.published_keys(okta.org.server("org"))}  # type: ignore[arg-type]


def test_password_flow(okta: OktaEmulator) -> None:
    variant = web(okta, "password")
    tokens = run(okta, variant, WEB_CREDS)
    assert tokens.access_claims["aud"] == DEMO.audience
    assert tokens.id_claims["aud"] == DEMO.web_client_id
    assert tokens.user["profile"]["login"] == DEMO.user_login
    assert okta.count("authn") == 0
    assert okta.count("token") == 1


def test_client_credentials(okta: OktaEmulator) -> None:
    variant = Variant(
        okta.issuer, DEMO.service_client_id, None, "client_credentials", DEMO.custom_scopes
    )
    creds = Credentials(client_secret=DEMO.service_client_secret)
    tokens = run(okta, variant, creds)
    assert tokens.access_claims["sub"] == DEMO.service_client_id
    assert set(tokens.access_claims["scp"]) == set(DEMO.custom_scopes)
    assert tokens.id_token is None
    assert tokens.user == {}


def test_client_secret_basic_with_plus_and_percent_in_the_secret(okta: OktaEmulator) -> None:
    # Facts §3.2: Authorization: Basic base64(client_id:client_secret), nothing URL-encoded.
    secret = "a+b%41c d:e/f=g" + "x" * 32
    okta.org.add_app(
        "0oaplussecretweb01", app_type="web", client_secret=secret, redirect_uris=[REDIRECT_URI]
    )
    user = okta.org.user(DEMO.user_id)
    assert user is not None
    assert user.apps is not None
    user.apps.add("0oaplussecretweb01")
    session = Recorder()
    variant = web(okta, client_id="0oaplussecretweb01", redirect_uri=REDIRECT_URI)
    tokens = run(
        okta,
        variant,
        Credentials(password=DEMO.user_password, client_secret=secret),
        session=session,
    )
    assert tokens.access_claims["cid"] == "0oaplussecretweb01"
    header = session.sent_headers("/token")["Authorization"]
    assert (
        base64.b64decode(header.removeprefix("Basic ")).decode() == f"0oaplussecretweb01:{secret}"
    )


def test_client_secret_post(okta: OktaEmulator) -> None:
    variant = web(okta)
    session = Recorder()
    run(okta, variant, WEB_CREDS, client_auth="client_secret_post", session=session)
    form = session.sent_params("/token")
    assert form["client_id"] == DEMO.web_client_id
    assert form["client_secret"] == DEMO.web_client_secret
    assert "Authorization" not in session.sent_headers("/token")


def test_refresh(okta: OktaEmulator) -> None:
    variant = spa(okta, scopes=(*SCOPES, "offline_access"))
    first = run(okta, variant, SPA_CREDS)
    assert first.refresh_token
    okta.clock.advance(600)
    second = refresh(variant, first, SPA_CREDS, clock=okta.clock)
    assert second.access_token != first.access_token
    assert second.refresh_token
    assert second.obtained_at == pytest.approx(first.obtained_at + 600, abs=2)
    assert second.user == first.user
    # SPAs rotate refresh tokens by default (facts §3.5).
    assert second.refresh_token != first.refresh_token
    assert second.id_claims["aud"] == DEMO.spa_client_id
    assert okta.count("authn") == 1
    assert okta.count("token") == 2


def test_refresh_token_reuse_after_rotation(okta: OktaEmulator) -> None:
    # Facts §3.5: replaying a rotated refresh token after the grace period is refused.
    variant = spa(okta, scopes=(*SCOPES, "offline_access"))
    first = run(okta, variant, SPA_CREDS)
    refresh(variant, first, SPA_CREDS, clock=okta.clock)
    okta.clock.advance(61)
    with pytest.raises(e.InvalidGrant) as info:
        refresh(variant, first, SPA_CREDS, clock=okta.clock)
    assert "refresh token" in str(info.value)


def test_static_refresh_token_is_kept(okta: OktaEmulator) -> None:
    variant = web(okta, scopes=(*SCOPES, "offline_access"))
    first = run(okta, variant, WEB_CREDS)
    second = refresh(variant, first, WEB_CREDS, clock=okta.clock)
    assert second.refresh_token == first.refresh_token
    assert second.access_token != first.access_token


def test_refresh_with_a_bad_token(okta: OktaEmulator) -> None:
    variant = spa(okta, scopes=(*SCOPES, "offline_access"))
    stale = TokenSet(
        access_token="a", token_type="Bearer", expires_at=0, scopes=SCOPES, refresh_token="bogus"
    )
    with pytest.raises(e.InvalidGrant) as info:
        refresh(variant, stale, SPA_CREDS, clock=okta.clock)
    assert "--okta-clear-cache" in str(info.value)


# --- MFA ------------------------------------------------------------------------------------------

MFA_LOGIN = "mfa@example.com"
MFA_PASSWORD = "Mfa-Passw0rd!"


def mfa_user(okta: OktaEmulator) -> str:
    secret = pyotp.random_base32()
    okta.org.add_user(MFA_LOGIN, MFA_PASSWORD, totp_secret=secret)
    return secret


def test_mfa_with_totp(okta: OktaEmulator) -> None:
    secret = mfa_user(okta)
    variant = spa(okta, user=MFA_LOGIN)
    tokens = run(okta, variant, Credentials(password=MFA_PASSWORD, totp_secret=secret))
    assert tokens.user["profile"]["login"] == MFA_LOGIN
    assert okta.count("factor_verify") == 1
    assert {"mfa", "otp", "pwd"} <= set(tokens.id_claims["amr"])


def test_mfa_code_replayed_waits_for_next_step(okta: OktaEmulator) -> None:
    secret = mfa_user(okta)
    okta.clock.freeze()
    creds = Credentials(password=MFA_PASSWORD, totp_secret=secret)
    variant = spa(okta, user=MFA_LOGIN)
    run(okta, variant, creds)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        okta.clock.advance(seconds)

    # Same 30 s step: Okta refuses the code as replayed; the flow waits for the next step.
    tokens = run(okta, variant, creds, sleep=sleep)
    assert tokens.user["profile"]["login"] == MFA_LOGIN
    assert len(waits) == 1
    assert 0 < waits[0] <= 31
    assert okta.count("factor_verify") == 3


def test_mfa_without_totp_secret(okta: OktaEmulator) -> None:
    mfa_user(okta)
    with pytest.raises(e.MfaRequired) as info:
        run(okta, spa(okta, user=MFA_LOGIN), Credentials(password=MFA_PASSWORD))
    assert e.TOTP_SECRET in str(info.value)
    assert "token:software:totp" in str(info.value)


def test_mfa_with_the_wrong_secret(okta: OktaEmulator) -> None:
    mfa_user(okta)
    creds = Credentials(password=MFA_PASSWORD, totp_secret=pyotp.random_base32())
    with pytest.raises(e.InvalidPasscode) as info:
        run(okta, spa(okta, user=MFA_LOGIN), creds)
    assert info.value.code == "E0000068"
    assert e.TOTP_SECRET in str(info.value)


def test_mfa_required_without_a_totp_factor(okta: OktaEmulator) -> None:
    okta.faults.add(
        "authn",
        status=200,
        body={
            "stateToken": "00state",
            "expiresAt": "2030-01-01T00:00:00.000Z",
            "status": "MFA_REQUIRED",
            "_embedded": {
                "user": {"id": DEMO.user_id, "profile": {"login": DEMO.user_login}},
                "factors": [{"id": "opf1", "factorType": "push", "provider": "OKTA"}],
            },
        },
    )
    creds = Credentials(password=DEMO.user_password, totp_secret=pyotp.random_base32())
    with pytest.raises(e.MfaRequired, match="push") as info:
        run(okta, spa(okta), creds)
    assert "none is TOTP" in str(info.value)


# --- errors produced through the emulator's state -------------------------------------------------


def test_wrong_password(okta: OktaEmulator) -> None:
    with pytest.raises(e.AuthenticationError) as info:
        run(okta, spa(okta), Credentials(password="wrong-password"))
    assert info.value.code == "E0000004"
    assert DEMO.user_login in str(info.value)
    assert "wrong-password" not in str(info.value)
    assert e.PASSWORD in str(info.value)
    assert e.USER in str(info.value)


def test_password_expired(okta: OktaEmulator) -> None:
    okta.org.add_user("old@example.com", "Old-Passw0rd!", status="PASSWORD_EXPIRED")
    with pytest.raises(e.PasswordExpired, match=e.PASSWORD):
        run(okta, spa(okta, user="old@example.com"), Credentials(password="Old-Passw0rd!"))


def test_locked_out(okta: OktaEmulator) -> None:
    okta.org.add_user("locked@example.com", "Locked-Passw0rd!", status="LOCKED_OUT")
    # Okta's default password policy hides the lockout behind E0000004 (facts §1.3).
    with pytest.raises(e.AuthenticationError) as info:
        run(okta, spa(okta, user="locked@example.com"), Credentials(password="Locked-Passw0rd!"))
    assert "locked" in str(info.value).lower()


def test_locked_out_status_shown(okta: OktaEmulator) -> None:
    # With "show lockout failures" in the password policy, authn answers LOCKED_OUT (facts §1.3).
    okta.org.show_lockout_failures = True
    okta.org.add_user("locked@example.com", "Locked-Passw0rd!", status="LOCKED_OUT")
    with pytest.raises(e.LockedOut, match="Unlock") as info:
        run(okta, spa(okta, user="locked@example.com"), Credentials(password="Locked-Passw0rd!"))
    assert "locked@example.com" in str(info.value)
    assert e.PASSWORD in str(info.value)


def test_mfa_enroll(okta: OktaEmulator) -> None:
    okta.faults.add(
        "authn",
        status=200,
        body={
            "stateToken": "00s",
            "status": "MFA_ENROLL",
            "_embedded": {"factors": [{"factorType": "token:software:totp", "provider": "GOOGLE"}]},
        },
    )
    with pytest.raises(e.MfaEnrollRequired, match=e.TOTP_SECRET):
        run(okta, spa(okta), SPA_CREDS)


def test_redirect_uri_not_registered(okta: OktaEmulator) -> None:
    variant = spa(okta, redirect_uri="http://localhost:9999/not-registered")
    with pytest.raises(e.RedirectUriNotRegistered) as info:
        run(okta, variant, SPA_CREDS)
    assert info.value.status == 400
    assert "http://localhost:9999/not-registered" in str(info.value)
    assert e.REDIRECT_URI in str(info.value)
    assert "Sign-in redirect URIs" in str(info.value)


def test_unknown_client(okta: OktaEmulator) -> None:
    with pytest.raises(e.UnknownClient) as info:
        run(okta, spa(okta, client_id="0oanosuchclient0000"), SPA_CREDS)
    assert info.value.status == 400
    assert "0oanosuchclient0000" in str(info.value)
    assert e.CLIENT_ID in str(info.value)


def test_implicit_not_enabled(okta: OktaEmulator) -> None:
    okta.org.add_app(
        "0oacodeonly000000001",
        app_type="web",
        client_secret="code-only-secret-0123456789abcdefghij",
        redirect_uris=[DEMO.web_redirect_uri],
        grant_types=["authorization_code"],
    )
    variant = web(okta, "implicit", client_id="0oacodeonly000000001")
    creds = Credentials(
        password=DEMO.user_password, client_secret="code-only-secret-0123456789abcdefghij"
    )
    with pytest.raises(e.ResponseTypeNotEnabled) as info:
        run(okta, variant, creds)
    assert info.value.code == "unsupported_response_type"
    assert "Implicit (hybrid)" in str(info.value)


@pytest.mark.parametrize("state", [None, "another-sign-in"])
def test_error_redirect_without_our_state_is_not_taken_as_the_answer(
    okta: OktaEmulator, state: str | None
) -> None:
    # Facts §2.3: Okta echoes state on error redirects; one without ours answers something else.
    location = f"{DEMO.spa_redirect_uri}?error=access_denied&error_description=Denied."
    if state:
        location += f"&state={state}"
    okta.faults.add("authorize", status=302, headers={"Location": location})
    with pytest.raises(e.StateMismatch, match="error without the state we sent"):
        run(okta, spa(okta), SPA_CREDS)


def test_user_not_assigned(okta: OktaEmulator) -> None:
    okta.org.add_user("loner@example.com", "Loner-Passw0rd!", apps=[])
    with pytest.raises(e.AccessDenied) as info:
        run(okta, spa(okta, user="loner@example.com"), Credentials(password="Loner-Passw0rd!"))
    assert "Assignments" in str(info.value)
    assert "loner@example.com" in str(info.value)


def test_used_session_token_is_login_required(okta: OktaEmulator) -> None:
    okta.faults.add(
        "authn",
        status=200,
        body={
            "status": "SUCCESS",
            "sessionToken": "20111used0session0token",
            "_embedded": {"user": {"id": DEMO.user_id, "profile": {"login": DEMO.user_login}}},
        },
    )
    with pytest.raises(e.LoginRequired) as info:
        run(okta, spa(okta), SPA_CREDS)
    assert info.value.code == "login_required"
    assert "sessionToken" in str(info.value)


def test_wrong_client_secret(okta: OktaEmulator) -> None:
    creds = Credentials(password=DEMO.user_password, client_secret="not-the-secret")
    with pytest.raises(e.InvalidClient) as info:
        run(okta, web(okta), creds)
    assert info.value.status == 401
    assert e.CLIENT_SECRET in str(info.value)
    assert "not-the-secret" not in str(info.value)


def test_confidential_app_without_secret(okta: OktaEmulator) -> None:
    # A Web app used as if it were public: Okta wants its credentials at /token.
    with pytest.raises((e.InvalidClient, e.InvalidRequest)) as info:
        run(okta, web(okta, "pkce"), SPA_CREDS)
    assert e.CLIENT_SECRET in str(info.value) or e.FLOW in str(info.value)


def test_password_grant_not_enabled(okta: OktaEmulator) -> None:
    okta.org.add_app(
        "0oanoropc00000000001",
        app_type="web",
        client_secret="no-ropc-secret-0123456789abcdefghijkl",
        redirect_uris=[DEMO.web_redirect_uri],
        grant_types=["authorization_code"],
    )
    variant = web(okta, "password", client_id="0oanoropc00000000001")
    creds = Credentials(
        password=DEMO.user_password, client_secret="no-ropc-secret-0123456789abcdefghijkl"
    )
    with pytest.raises(e.UnauthorizedClient) as info:
        run(okta, variant, creds)
    assert "Advanced" in str(info.value)
    assert "Resource Owner Password" in str(info.value)


def test_password_grant_wrong_password(okta: OktaEmulator) -> None:
    creds = Credentials(password="wrong", client_secret=DEMO.web_client_secret)
    with pytest.raises(e.InvalidGrant) as info:
        run(okta, web(okta, "password"), creds)
    assert e.PASSWORD in str(info.value)


def test_unknown_scope(okta: OktaEmulator) -> None:
    with pytest.raises(e.InvalidScope, match="--okta-scopes"):
        run(okta, spa(okta, scopes=("openid", "no:such:scope")), SPA_CREDS)


def test_unknown_auth_server(okta: OktaEmulator) -> None:
    with pytest.raises(e.ConfigurationError) as info:
        run(okta, spa(okta, issuer=f"{okta.url}/oauth2/nosuchserver"), SPA_CREDS)
    assert e.AUTH_SERVER in str(info.value)


def test_client_credentials_on_org_server(okta: OktaEmulator) -> None:
    # Facts §3.4: the org server takes client_credentials only with private_key_jwt.
    variant = Variant(okta.url, DEMO.service_client_id, None, "client_credentials", ("api:read",))
    with pytest.raises(e.InvalidClient) as info:
        run(okta, variant, Credentials(client_secret=DEMO.service_client_secret))
    assert info.value.status == 401
    assert e.AUTH_SERVER in str(info.value)


def test_client_credentials_with_openid(okta: OktaEmulator) -> None:
    variant = Variant(okta.issuer, DEMO.service_client_id, None, "client_credentials", ("openid",))
    with pytest.raises(e.InvalidScope) as info:
        run(okta, variant, Credentials(client_secret=DEMO.service_client_secret))
    assert "custom scopes" in str(info.value)


def test_password_grant_for_an_mfa_user(okta: OktaEmulator) -> None:
    okta.org.add_user("mfa@example.com", "Mfa-Passw0rd!", totp_secret=pyotp.random_base32())
    variant = web(okta, "password", user="mfa@example.com")
    creds = Credentials(password="Mfa-Passw0rd!", client_secret=DEMO.web_client_secret)
    # Classic: invalid_grant "...cannot be used with MFA enabled."; Identity Engine: mfa_required.
    with pytest.raises((e.InvalidGrant, e.MfaRequired)) as info:
        run(okta, variant, creds)
    assert e.FLOW in str(info.value)
    assert e.TOTP_SECRET in str(info.value)


def test_password_grant_with_an_expired_password(okta: OktaEmulator) -> None:
    okta.org.add_user("old@example.com", "Old-Passw0rd!", status="PASSWORD_EXPIRED")
    variant = web(okta, "password", user="old@example.com")
    creds = Credentials(password="Old-Passw0rd!", client_secret=DEMO.web_client_secret)
    with pytest.raises(e.PasswordExpired, match=e.PASSWORD) as info:
        run(okta, variant, creds)
    assert info.value.code == "invalid_grant"


# --- clock ----------------------------------------------------------------------------------------


def test_expiry_uses_the_injected_clock(okta: OktaEmulator) -> None:
    okta.clock.advance(10 * 86400)
    tokens = run(okta, spa(okta), SPA_CREDS)
    assert tokens.obtained_at == pytest.approx(okta.clock(), abs=5)
    assert tokens.expires_in(okta.clock()) == pytest.approx(3600, abs=5)


def test_tokens_expired_on_arrival_are_refused(okta: OktaEmulator) -> None:
    # Our clock runs two hours ahead of Okta's: its fresh tokens look long expired.
    with pytest.raises(e.TokenVerificationError, match="expired"):
        run(okta, spa(okta), SPA_CREDS, clock=lambda: okta.clock() + 7200)


# --- transport through the flows ------------------------------------------------------------------


def test_rate_limit_waits_then_succeeds(okta: OktaEmulator) -> None:
    okta.clock.freeze(at=float(int(okta.clock())))  # whole seconds, as Okta's reset
    okta.faults.rate_limited("authn")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        okta.clock.advance(seconds)

    run(okta, spa(okta), SPA_CREDS, sleep=sleep, http=HttpOptions(max_rate_limit_wait=120))
    assert waits == [60.0]
    assert okta.count("authn") == 2


def test_rate_limit_beyond_the_wait_budget(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("authn")
    waits: list[float] = []
    with pytest.raises(e.RateLimited) as info:
        run(okta, spa(okta), SPA_CREDS, sleep=waits.append)
    assert waits == []
    assert "60 s" in str(info.value) or "resets in" in str(info.value)
    assert info.value.status == 429


def test_rate_limit_waits_add_up_to_the_budget(okta: OktaEmulator) -> None:
    okta.clock.freeze(at=float(int(okta.clock())))  # whole seconds, as Okta's reset
    okta.faults.rate_limited("authn", times=2)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        okta.clock.advance(seconds)

    # Both faults announce the same reset: 60 s, then at least 1 s more, beyond the 60.5 s budget.
    with pytest.raises(e.RateLimited):
        run(okta, spa(okta), SPA_CREDS, sleep=sleep, http=HttpOptions(max_rate_limit_wait=60.5))
    assert waits == [60.0]
    assert okta.count("authn") == 2


def test_rate_limit_without_reset_header_backs_off(okta: OktaEmulator) -> None:
    okta.faults.add("token", status=429, body={"error": "invalid_grant"}, times=2)
    waits: list[float] = []
    tokens = run(okta, spa(okta), SPA_CREDS, sleep=waits.append)
    assert tokens.access_token
    assert waits == [1.0, 2.0]
    assert okta.count("token") == 3


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


@pytest.mark.parametrize("flow", ["pkce", "implicit"])
def test_rate_limit_at_authorize_starts_over_with_a_fresh_session_token(
    okta: OktaEmulator, flow: str
) -> None:
    okta.faults.rate_limited("authorize")
    sleep = WaitingClock(okta)
    session = Recorder()
    variant = spa(okta) if flow == "pkce" else web(okta, flow)
    creds = SPA_CREDS if flow == "pkce" else WEB_CREDS
    tokens = run(
        okta, variant, creds, sleep=sleep, session=session, http=HttpOptions(max_rate_limit_wait=60)
    )
    assert tokens.access_token
    assert sleep.waits == [60.0]
    assert (okta.count("authn"), okta.count("authorize")) == (2, 2)
    session_tokens = sent_values(session, "/authorize", "sessionToken")
    assert len(session_tokens) == len(set(session_tokens)) == 2


def test_rate_limit_at_token_starts_over_with_a_fresh_code(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("token")
    sleep = WaitingClock(okta)
    session = Recorder()
    tokens = run(
        okta,
        web(okta),
        WEB_CREDS,
        sleep=sleep,
        session=session,
        http=HttpOptions(max_rate_limit_wait=60),
    )
    check_user_tokens(okta, tokens, web(okta))
    assert sleep.waits == [60.0]
    assert (okta.count("authn"), okta.count("authorize"), okta.count("token")) == (2, 2, 2)
    codes = sent_values(session, "/token", "code")
    assert len(codes) == len(set(codes)) == 2
    session_tokens = sent_values(session, "/authorize", "sessionToken")
    assert len(session_tokens) == len(set(session_tokens)) == 2


def test_rate_limit_at_factor_verify_starts_over(okta: OktaEmulator) -> None:
    secret = mfa_user(okta)
    okta.faults.rate_limited("factor_verify")
    sleep = WaitingClock(okta)
    session = Recorder()
    tokens = run(
        okta,
        spa(okta, user=MFA_LOGIN),
        Credentials(password=MFA_PASSWORD, totp_secret=secret),
        sleep=sleep,
        session=session,
        http=HttpOptions(max_rate_limit_wait=60),
    )
    assert tokens.user["profile"]["login"] == MFA_LOGIN
    assert sleep.waits == [60.0]
    assert (okta.count("authn"), okta.count("factor_verify")) == (2, 2)
    state_tokens = [
        json.loads(request.body or b"{}")["stateToken"]
        for request, _ in session.sent
        if urlsplit(request.url or "").path.endswith("/verify")
    ]
    assert len(state_tokens) == len(set(state_tokens)) == 2


def test_rate_limit_restarts_share_one_budget(okta: OktaEmulator) -> None:
    sleep = WaitingClock(okta)
    # Two 429s announcing the same reset: 60 s, then at least 1 s more, beyond the 60.5 s budget.
    okta.faults.rate_limited("token", times=2)
    session = Recorder()
    with pytest.raises(e.RateLimited) as info:
        run(
            okta,
            web(okta),
            WEB_CREDS,
            sleep=sleep,
            session=session,
            http=HttpOptions(max_rate_limit_wait=60.5),
        )
    assert sleep.waits == [60.0]
    assert okta.count("token") == 2
    codes = sent_values(session, "/token", "code")
    assert len(set(codes)) == 2
    assert str(info.value).startswith(
        "Okta's rate limit at /token (HTTP 429, E0000047): the window resets in 1 s,"
        " beyond the 60.5 s we wait."
    )
    assert "raise --okta-rate-limit-wait / OKTA_RATE_LIMIT_WAIT / okta_rate_limit_wait" in str(
        info.value
    )


def test_rate_limit_at_authorize_beyond_the_budget_sends_nothing_again(okta: OktaEmulator) -> None:
    okta.faults.rate_limited("authorize")
    sleep = WaitingClock(okta)
    with pytest.raises(e.RateLimited, match="beyond the 30 s we wait"):
        run(okta, spa(okta), SPA_CREDS, sleep=sleep)
    assert sleep.waits == []
    assert (okta.count("authn"), okta.count("authorize")) == (1, 1)


def test_rate_limit_on_refresh_does_not_send_the_refresh_token_again(okta: OktaEmulator) -> None:
    variant = spa(okta, scopes=(*SCOPES, "offline_access"))
    tokens = run(okta, variant, SPA_CREDS)
    okta.faults.rate_limited("token")
    sleep = WaitingClock(okta)
    before = okta.count("token")
    with pytest.raises(e.RateLimited, match="not sent again") as info:
        refresh(
            variant,
            tokens,
            SPA_CREDS,
            clock=okta.clock,
            sleep=sleep,
            http=HttpOptions(max_rate_limit_wait=120),
        )
    assert info.value.status == 429
    assert sleep.waits == []
    assert okta.count("token") - before == 1


@pytest.mark.parametrize(
    ("headers", "waits"),
    [
        ({"X-Rate-Limit-Reset": "nan"}, [1.0]),
        ({"X-Rate-Limit-Reset": "inf"}, [1.0]),
        ({"X-Rate-Limit-Reset": "nan", "Retry-After": "7"}, [7.0]),
        ({"X-Rate-Limit-Reset": "-inf", "Retry-After": "nan"}, [1.0]),
    ],
)
def test_rate_limit_reset_that_is_not_a_finite_number(
    okta: OktaEmulator, headers: dict[str, str], waits: list[float]
) -> None:
    # Falls back to Retry-After, then to the backoff, instead of failing on float("nan").
    okta.faults.add("authn", status=429, headers=headers)
    sleep = WaitingClock(okta)
    tokens = run(okta, spa(okta), SPA_CREDS, sleep=sleep)
    assert tokens.access_token
    assert sleep.waits == waits
    assert okta.count("authn") == 2


def test_proxy_page_instead_of_json(okta: OktaEmulator) -> None:
    okta.faults.proxy_error("token")
    with pytest.raises(e.UnexpectedResponse) as info:
        run(okta, spa(okta), SPA_CREDS)
    assert "502" in str(info.value)
    # The authorization code was sent once: never retried after a 5xx.
    assert okta.count("token") == 1


def test_html_instead_of_json_on_authn(okta: OktaEmulator) -> None:
    okta.faults.add("authn", status=200, body="<html><body>Sign in to the proxy</body></html>")
    with pytest.raises(e.UnexpectedResponse, match="instead of JSON"):
        run(okta, spa(okta), SPA_CREDS)


def test_keys_are_retried_after_5xx(okta: OktaEmulator) -> None:
    okta.faults.add("keys", status=503, times=2)
    sleeps: list[float] = []
    run(okta, spa(okta), SPA_CREDS, sleep=sleeps.append)
    assert okta.count("keys") == 3
    assert sleeps == [0.5, 1.0]


def test_5xx_at_authorize_is_not_retried(okta: OktaEmulator) -> None:
    # The sessionToken may have been consumed: sending it again could only fail more obscurely.
    okta.faults.add("authorize", status=503)
    sleeps: list[float] = []
    with pytest.raises(e.UnexpectedResponse, match="503"):
        run(okta, spa(okta), SPA_CREDS, sleep=sleeps.append)
    assert okta.count("authorize") == 1
    assert sleeps == []


def test_timeout(okta: OktaEmulator) -> None:
    okta.faults.add("authn", status=None, delay=0.5)
    session = Recorder()
    with pytest.raises(e.RequestTimeout) as info:
        run(okta, spa(okta), SPA_CREDS, http=HttpOptions(timeout=0.05), session=session)
    assert "0.05 s" in str(info.value)
    assert session.attempts == ["/api/v1/authn"]  # a password once sent is not sent again
