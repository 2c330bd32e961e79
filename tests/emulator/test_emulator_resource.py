"""Where a token is presented: /userinfo's refusals, and tokens minted under another issuer.

Issue 14, point 3 (every refusal at /userinfo carries Okta's `WWW-Authenticate: Bearer` header,
the token in the query string included) and point 8 (`iss` and `aud` are checked wherever a token
is presented, so a token minted under another Host is refused).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support.emulator_client import Client

from pytest_okta_user.emulator import DEMO, OktaEmulator

INVALID = 'Bearer error="invalid_token", error_description="The access token is invalid."'
IN_QUERY = (
    'Bearer error="invalid_request",'
    ' error_description="The access token cannot be presented in a query string."'
)
INSUFFICIENT = (
    'Bearer error="insufficient_scope",'
    ' error_description="The access token provided does not contain the required scopes."'
)
PROXY_HOST = "okta.proxy.test"


def base(okta: OktaEmulator, server: str) -> str:
    return f"{okta.url}/oauth2/v1" if server == "org" else f"{okta.url}/oauth2/{server}/v1"


def userinfo(
    okta: OktaEmulator,
    token: str | None,
    *,
    server: str = "default",
    method: str = "GET",
    query: dict[str, str] | None = None,
    scheme: str = "Bearer",
    host: str | None = None,
) -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"} if token else {}
    if host:
        headers["Host"] = host
    return requests.request(method, f"{base(okta, server)}/userinfo", params=query, headers=headers)


def assert_refused(answer: requests.Response, status: int, challenge: str) -> None:
    """Okta's bearer refusal: the status, an empty body, the error in WWW-Authenticate only."""
    assert answer.status_code == status
    assert answer.content == b""
    assert answer.headers["WWW-Authenticate"] == challenge


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_token_in_the_query_string_is_refused_in_the_header(
    okta: OktaEmulator, client: Client, method: str
) -> None:
    token = client.tokens()["access_token"]
    assert_refused(
        userinfo(okta, None, method=method, query={"access_token": token}), 400, IN_QUERY
    )
    # Also beside a good Authorization header: the query string alone is the mistake.
    both = userinfo(okta, token, method=method, query={"access_token": token})
    assert_refused(both, 400, IN_QUERY)
    assert_refused(userinfo(okta, None, query={"access_token": "nonsense"}), 400, IN_QUERY)


def test_every_invalid_token_is_a_401_with_the_header(okta: OktaEmulator, client: Client) -> None:
    tokens = client.tokens(scope="openid offline_access")
    assert_refused(userinfo(okta, None), 401, INVALID)
    assert_refused(userinfo(okta, "nonsense"), 401, INVALID)
    assert_refused(userinfo(okta, tokens["access_token"], scheme="Basic"), 401, INVALID)
    assert_refused(userinfo(okta, tokens["id_token"]), 401, INVALID)
    assert_refused(userinfo(okta, tokens["refresh_token"]), 401, INVALID)
    # Minted by another server of the same org: not this issuer's token.
    assert_refused(userinfo(okta, tokens["access_token"], server="org"), 401, INVALID)
    assert userinfo(okta, tokens["access_token"]).status_code == 200
    okta.clock.advance(3601)
    assert_refused(userinfo(okta, tokens["access_token"]), 401, INVALID)


def test_a_revoked_token_is_a_401_with_the_header(okta: OktaEmulator, client: Client) -> None:
    token = client.tokens()["access_token"]
    revoked = requests.post(
        f"{okta.issuer}/v1/revoke",
        data={"token": token},
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
    )
    assert revoked.status_code == 200
    assert_refused(userinfo(okta, token), 401, INVALID)


def test_a_token_without_openid_is_a_403_with_the_header(
    okta: OktaEmulator, client: Client
) -> None:
    token = client.tokens(scope="api:read")["access_token"]
    assert_refused(userinfo(okta, token), 403, INSUFFICIENT)


# -- tokens minted under another Host (another issuer) ---------------------------------------------


@pytest.fixture
def proxied() -> Iterator[OktaEmulator]:
    """An emulator that also answers under PROXY_HOST, as behind a proxy that keeps the Host."""
    with OktaEmulator(allowed_hosts=[PROXY_HOST]) as okta:
        yield okta


def tokens_via_proxy(okta: OktaEmulator, server: str) -> dict[str, str]:
    with requests.Session() as http:
        http.headers["Host"] = PROXY_HOST
        return Client(okta, http).tokens(server)


def introspect(okta: OktaEmulator, token: str, server: str, host: str | None = None) -> bool:
    answer = requests.post(
        f"{base(okta, server)}/introspect",
        data={"token": token},
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
        headers={"Host": host} if host else {},
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["active"])


@pytest.mark.parametrize("server", ["default", "org"])
def test_a_token_minted_under_another_issuer_is_refused(proxied: OktaEmulator, server: str) -> None:
    """Before the fix /userinfo checked only signature, expiry and revocation: a token minted
    under any Host (its `iss`, and for the org server its `aud`) was good on every other."""
    tokens = tokens_via_proxy(proxied, server)
    access, identity = tokens["access_token"], tokens["id_token"]
    assert userinfo(proxied, access, server=server, host=PROXY_HOST).status_code == 200
    assert_refused(userinfo(proxied, access, server=server), 401, INVALID)
    assert introspect(proxied, access, server, PROXY_HOST)
    assert not introspect(proxied, access, server)
    assert introspect(proxied, identity, server, PROXY_HOST)
    assert not introspect(proxied, identity, server)
