"""Okta sessions over HTTP on loopback: the demo org's named users and apps,
/login/sessionCookieRedirect and /api/v1/sessions/me.

Sources: https://developer.okta.com/docs/guides/session-cookie/main/ and the Sessions API reference
(okta/okta-developer-docs at 4bcae26f46~1, docs/reference/api/sessions/index.md); see
pytest_okta_user/emulator/signin.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
from support.emulator_client import Client, location_params, pkce_pair

from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.emulator.app import route

APP_ORIGIN = "http://localhost:8080/"  # the demo SPA's origin: a Trusted Origin (CORS, REDIRECT)


@pytest.fixture
def tls_okta() -> Iterator[OktaEmulator]:
    with OktaEmulator(tls=True) as emulator:
        yield emulator


@pytest.fixture
def tls_client(tls_okta: OktaEmulator) -> Iterator[Client]:
    with requests.Session() as http:
        yield Client(tls_okta, http)


def cookie_redirect(
    client: Client, token: str | None, redirect_url: str | None, method: str = "GET"
) -> requests.Response:
    values = {k: v for k, v in (("token", token), ("redirectUrl", redirect_url)) if v is not None}
    url = f"{client.okta.url}/login/sessionCookieRedirect"
    if method == "POST":
        return client.http.post(url, data=values, allow_redirects=False, verify=client.verify)
    return client.http.get(url, params=values, allow_redirects=False, verify=client.verify)


def cookie_attributes(response: requests.Response) -> dict[str, str]:
    """The `sid` Set-Cookie's attributes, lower-cased names (`httponly`, `path`, `samesite`...)."""
    (header,) = [h for h in response.raw.headers.getlist("Set-Cookie") if h.startswith("sid=")]
    _, *attributes = [part.strip() for part in header.split(";")]
    return {
        name.lower(): value for name, _, value in (a.partition("=") for a in attributes) if name
    }


def sessions_me(client: Client, method: str = "GET") -> requests.Response:
    url = f"{client.okta.url}/api/v1/sessions/me"
    return client.http.request(method, url, verify=client.verify)


def silent_code(client: Client, **params: Any) -> requests.Response:
    """/authorize with prompt=none and nothing but the browser's cookies."""
    return client.authorize(prompt="none", **params)


# -- the demo org's named users and apps ----------------------------------------------------------


def test_env_names_every_user_and_app_of_the_demo_org(okta: OktaEmulator) -> None:
    env = okta.env()
    assert {
        "OKTA_ADMIN_USERNAME": env["OKTA_ADMIN_USERNAME"],
        "OKTA_ADMIN_PASSWORD": env["OKTA_ADMIN_PASSWORD"],
        "OKTA_ADMIN_TOTP_SECRET": env["OKTA_ADMIN_TOTP_SECRET"],
        "OKTA_SPA_CLIENT_ID": env["OKTA_SPA_CLIENT_ID"],
        "OKTA_SPA_REDIRECT_URI": env["OKTA_SPA_REDIRECT_URI"],
        "OKTA_SERVICE_CLIENT_ID": env["OKTA_SERVICE_CLIENT_ID"],
        "OKTA_SERVICE_CLIENT_SECRET": env["OKTA_SERVICE_CLIENT_SECRET"],
    } == {
        "OKTA_ADMIN_USERNAME": "admin@example.com",
        "OKTA_ADMIN_PASSWORD": DEMO.admin_password,
        "OKTA_ADMIN_TOTP_SECRET": DEMO.admin_totp_secret,
        "OKTA_SPA_CLIENT_ID": DEMO.spa_client_id,
        "OKTA_SPA_REDIRECT_URI": DEMO.spa_redirect_uri,
        "OKTA_SERVICE_CLIENT_ID": DEMO.service_client_id,
        "OKTA_SERVICE_CLIENT_SECRET": DEMO.service_client_secret,
    }
    assert list(env)[-1] == "OKTA_EMULATOR_INSTANCE"
    assert len(env) == 14


def test_admin_signs_in_with_password_then_totp_from_the_printed_secret(
    okta: OktaEmulator, client: Client
) -> None:
    env = okta.env()
    okta.clock.freeze()
    first = client.authn(env["OKTA_ADMIN_USERNAME"], env["OKTA_ADMIN_PASSWORD"]).json()
    assert first["status"] == "MFA_REQUIRED"
    assert first["_embedded"]["user"]["profile"]["firstName"] == DEMO.admin_first_name
    (factor,) = first["_embedded"]["factors"]
    code = pyotp.TOTP(env["OKTA_ADMIN_TOTP_SECRET"]).at(okta.clock.now())
    verified = client.http.post(
        factor["_links"]["verify"]["href"],
        json={"stateToken": first["stateToken"], "passCode": code},
    ).json()
    assert verified["status"] == "SUCCESS"
    response = silent_code(client, sessionToken=verified["sessionToken"])
    assert "code" in location_params(response)


def test_the_demo_spa_does_pkce_and_only_pkce(client: Client) -> None:
    verifier, challenge = pkce_pair()
    spa = {"client_id": DEMO.spa_client_id, "redirect_uri": DEMO.spa_redirect_uri}
    without = silent_code(client, sessionToken=client.session_token(), **spa)
    assert location_params(without)["error_description"] == (
        "PKCE code challenge is required by the application."
    )
    response = silent_code(
        client,
        sessionToken=client.session_token(),
        code_challenge=challenge,
        code_challenge_method="S256",
        **spa,
    )
    tokens = client.token(
        auth=None,
        client_id=DEMO.spa_client_id,
        grant_type="authorization_code",
        code=location_params(response)["code"],
        redirect_uri=DEMO.spa_redirect_uri,
        code_verifier=verifier,
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["access_token"]


def test_the_demo_service_app_gets_api_read_by_client_credentials(client: Client) -> None:
    response = client.token(
        auth=(DEMO.service_client_id, DEMO.service_client_secret),
        grant_type="client_credentials",
        scope="api:read",
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "api:read"
    refused = client.authorize(client_id=DEMO.service_client_id)
    assert refused.status_code == 400  # no redirect URI registered: the error page


# -- /login/sessionCookieRedirect -----------------------------------------------------------------


def test_routes() -> None:
    assert route("/login/sessionCookieRedirect")[0] == "session_cookie_redirect"
    assert route("/api/v1/sessions/me")[0] == "sessions_me"
    assert route("/api/v1/sessions/me/")[0] == "sessions_me"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_fresh_session_token_becomes_the_sid_cookie_and_a_redirect(
    okta: OktaEmulator, client: Client, method: str
) -> None:
    response = cookie_redirect(client, client.session_token(), APP_ORIGIN, method)
    assert response.status_code == 302
    assert response.headers["Location"] == APP_ORIGIN
    assert cookie_attributes(response) == {"httponly": "", "path": "/", "samesite": "Lax"}
    assert client.http.cookies["sid"].startswith("102")
    # The session serves every app and flow: /authorize needs nothing else.
    assert "code" in location_params(silent_code(client))
    assert okta.count("session_cookie_redirect") == 1


def test_over_tls_the_cookie_is_secure_and_same_site_none(tls_client: Client) -> None:
    response = cookie_redirect(tls_client, tls_client.session_token(), APP_ORIGIN)
    assert response.status_code == 302
    assert cookie_attributes(response) == {
        "secure": "",
        "httponly": "",
        "path": "/",
        "samesite": "None",
    }
    assert "code" in location_params(silent_code(tls_client))


def assert_sent_to_sign_in(okta: OktaEmulator, response: requests.Response, back_to: str) -> None:
    assert response.status_code == 302
    assert "sid" not in response.cookies
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == okta.url + "/login/login.htm"
    assert parse_qs(location.query) == {"fromURI": [back_to]}


def test_a_used_token_sends_the_browser_to_the_sign_in_page(
    okta: OktaEmulator, client: Client
) -> None:
    token = client.session_token()
    assert silent_code(client, sessionToken=token).status_code == 302
    client.http.cookies.clear()
    assert_sent_to_sign_in(okta, cookie_redirect(client, token, APP_ORIGIN), APP_ORIGIN)
    assert "sid" not in client.http.cookies


def test_a_token_is_good_for_one_cookie_only(okta: OktaEmulator, client: Client) -> None:
    token = client.session_token()
    assert cookie_redirect(client, token, APP_ORIGIN).headers["Location"] == APP_ORIGIN
    client.http.cookies.clear()
    assert_sent_to_sign_in(okta, cookie_redirect(client, token, APP_ORIGIN), APP_ORIGIN)


def test_an_expired_token_sends_the_browser_to_the_sign_in_page(
    okta: OktaEmulator, client: Client
) -> None:
    token = client.session_token()
    okta.clock.advance(301)
    assert_sent_to_sign_in(okta, cookie_redirect(client, token, APP_ORIGIN), APP_ORIGIN)


@pytest.mark.parametrize("token", [None, "", "20111not-a-token"])
def test_a_missing_or_unknown_token_sends_the_browser_to_the_sign_in_page(
    okta: OktaEmulator, client: Client, token: str | None
) -> None:
    assert_sent_to_sign_in(okta, cookie_redirect(client, token, APP_ORIGIN), APP_ORIGIN)


def test_a_locked_user_s_token_sets_no_session(okta: OktaEmulator, client: Client) -> None:
    token = client.session_token()
    user = okta.org.user_by_login(DEMO.user_login)
    assert user is not None
    user.status = "LOCKED_OUT"
    assert_sent_to_sign_in(okta, cookie_redirect(client, token, APP_ORIGIN), APP_ORIGIN)


@pytest.mark.parametrize(
    "redirect_url",
    [
        "https://evil.example.com/",
        "http://localhost:8081/",  # another port: another origin
        "https://localhost:8080/",  # another scheme: another origin
        "//evil.example.com/",  # scheme-relative: another host
        "javascript:alert(1)",
        "",
        None,
    ],
)
def test_an_untrusted_redirect_url_is_okta_s_error_page_and_the_token_stays_usable(
    client: Client, redirect_url: str | None
) -> None:
    token = client.session_token()
    response = cookie_redirect(client, token, redirect_url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "sid" not in response.cookies
    assert response.headers["Content-Type"].startswith("text/html")
    assert "invalid_request" in response.text
    assert "Invalid request" in response.text
    assert cookie_redirect(client, token, APP_ORIGIN).headers["Location"] == APP_ORIGIN


def test_a_trusted_origin_without_the_redirect_scope_is_refused(
    okta: OktaEmulator, client: Client
) -> None:
    okta.org.add_trusted_origin("http://cors-only.example.test", scopes=["CORS"])
    okta.org.add_trusted_origin("http://redirect.example.test", scopes=["REDIRECT"])
    refused = cookie_redirect(client, client.session_token(), "http://cors-only.example.test/x")
    assert refused.status_code == 400
    allowed = cookie_redirect(client, client.session_token(), "http://redirect.example.test/x?y=1")
    assert allowed.headers["Location"] == "http://redirect.example.test/x?y=1"


@pytest.mark.parametrize(
    ("redirect_url", "location"),
    [
        # An app's login redirect URI (the web app's origin is no Trusted Origin of its own here).
        (DEMO.web_redirect_uri, DEMO.web_redirect_uri),
        ("/", "{org}/"),  # a path on the org itself
        ("{org}/api/v1/sessions/me", "{org}/api/v1/sessions/me"),  # the org's own origin
    ],
)
def test_the_org_itself_and_registered_redirect_uris_are_allowed(
    okta: OktaEmulator, client: Client, redirect_url: str, location: str
) -> None:
    okta.org.trusted_origins.clear()
    response = cookie_redirect(client, client.session_token(), redirect_url.format(org=okta.url))
    assert response.status_code == 302
    assert response.headers["Location"] == location.format(org=okta.url)
    assert "sid" in response.cookies


def test_an_existing_session_wins_and_the_token_is_not_spent(
    okta: OktaEmulator, client: Client
) -> None:
    cookie_redirect(client, client.session_token(), APP_ORIGIN)
    first_sid = client.http.cookies["sid"]
    second_token = client.session_token("tester", DEMO.user_password)
    again = cookie_redirect(client, second_token, APP_ORIGIN)
    assert again.headers["Location"] == APP_ORIGIN
    assert "sid" not in again.cookies
    assert client.http.cookies["sid"] == first_sid
    # Not spent: a browser without a session can still use it.
    client.http.cookies.clear()
    assert "sid" in cookie_redirect(client, second_token, APP_ORIGIN).cookies


def test_the_session_ends_with_the_emulator_clock(okta: OktaEmulator, client: Client) -> None:
    cookie_redirect(client, client.session_token(), APP_ORIGIN)
    okta.clock.advance(okta.org.SESSION_LIFETIME + 1)
    assert location_params(silent_code(client))["error"] == "login_required"
    assert sessions_me(client).status_code == 404


# -- /api/v1/sessions/me --------------------------------------------------------------------------


def test_sessions_me_describes_the_cookie_s_session(okta: OktaEmulator, client: Client) -> None:
    okta.clock.freeze()
    cookie_redirect(client, client.session_token(), APP_ORIGIN)
    sid = client.http.cookies["sid"]
    response = sessions_me(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache, no-store"
    body = response.json()
    links = body.pop("_links")
    assert body == {
        "id": sid,
        "login": DEMO.user_login,
        "userId": DEMO.user_id,
        "status": "ACTIVE",
        "createdAt": body["createdAt"],
        "expiresAt": body["expiresAt"],
        "lastPasswordVerification": body["createdAt"],
        "lastFactorVerification": None,
        "amr": ["pwd"],
        "idp": {"id": DEMO.org_id, "type": "OKTA"},
        "mfaActive": False,
    }
    assert body["createdAt"].endswith("Z")
    me = f"{okta.url}/api/v1/sessions/me"
    assert links["self"] == {"href": me, "hints": {"allow": ["GET", "DELETE"]}}
    assert links["refresh"]["href"] == me + "/lifecycle/refresh"
    assert links["user"]["name"] == f"{DEMO.user_first_name} {DEMO.user_last_name}"


def test_sessions_me_of_a_totp_user_has_a_factor_verification(
    okta: OktaEmulator, client: Client
) -> None:
    okta.clock.freeze()
    first = client.authn(DEMO.admin_login, DEMO.admin_password).json()
    code = pyotp.TOTP(DEMO.admin_totp_secret).at(okta.clock.now())
    verify = first["_embedded"]["factors"][0]["_links"]["verify"]["href"]
    token = client.http.post(verify, json={"stateToken": first["stateToken"], "passCode": code})
    cookie_redirect(client, token.json()["sessionToken"], APP_ORIGIN)
    body = sessions_me(client).json()
    assert body["login"] == DEMO.admin_login
    assert body["amr"] == ["mfa", "otp", "pwd"]
    assert body["mfaActive"] is True
    assert body["lastFactorVerification"] == body["lastPasswordVerification"]


def test_without_a_session_sessions_me_is_e0000007(client: Client) -> None:
    for method in ("GET", "DELETE"):
        response = sessions_me(client, method)
        assert response.status_code == 404
        assert response.json()["errorCode"] == "E0000007"
        assert response.json()["errorSummary"] == "Not found: Resource not found: me (Session)"
    client.http.cookies.set("sid", "102not-a-session")
    assert sessions_me(client).status_code == 404


def test_deleting_sessions_me_ends_only_that_session(okta: OktaEmulator, client: Client) -> None:
    with requests.Session() as other_http:
        other = Client(okta, other_http)
        cookie_redirect(other, other.session_token(), APP_ORIGIN)
        cookie_redirect(client, client.session_token(), APP_ORIGIN)
        response = sessions_me(client, "DELETE")
        assert response.status_code == 204
        assert "sid" not in client.http.cookies  # the cookie is dropped with it
        assert location_params(silent_code(client))["error"] == "login_required"
        assert sessions_me(other).status_code == 200  # the same user's other browser


def test_sessions_me_answers_only_get_and_delete(client: Client) -> None:
    response = client.http.post(f"{client.okta.url}/api/v1/sessions/me", json={})
    assert response.status_code == 405
    assert response.json()["errorCode"] == "E0000022"
