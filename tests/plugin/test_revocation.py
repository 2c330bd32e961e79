"""A token revoked at Okta: okta_auth (and so okta_session) drops it, renews once for every process,
and sends the request once more, never twice; the run's summary tells okta_access_token users.

The revocation is real: the emulator's /revoke, after which its /userinfo answers 401 with
``WWW-Authenticate: Bearer error="invalid_token"`` (RFC 6750 section 3.1), as Okta's does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from pytest_okta_user.emulator import DEMO, OktaEmulator
from pytest_okta_user.fixtures import OktaAuth, _auth_class
from pytest_okta_user.marker import OktaRequest, build_variant
from pytest_okta_user.provider import TokenProvider, build_provider
from pytest_okta_user.settings import resolve
from pytest_okta_user.tokens import Variant

INVALID_TOKEN = 'Bearer error="invalid_token", error_description="The access token is invalid."'


def revoke(okta: OktaEmulator, access_token: str) -> None:
    """The web app revokes its own access token at Okta (RFC 7009), as an admin or a logout does."""
    answer = requests.post(
        f"{okta.issuer}/v1/revoke",
        data={"token": access_token, "token_type_hint": "access_token"},
        auth=(DEMO.web_client_id, DEMO.web_client_secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def userinfo(okta: OktaEmulator) -> str:
    return f"{okta.issuer}/v1/userinfo"


@pytest.fixture
def setup(okta: OktaEmulator, tmp_path: Path) -> tuple[TokenProvider, Variant, OktaAuth]:
    env = {**okta.env(), "OKTA_TOKEN_CACHE_DIR": str(tmp_path / "cache")}
    settings = resolve({}, env, {}, cwd=tmp_path)
    variant = build_variant(settings, OktaRequest())
    provider = build_provider(settings, clock=okta.clock)
    return provider, variant, _auth_class()(provider, variant, None)


def test_a_revoked_token_is_renewed_once_and_the_request_retried(
    okta: OktaEmulator, setup: tuple[TokenProvider, Variant, OktaAuth]
) -> None:
    provider, variant, auth = setup
    with requests.Session() as session:
        session.auth = auth
        assert session.get(userinfo(okta), timeout=10).status_code == 200
        revoked = provider.get(variant).access_token
        assert revoked is not None
        revoke(okta, revoked)
        # What Okta answers a revoked token: 401 and the error in WWW-Authenticate.
        refused = requests.get(
            userinfo(okta), headers={"Authorization": f"Bearer {revoked}"}, timeout=10
        )
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        asked = okta.count("userinfo")

        answer = session.get(userinfo(okta), timeout=10)

        assert answer.status_code == 200
        assert answer.json()["sub"] == DEMO.user_id
        assert [r.status_code for r in answer.history] == [401]
        assert okta.count("userinfo") == asked + 2
        # The first sign-in, and one renewal through the user's Okta session (revoking a token
        # leaves the session alive): two /authorize, one authn.
        assert (okta.count("authorize"), okta.count("authn")) == (2, 1)
        assert provider.stats.rejected == 1
        assert provider.get(variant).access_token != revoked
        # The cache holds the new token: another process is served it, no third exchange.
        assert session.get(userinfo(okta), timeout=10).status_code == 200
        assert (okta.count("authorize"), okta.count("authn")) == (2, 1)


def test_a_resource_that_always_refuses_gets_one_retry_and_one_renewal(
    okta: OktaEmulator, setup: tuple[TokenProvider, Variant, OktaAuth]
) -> None:
    provider, _variant, auth = setup
    with requests.Session() as session:
        session.auth = auth
        assert session.get(userinfo(okta), timeout=10).status_code == 200
        okta.faults.add(
            "userinfo", status=401, headers={"WWW-Authenticate": INVALID_TOKEN}, times=9
        )
        before = okta.count("userinfo")

        answer = session.get(userinfo(okta), timeout=10)

        assert answer.status_code == 401  # the second 401, returned as it is
        assert len(answer.history) == 1
        assert okta.count("userinfo") == before + 2
        assert okta.count("authorize") == 2
        # The fresh token was refused too: renewing again cannot help, so the next request is
        # sent once, not renewed.
        assert session.get(userinfo(okta), timeout=10).status_code == 401
        assert okta.count("userinfo") == before + 3
        assert (okta.count("authorize"), okta.count("authn")) == (2, 1)
        assert (provider.stats.rejected, provider.stats.rejected_after_renewal) == (1, 1)


@pytest.mark.parametrize(
    ("status", "challenge"),
    [
        (401, 'Bearer error="insufficient_scope"'),
        (401, 'Basic realm="api"'),
        (401, ""),
        (403, INVALID_TOKEN),
    ],
    ids=["other-error", "other-scheme", "no-challenge", "403"],
)
def test_other_refusals_are_returned_without_renewal(
    okta: OktaEmulator,
    setup: tuple[TokenProvider, Variant, OktaAuth],
    status: int,
    challenge: str,
) -> None:
    provider, _variant, auth = setup
    headers = {"WWW-Authenticate": challenge} if challenge else {}
    okta.faults.add("userinfo", status=status, headers=headers)
    answer = requests.get(userinfo(okta), auth=auth, timeout=10)
    assert answer.status_code == status
    assert okta.count("userinfo") == 1
    assert okta.count("authn") == 1
    assert provider.stats.rejected == 0


def test_a_request_body_is_sent_again_and_a_spent_stream_is_not(
    okta: OktaEmulator, setup: tuple[TokenProvider, Variant, OktaAuth]
) -> None:
    _provider, _variant, auth = setup
    okta.faults.add("userinfo", status=401, headers={"WWW-Authenticate": INVALID_TOKEN})
    # POST /userinfo reads the token from the header; the form body goes along twice.
    answer = requests.post(userinfo(okta), data={"a": "b"}, auth=auth, timeout=10)
    assert answer.status_code == 200
    assert answer.request.body == "a=b"

    okta.faults.add("userinfo", status=401, headers={"WWW-Authenticate": INVALID_TOKEN})
    streamed = requests.post(userinfo(okta), data=iter([b"a=b"]), auth=auth, timeout=10)
    assert streamed.status_code == 401  # renewed, but a generator cannot be sent again
    assert okta.count("userinfo") == 3


SUITE = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_userinfo(okta_session, okta_variant, n):
    answer = okta_session.get(okta_variant.issuer + "/v1/userinfo", timeout=10)
    assert answer.status_code == 200, answer.status_code
"""


def cached_access_token(folder: Path) -> str:
    [entry] = folder.glob("okta-user-tokens/*.json")
    token: str = json.loads(entry.read_text())["tokens"]["access_token"]
    return token


def test_under_xdist_a_revoked_token_is_renewed_once_for_both_workers(
    pytester: pytest.Pytester, okta: OktaEmulator, emulator_env: dict[str, str]
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    cache = pytester.path / "cache"
    args = ("-p", "no:hypothesispytest", f"--okta-cache-dir={cache}")
    # The token an earlier run cached (the same settings, the same entry), then revoked at Okta.
    settings = resolve({}, {**emulator_env, "OKTA_TOKEN_CACHE_DIR": str(cache)}, {})
    build_provider(settings).get(build_variant(settings, OktaRequest()))
    assert okta.count("authn") == 1
    revoked = cached_access_token(cache)
    revoke(okta, revoked)

    result = pytester.runpytest_subprocess(*args, "-n", "2")

    result.assert_outcomes(passed=4)
    # One renewal, whichever worker saw the 401 first, through the Okta session the earlier
    # sign-in left in the cache: no second sign-in.
    assert (okta.count("authorize"), okta.count("authn")) == (2, 1)
    output = result.stdout.str()
    assert re.search(r"in 2 processes: 0 sign-ins, 1 from Okta sessions, 0 refreshes", output), (
        output
    )
    assert re.search(r"okta-user: \d requests? refused as invalid_token", output), output
    assert "--okta-clear-cache" in output
    assert cached_access_token(cache) != revoked
