"""Flow pieces that need no server: PKCE, TOTP codes, credentials, checks before any request."""

from __future__ import annotations

import base64
import hashlib
import re

import pyotp
import pytest

from pytest_okta_user import diagnosis as d
from pytest_okta_user import errors as e
from pytest_okta_user.client import ClientAuth, OktaClient
from pytest_okta_user.flows import ExchangeParts, exchange, pkce_pair, refresh, totp_code
from pytest_okta_user.redact import Credentials
from pytest_okta_user.sessions import SessionStore
from pytest_okta_user.tokens import TokenSet, Variant

ISSUER = (
    "http://127.0.0.1:9/oauth2/default"  # port 9 (discard): nothing must be sent in these tests
)


def variant(flow: str = "pkce", **kw: object) -> Variant:
    fields: dict[str, object] = {
        "issuer": ISSUER,
        "client_id": "0oa1",
        "user": "tester@example.com",
        "flow": flow,
        "scopes": ("openid",),
        "redirect_uri": "http://localhost/cb",
    }
    fields.update(kw)
    return Variant(**fields)  # type: ignore[arg-type]


def test_an_exchanges_parts_show_the_variant_not_its_secrets() -> None:
    """Every step of an exchange holds them in a local: what --showlocals prints of them."""
    credentials = Credentials(password="pw-Secret-1", client_secret="cs-Secret-2", totp_secret="T")
    with OktaClient("http://127.0.0.1:9") as client:
        parts = ExchangeParts(
            client,
            variant("code"),
            credentials,
            ClientAuth("0oa1", credentials.client_secret, "client_secret_basic"),
            SessionStore(None),
            lambda: 0.0,
        )
        shown = repr(parts)
    assert shown == f"ExchangeParts({variant('code').describe()})"
    assert "Secret" not in shown
    assert parts.as_flow("pkce").variant.flow == "pkce"
    assert parts.as_flow("pkce").credentials is credentials


def test_pkce_pair_is_rfc7636_s256() -> None:
    verifier, challenge = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == expected.decode()
    assert verifier not in repr(verifier)
    assert pkce_pair()[0] != verifier


def test_totp_code_matches_rfc6238() -> None:
    secret = pyotp.random_base32()
    assert totp_code(secret, 1_700_000_000) == pyotp.TOTP(secret).at(1_700_000_000)
    # Pasted with spaces and lower case, as authenticator apps show it.
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)).lower()
    assert totp_code(spaced, 1_700_000_000) == pyotp.TOTP(secret).at(1_700_000_000)


def test_bad_totp_secret_is_a_configuration_error_without_the_secret() -> None:
    with pytest.raises(e.ConfigurationError) as info:
        totp_code("not base32 !!! 1890", 0)
    assert d.TOTP_SECRET in str(info.value)
    assert "1890" not in str(info.value)
    assert info.value.__context__ is None


@pytest.mark.parametrize(
    ("v", "creds", "kwargs", "needles"),
    [
        (variant("magic"), Credentials(password="p"), {}, [d.FLOW, "magic"]),
        (variant(user=None), Credentials(password="p"), {}, [d.USER]),
        (variant(), Credentials(), {}, [d.PASSWORD]),
        (variant(redirect_uri=None), Credentials(password="p"), {}, [d.REDIRECT_URI]),
        (variant("code"), Credentials(password="p"), {}, [d.CLIENT_SECRET, "pkce"]),
        (variant("client_credentials", user=None), Credentials(), {}, [d.CLIENT_SECRET]),
        (variant("implicit"), Credentials(password="p"), {"response_mode": "query"}, ["fragment"]),
        (variant(), Credentials(password="p"), {"response_mode": "okta_post_message"}, ["query"]),
        (
            variant(),
            Credentials(password="p", client_secret="s"),
            {"client_auth": "private_key_jwt"},
            ["client_secret_basic"],
        ),
    ],
)
def test_configuration_checked_before_any_request(
    v: Variant, creds: Credentials, kwargs: dict[str, str], needles: list[str]
) -> None:
    with pytest.raises(e.ConfigurationError) as info:
        exchange(v, creds, **kwargs)  # type: ignore[arg-type]
    for needle in needles:
        assert needle in str(info.value)


def test_refresh_without_refresh_token() -> None:
    tokens = TokenSet(access_token="a", token_type="Bearer", expires_at=0, scopes=("openid",))
    with pytest.raises(e.ConfigurationError, match="offline_access"):
        refresh(variant(), tokens, Credentials(password="p"))
