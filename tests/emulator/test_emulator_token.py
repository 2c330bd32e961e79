"""POST /oauth2/{server}/v1/token: grants, client authentication, refresh rotation, errors."""

from __future__ import annotations

import base64
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from support.emulator_client import Client, location_params, pkce_pair

from pytest_okta_user.emulator import DEMO, OktaEmulator

WEB = (DEMO.web_client_id, DEMO.web_client_secret)


def assert_oauth_error(
    response: requests.Response, status: int, error: str, description: str
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"error": error, "error_description": description}


def code_grant(client: Client, code: str, verifier: str | None = None, **extra: str) -> dict:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO.web_redirect_uri}
    if verifier:
        data["code_verifier"] = verifier
    data.update(extra)
    return data


class TestAuthorizationCode:
    def test_exchange_with_pkce(self, okta: OktaEmulator, client: Client) -> None:
        tokens = client.tokens(scope="openid profile email offline_access")
        assert tokens["token_type"] == "Bearer"
        assert tokens["expires_in"] == 3600
        assert tokens["scope"] == "openid profile email offline_access"
        assert {"access_token", "id_token", "refresh_token"} <= set(tokens)

    def test_answer_is_not_cached(self, client: Client) -> None:
        verifier, _ = pkce_pair()
        response = client.token(**code_grant(client, client.code(verifier=verifier), verifier))
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers["Pragma"] == "no-cache"

    def test_without_openid_there_is_no_id_token_and_without_offline_access_no_refresh(
        self, client: Client
    ) -> None:
        tokens = client.tokens(scope="api:read")
        assert "id_token" not in tokens
        assert "refresh_token" not in tokens

    def test_code_is_single_use(self, client: Client) -> None:
        code = client.code()
        assert client.token(**code_grant(client, code)).status_code == 200
        assert_oauth_error(
            client.token(**code_grant(client, code)),
            400,
            "invalid_grant",
            "The authorization code is invalid or has expired.",
        )

    def test_code_expires_after_300_seconds(self, okta: OktaEmulator, client: Client) -> None:
        code = client.code()
        okta.clock.advance(299)
        assert client.token(**code_grant(client, code)).status_code == 200
        late = client.code()
        okta.clock.advance(301)
        assert client.token(**code_grant(client, late)).json()["error"] == "invalid_grant"

    def test_code_is_bound_to_the_redirect_uri(self, client: Client) -> None:
        response = client.token(
            **code_grant(client, client.code(), redirect_uri="http://localhost:8080/other")
        )
        assert_oauth_error(
            response,
            400,
            "invalid_grant",
            "The 'redirect_uri' does not match the redirection URI used in the authorization "
            "request.",
        )

    def test_code_is_bound_to_the_client(self, okta: OktaEmulator, client: Client) -> None:
        other = okta.org.add_app(
            "0oaotherwebapp", client_secret="s" * 40, redirect_uris=[DEMO.web_redirect_uri]
        )
        response = client.token(
            auth=(other.client_id, "s" * 40), **code_grant(client, client.code())
        )
        assert response.json()["error"] == "invalid_grant"
        assert "issued to another client" in response.json()["error_description"]

    def test_code_is_bound_to_the_server(self, client: Client) -> None:
        response = client.token("org", **code_grant(client, client.code()))
        assert response.status_code == 400

    def test_pkce_verifier_must_match(self, client: Client) -> None:
        verifier, _ = pkce_pair()
        other, _ = pkce_pair()
        code = client.code(verifier=verifier)
        assert_oauth_error(
            client.token(**code_grant(client, code, other)),
            400,
            "invalid_grant",
            "PKCE verification failed.",
        )

    def test_pkce_verifier_is_required_when_a_challenge_was_sent(self, client: Client) -> None:
        verifier, _ = pkce_pair()
        response = client.token(**code_grant(client, client.code(verifier=verifier)))
        assert_oauth_error(
            response, 400, "invalid_request", "PKCE code verifier is required by the application."
        )

    def test_verifier_without_challenge(self, client: Client) -> None:
        verifier, _ = pkce_pair()
        response = client.token(**code_grant(client, client.code(), verifier))
        assert response.json()["error"] == "invalid_request"

    def test_spa_exchanges_without_secret(self, client: Client) -> None:
        verifier, _ = pkce_pair()
        code = client.code(
            client_id=DEMO.spa_client_id, redirect_uri=DEMO.spa_redirect_uri, verifier=verifier
        )
        response = client.token(
            auth=None,
            grant_type="authorization_code",
            code=code,
            redirect_uri=DEMO.spa_redirect_uri,
            code_verifier=verifier,
            client_id=DEMO.spa_client_id,
        )
        assert response.status_code == 200, response.text

    def test_missing_parameters(self, client: Client) -> None:
        assert_oauth_error(
            client.token(grant_type="authorization_code", redirect_uri=DEMO.web_redirect_uri),
            400,
            "invalid_request",
            "The required parameter 'code' is missing.",
        )
        response = client.token()
        assert response.json()["error"] == "invalid_request"
        assert response.json()["error_description"].startswith(
            "The token request must specify a 'grant_type'."
        )


class TestClientAuthentication:
    def test_secret_in_body_is_accepted(self, client: Client) -> None:
        data = code_grant(
            client,
            client.code(),
            client_id=DEMO.web_client_id,
            client_secret=DEMO.web_client_secret,
        )
        assert client.token(auth=None, **data).status_code == 200

    @pytest.mark.parametrize("secret", ["abc+def%41ghi", "a%2Bb+c%25d e", "with:colon+plus"])
    def test_basic_credentials_are_not_url_decoded(
        self, okta: OktaEmulator, client: Client, secret: str
    ) -> None:
        # Basic base64(client_id:client_secret), taken literally: no URL-decoding
        # (https://developer.okta.com/docs/reference/api/oidc/#client-authentication-methods).
        secret += "_" * 32
        okta.org.add_app("0oabasicservice01", app_type="service", client_secret=secret)
        raw = base64.b64encode(f"0oabasicservice01:{secret}".encode()).decode()
        response = client.http.post(
            f"{okta.issuer}/v1/token",
            data={"grant_type": "client_credentials", "scope": "api:read"},
            headers={"Authorization": f"Basic {raw}"},
        )
        assert response.status_code == 200, response.text
        decoded_once = secret.replace("+", " ").replace("%41", "A")
        raw = base64.b64encode(f"0oabasicservice01:{decoded_once}".encode()).decode()
        wrong = client.http.post(
            f"{okta.issuer}/v1/token",
            data={"grant_type": "client_credentials", "scope": "api:read"},
            headers={"Authorization": f"Basic {raw}"},
        )
        assert wrong.status_code == 401

    def test_wrong_secret(self, client: Client) -> None:
        assert_oauth_error(
            client.token(auth=(DEMO.web_client_id, "wrong"), **code_grant(client, client.code())),
            401,
            "invalid_client",
            "The client secret supplied for a confidential client is invalid.",
        )

    def test_no_credentials(self, client: Client) -> None:
        assert_oauth_error(
            client.token(auth=None, **code_grant(client, "x")),
            401,
            "invalid_client",
            "No client credentials found.",
        )

    def test_confidential_client_without_secret(self, client: Client) -> None:
        response = client.token(auth=None, client_id=DEMO.web_client_id, **code_grant(client, "x"))
        assert_oauth_error(
            response,
            401,
            "invalid_client",
            "Client authentication failed. Either the client or the client credentials are "
            "invalid.",
        )

    def test_unknown_client(self, client: Client) -> None:
        assert client.token(auth=("0oanobody", "x"), **code_grant(client, "x")).status_code == 401

    def test_both_header_and_body_credentials(self, client: Client) -> None:
        response = client.token(client_secret=DEMO.web_client_secret, **code_grant(client, "x"))
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_request"
        assert response.json()["error_description"].startswith(
            "Cannot supply multiple client credentials."
        )

    def test_malformed_basic_header(self, okta: OktaEmulator) -> None:
        for header in ("Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(), "Bearer abc"):
            response = requests.post(
                f"{okta.issuer}/v1/token",
                data={"grant_type": "password"},
                headers={"Authorization": header},
            )
            assert_oauth_error(
                response,
                401,
                "invalid_client",
                "Found Authentication header but was not valid client credentials.",
            )

    def test_credentials_in_the_query_string_are_refused(self, okta: OktaEmulator) -> None:
        response = requests.post(
            f"{okta.issuer}/v1/token?client_id={DEMO.web_client_id}&client_secret=x",
            data={"grant_type": "password"},
        )
        assert_oauth_error(
            response,
            400,
            "invalid_request",
            "Client credentials cannot be supplied via query parameters.",
        )

    def test_duplicate_parameters(self, okta: OktaEmulator) -> None:
        response = requests.post(
            f"{okta.issuer}/v1/token",
            data=[("grant_type", "password"), ("grant_type", "password")],
            auth=WEB,
        )
        assert (
            response.json()["error_description"]
            == "The request contained multiple parameters with the same name."
        )

    def test_public_client_may_not_send_a_secret(self, client: Client) -> None:
        response = client.token(auth=(DEMO.spa_client_id, "anything"), **code_grant(client, "x"))
        assert response.status_code == 401

    def test_browser_request_without_pkce(self, client: Client) -> None:
        response = client.http.post(
            f"{client.okta.issuer}/v1/token",
            data=code_grant(client, client.code()),
            auth=WEB,
            headers={"Origin": "http://localhost:8080"},
        )
        assert_oauth_error(
            response,
            401,
            "invalid_client",
            "Browser requests to the token endpoint must use Proof Key for Code Exchange.",
        )


class TestRefresh:
    def offline(self, client: Client, **params: str) -> dict:
        verifier, _ = pkce_pair()
        code = client.code(scope="openid offline_access", verifier=verifier, **params)
        redirect = params.get("redirect_uri", DEMO.web_redirect_uri)
        if params.get("client_id") == DEMO.spa_client_id:
            response = client.token(
                auth=None,
                client_id=DEMO.spa_client_id,
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect,
                code_verifier=verifier,
            )
        else:
            response = client.token(**code_grant(client, code, verifier))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def spa_refresh(self, client: Client, token: str) -> requests.Response:
        return client.token(
            auth=None, client_id=DEMO.spa_client_id, grant_type="refresh_token", refresh_token=token
        )

    def test_static_refresh_token_is_returned_again(self, client: Client) -> None:
        tokens = self.offline(client)
        response = client.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        assert response.status_code == 200
        assert response.json()["refresh_token"] == tokens["refresh_token"]
        assert response.json()["access_token"] != tokens["access_token"]
        assert "id_token" in response.json()

    def test_scope_may_narrow_but_not_widen(self, client: Client) -> None:
        tokens = self.offline(client)
        narrow = client.token(
            grant_type="refresh_token",
            refresh_token=tokens["refresh_token"],
            scope="offline_access",
        )
        assert narrow.json()["scope"] == "offline_access"
        wide = client.token(
            grant_type="refresh_token", refresh_token=tokens["refresh_token"], scope="openid email"
        )
        assert wide.status_code == 400
        assert wide.json()["error"] == "access_denied"
        assert wide.json()["error_description"].endswith("Denied scopes: email.")

    def test_spa_rotates_with_a_grace_period_then_detects_reuse(
        self, okta: OktaEmulator, client: Client
    ) -> None:
        spa = {"client_id": DEMO.spa_client_id, "redirect_uri": DEMO.spa_redirect_uri}
        issued = self.offline(client, **spa)
        first = issued["refresh_token"]
        rotated = self.spa_refresh(client, first)
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()["refresh_token"]
        assert second != first
        okta.clock.advance(10)
        assert self.spa_refresh(client, first).status_code == 200  # within the 30 s leeway
        okta.clock.advance(30)
        reuse = self.spa_refresh(client, first)
        assert_oauth_error(reuse, 400, "invalid_grant", "The refresh token is invalid or expired.")
        # Reuse detection revokes the family: the newest token and its access tokens too.
        assert self.spa_refresh(client, second).status_code == 400
        # "All access tokens issued since the user authenticated" (reuse detection,
        # https://developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-reuse-detection):
        # the one that came with the first refresh token from the code exchange as well as the
        # refreshed one.
        for access_token in (issued["access_token"], rotated.json()["access_token"]):
            introspect = client.http.post(
                f"{okta.issuer}/v1/introspect",
                data={"token": access_token, "client_id": DEMO.spa_client_id},
            )
            assert introspect.json() == {"active": False}

    def test_refresh_needs_offline_access_granted(self, client: Client) -> None:
        tokens = client.tokens(scope="openid")
        assert "refresh_token" not in tokens
        response = client.token(grant_type="refresh_token", refresh_token="made-up")
        assert_oauth_error(
            response, 400, "invalid_grant", "The refresh token is invalid or expired."
        )

    def test_refresh_token_lifetime_on_the_server(self, okta: OktaEmulator, client: Client) -> None:
        okta.org.servers["default"].refresh_token_lifetime = 3600
        tokens = self.offline(client)
        okta.clock.advance(3601)
        response = client.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        assert response.status_code == 400


class TestPassword:
    def test_password_grant_for_the_web_app(self, client: Client) -> None:
        response = client.token(
            grant_type="password",
            username=DEMO.user_login,
            password=DEMO.user_password,
            scope="openid offline_access",
        )
        assert response.status_code == 200, response.text
        assert {"access_token", "id_token", "refresh_token"} <= set(response.json())

    def test_reuse_detection_revokes_the_access_token_of_the_password_grant(
        self, okta: OktaEmulator, client: Client
    ) -> None:
        web = okta.org.app(DEMO.web_client_id)
        assert web is not None
        web.refresh_rotation, web.refresh_leeway = "ROTATE", 0
        first = client.token(
            grant_type="password",
            username=DEMO.user_login,
            password=DEMO.user_password,
            scope="openid offline_access",
        ).json()
        rotated = client.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        okta.clock.advance(1)
        replay = client.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert replay.status_code == 400
        for access_token in (first["access_token"], rotated.json()["access_token"]):
            answer = client.http.post(
                f"{okta.issuer}/v1/introspect", data={"token": access_token}, auth=WEB
            )
            assert answer.json() == {"active": False}

    def test_bad_password(self, client: Client) -> None:
        response = client.token(
            grant_type="password", username=DEMO.user_login, password="nope", scope="openid"
        )
        assert_oauth_error(response, 400, "invalid_grant", "The credentials provided were invalid.")

    def test_not_granted_to_the_spa(self, client: Client) -> None:
        response = client.token(
            auth=None,
            client_id=DEMO.spa_client_id,
            grant_type="password",
            username=DEMO.user_login,
            password=DEMO.user_password,
            scope="openid",
        )
        assert_oauth_error(
            response,
            400,
            "unauthorized_client",
            "The client is not authorized to use the provided grant type. "
            "Configured grant types: [authorization_code, refresh_token].",
        )

    def test_mfa_user_and_expired_password(self, okta: OktaEmulator, client: Client) -> None:
        okta.org.add_user(
            "mfa@example.com", "Passw0rd!m", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        )
        okta.org.add_user("old@example.com", "Passw0rd!o", status="PASSWORD_EXPIRED")
        mfa = client.token(
            grant_type="password", username="mfa@example.com", password="Passw0rd!m", scope="openid"
        )
        assert (
            mfa.json()["error_description"]
            == "Resource owner password credentials cannot be used with MFA enabled."
        )
        old = client.token(
            grant_type="password", username="old@example.com", password="Passw0rd!o", scope="openid"
        )
        assert_oauth_error(old, 400, "invalid_grant", "Password has expired.")

    def test_per_user_rate_limit_on_token(self, okta: OktaEmulator, client: Client) -> None:
        okta.clock.freeze()
        grant = {
            "grant_type": "password",
            "username": DEMO.user_login,
            "password": DEMO.user_password,
            "scope": "openid",
        }
        for _ in range(4):
            assert client.token(**grant).status_code == 200
        limited = client.token(**grant)
        assert_oauth_error(
            limited, 429, "invalid_grant", "API call exceeded rate limit due to too many requests."
        )
        assert limited.headers["X-Rate-Limit-Remaining"] == "0"
        okta.clock.advance(1)
        assert client.token(**grant).status_code == 200


class TestClientCredentials:
    def test_service_app_on_the_default_server(self, okta: OktaEmulator, client: Client) -> None:
        response = client.token(
            auth=(DEMO.service_client_id, DEMO.service_client_secret),
            grant_type="client_credentials",
            scope="api:read",
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"token_type", "expires_in", "access_token", "scope"}
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["sub"] == DEMO.service_client_id
        assert claims["cid"] == DEMO.service_client_id
        assert "uid" not in claims

    @pytest.mark.parametrize(
        ("scope", "description"),
        [
            (
                None,
                "The authorization server resource does not have any configured default scopes, "
                "'scope' must be provided.",
            ),
            ("openid", "Cannot request 'openid' scopes using client credentials."),
            (
                "api:delete",
                "The requested scope is invalid, unknown, malformed, or exceeds the scope "
                "granted by the resource owner.",
            ),
        ],
    )
    def test_scope_errors(self, client: Client, scope: str | None, description: str) -> None:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        response = client.token(auth=(DEMO.service_client_id, DEMO.service_client_secret), **data)
        assert response.status_code == 400
        assert response.json()["error_description"] == description

    def test_web_app_is_not_granted_client_credentials(self, client: Client) -> None:
        response = client.token(grant_type="client_credentials", scope="api:read")
        assert response.json()["error"] == "unauthorized_client"

    def test_org_server_requires_private_key_jwt(self, client: Client) -> None:
        response = client.token(
            "org",
            auth=(DEMO.service_client_id, DEMO.service_client_secret),
            grant_type="client_credentials",
            scope="okta.users.read",
        )
        assert_oauth_error(
            response,
            401,
            "invalid_client",
            "Client Credentials requests to the Org Authorization Server must use the "
            "private_key_jwt token_endpoint_auth_method.",
        )

    def test_private_key_jwt_on_the_org_server(self, okta: OktaEmulator, client: Client) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        public = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        public["kid"] = "client-key-1"
        okta.org.add_app(
            "0oajwtservice", app_type="service", auth_method="private_key_jwt", jwks=[public]
        )
        endpoint = f"{okta.url}/oauth2/v1/token"

        def assertion(**overrides: object) -> str:
            now = int(okta.clock.now())
            claims = {
                "iss": "0oajwtservice",
                "sub": "0oajwtservice",
                "aud": endpoint,
                "iat": now,
                "exp": now + 300,
                "jti": str(uuid.uuid4()),
            }
            claims.update(overrides)
            return jwt.encode(claims, key, "ES256", headers={"kid": "client-key-1"})

        def call(token: str) -> requests.Response:
            return client.token(
                "org",
                auth=None,
                grant_type="client_credentials",
                scope="okta.users.read",
                client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                client_assertion=token,
            )

        first = assertion()
        ok = call(first)
        assert ok.status_code == 200, ok.text
        header = jwt.get_unverified_header(ok.json()["access_token"])
        published = {k["kid"] for k in requests.get(f"{okta.url}/oauth2/v1/keys").json()["keys"]}
        assert (
            header["kid"] not in published
        )  # org-server access tokens: signed with an unpublished key
        assert (
            call(first).json()["error_description"]
            == "The client_assertion token has already been used."
        )
        assert call(assertion(aud="https://elsewhere/token")).json()["error_description"] == (
            "The audience claim for client_assertion must be the endpoint invoked for the request."
        )
        assert call(assertion(exp=int(okta.clock.now()) - 5)).json()["error_description"] == (
            "The client_assertion token is expired."
        )
        other = ec.generate_private_key(ec.SECP256R1())
        forged = jwt.encode(
            {
                "iss": "0oajwtservice",
                "sub": "0oajwtservice",
                "aud": endpoint,
                "exp": int(time.time()) + 60,
            },
            other,
            "ES256",
            headers={"kid": "client-key-1"},
        )
        assert (
            call(forged).json()["error_description"] == "The client_assertion signature is invalid."
        )

    def test_unknown_grant_type(self, client: Client) -> None:
        response = client.token(grant_type="urn:example:magic")
        assert response.json()["error"] == "unsupported_grant_type"


def test_get_on_token_is_405(okta: OktaEmulator) -> None:
    response = requests.get(f"{okta.issuer}/v1/token")
    assert response.status_code == 405
    assert response.json()["errorCode"] == "E0000022"


def test_implicit_tokens_are_not_refreshable(client: Client) -> None:
    response = client.authorize(
        response_type="token",
        nonce="n",
        scope="openid offline_access",
        sessionToken=client.session_token(),
        prompt="none",
    )
    assert "refresh_token" not in location_params(response)


def test_client_secret_jwt(okta: OktaEmulator, client: Client) -> None:
    secret = "s" * 48
    okta.org.add_app(
        "0oahmacservice",
        app_type="service",
        auth_method="client_secret_jwt",
        client_secret=secret,
    )
    now = int(okta.clock.now())
    claims = {
        "iss": "0oahmacservice",
        "sub": "0oahmacservice",
        "aud": f"{okta.issuer}/v1/token",
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    data = {
        "grant_type": "client_credentials",
        "scope": "api:read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    good = client.token(auth=None, client_assertion=jwt.encode(claims, secret, "HS256"), **data)
    assert good.status_code == 200, good.text
    bad = client.token(auth=None, client_assertion=jwt.encode(claims, "x" * 48, "HS256"), **data)
    assert_oauth_error(bad, 401, "invalid_client", "The client_assertion signature is invalid.")
