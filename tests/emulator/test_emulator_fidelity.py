"""What independent clients and a spec probe found to differ from Okta, over HTTP on loopback.

Issue 14: RFC 6749 Basic credentials (point 1), an unknown client in Okta's API shape (2), the
Authentication API's and /token's media types (4, 5).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote_plus

import pytest
import requests
from support.emulator_client import Client, pkce_pair

from pytest_okta_user.emulator import DEMO, OktaEmulator

E0000021 = "Bad request.  Accept and/or Content-Type headers likely do not match supported values."


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def rfc6749_basic(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 section 2.3.1: each part form-urlencoded (Appendix B) before base64, as strictly
    as oauth4webapi (openid-client 6) writes it: every `-`, `_`, `.`, `~` too (`-` is `%2D`)."""

    def encode(value: str) -> str:
        return "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in value)

    return basic(encode(client_id), encode(secret))


def code_exchange(client: Client) -> dict[str, str]:
    verifier, _ = pkce_pair()
    return {
        "grant_type": "authorization_code",
        "code": client.code(verifier=verifier),
        "redirect_uri": DEMO.web_redirect_uri,
        "code_verifier": verifier,
    }


def assert_api_error(response: requests.Response, status: int, code: str, summary: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["errorCode"] == code
    assert body["errorSummary"] == summary
    assert body["errorLink"] == code
    assert body["errorId"].startswith("oae")
    assert body["errorCauses"] == []


class TestBasicCredentials:
    """Point 1: both the RFC's form-encoded Basic credentials and the literal ones."""

    def test_form_encoded_credentials_are_accepted(
        self, okta: OktaEmulator, client: Client
    ) -> None:
        assert "-" in DEMO.web_client_secret  # what openid-client sends as %2D
        headers = rfc6749_basic(DEMO.web_client_id, DEMO.web_client_secret)
        assert "%2D" in base64.b64decode(headers["Authorization"][6:]).decode()
        response = requests.post(
            f"{okta.issuer}/v1/token", data=code_exchange(client), headers=headers
        )
        assert response.status_code == 200, response.text
        assert "access_token" in response.json()

    def test_literal_credentials_are_still_accepted(
        self, okta: OktaEmulator, client: Client
    ) -> None:
        headers = basic(DEMO.web_client_id, DEMO.web_client_secret)
        response = requests.post(
            f"{okta.issuer}/v1/token", data=code_exchange(client), headers=headers
        )
        assert response.status_code == 200, response.text

    def test_a_secret_that_only_decodes_to_the_right_one_is_accepted_both_ways(
        self, okta: OktaEmulator
    ) -> None:
        # A secret with characters that form-encoding changes (space, +, %, :) exercises the
        # decoding itself rather than a lucky literal match.
        secret = "a b+c%d:e-f_0123456789abcdefghijklmnopqrstuvwxyz"
        okta.org.add_app("0oa-encoded-secret", app_type="service", client_secret=secret)
        url = f"{okta.issuer}/v1/token"
        form = {"grant_type": "client_credentials", "scope": "api:read"}
        for headers in (
            basic("0oa-encoded-secret", secret),
            basic(quote_plus("0oa-encoded-secret"), quote_plus(secret)),
        ):
            response = requests.post(url, data=form, headers=headers)
            assert response.status_code == 200, response.text

    def test_a_wrong_secret_is_still_refused_in_either_form(self, okta: OktaEmulator) -> None:
        url = f"{okta.issuer}/v1/token"
        form = {"grant_type": "client_credentials", "scope": "api:read"}
        for headers in (
            basic(DEMO.service_client_id, "wrong"),
            rfc6749_basic(DEMO.service_client_id, DEMO.service_client_secret + "x"),
        ):
            response = requests.post(url, data=form, headers=headers)
            assert response.status_code == 401
            assert response.json() == {
                "error": "invalid_client",
                "error_description": "The client secret supplied for a confidential client is "
                "invalid.",
            }


class TestUnknownClient:
    """Point 2: Okta answers an unknown client_id at /token in its /api/v1 shape."""

    @pytest.mark.parametrize("how", ["basic", "post", "public"])
    def test_unknown_client_id(self, okta: OktaEmulator, how: str) -> None:
        form = {"grant_type": "client_credentials", "scope": "api:read"}
        headers: dict[str, str] = {}
        if how == "basic":
            headers = basic("0oa-no-such-client", "secret")
        elif how == "post":
            form.update(client_id="0oa-no-such-client", client_secret="secret")
        else:
            form.update(client_id="0oa-no-such-client")
        response = requests.post(f"{okta.issuer}/v1/token", data=form, headers=headers)
        assert_api_error(
            response, 401, "invalid_client", "Invalid value for 'client_id' parameter."
        )
        assert "no-store" in response.headers["Cache-Control"]

    @pytest.mark.parametrize("endpoint", ["introspect", "revoke"])
    def test_unknown_client_id_at_introspect_and_revoke(
        self, okta: OktaEmulator, endpoint: str
    ) -> None:
        response = requests.post(
            f"{okta.issuer}/v1/{endpoint}",
            data={"token": "x"},
            headers=basic("0oa-no-such-client", "secret"),
        )
        assert_api_error(
            response, 401, "invalid_client", "Invalid value for 'client_id' parameter."
        )

    def test_a_known_client_with_a_wrong_secret_keeps_the_oauth_shape(
        self, okta: OktaEmulator
    ) -> None:
        response = requests.post(
            f"{okta.issuer}/v1/token",
            data={"grant_type": "client_credentials"},
            headers=basic(DEMO.service_client_id, "wrong"),
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


class TestMediaTypes:
    """Points 4 and 5: Okta checks Content-Type before it reads a body."""

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("text/plain", json.dumps({"username": DEMO.user_login, "password": "x"})),
            (
                "application/x-www-form-urlencoded",
                f"username={DEMO.user_login}&password={DEMO.user_password}",
            ),
            (None, json.dumps({"username": DEMO.user_login, "password": DEMO.user_password})),
        ],
    )
    def test_authn_refuses_a_body_that_is_not_json(
        self, okta: OktaEmulator, content_type: str | None, body: str
    ) -> None:
        # The password is right in the JSON case: a text/plain JSON body must not sign in.
        body = body.replace('"x"', json.dumps(DEMO.user_password))
        request = requests.Request("POST", f"{okta.url}/api/v1/authn", data=body.encode())
        prepared = request.prepare()
        prepared.headers.pop("Content-Type", None)
        if content_type is not None:
            prepared.headers["Content-Type"] = content_type
        with requests.Session() as http:
            response = http.send(prepared)
        assert_api_error(response, 400, "E0000021", E0000021)

    def test_authn_still_accepts_json_with_a_charset(self, okta: OktaEmulator) -> None:
        body = json.dumps({"username": DEMO.user_login, "password": DEMO.user_password})
        response = requests.post(
            f"{okta.url}/api/v1/authn",
            data=body.encode(),
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "SUCCESS"

    def test_token_refuses_a_json_body_before_oauth_parsing(
        self, okta: OktaEmulator, client: Client
    ) -> None:
        form = code_exchange(client)
        response = requests.post(
            f"{okta.issuer}/v1/token",
            json=form,
            headers=basic(DEMO.web_client_id, DEMO.web_client_secret),
        )
        assert_api_error(response, 400, "E0000021", E0000021)
        # Refused before anything was read: even credentials in the query (an OAuth error
        # otherwise) do not change the answer, and the code was not spent.
        response = requests.post(
            f"{okta.issuer}/v1/token?client_id={DEMO.web_client_id}", json=form
        )
        assert_api_error(response, 400, "E0000021", E0000021)
        accepted = requests.post(
            f"{okta.issuer}/v1/token",
            data=form,
            headers=basic(DEMO.web_client_id, DEMO.web_client_secret),
        )
        assert accepted.status_code == 200, accepted.text
