"""Token verification with PyJWT against a JWKS the caller hands in, on an injected clock; the
recipe's lazy key fetching (first use, one refetch for an unknown kid)."""

from __future__ import annotations

import json
from typing import Any, cast

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pytest_okta_user import flows
from pytest_okta_user.client import OktaClient
from pytest_okta_user.diagnosis import CLIENT_ID, DOMAIN
from pytest_okta_user.errors import TokenVerificationError
from pytest_okta_user.tokens import Variant
from pytest_okta_user.verify import KeySet, verify_access_token, verify_id_token

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


def loaded(*jwks: dict[str, Any]) -> KeySet:
    keys = KeySet()
    keys.load({"keys": list(jwks)})
    return keys


class Fetcher:
    def __init__(self, *answers: list[dict[str, Any]], lifetime: float = 0.0) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.lifetime = lifetime

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        keys = self.answers[min(self.calls, len(self.answers)) - 1]
        return {"keys": keys}


def clock() -> float:
    return NOW


class FakeClient:
    """The one client call the recipe makes for keys, answered by a Fetcher."""

    def __init__(self, fetch: Fetcher) -> None:
        self.fetch = fetch
        self.urls: list[str] = []

    def keys_with_lifetime(self, jwks_uri: str) -> tuple[dict[str, Any], float]:
        self.urls.append(jwks_uri)
        return self.fetch(), self.fetch.lifetime


VARIANT = Variant(CUSTOM, "0oaclient", "tester", "pkce", ("openid",), "http://localhost/cb")


@pytest.fixture(autouse=True)
def _no_keys_from_other_tests() -> None:
    flows.forget_process_state()


def verify_as_the_recipe_does(fetch: Fetcher, keys: KeySet, token: str) -> dict[str, Any]:
    """flows' own key fetching (lazy, one refetch for an unknown kid), then the verification."""
    client = FakeClient(fetch)
    variant = Variant(CUSTOM, "0oaclient", "tester", "pkce", ("openid",), "http://localhost/cb")
    flows._fetch_keys_for(cast(OktaClient, client), variant, keys, token, clock)
    assert set(client.urls) <= {variant.keys_url}
    return verify_id_token(token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock)


def test_valid_id_token() -> None:
    keys = loaded(_jwk(KEY_A, "a"))
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
    keys = loaded(_jwk(KEY_A, "a"))
    token = _token(KEY_A, "a", **claims)
    with pytest.raises(TokenVerificationError) as info:
        verify_id_token(
            token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock, **kwargs
        )
    assert needle in str(info.value)
    assert token not in str(info.value)


def test_expiry_follows_the_injected_clock() -> None:
    keys = loaded(_jwk(KEY_A, "a"))
    token = _token(KEY_A, "a", exp=NOW + 60)
    verify_id_token(token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock)
    # Within the leeway still fine; beyond it refused.
    verify_id_token(token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=lambda: NOW + 80)
    with pytest.raises(TokenVerificationError, match="expired"):
        verify_id_token(
            token, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=lambda: NOW + 100
        )


def test_signature_from_another_key_is_refused() -> None:
    keys = loaded(_jwk(KEY_A, "a"))
    forged = _token(KEY_B, "a")
    with pytest.raises(TokenVerificationError, match="signature"):
        verify_id_token(forged, issuer=CUSTOM, client_id="0oaclient", keys=keys, clock=clock)


def test_unknown_kid_refetches_once() -> None:
    fetch = Fetcher([_jwk(KEY_A, "a")], [_jwk(KEY_A, "a"), _jwk(KEY_B, "b")])
    keys = KeySet()
    assert fetch.calls == 0  # nothing fetched before a token needs a key
    verify_as_the_recipe_does(fetch, keys, _token(KEY_A, "a"))
    assert fetch.calls == 1
    verify_as_the_recipe_does(fetch, keys, _token(KEY_B, "b"))
    assert fetch.calls == 2
    with pytest.raises(TokenVerificationError, match="not in the issuer's JWKS"):
        verify_as_the_recipe_does(fetch, keys, _token(KEY_B, "zzz"))
    assert fetch.calls == 2  # only one refetch per key set


def sign_in_keys(now: float = NOW) -> KeySet:
    """The key set a sign-in starts with: what the process holds for the issuer."""
    return KeySet.for_issuer(VARIANT.keys_url, now=now)


def test_a_later_sign_in_reuses_the_issuers_keys_within_their_lifetime() -> None:
    fetch = Fetcher([_jwk(KEY_A, "a")], lifetime=3600)
    verify_as_the_recipe_does(fetch, sign_in_keys(), _token(KEY_A, "a"))
    verify_as_the_recipe_does(fetch, sign_in_keys(NOW + 3599), _token(KEY_A, "a"))
    assert fetch.calls == 1
    # Past the answer's Cache-Control max-age the keys are read again.
    verify_as_the_recipe_does(fetch, sign_in_keys(NOW + 3600), _token(KEY_A, "a"))
    assert fetch.calls == 2


def test_keys_without_a_lifetime_are_not_reused() -> None:
    fetch = Fetcher([_jwk(KEY_A, "a")], lifetime=0)
    verify_as_the_recipe_does(fetch, sign_in_keys(), _token(KEY_A, "a"))
    verify_as_the_recipe_does(fetch, sign_in_keys(), _token(KEY_A, "a"))
    assert fetch.calls == 2


def test_each_sign_in_may_refetch_once_for_a_rotated_key() -> None:
    # Okta rotates keys (https://developer.okta.com/docs/concepts/key-rotation/): a kid the
    # cached set lacks is one refetch per sign-in, never more, however long the cache lives.
    fetch = Fetcher([_jwk(KEY_A, "a")], [_jwk(KEY_A, "a"), _jwk(KEY_B, "b")], lifetime=3600)
    verify_as_the_recipe_does(fetch, sign_in_keys(), _token(KEY_A, "a"))
    keys = sign_in_keys()
    verify_as_the_recipe_does(fetch, keys, _token(KEY_B, "b"))
    assert fetch.calls == 2
    with pytest.raises(TokenVerificationError, match="not in the issuer's JWKS"):
        verify_as_the_recipe_does(fetch, keys, _token(KEY_B, "zzz"))
    assert fetch.calls == 2
    # The next sign-in starts from the rotated set, and has its own one refetch.
    verify_as_the_recipe_does(fetch, sign_in_keys(), _token(KEY_B, "b"))
    assert fetch.calls == 2
    with pytest.raises(TokenVerificationError, match="not in the issuer's JWKS"):
        verify_as_the_recipe_does(fetch, sign_in_keys(), _token(KEY_B, "zzz"))
    assert fetch.calls == 3


def test_a_keys_pyjwk_is_built_once_while_it_is_published() -> None:
    keys = loaded(_jwk(KEY_A, "a"))
    first = keys.get("a")
    keys.load({"keys": [_jwk(KEY_A, "a"), _jwk(KEY_B, "b")]})
    assert keys.get("a") is first
    # Other material under the same kid is a new key, not the old one.
    keys.load({"keys": [_jwk(KEY_B, "a")]})
    assert keys.get("a") is not first
    assert keys.get("b") is None


def test_custom_server_access_token_is_verified_and_aud_recorded() -> None:
    keys = loaded(_jwk(KEY_A, "a"))
    token = _token(KEY_A, "a", aud="api://default", scp=["openid"])
    claims = verify_access_token(token, issuer=CUSTOM, keys=keys, clock=clock, org_server=False)
    assert claims["aud"] == "api://default"
    with pytest.raises(TokenVerificationError):
        verify_access_token(
            _token(KEY_B, "a"), issuer=CUSTOM, keys=keys, clock=clock, org_server=False
        )
    with pytest.raises(TokenVerificationError, match="expired"):
        verify_access_token(
            token, issuer=CUSTOM, keys=keys, clock=lambda: NOW + 4000, org_server=False
        )


def test_org_server_access_token_is_only_decoded() -> None:
    # Signed with a key the org server never publishes: no key set is needed, none is loaded.
    token = _token(KEY_B, "unpublished", iss=ORG, aud=ORG)
    claims = verify_access_token(token, issuer=ORG, keys=KeySet(), clock=clock, org_server=True)
    assert claims["aud"] == ORG
    opaque = verify_access_token(
        "opaque-token", issuer=ORG, keys=KeySet(), clock=clock, org_server=True
    )
    assert opaque == {}


def test_not_a_jwt() -> None:
    keys = loaded(_jwk(KEY_A, "a"))
    with pytest.raises(TokenVerificationError, match="not a JWT"):
        verify_id_token("garbage", issuer=CUSTOM, client_id="c", keys=keys, clock=clock)
