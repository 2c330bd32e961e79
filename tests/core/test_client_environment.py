"""The kept session reads the proxy environment once per OktaClient (not once per request, nor
again for a redirect it does not follow), and a new OktaClient sees a changed environment."""

from __future__ import annotations

from typing import Any

import pytest
import requests.utils

from pytest_okta_user import errors as e
from pytest_okta_user.client import HttpOptions, OktaClient
from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.flows import pkce_pair
from pytest_okta_user.tokens import Variant


def count_proxy_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every proxy decision requests makes from the environment goes through
    ``requests.utils.should_bypass_proxies`` (``get_environ_proxies`` and ``resolve_proxies``)."""
    seen: list[str] = []
    real = requests.utils.should_bypass_proxies

    def counted(url: str, no_proxy: Any) -> bool:
        seen.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.utils, "should_bypass_proxies", counted)
    return seen


def test_a_sign_in_reads_the_proxy_environment_once(
    okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = count_proxy_lookups(monkeypatch)
    variant = Variant(
        okta.issuer, DEMO.web_client_id, DEMO.user_login, "pkce", ("openid",), DEMO.web_redirect_uri
    )
    with OktaClient(okta.url) as client:
        answer = client.authn(DEMO.user_login, DEMO.user_password)
        after_authn = len(lookups)
        _, challenge = pkce_pair()
        result = client.authorize(
            variant.authorize_url,
            {
                "client_id": DEMO.web_client_id,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": DEMO.web_redirect_uri,
                "state": "state-1",
                "prompt": "none",
                "sessionToken": str(answer["sessionToken"]),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
    # The /authorize answer is a 302 the client reads itself: nothing may be resolved for it.
    assert result.mode == "query"
    assert "code" in result.params
    assert after_authn >= 1
    assert len(lookups) == after_authn


def test_a_new_client_sees_a_changed_proxy_environment(
    okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    unreachable = HttpOptions(retries=0, timeout=5)
    # Nothing listens on the discard port: going through the proxy fails.
    with OktaClient(okta.url, http=unreachable) as client, pytest.raises(e.ConnectionFailed):
        client.discovery(okta.issuer)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with OktaClient(okta.url) as client:
        assert client.discovery(okta.issuer)["issuer"] == okta.issuer
    monkeypatch.delenv("NO_PROXY")
    with OktaClient(okta.url, http=unreachable) as client, pytest.raises(e.ConnectionFailed):
        client.discovery(okta.issuer)
