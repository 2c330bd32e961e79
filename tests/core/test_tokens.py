"""Token verification with PyJWT against a JWKS, on an injected clock; issuer helpers; redaction."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pytest_okta_user.errors import CLIENT_ID, DOMAIN, TokenVerificationError
from pytest_okta_user.tokens import (
    KeySet,
    RedactedStr,
    SecretDict,
    endpoint,
    is_org_server,
    org_url,
    verify_access_token,
    verify_id_token,
)

ORG = "https://dev-1.okta.com"
CUSTOM = f"{ORG}/oauth2/default"
NOW = 1_900_000_000.0


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY_A = _key()
KEY_B = _key()


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return dict(jwk)


def _token(key: rsa.RSAPrivateKey, kid: str, **claims: Any) -> str:
    base = {"iss": CUSTOM, "aud": "0oaclient", "iat": NOW - 10, "exp": NOW + 3600, "sub": "00u1"}
    base.update(claims)
    base = {k: v for k, v in base.items() if v is not None}
    return jwt.encode(base, key, algorithm="RS256", headers={"kid": kid})


class Fetcher:
    def __init__(self, *answers: list[dict[str, Any]]) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        keys = self.answers[min(self.calls, len(self.answers)) - 1]
        return {"keys": keys}


def clock() -> float:
    return NOW


@pytest.mark.parametrize(
    ("issuer", "org", "is_org", "token_url"),
    [
        (ORG, ORG, True, f"{ORG}/oauth2/v1/token"),
        (f"{ORG}/", ORG, True, f"{ORG}/oauth2/v1/token"),
        (CUSTOM, ORG, False, f"{CUSTOM}/v1/token"),
        (f"{ORG}/oauth2/aus1x", ORG, False, f"{ORG}/oauth2/aus1x/v1/token"),
        (
            "http://127.0.0.1:5000/prefix/oauth2/default",
            "http://127.0.0.1:5000/prefix",
            False,
            None,
        ),
    ],
)
def test_issuer_helpers(issuer: str, org: str, is_org: bool, token_url: str | None) -> None:
    assert org_url(issuer) == org
    assert is_org_server(issuer) is is_org
    if token_url:
        assert endpoint(issuer, "token") == token_url


def test_valid_id_token() -> None:
    keys = KeySet(Fetcher([_jwk(KEY_A, "a")]))
    token = _token(KEY_A, "a", nonce="n1")
    claims = verify_id_token(
        token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock, nonce="n1"
    )
    assert claims["sub"] == "00u1"


@pytest.mark.parametrize(
    ("claims", "kwargs", "needle"),
    [
        ({"iss": "https://evil.example"}, {}, DOMAIN),
        ({"aud": "someone-else"}, {}, CLIENT_ID),
        ({"nonce": "other"}, {"nonce": "n1"}, "nonce"),
        ({"nonce": None}, {"nonce": "n1"}, "nonce"),
        ({"exp": NOW - 31}, {}, "expired"),
        ({"iat": NOW + 120}, {}, "future"),
    ],
)
def test_id_token_rejections(claims: dict[str, Any], kwargs: dict[str, Any], needle: str) -> None:
    keys = KeySet(Fetcher([_jwk(KEY_A, "a")]))
    token = _token(KEY_A, "a", **claims)
    with pytest.raises(TokenVerificationError) as info:
        verify_id_token(
            token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock, **kwargs
        )
    assert needle in str(info.value)
    assert token not in str(info.value)


def test_expiry_follows_the_injected_clock() -> None:
    keys = KeySet(Fetcher([_jwk(KEY_A, "a")]))
    token = _token(KEY_A, "a", exp=NOW + 60)
    verify_id_token(token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock)
    # Within the leeway still fine; beyond it refused.
    verify_id_token(token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=lambda: NOW + 80)
    with pytest.raises(TokenVerificationError, match="expired"):
        verify_id_token(
            token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=lambda: NOW + 100
        )


def test_signature_from_another_key_is_refused() -> None:
    keys = KeySet(Fetcher([_jwk(KEY_A, "a")]))
    forged = _token(KEY_B, "a")
    with pytest.raises(TokenVerificationError, match="signature"):
        verify_id_token(forged, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock)


def test_unknown_kid_refetches_once() -> None:
    fetch = Fetcher([_jwk(KEY_A, "a")], [_jwk(KEY_A, "a"), _jwk(KEY_B, "b")])
    keys = KeySet(fetch)
    verify_id_token(
        _token(KEY_A, "a"), issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock
    )
    assert fetch.calls == 1
    verify_id_token(
        _token(KEY_B, "b"), issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock
    )
    assert fetch.calls == 2
    with pytest.raises(TokenVerificationError, match="not in the issuer's JWKS"):
        verify_id_token(
            _token(KEY_B, "zzz"), issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock
        )
    assert fetch.calls == 2  # only one refetch per key set


def test_custom_server_access_token_is_verified_and_aud_recorded() -> None:
    keys = KeySet(Fetcher([_jwk(KEY_A, "a")]))
    token = _token(KEY_A, "a", aud="api://default", scp=["openid"])
    claims = verify_access_token(token, issuer=CUSTOM, keys=keys, clock=clock)
    assert claims["aud"] == "api://default"
    with pytest.raises(TokenVerificationError):
        verify_access_token(_token(KEY_B, "a"), issuer=CUSTOM, keys=keys, clock=clock)
    with pytest.raises(TokenVerificationError, match="expired"):
        verify_access_token(token, issuer=CUSTOM, keys=keys, clock=lambda: NOW + 4000)


def test_org_server_access_token_is_only_decoded() -> None:
    fetch = Fetcher([_jwk(KEY_A, "a")])
    # Signed with a key the org server never publishes.
    token = _token(KEY_B, "unpublished", iss=ORG, aud=ORG)
    claims = verify_access_token(token, issuer=ORG, keys=KeySet(fetch), clock=clock)
    assert claims["aud"] == ORG
    assert fetch.calls == 0
    assert verify_access_token("opaque-token", issuer=ORG, keys=KeySet(fetch), clock=clock) == {}


def test_not_a_jwt() -> None:
    keys = KeySet(Fetcher([_jwk(KEY_A, "a")]))
    with pytest.raises(TokenVerificationError, match="not a JWT"):
        verify_id_token("garbage", issuer=CUSTOM, client_id="c", keys=keys, clock=clock)


def test_secret_types_redact_their_repr() -> None:
    secret = RedactedStr("hunter2-value")
    assert "hunter2" not in repr(secret)
    assert secret == "hunter2-value"
    assert f"{secret}" == "hunter2-value"
    assert "hunter2" not in repr({"password": secret})
    bag = SecretDict(access_token="eyJ-secret", state="s")
    assert "eyJ-secret" not in repr(bag)
    assert "access_token" in repr(bag)
