"""CORS (issue 14, point 6): Trusted Origins and the apps' redirect-URI origins, over loopback.

Over HTTP with requests (each header), then from a real headless Chromium: a page served on a
SPA's redirect-URI origin reads /keys and redeems a code at /token cross-origin; a page on an
untrusted origin is refused by the browser.
"""

from __future__ import annotations

import json

import pytest
import requests
from support import browser
from support.emulator_client import Client, pkce_pair

from pytest_okta_user.emulator import DEMO, OktaEmulator

SPA_ORIGIN = "http://localhost:8080"  # the demo SPA's redirect-URI origin, a Trusted Origin
UNTRUSTED = "http://evil.example"
# okta-auth-js sends this header on every call, so each of its calls is preflighted.
AUTH_JS_HEADER = "X-Okta-User-Agent-Extended"


def preflight(url: str, origin: str, method: str = "POST") -> requests.Response:
    return requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": f"accept,content-type,{AUTH_JS_HEADER.lower()}",
        },
    )


def cors_headers(response: requests.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


class TestPreflight:
    @pytest.mark.parametrize(
        ("path", "method"),
        [
            ("/oauth2/default/v1/token", "POST"),
            ("/oauth2/default/v1/keys", "GET"),
            ("/oauth2/default/.well-known/openid-configuration", "GET"),
            ("/oauth2/v1/keys", "GET"),
            ("/oauth2/default/v1/userinfo", "GET"),
            ("/oauth2/default/v1/revoke", "POST"),
            ("/oauth2/default/v1/introspect", "POST"),
            ("/api/v1/authn", "POST"),
            ("/oauth2/default/v1/interact", "POST"),
            ("/idp/idx/introspect", "POST"),
            ("/idp/idx/identify", "POST"),
            ("/api/v1/sessions/me", "GET"),
        ],
    )
    def test_a_trusted_origin_is_answered(self, okta: OktaEmulator, path: str, method: str) -> None:
        response = preflight(okta.url + path, SPA_ORIGIN, method)
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert method in response.headers["Access-Control-Allow-Methods"].split(", ")
        assert AUTH_JS_HEADER.lower() in response.headers["Access-Control-Allow-Headers"]
        assert response.headers["Vary"] == "Origin"

    def test_an_untrusted_origin_gets_no_cors_headers(self, okta: OktaEmulator) -> None:
        for path in ("/oauth2/default/v1/token", "/oauth2/default/v1/keys", "/api/v1/authn"):
            response = preflight(okta.url + path, UNTRUSTED)
            assert cors_headers(response) == {}, path
            assert response.headers["Vary"] == "Origin"

    def test_browser_navigations_are_not_cors_endpoints(self, okta: OktaEmulator) -> None:
        response = preflight(f"{okta.url}/oauth2/default/v1/authorize", SPA_ORIGIN, "GET")
        assert response.status_code == 405
        assert response.json()["errorCode"] == "E0000022"
        assert cors_headers(response) == {}


class TestAnswers:
    def test_keys_carry_the_origin_it_came_from_never_a_wildcard(self, okta: OktaEmulator) -> None:
        trusted = requests.get(f"{okta.issuer}/v1/keys", headers={"Origin": SPA_ORIGIN})
        assert trusted.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
        assert trusted.headers["Access-Control-Allow-Credentials"] == "true"
        assert trusted.headers["Vary"] == "Origin"  # /keys is cacheable: caches key on Origin
        untrusted = requests.get(f"{okta.issuer}/v1/keys", headers={"Origin": UNTRUSTED})
        assert untrusted.status_code == 200
        assert cors_headers(untrusted) == {}

    def test_errors_from_a_trusted_origin_are_readable(self, okta: OktaEmulator) -> None:
        response = requests.post(
            f"{okta.issuer}/v1/token",
            data={"grant_type": "authorization_code", "client_id": DEMO.spa_client_id},
            headers={"Origin": SPA_ORIGIN},
        )
        assert response.status_code == 400
        assert response.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN

    def test_token_refuses_a_browser_on_an_untrusted_origin(self, okta: OktaEmulator) -> None:
        response = requests.post(
            f"{okta.issuer}/v1/token",
            data={"grant_type": "authorization_code", "client_id": DEMO.spa_client_id},
            headers={"Origin": UNTRUSTED},
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_request",
            "error_description": "Browser requests to the token endpoint must be made from one "
            "of the registered Trusted Origins.",
        }
        assert cors_headers(response) == {}

    def test_a_redirect_origin_reaches_oauth_endpoints_but_not_the_authn_api(
        self, okta: OktaEmulator
    ) -> None:
        okta.org.add_app(
            "0oa-other-spa", app_type="spa", redirect_uris=["http://127.0.0.1:5999/cb"]
        )
        origin = "http://127.0.0.1:5999"
        assert "Access-Control-Allow-Origin" in preflight(f"{okta.issuer}/v1/token", origin).headers
        assert cors_headers(preflight(f"{okta.url}/api/v1/authn", origin)) == {}

    def test_trusted_origins_from_the_config(self) -> None:
        config = {
            "trusted_origins": [
                {"origin": "https://app.example.com"},
                {"origin": "https://redirect-only.example.com", "scopes": ["REDIRECT"]},
            ]
        }
        with OktaEmulator(config=config) as okta:
            url = f"{okta.url}/api/v1/authn"
            allowed = preflight(url, "https://app.example.com")
            assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
            assert cors_headers(preflight(url, "https://redirect-only.example.com")) == {}
            body = {"username": DEMO.user_login, "password": DEMO.user_password}
            signed_in = requests.post(url, json=body, headers={"Origin": "https://app.example.com"})
            assert signed_in.json()["status"] == "SUCCESS"
            assert signed_in.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


# -- a real browser -------------------------------------------------------------------------------

PAGE = b"<!DOCTYPE html><html><head><title>SPA</title></head><body>SPA</body></html>"

# What an SPA's JavaScript does: read the keys, then redeem its code (PKCE, a public client), each
# with okta-auth-js's own header, so the browser preflights both.
CALLS = """
async ([keysUrl, tokenUrl, form]) => {
  const headers = {"Accept": "application/json", "X-Okta-User-Agent-Extended": "okta-auth-js/7"};
  const out = {};
  for (const [name, url, init] of [
    ["keys", keysUrl, {headers}],
    ["token", tokenUrl, {method: "POST", headers, body: new URLSearchParams(form)}],
  ]) {
    try {
      const response = await fetch(url, init);
      out[name] = {status: response.status, body: await response.text()};
    } catch (error) {
      out[name] = {error: String(error)};
    }
  }
  return out;
}
"""


def page(_path: str) -> tuple[int, str, bytes]:
    return 200, "text/html; charset=utf-8", PAGE


def test_a_browser_on_the_spa_origin_succeeds_and_one_elsewhere_is_refused(
    okta: OktaEmulator, client: Client
) -> None:
    with browser.chromium() as chromium, browser.serve(page) as spa, browser.serve(page) as other:
        redirect_uri = f"{spa}/login/callback"
        okta.org.add_app("0oa-browser-spa", app_type="spa", redirect_uris=[redirect_uri])
        okta.org.add_user("spa-user@example.com", "Spa-Passw0rd!")  # assigned to every app
        results = {}
        for origin in (spa, other):
            verifier, _ = pkce_pair()
            code = client.code(
                verifier=verifier,
                client_id="0oa-browser-spa",
                redirect_uri=redirect_uri,
                sessionToken=client.session_token("spa-user@example.com", "Spa-Passw0rd!"),
            )
            form = {
                "grant_type": "authorization_code",
                "client_id": "0oa-browser-spa",
                "redirect_uri": redirect_uri,
                "code": code,
                "code_verifier": verifier,
            }
            tab = chromium.new_page()
            tab.goto(origin + "/")
            calls = [f"{okta.issuer}/v1/keys", f"{okta.issuer}/v1/token", form]
            results[origin] = tab.evaluate(CALLS, calls)
            tab.close()
    trusted = results[spa]
    assert trusted["keys"]["status"] == 200, trusted
    assert json.loads(trusted["keys"]["body"])["keys"], trusted
    assert trusted["token"]["status"] == 200, trusted
    assert {"access_token", "id_token"} <= set(json.loads(trusted["token"]["body"]))
    refused = results[other]
    # The browser refuses both calls (the preflight carries no Access-Control-Allow-Origin): the
    # page's fetch rejects with a TypeError and never sees a status.
    assert refused["keys"] == {"error": "TypeError: Failed to fetch"}, refused
    assert refused["token"] == {"error": "TypeError: Failed to fetch"}, refused
