"""flows.exchange / flows.refresh end to end against the emulator over real HTTP on loopback:
every flow and response mode, client authentication, refresh, and the injected clock.

Expectations come from Okta's documented behaviour, never from the emulator's code.
"""

from __future__ import annotations

import base64

import jwt
import pytest
from support.core_helpers import (
    REDIRECT_URI,
    SCOPES,
    SPA_CREDS,
    WEB_CREDS,
    Recorder,
    check_user_tokens,
    run,
    spa,
    web,
)

from pytest_okta_user import errors as e
from pytest_okta_user import options
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.flows import refresh
from pytest_okta_user.redact import Credentials
from pytest_okta_user.tokens import TokenSet, Variant

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
    # With id_token token, the org server's ID token has only email and
    # name / preferred_username of the profile claims; who signed in comes from authn
    # (https://developer.okta.com/docs/reference/api/oidc/#id-token, scope-dependent claims).
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
    # The org server's access-token key is not in its JWKS
    # (https://developer.okta.com/docs/guides/validate-access-tokens/main/).
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
    # Authorization: Basic base64(client_id:client_secret), nothing URL-encoded
    # (https://developer.okta.com/docs/reference/api/oidc/#client-secret).
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
    # SPAs rotate refresh tokens by default
    # (https://developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-rotation).
    assert second.refresh_token != first.refresh_token
    assert second.id_claims["aud"] == DEMO.spa_client_id
    assert okta.count("authn") == 1
    assert okta.count("token") == 2


def test_refresh_token_reuse_after_rotation(okta: OktaEmulator) -> None:
    # Replaying a rotated refresh token after the grace period is refused
    # (https://developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-rotation).
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
    assert str(options.CLEAR_CACHE.flag) in str(info.value)


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
