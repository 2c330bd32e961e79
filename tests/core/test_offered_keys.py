"""A JWKS read by the provider's check of a cached token's key (``provider._published_key_ids``)
serves the sign-in that follows in the process (``verify.offer_keys``), and the check counts the
keys verification can use without importing a JWT library (``verify.usable_kids``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pytest_okta_user.verify import (
    KeySet,
    forget_keys,
    offer_keys,
    signing_kid,
    usable_kids,
    verify_id_token,
)

JWKS_URI = "https://dev-1.okta.com/oauth2/default/v1/keys"
ISSUER = "https://dev-1.okta.com/oauth2/default"
NOW = 1_900_000_000.0
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _rsa_jwk(kid: str, **extra: Any) -> dict[str, Any]:
    jwk = dict(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())))
    jwk.update(kid=kid, **extra)
    return jwk


@pytest.fixture(autouse=True)
def no_keys() -> Iterator[None]:
    forget_keys()
    yield
    forget_keys()


def test_usable_kids_are_the_rs256_keys() -> None:
    ec_jwk = dict(
        json.loads(
            jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
        )
    )
    jwks = {
        "keys": [
            _rsa_jwk("rs256", alg="RS256", use="sig"),
            _rsa_jwk("no-alg"),
            _rsa_jwk("rs512", alg="RS512"),
            {**_rsa_jwk("no-n"), "n": ""},
            {**ec_jwk, "kid": "ec"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},  # no kid
            "not a key",
        ]
    }
    assert usable_kids(jwks) == {"rs256", "no-alg"}
    assert usable_kids({}) == frozenset()


def test_offered_keys_serve_the_next_sign_in_until_their_lifetime_ends() -> None:
    offer_keys(JWKS_URI, {"keys": [_rsa_jwk("k1", alg="RS256")]}, fresh_until=NOW + 60)

    keys = KeySet.for_issuer(JWKS_URI, now=NOW)
    assert not keys.wants("k1")  # no fetch: the offered JWKS is the process's
    token = jwt.encode(
        {"iss": ISSUER, "aud": "0oac", "iat": NOW, "exp": NOW + 600, "sub": "u"},
        KEY,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    claims = verify_id_token(token, issuer=ISSUER, client_id="0oac", keys=keys, clock=lambda: NOW)
    assert claims["sub"] == "u"
    # An unknown kid still gets its one refetch; the offered keys are shared by later sign-ins.
    assert keys.wants("k2")
    assert not KeySet.for_issuer(JWKS_URI, now=NOW + 59).wants("k1")
    # Past the answer's Cache-Control lifetime they are fetched again.
    assert KeySet.for_issuer(JWKS_URI, now=NOW + 60).wants("k1")


def test_a_later_offer_replaces_the_keys() -> None:
    offer_keys(JWKS_URI, {"keys": [_rsa_jwk("old")]}, fresh_until=NOW + 60)
    assert not KeySet.for_issuer(JWKS_URI, now=NOW).wants("old")
    offer_keys(JWKS_URI, {"keys": [_rsa_jwk("new")]}, fresh_until=NOW + 60)
    keys = KeySet.for_issuer(JWKS_URI, now=NOW)
    assert keys.get("new") is not None
    assert keys.get("old") is None


def test_signing_kid_reads_the_header_only() -> None:
    token = jwt.encode({"sub": "u"}, KEY, algorithm="RS256", headers={"kid": "k1"})
    assert signing_kid(token) == "k1"
    assert signing_kid(jwt.encode({"sub": "u"}, KEY, algorithm="RS256")) == ""
    for not_a_jwt in ("garbage", "a.b", "a.b.c.d", "!!!.e30.", "W10.e30.sig"):
        assert signing_kid(not_a_jwt) is None, not_a_jwt
    numeric_kid = jwt.encode({"sub": "u"}, KEY, algorithm="RS256", headers={"kid": "x"})
    header = jwt.utils.base64url_encode(json.dumps({"alg": "RS256", "kid": 7}).encode())
    assert signing_kid(header.decode() + numeric_kid[numeric_kid.index(".") :]) is None


def test_the_key_check_imports_no_jwt_library() -> None:
    code = (
        "import sys\n"
        "from pytest_okta_user.verify import offer_keys, usable_kids\n"
        "jwks = {'keys': [{'kty': 'RSA', 'kid': 'k', 'n': 'AQAB', 'e': 'AQAB'}]}\n"
        "offer_keys('https://x/keys', jwks, fresh_until=1.0)\n"
        "assert usable_kids(jwks) == {'k'}\n"
        "print(sorted(m for m in ('jwt', 'cryptography') if m in sys.modules))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "[]", answer.stdout + answer.stderr
