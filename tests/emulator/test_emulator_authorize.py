"""GET /oauth2/{server}/v1/authorize: response types and modes, errors, sessions."""

from __future__ import annotations

import html
import json
import re

import jwt
import pytest
import requests
from support.emulator_client import Client, form_params, half_hash, location_params, pkce_pair

from pytest_okta_user.emulator import DEMO, OktaEmulator

NONCE = "nonce-abc"


def error_of(response: requests.Response) -> tuple[str, str]:
    values = location_params(response)
    return values["error"], values["error_description"]


@pytest.mark.parametrize("server", ["default", "org"])
@pytest.mark.parametrize(
    ("response_type", "expected_keys"),
    [
        ("code", {"code", "state"}),
        ("token", {"access_token", "token_type", "expires_in", "scope", "state"}),
        ("id_token", {"id_token", "state"}),
        (
            "id_token token",
            {"id_token", "access_token", "token_type", "expires_in", "scope", "state"},
        ),
        ("code id_token", {"code", "id_token", "state"}),
        ("code token", {"code", "access_token", "token_type", "expires_in", "scope", "state"}),
        (
            "code id_token token",
            {"code", "id_token", "access_token", "token_type", "expires_in", "scope", "state"},
        ),
    ],
)
def test_response_types_in_their_default_mode(
    okta: OktaEmulator, client: Client, server: str, response_type: str, expected_keys: set[str]
) -> None:
    response = client.authorize(
        server,
        response_type=response_type,
        nonce=NONCE,
        sessionToken=client.session_token(),
        prompt="none",
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    separator = "?" if response_type == "code" else "#"
    assert location.startswith(DEMO.web_redirect_uri + separator)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    values = location_params(response)
    assert set(values) == expected_keys
    assert values["state"] == "state-123"
    if "token_type" in values:
        assert values["token_type"] == "Bearer"
        assert values["expires_in"] == "3600"
    if "id_token" in values:
        claims = jwt.decode(values["id_token"], options={"verify_signature": False})
        assert claims["nonce"] == NONCE
        assert claims["aud"] == DEMO.web_client_id
        # at_hash / c_hash name the access token / code of the same answer (OpenID Connect
        # Core 1.0 sections 3.3.2.11 and 3.3.2.10).
        assert claims.get("at_hash") == (
            half_hash(values["access_token"]) if "access_token" in values else None
        )
        assert claims.get("c_hash") == (half_hash(values["code"]) if "code" in values else None)
        issuer = okta.url if server == "org" else okta.issuer
        assert claims["iss"] == issuer


PROFILE_CLAIMS = {
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "locale",
    "zoneinfo",
    "updated_at",
    "email",
    "email_verified",
}


@pytest.mark.parametrize(
    ("server", "response_type", "released"),
    [
        # The org server with both id_token and token: email, name, preferred_username
        # (https://developer.okta.com/docs/reference/api/oidc/#scope-dependent-claims-not-always-returned).
        ("org", "id_token token", {"email", "name", "preferred_username"}),
        ("org", "code id_token token", {"email", "name", "preferred_username"}),
        ("org", "id_token", PROFILE_CLAIMS),
        ("default", "id_token token", PROFILE_CLAIMS),
    ],
)
def test_org_server_id_token_with_an_access_token_carries_few_profile_claims(
    client: Client, server: str, response_type: str, released: set[str]
) -> None:
    response = client.authorize(
        server,
        response_type=response_type,
        scope="openid profile email",
        nonce=NONCE,
        sessionToken=client.session_token(),
        prompt="none",
    )
    values = location_params(response)
    claims = jwt.decode(values["id_token"], options={"verify_signature": False})
    assert set(claims) & PROFILE_CLAIMS == released
    assert claims["preferred_username"] == DEMO.user_login


@pytest.mark.parametrize("mode", ["query", "fragment", "form_post", "okta_post_message"])
def test_code_in_every_response_mode(client: Client, mode: str) -> None:
    response = client.authorize(
        response_mode=mode, sessionToken=client.session_token(), prompt="none"
    )
    if mode == "query":
        assert location_params(response)["code"]
        assert "?" in response.headers["Location"]
    elif mode == "fragment":
        assert "#code=" in response.headers["Location"]
    elif mode == "form_post":
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert f'action="{DEMO.web_redirect_uri}"' in response.text
        assert 'id="appForm"' in response.text
        assert set(form_params(response.text)) == {"code", "state"}
    else:
        assert response.status_code == 200
        match = re.search(r"var data = (\{.*?\});", response.text)
        assert match
        data = json.loads(match.group(1))
        assert set(data) == {"code", "state"}
        assert '"http://localhost:8080"' in response.text  # postMessage's target origin


def test_tokens_in_form_post(client: Client) -> None:
    response = client.authorize(
        response_type="id_token token",
        response_mode="form_post",
        nonce=NONCE,
        sessionToken=client.session_token(),
    )
    assert response.status_code == 200
    values = form_params(response.text)
    assert set(values) == {"id_token", "access_token", "token_type", "expires_in", "scope", "state"}


def test_session_token_sets_a_session_cookie_that_later_calls_honour(
    okta: OktaEmulator, client: Client
) -> None:
    first = client.authorize(sessionToken=client.session_token(), prompt="none")
    assert "sid" in first.cookies
    assert "HttpOnly" in first.headers["Set-Cookie"]
    again = client.authorize(prompt="none")
    assert "code" in location_params(again)
    client.http.cookies.clear()
    assert error_of(client.authorize(prompt="none"))[0] == "login_required"


def test_session_expires(okta: OktaEmulator, client: Client) -> None:
    client.authorize(sessionToken=client.session_token(), prompt="none")
    okta.clock.advance(2 * 3600 + 1)
    assert error_of(client.authorize(prompt="none"))[0] == "login_required"


def test_prompt_none_without_session_is_login_required(client: Client) -> None:
    response = client.authorize(prompt="none")
    assert response.status_code == 302
    assert error_of(response) == (
        "login_required",
        "The client specified not to prompt, but the user is not logged in.",
    )
    assert location_params(response)["state"] == "state-123"


def test_expired_session_token_lands_on_login_required(okta: OktaEmulator, client: Client) -> None:
    token = client.session_token()
    okta.clock.advance(301)
    assert error_of(client.authorize(sessionToken=token, prompt="none"))[0] == "login_required"


def test_no_prompt_and_no_session_shows_the_sign_in_page(client: Client) -> None:
    response = client.authorize()
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Sign In" in response.text
    used = client.session_token()
    client.authorize(sessionToken=used, prompt="none")
    client.http.cookies.clear()
    replay = client.authorize(sessionToken=used)
    assert replay.status_code == 200
    assert "Location" not in replay.headers


def test_unassigned_user_is_access_denied(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_user("lonely@example.com", "Passw0rd!l", apps=[])
    response = client.authorize(
        sessionToken=client.session_token("lonely@example.com", "Passw0rd!l"), prompt="none"
    )
    assert error_of(response) == (
        "access_denied",
        "User is not assigned to the client application.",
    )


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"client_id": "0oanosuchclient00000"}, "Invalid value for 'client_id' parameter."),
        ({"client_id": None}, "Invalid value for 'client_id' parameter."),
        ({"redirect_uri": "https://evil.example.com/cb"}, "Login redirect URI"),
        ({"redirect_uri": None}, "Login redirect URI"),
    ],
)
def test_bad_client_or_redirect_uri_is_an_error_page_not_a_redirect(
    client: Client, params: dict, why: str
) -> None:
    response = client.authorize(sessionToken=client.session_token(), **params)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert why in html.unescape(response.text)
    assert ("invalid_client" if "client_id" in why else "invalid_request") in response.text


@pytest.mark.parametrize(
    ("params", "error", "description"),
    [
        (
            {"response_type": "code", "response_mode": "bogus"},
            "unsupported_response_mode",
            "Valid response modes",
        ),
        (
            {"response_type": "token", "response_mode": "query", "nonce": NONCE},
            "unsupported_response_mode",
            "'query' response mode",
        ),
        (
            {"response_type": "weird"},
            "unsupported_response_type",
            "Configured response types: [code, token, id_token].",
        ),
        ({"response_type": None}, "unsupported_response_type", "Configured response types"),
        ({"scope": "openid bogus"}, "invalid_scope", "The requested scope is invalid"),
        ({"scope": None}, "invalid_scope", "No scopes were requested."),
        ({"scope": "profile email"}, "invalid_scope", "require the 'openid' scope"),
        (
            {"response_type": "id_token", "nonce": None},
            "invalid_request",
            "The 'nonce' parameter is required",
        ),
        (
            {"response_type": "token", "nonce": None},
            "invalid_request",
            "The 'nonce' parameter is required",
        ),
        (
            {"code_challenge": "x" * 43, "code_challenge_method": "plain"},
            "invalid_request",
            "Valid values: [S256]",
        ),
        ({"code_challenge": "x" * 43}, "invalid_request", "Valid values: [S256]"),
        (
            {"code_challenge": "short", "code_challenge_method": "S256"},
            "invalid_request",
            "illegal characters",
        ),
        (
            {"code_challenge": "bad!" * 12, "code_challenge_method": "S256"},
            "invalid_request",
            "illegal characters",
        ),
        ({"prompt": "sometimes"}, "invalid_request", "Invalid value for 'prompt' parameter."),
        ({"max_age": "-1"}, "invalid_request", "'max_age'"),
        ({"idp": "0oanotanidp"}, "invalid_request", "Identity provider is not valid."),
    ],
)
def test_later_errors_are_redirected_with_state(
    client: Client, params: dict, error: str, description: str
) -> None:
    response = client.authorize(**params)
    assert response.status_code == 302, response.text
    values = location_params(response)
    assert values["error"] == error
    assert description in values["error_description"]
    assert values["state"] == "state-123"


def test_errors_follow_the_effective_response_mode(client: Client) -> None:
    fragment = client.authorize(response_type="id_token", nonce=None)
    assert "#error=invalid_request" in fragment.headers["Location"]
    posted = client.authorize(response_mode="form_post", prompt="none")
    assert posted.status_code == 200
    assert form_params(posted.text)["error"] == "login_required"


def test_duplicate_parameters_are_refused(okta: OktaEmulator) -> None:
    url = (
        f"{okta.url}/oauth2/default/v1/authorize?client_id={DEMO.web_client_id}"
        f"&redirect_uri={DEMO.web_redirect_uri}&response_type=code&scope=openid&scope=profile&state=s"
    )
    response = requests.get(url, allow_redirects=False)
    values = location_params(response)
    assert values["error"] == "invalid_request"
    assert (
        values["error_description"]
        == "The request contained multiple parameters with the same name."
    )


def test_spa_requires_pkce(client: Client) -> None:
    spa = {"client_id": DEMO.spa_client_id, "redirect_uri": DEMO.spa_redirect_uri}
    refused = client.authorize(**spa, sessionToken=client.session_token(), prompt="none")
    assert error_of(refused) == (
        "invalid_request",
        "PKCE code challenge is required by the application.",
    )
    _, challenge = pkce_pair()
    allowed = client.authorize(
        **spa,
        code_challenge=challenge,
        code_challenge_method="S256",
        sessionToken=client.session_token(),
        prompt="none",
    )
    assert "code" in location_params(allowed)


def test_web_app_pkce_can_be_required(okta: OktaEmulator, client: Client) -> None:
    okta.org.apps[DEMO.web_client_id].pkce_required = True
    assert error_of(client.authorize(prompt="none"))[0] == "invalid_request"


def test_response_type_must_be_enabled_for_the_app(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_app("0oacodeonly", redirect_uris=[DEMO.web_redirect_uri])
    response = client.authorize(client_id="0oacodeonly", response_type="id_token", nonce=NONCE)
    assert error_of(response) == (
        "unsupported_response_type",
        "The response type is not supported by the authorization server. Configured response "
        "types: [code].",
    )


def test_custom_server_from_python(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_auth_server("payments", audience="api://payments", scopes=["payments:read"])
    tokens = client.tokens("payments", scope="openid payments:read")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "api://payments"
    assert claims["iss"] == f"{okta.url}/oauth2/payments"
    assert claims["scp"] == ["openid", "payments:read"]
    unknown = requests.get(f"{okta.url}/oauth2/nosuch/v1/authorize", allow_redirects=False)
    assert unknown.status_code == 404
    assert unknown.json()["errorCode"] == "E0000007"


def test_max_age_forces_a_fresh_sign_in(okta: OktaEmulator, client: Client) -> None:
    client.authorize(sessionToken=client.session_token(), prompt="none")
    okta.clock.advance(120)
    assert "code" in location_params(client.authorize(prompt="none", max_age="300"))
    assert error_of(client.authorize(prompt="none", max_age="60"))[0] == "login_required"


def test_post_is_accepted_like_get(okta: OktaEmulator, client: Client) -> None:
    response = client.http.post(
        f"{okta.issuer}/v1/authorize",
        data={
            "client_id": DEMO.web_client_id,
            "redirect_uri": DEMO.web_redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": "p",
            "sessionToken": client.session_token(),
        },
        allow_redirects=False,
    )
    assert "code" in location_params(response)


def test_an_existing_session_wins_over_a_session_token(okta: OktaEmulator, client: Client) -> None:
    okta.org.add_user("second@example.com", "Passw0rd!2")
    first = client.authorize(
        response_type="id_token", nonce=NONCE, sessionToken=client.session_token(), prompt="none"
    )
    assert (
        jwt.decode(location_params(first)["id_token"], options={"verify_signature": False})["sub"]
        == DEMO.user_id
    )
    other_token = client.session_token("second@example.com", "Passw0rd!2")
    with_cookie = client.authorize(
        response_type="id_token", nonce=NONCE, sessionToken=other_token, prompt="none"
    )
    claims = jwt.decode(
        location_params(with_cookie)["id_token"], options={"verify_signature": False}
    )
    assert claims["sub"] == DEMO.user_id  # Classic Okta ignores the sessionToken...
    client.http.cookies.clear()
    fresh = client.authorize(
        response_type="id_token", nonce=NONCE, sessionToken=other_token, prompt="none"
    )
    claims = jwt.decode(location_params(fresh)["id_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == "second@example.com"  # ...and does not consume it
