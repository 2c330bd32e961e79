"""at_hash / c_hash (OpenID Connect Core 1.0, sections 3.2.2.10 and 3.3.2.11): the ID token names
the access token and the code it came with.

The emulator answers each sign-in consistently, so a mismatched pair is made from two of its real
answers: the ID token of one with the access token (or code) of the other.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_okta_user import flows
from pytest_okta_user.client import OktaClient
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.errors import TokenVerificationError
from pytest_okta_user.redact import SecretDict
from pytest_okta_user.tokens import Variant
from pytest_okta_user.verify import KeySet, verify_id_token


def demo_variant(okta: OktaEmulator, flow: str = "implicit") -> Variant:
    """The demo web app's variant, whose endpoints the raw requests below use."""
    return Variant(
        okta.issuer,
        DEMO.web_client_id,
        DEMO.user_login,
        flow,
        ("openid", "profile", "email"),
        DEMO.web_redirect_uri,
    )


@pytest.fixture
def client(okta: OktaEmulator) -> Iterator[OktaClient]:
    with OktaClient(okta.url, sleep=okta.clock.advance, clock=okta.clock) as c:
        yield c


def answer(okta: OktaEmulator, client: OktaClient, response_type: str, nonce: str) -> SecretDict:
    """One /authorize answer (fragment) for the demo user, signed in afresh."""
    session_token = client.authn(DEMO.user_login, DEMO.user_password)["sessionToken"]
    result = client.authorize(
        demo_variant(okta).authorize_url,
        {
            "client_id": DEMO.web_client_id,
            "response_type": response_type,
            "response_mode": "fragment",
            "scope": "openid profile email",
            "redirect_uri": DEMO.web_redirect_uri,
            "state": "state-1",
            "nonce": nonce,
            "prompt": "none",
            "sessionToken": session_token,
        },
    )
    assert result.mode == "fragment"
    assert "error" not in result.params, result.params
    return result.params


def verify(okta: OktaEmulator, client: OktaClient, id_token: str, **kw: str) -> dict[str, object]:
    keys = KeySet()
    keys.load(client.keys(demo_variant(okta).keys_url))
    return verify_id_token(
        id_token,
        issuer=okta.issuer,
        client_id=DEMO.web_client_id,
        keys=keys,
        clock=okta.clock,
        **kw,
    )


def test_at_hash_of_another_access_token_is_refused(okta: OktaEmulator, client: OktaClient) -> None:
    first = answer(okta, client, "id_token token", "nonce-1")
    second = answer(okta, client, "id_token token", "nonce-2")
    claims = verify(
        okta, client, first["id_token"], nonce="nonce-1", access_token=first["access_token"]
    )
    assert claims["at_hash"]
    with pytest.raises(TokenVerificationError) as caught:
        verify(
            okta, client, first["id_token"], nonce="nonce-1", access_token=second["access_token"]
        )
    message = str(caught.value)
    assert "does not belong to the access token" in message
    assert "proxy or a mix-up" in message
    assert second["access_token"] not in message
    assert first["id_token"] not in message


def test_the_flow_refuses_an_implicit_answer_whose_tokens_do_not_belong_together(
    okta: OktaEmulator, client: OktaClient
) -> None:
    first = answer(okta, client, "id_token token", "nonce-1")
    second = answer(okta, client, "id_token token", "nonce-2")
    variant = demo_variant(okta)
    swapped = SecretDict(first, access_token=second["access_token"])
    with pytest.raises(TokenVerificationError, match="at_hash"):
        flows._token_set(
            client,
            variant,
            swapped,
            started=okta.clock(),
            clock=okta.clock,
            user={},
            nonce="nonce-1",
        )
    tokens = flows._token_set(
        client, variant, first, started=okta.clock(), clock=okta.clock, user={}, nonce="nonce-1"
    )
    assert tokens.access_token == first["access_token"]


def test_c_hash_of_another_code_is_refused(okta: OktaEmulator, client: OktaClient) -> None:
    first = answer(okta, client, "code id_token", "nonce-1")
    second = answer(okta, client, "code id_token", "nonce-2")
    claims = verify(okta, client, first["id_token"], code=first["code"])
    assert claims["c_hash"]
    with pytest.raises(TokenVerificationError, match="authorization code"):
        verify(okta, client, first["id_token"], code=second["code"])
