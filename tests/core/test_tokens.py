"""Variant: the cache key, and the authorization server's endpoints it carries."""

from __future__ import annotations

import pytest

from pytest_okta_user.tokens import Variant

ORG = "https://dev-1.okta.com"
CUSTOM = f"{ORG}/oauth2/default"


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
    variant = Variant(issuer, "0oa1", "tester", "pkce", ("openid",), "http://localhost/cb")
    assert variant.org_url == org
    assert variant.is_org_server is is_org
    if token_url:
        assert variant.token_url == token_url


@pytest.mark.parametrize("issuer", [ORG, CUSTOM])
def test_endpoints_follow_okta_url_scheme(issuer: str) -> None:
    variant = Variant(issuer, "0oa1", None, "client_credentials", ("api:read",))
    base = f"{ORG}/oauth2/v1" if issuer == ORG else f"{CUSTOM}/v1"
    assert (variant.authorize_url, variant.token_url, variant.keys_url) == (
        f"{base}/authorize",
        f"{base}/token",
        f"{base}/keys",
    )
