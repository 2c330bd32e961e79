"""Keys, discovery, okta-organization, userinfo, introspect, revoke, logout, issuer and 4xx-only."""

from __future__ import annotations

import jwt
import pytest
import requests
from support.emulator_client import Client, half_hash, location_params

from pytest_okta_user.emulator import DEMO, OktaEmulator


def test_jwks_verifies_custom_server_tokens(okta: OktaEmulator, client: Client) -> None:
    tokens = client.tokens()
    response = requests.get(f"{okta.issuer}/v1/keys")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    keys = response.json()["keys"]
    for key in keys:
        assert set(key) >= {"kty", "alg", "kid", "use", "e", "n"}
        assert (key["kty"], key["alg"], key["use"], key["e"]) == ("RSA", "RS256", "sig", "AQAB")
        assert len(key["kid"]) == 43
    by_kid = {k["kid"]: jwt.PyJWK(k) for k in keys}
    for name, audience in (("access_token", "api://default"), ("id_token", DEMO.web_client_id)):
        header = jwt.get_unverified_header(tokens[name])
        assert set(header) == {"alg", "kid"}
        claims = jwt.decode(
            tokens[name],
            by_kid[header["kid"]].key,
            algorithms=["RS256"],
            audience=audience,
            issuer=okta.issuer,
        )
        assert claims["ver"] == 1


def test_token_claims(okta: OktaEmulator, client: Client) -> None:
    tokens = client.tokens(scope="openid profile email")
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert set(access) >= {
        "ver",
        "jti",
        "iss",
        "aud",
        "iat",
        "exp",
        "cid",
        "uid",
        "scp",
        "sub",
        "auth_time",
    }
    assert access["jti"].startswith("AT.")
    assert access["sub"] == DEMO.user_login
    assert access["uid"] == DEMO.user_id
    assert access["cid"] == DEMO.web_client_id
    assert access["scp"] == ["openid", "profile", "email"]
    assert access["exp"] - access["iat"] == 3600
    identity = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    expected = "sub name email preferred_username ver iss aud iat exp jti amr idp auth_time at_hash"
    assert set(identity) >= set(expected.split())
    assert identity["sub"] == DEMO.user_id
    assert identity["preferred_username"] == DEMO.user_login
    assert identity["amr"] == ["pwd"]
    assert identity["jti"].startswith("ID.")
    assert identity["at_hash"] == half_hash(tokens["access_token"])


@pytest.mark.parametrize("server", ["org", "default"])
def test_jwks_holds_the_signing_key_and_an_unused_next_key(
    okta: OktaEmulator, client: Client, server: str
) -> None:
    # Okta publishes 2-3 keys in no meaningful order: only the token's kid names the right one
    # (https://developer.okta.com/docs/concepts/key-rotation/).
    tokens = client.tokens(server)
    issuer = okta.url if server == "org" else okta.issuer
    jwks = f"{okta.url}/oauth2/v1/keys" if server == "org" else f"{okta.issuer}/v1/keys"
    keys = requests.get(jwks).json()["keys"]
    assert len(keys) == 2
    assert len({k["kid"] for k in keys}) == 2
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    (signing,) = [k for k in keys if k["kid"] == kid]
    (unused,) = [k for k in keys if k["kid"] != kid]
    jwt.decode(
        tokens["id_token"],
        jwt.PyJWK(signing).key,
        algorithms=["RS256"],
        audience=DEMO.web_client_id,
        issuer=issuer,
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            tokens["id_token"],
            jwt.PyJWK(unused).key,
            algorithms=["RS256"],
            audience=DEMO.web_client_id,
        )
    # A client that takes the first key without looking at kid fails.
    assert keys[0]["kid"] != kid


def test_org_server_keys_publish_the_id_token_key_only(okta: OktaEmulator, client: Client) -> None:
    tokens = client.tokens("org")
    published = {
        k["kid"]: jwt.PyJWK(k) for k in requests.get(f"{okta.url}/oauth2/v1/keys").json()["keys"]
    }
    id_kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    jwt.decode(
        tokens["id_token"], published[id_kid].key, algorithms=["RS256"], audience=DEMO.web_client_id
    )
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] not in published
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["iss"] == okta.url
    assert access["aud"] == okta.url
    # Okta itself can still introspect them.
    introspect = requests.post(
        f"{okta.url}/oauth2/v1/introspect",
        data={"token": tokens["access_token"]},
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
    )
    assert introspect.json()["active"] is True


@pytest.mark.parametrize("kind", ["openid-configuration", "oauth-authorization-server"])
def test_discovery_documents(okta: OktaEmulator, kind: str) -> None:
    custom = requests.get(f"{okta.issuer}/.well-known/{kind}").json()
    assert custom["issuer"] == okta.issuer
    assert custom["jwks_uri"] == f"{okta.issuer}/v1/keys"
    assert custom["token_endpoint"] == f"{okta.issuer}/v1/token"
    assert custom["authorization_endpoint"] == f"{okta.issuer}/v1/authorize"
    assert custom["code_challenge_methods_supported"] == ["S256"]
    assert custom["response_modes_supported"] == [
        "query",
        "fragment",
        "form_post",
        "okta_post_message",
    ]
    assert "token" in custom["response_types_supported"]
    assert set(custom["scopes_supported"]) >= {
        "openid",
        "profile",
        "email",
        "offline_access",
        "api:read",
    }
    org = requests.get(f"{okta.url}/.well-known/{kind}").json()
    assert org["issuer"] == okta.url
    assert org["jwks_uri"] == f"{okta.url}/oauth2/v1/keys"
    assert "token" not in org["response_types_supported"]
    assert ("userinfo_endpoint" in custom) == (kind == "openid-configuration")
    missing = requests.get(f"{okta.url}/oauth2/nope/.well-known/{kind}")
    assert missing.status_code == 404
    assert (
        missing.json()["errorSummary"]
        == "Not found: Resource not found: nope (AuthorizationServer)"
    )


def test_okta_organization(okta: OktaEmulator) -> None:
    body = requests.get(f"{okta.url}/.well-known/okta-organization").json()
    assert body["id"].startswith("00o")
    assert body["pipeline"] in ("v1", "idx")
    assert body["_links"]["organization"]["href"] == okta.url


def test_userinfo(okta: OktaEmulator, client: Client) -> None:
    tokens = client.tokens(scope="openid profile email")
    response = requests.get(
        f"{okta.issuer}/v1/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    assert response.json()["sub"] == DEMO.user_id
    assert response.json()["email"] == DEMO.user_login
    bad = requests.get(f"{okta.issuer}/v1/userinfo", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401
    assert bad.content == b""
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    in_query = requests.get(
        f"{okta.issuer}/v1/userinfo", params={"access_token": tokens["access_token"]}
    )
    assert in_query.status_code == 400
    assert in_query.content == b""
    assert 'error="invalid_request"' in in_query.headers["WWW-Authenticate"]
    no_openid = client.tokens(scope="api:read")
    forbidden = requests.get(
        f"{okta.issuer}/v1/userinfo",
        headers={"Authorization": f"Bearer {no_openid['access_token']}"},
    )
    assert forbidden.status_code == 403
    assert "insufficient_scope" in forbidden.headers["WWW-Authenticate"]


def introspect(okta: OktaEmulator, token: str, server: str = "default") -> dict:
    base = f"{okta.url}/oauth2/v1" if server == "org" else f"{okta.url}/oauth2/{server}/v1"
    response = requests.post(
        f"{base}/introspect",
        data={"token": token},
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_introspect_turns_inactive_when_the_clock_passes_exp(
    okta: OktaEmulator, client: Client
) -> None:
    tokens = client.tokens(scope="openid offline_access")
    active = introspect(okta, tokens["access_token"])
    assert active["active"] is True
    assert active["username"] == DEMO.user_login
    assert active["client_id"] == DEMO.web_client_id
    assert active["token_type"] == "Bearer"
    assert introspect(okta, tokens["id_token"])["active"] is True
    assert introspect(okta, tokens["refresh_token"])["active"] is True
    okta.clock.advance(3601)
    assert introspect(okta, tokens["access_token"]) == {"active": False}
    assert introspect(okta, tokens["id_token"]) == {"active": False}
    assert introspect(okta, "garbage") == {"active": False}
    # A token is only good at the server that minted it.
    assert introspect(okta, client.tokens()["access_token"], "org") == {"active": False}


def test_introspect_needs_client_authentication(okta: OktaEmulator) -> None:
    response = requests.post(f"{okta.issuer}/v1/introspect", data={"token": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_revoke(okta: OktaEmulator, client: Client) -> None:
    tokens = client.tokens(scope="openid offline_access")
    for token in (tokens["access_token"], tokens["refresh_token"], "not-a-token"):
        response = requests.post(
            f"{okta.issuer}/v1/revoke",
            data={"token": token},
            auth=(DEMO.web_client_id, DEMO.web_client_secret),
        )
        assert response.status_code == 200
        assert response.content == b""
    assert introspect(okta, tokens["access_token"]) == {"active": False}
    refresh = client.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"


def test_logout_ends_the_session(okta: OktaEmulator, client: Client) -> None:
    response = client.authorize(
        response_type="id_token", nonce="n", sessionToken=client.session_token(), prompt="none"
    )
    id_token = location_params(response)["id_token"]
    assert "code" in location_params(client.authorize(prompt="none"))
    bye = client.http.get(
        f"{okta.issuer}/v1/logout",
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": DEMO.web_post_logout_redirect_uri,
            "state": "bye",
        },
        allow_redirects=False,
    )
    assert bye.status_code == 302
    assert bye.headers["Location"] == f"{DEMO.web_post_logout_redirect_uri}?state=bye"
    assert location_params(client.authorize(prompt="none"))["error"] == "login_required"
    unregistered = client.http.get(
        f"{okta.issuer}/v1/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example.com/"},
        allow_redirects=False,
    )
    assert unregistered.status_code == 400
    assert "Location" not in unregistered.headers
    garbage = client.http.get(
        f"{okta.issuer}/v1/logout", params={"id_token_hint": "x"}, allow_redirects=False
    )
    assert garbage.status_code == 400


def test_issuer_follows_the_host_header(okta: OktaEmulator) -> None:
    doc = requests.get(
        f"{okta.issuer}/.well-known/openid-configuration",
        headers={"Host": "okta.localhost:8443"},
    )
    assert doc.json()["issuer"] == "http://okta.localhost:8443/oauth2/default"
    # Other hosts and malformed ones: tests/emulator/test_emulator_safety.py.


def test_public_url_fixes_the_issuer() -> None:
    with OktaEmulator(public_url="https://okta.example.test/") as okta:
        assert okta.url == "https://okta.example.test"
        local = f"http://127.0.0.1:{okta.port}"
        doc = requests.get(f"{local}/oauth2/default/.well-known/openid-configuration").json()
        assert doc["issuer"] == "https://okta.example.test/oauth2/default"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nope"),
        ("GET", "/api/v1/users"),
        ("GET", "/oauth2/default/v1/nothing"),
        ("GET", "/oauth2/default/v1/token"),
        ("POST", "/oauth2/v1/keys"),
        ("DELETE", "/api/v1/authn"),
        ("GET", "/oauth2/%ff%fe/v1/keys"),
        ("GET", "/oauth2/default/.well-known/nothing"),
        ("POST", "/api/v1/authn/factors/x/verify"),
    ],
)
def test_never_a_500(okta: OktaEmulator, method: str, path: str) -> None:
    response = requests.request(method, okta.url + path, allow_redirects=False)
    assert 200 <= response.status_code < 500
    assert okta.internal_errors == []


def test_unknown_path_is_e0000007(okta: OktaEmulator) -> None:
    response = requests.get(f"{okta.url}/api/v1/users/me")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"
    assert response.json()["errorSummary"].startswith("Not found: ")
