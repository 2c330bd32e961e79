"""The cache notices a new issuer (issue 10, point 7): an emulator restarted on the same port
without OKTA_EMULATOR_INSTANCE (the README's ``--port 8900`` recipe) signs with a new key, so the
old emulator's cached tokens are not served; one new sign-in, and the API test passes. A warm run
asks the issuer's JWKS once, however many workers read the cache."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import closing

import pytest

from pytest_okta_user.emulator import OktaEmulator

SUITE = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_api(okta_session, okta_settings, n):
    # The emulator's userinfo endpoint is the API: it refuses a token it did not sign.
    answer = okta_session.get(okta_settings.issuer + "/v1/userinfo")
    assert answer.status_code == 200, answer.status_code
"""

SUMMARY = re.compile(r"(\d+) sign-ins?, \d+ refresh(?:es)?, (\d+) read from the token cache")


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def start(monkeypatch: pytest.MonkeyPatch, port: int) -> Iterator[object]:
    """``start()``: an emulator on the fixed port, its settings (without its instance id, as the
    README's recipe exports them) in the environment of the inner runs."""
    started: list[OktaEmulator] = []

    def run() -> OktaEmulator:
        okta = OktaEmulator(port=port).__enter__()
        started.append(okta)
        for name, value in okta.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("OKTA_EMULATOR_INSTANCE")
        return okta

    yield run
    for okta in started:
        okta.__exit__(None, None, None)


def _counts(result: pytest.RunResult) -> tuple[int, int]:
    match = SUMMARY.search(result.stdout.str())
    assert match, result.stdout.str()
    return int(match.group(1)), int(match.group(2))


def test_a_restarted_emulators_new_key_is_noticed(
    pytester: pytest.Pytester, start: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert callable(start)
    pytester.makepyfile(test_api=SUITE)
    monkeypatch.setenv("OKTA_TOKEN_CACHE_DIR", str(pytester.path / "tokens"))

    first = start()
    pytester.runpytest_subprocess().assert_outcomes(passed=4)
    assert first.count("authn") == 1
    # A warm run against the same emulator: served from the cache, one JWKS request to check.
    keys_before = first.count("keys")
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=4)
    assert first.count("authn") == 1
    assert first.count("keys") == keys_before + 1
    first.__exit__(None, None, None)

    second = start()
    assert second.url == first.url
    assert second.instance_id != first.instance_id
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=4)
    assert second.count("authn") == 1
    assert _counts(result)[0] == 1


def test_the_key_checks_fetch_serves_the_sign_in_after_it(
    pytester: pytest.Pytester, start: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One process checks the cached token's key (a JWKS request), finds it withdrawn (the
    emulator restarted) and signs in: the new tokens are verified with the keys the check read
    (``provider._published_key_ids`` seeds ``verify.KeySet.for_issuer``). One JWKS request in
    all; it was two (the check's, then the sign-in's own) before issue 15's follow-up."""
    assert callable(start)
    pytester.makepyfile(test_api=SUITE)
    monkeypatch.setenv("OKTA_TOKEN_CACHE_DIR", str(pytester.path / "tokens"))
    first = start()
    pytester.runpytest_subprocess().assert_outcomes(passed=4)
    first.__exit__(None, None, None)

    second = start()
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=4)
    assert second.count("authn") == 1
    assert _counts(result)[0] == 1
    assert second.count("keys") == 1
