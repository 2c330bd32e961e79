"""Tokens signed ahead: /authorize begins signing a code's tokens (minting.PreparedTokens) and
/token hands them out only if nothing they hold changed in between; otherwise it signs afresh.
Every answer must be the one the emulator gave before it signed anything ahead."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from support.emulator_client import Client, half_hash, pkce_pair

from pytest_okta_user.emulator import DEMO, OktaEmulator

WEB = (DEMO.web_client_id, DEMO.web_client_secret)


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def verified(okta: OktaEmulator, client: Client, token: str, audience: str) -> dict[str, Any]:
    """The token's claims, its signature checked against the key the JWKS names by its kid."""
    keys = client.http.get(f"{okta.issuer}/v1/keys").json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in keys if k["kid"] == kid]
    key = jwt.PyJWK(jwk).key
    return dict(jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=okta.issuer))


def introspect(okta: OktaEmulator, client: Client, token: str) -> dict[str, Any]:
    response = client.http.post(f"{okta.issuer}/v1/introspect", data={"token": token}, auth=WEB)
    assert response.status_code == 200, response.text
    return dict(response.json())


def prepared_for(okta: OktaEmulator, code: str) -> Any:
    """The tokens /authorize began signing for `code` (None once it is redeemed)."""
    with okta.org.lock:
        return okta.org.codes[code].prepared


def signed_ahead(okta: OktaEmulator, code: str) -> Any:
    """The tokens /authorize began signing for `code`, once signed. Waiting for them makes the
    test deterministic: /token then finds them ready (a job not begun by then is dropped and the
    tokens signed at /token, which would make the tests below pass for the wrong reason)."""
    prepared = prepared_for(okta, code)
    assert prepared is not None
    assert prepared.wait() is not None
    return prepared


def code_signed_ahead(
    okta: OktaEmulator, client: Client, scope: str = "openid profile email"
) -> tuple[str, str, Any]:
    """A PKCE code issued to `client`, its verifier, and its tokens once signed ahead."""
    verifier, _ = pkce_pair()
    code = client.code(verifier=verifier, scope=scope)
    return code, verifier, signed_ahead(okta, code)


@pytest.fixture
def frozen(okta: OktaEmulator) -> OktaEmulator:
    okta.clock.freeze()
    return okta


def test_an_issued_code_has_its_tokens_signed_ahead_and_they_are_valid(
    frozen: OktaEmulator, client: Client
) -> None:
    code, verifier, prepared = code_signed_ahead(frozen, client, "openid profile email")
    tokens = client.redeem(code, verifier)
    # Handed out: the very tokens signed ahead (their jtis), recorded as issued now.
    assert claims(tokens["access_token"])["jti"] == prepared.plan.access_claims["jti"]
    assert claims(tokens["id_token"])["jti"] == prepared.plan.id_claims["jti"]
    access = verified(frozen, client, tokens["access_token"], "api://default")
    assert access["iat"] == int(frozen.clock.now())
    id_claims = verified(frozen, client, tokens["id_token"], DEMO.web_client_id)
    assert id_claims["at_hash"] == half_hash(tokens["access_token"])
    assert introspect(frozen, client, tokens["access_token"])["active"] is True
    # Dropped with the code: nothing of them stays behind.
    assert prepared_for(frozen, code) is None


def test_a_clock_moved_between_authorize_and_token_gets_fresh_tokens(
    frozen: OktaEmulator, client: Client
) -> None:
    code, verifier, prepared = code_signed_ahead(frozen, client)
    issued_at = int(frozen.clock.now())
    frozen.clock.advance(7)
    tokens = client.redeem(code, verifier)
    access, id_claims = claims(tokens["access_token"]), claims(tokens["id_token"])
    assert access["iat"] == issued_at + 7
    assert access["exp"] == issued_at + 7 + 3600
    assert id_claims["iat"] == issued_at + 7
    assert id_claims["at_hash"] == half_hash(tokens["access_token"])
    assert access["jti"] != prepared.plan.access_claims["jti"]
    assert introspect(frozen, client, tokens["access_token"])["active"] is True


def test_unused_prepared_tokens_were_never_issued(frozen: OktaEmulator, client: Client) -> None:
    code, verifier, prepared = code_signed_ahead(frozen, client)
    frozen.clock.advance(1)
    client.redeem(code, verifier)
    unused = prepared.wait()
    assert unused is not None
    unused_access, _ = unused
    assert introspect(frozen, client, unused_access) == {"active": False}
    userinfo = client.http.get(
        f"{frozen.issuer}/v1/userinfo", headers={"Authorization": f"Bearer {unused_access}"}
    )
    assert userinfo.status_code == 401
    revoke = client.http.post(f"{frozen.issuer}/v1/revoke", data={"token": unused_access}, auth=WEB)
    assert revoke.status_code == 200
    assert frozen.org.record_counts()["access_tokens"] == 1


def test_codes_never_redeemed_record_no_tokens(frozen: OktaEmulator, client: Client) -> None:
    codes = [client.code(verifier=pkce_pair()[0]) for _ in range(3)]
    signed = [signed_ahead(frozen, code).wait() for code in codes]
    assert frozen.org.record_counts()["access_tokens"] == 0
    for access, _ in signed:  # type: ignore[misc]
        assert introspect(frozen, client, access) == {"active": False}


def test_a_replayed_code_is_refused_as_before(frozen: OktaEmulator, client: Client) -> None:
    verifier, _ = pkce_pair()
    code = client.code(verifier=verifier)
    client.redeem(code, verifier)
    replay = client.token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=DEMO.web_redirect_uri,
        code_verifier=verifier,
    )
    assert replay.status_code == 400
    assert replay.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code is invalid or has expired.",
    }
    assert frozen.org.record_counts()["access_tokens"] == 1


def test_a_wrong_verifier_is_refused_and_the_code_still_redeems(
    frozen: OktaEmulator, client: Client
) -> None:
    verifier, _ = pkce_pair()
    code = client.code(verifier=verifier)
    wrong = client.token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=DEMO.web_redirect_uri,
        code_verifier=pkce_pair()[0],
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert "PKCE verification failed" in wrong.json()["error_description"]
    assert frozen.org.record_counts()["access_tokens"] == 0
    tokens = client.redeem(code, verifier)
    assert introspect(frozen, client, tokens["access_token"])["active"] is True


def test_a_key_rotation_between_authorize_and_token_signs_with_the_new_key(
    frozen: OktaEmulator, client: Client
) -> None:
    code, verifier, prepared = code_signed_ahead(frozen, client)
    old_kid = prepared.plan.access_key.kid
    new_key = frozen.org.keys.rotate("as:default")
    tokens = client.redeem(code, verifier)
    for token in (tokens["access_token"], tokens["id_token"]):
        assert jwt.get_unverified_header(token)["kid"] == new_key.kid != old_kid
    verified(frozen, client, tokens["id_token"], DEMO.web_client_id)
    assert introspect(frozen, client, tokens["access_token"])["active"] is True


def test_a_profile_changed_between_authorize_and_token_is_in_the_id_token(
    frozen: OktaEmulator, client: Client
) -> None:
    code, verifier, _ = code_signed_ahead(frozen, client)
    with frozen.org.lock:
        frozen.org.user(DEMO.user_id).profile["firstName"] = "Renamed"  # type: ignore[union-attr]
    tokens = client.redeem(code, verifier)
    assert claims(tokens["id_token"])["given_name"] == "Renamed"


def test_a_server_lifetime_changed_between_authorize_and_token_is_in_the_tokens(
    frozen: OktaEmulator, client: Client
) -> None:
    code, verifier, _ = code_signed_ahead(frozen, client)
    with frozen.org.lock:
        frozen.org.servers[DEMO.auth_server_id].access_token_lifetime = 600
    tokens = client.redeem(code, verifier)
    access = claims(tokens["access_token"])
    assert access["exp"] - access["iat"] == 600
    assert tokens["expires_in"] == 600


def test_refresh_tokens_are_issued_at_token_time_as_before(
    frozen: OktaEmulator, client: Client
) -> None:
    code, verifier, _ = code_signed_ahead(frozen, client, "openid offline_access")
    tokens = client.redeem(code, verifier)
    assert introspect(frozen, client, tokens["refresh_token"])["active"] is True
    refreshed = client.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    # Reuse detection revokes the family, the first access token (signed ahead) included.
    revoke = client.http.post(
        f"{frozen.issuer}/v1/revoke", data={"token": tokens["refresh_token"]}, auth=WEB
    )
    assert revoke.status_code == 200
    assert introspect(frozen, client, tokens["access_token"]) == {"active": False}


def test_with_the_signers_busy_a_code_is_issued_without_and_token_signs_as_before(
    frozen: OktaEmulator, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_okta_user.emulator.minting import PreparedTokens

    monkeypatch.setattr(PreparedTokens, "MAX_PENDING", 0)
    verifier, _ = pkce_pair()
    code = client.code(verifier=verifier)
    assert prepared_for(frozen, code) is None
    tokens = client.redeem(code, verifier)
    verified(frozen, client, tokens["id_token"], DEMO.web_client_id)
    assert introspect(frozen, client, tokens["access_token"])["active"] is True


def test_a_token_is_signed_as_pyjwt_signs_it_byte_for_byte(okta: OktaEmulator) -> None:
    """`SigningKey.sign_jwt` writes the JWS itself (PyJWT's Python around the signature held the
    GIL while /token waited): RS256 signatures are deterministic, so it must give PyJWT's bytes."""
    key = okta.org.keys.get("as:default")
    token_claims = {
        "ver": 1,
        "jti": "AT.x",
        "iss": okta.issuer,
        "scp": ["openid", "email"],
        "name": 'Zoë "Q" \\ Ünïcode',
        "address": {"locality": "Zürich"},
        "exp": 1_900_000_000,
    }
    expected = jwt.encode(
        token_claims, key.private_key, "RS256", headers={"kid": key.kid, "typ": None}
    )
    assert key.sign_jwt(token_claims) == expected
