"""One sign-in per variant per run across xdist workers, none on a warm run: emulator counts.

Each test drives the plugin as users run it (``pytest -n 4`` in a subprocess, settings from the
environment) against the outer test's emulator, and counts the requests the emulator answered.
"""

from __future__ import annotations

import re
import socket

import pytest

from pytest_okta_user.emulator import OktaEmulator

WORKERS = "4"
TESTS_PER_VARIANT = 12

SUITE = f"""
import pytest

@pytest.mark.parametrize("n", range({TESTS_PER_VARIANT}))
def test_default_variant(okta_access_token, n):
    assert okta_access_token

@pytest.mark.okta(scopes="openid profile offline_access")
@pytest.mark.parametrize("n", range({TESTS_PER_VARIANT}))
def test_offline_variant(okta_tokens, n):
    assert okta_tokens.refresh_token
"""

#: The inner run's clock follows the emulator's: the outer test writes the offset it advanced by.
CLOCK_CONFTEST = """
import os
import time

import pytest

@pytest.fixture(scope="session")
def okta_clock():
    offset = float(os.environ.get("CACHE_SHARING_CLOCK_OFFSET", "0"))
    return lambda: time.time() + offset
"""

SUMMARY = re.compile(
    r"okta-user: .* in (\d+) process(?:es)?: (\d+) sign-ins?(?:, (\d+) from Okta sessions)?,"
    r" (\d+) refresh"
)


@pytest.fixture
def inner(pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch):
    for name, value in okta.env().items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(CLOCK_CONFTEST)

    def run(*args: str) -> pytest.RunResult:
        result = pytester.runpytest_subprocess("-n", WORKERS, *args)
        result.assert_outcomes(passed=2 * TESTS_PER_VARIANT)
        return result

    return run


def counts(okta: OktaEmulator) -> tuple[int, int]:
    """(exchanges, token grants): an exchange makes one /authorize and one token grant (the
    user's sign-in, /api/v1/authn, happens once for all of them: see :func:`authns`), a refresh
    one token grant.

    Only answered requests count: the emulator may answer concurrent requests with 429 (as Okta
    does), and the client's retry of one is not another exchange.
    """
    answered = [record.endpoint for record in okta.requests if record.status in (200, 302)]
    return answered.count("authorize"), answered.count("token")


def authns(okta: OktaEmulator) -> int:
    """Sign-ins of the user: /api/v1/authn requests answered."""
    return sum(1 for r in okta.requests if r.endpoint == "authn" and r.status == 200)


def summary(result: pytest.RunResult) -> tuple[int, int, int]:
    """(processes that asked for tokens, sign-ins, refreshes) from the plugin's summary line."""
    match = SUMMARY.search(result.stdout.str())
    assert match, result.stdout.str()
    processes, sign_ins, reused, refreshes = (int(group or 0) for group in match.groups())
    # Exchanges: the sign-ins and those the user's Okta session answered.
    return processes, sign_ins + reused, refreshes


def test_cold_run_signs_in_once_per_variant_and_a_warm_run_not_at_all(
    inner, okta: OktaEmulator
) -> None:
    cold = inner()
    assert counts(okta) == (2, 2)
    assert authns(okta) == 1  # one sign-in of the user; its Okta session serves the other variant
    processes, exchanges, _ = summary(cold)
    assert processes > 1  # the workers really shared the entries, not one worker doing it all
    assert exchanges == 2

    warm = inner()
    assert counts(okta) == (2, 2)
    assert summary(warm)[1:] == (0, 0)
    assert authns(okta) == 1

    # Clearing drops the Okta session too: one new sign-in.
    inner("--okta-clear-cache")
    assert counts(okta) == (4, 4)
    assert authns(okta) == 2


def test_without_the_cache_each_worker_signs_in_at_most_once(
    inner, okta: OktaEmulator, pytester: pytest.Pytester
) -> None:
    result = inner("--okta-no-cache")
    processes, exchanges, _ = summary(result)
    _authorize, token = counts(okta)
    # Four workers at once meet the emulator's rate limit at /token (429), as they would Okta's;
    # an exchange limited there starts over at /authorize, so only the token grants count them.
    assert token == exchanges
    # At most one per worker per variant, and at least one per variant; a sign-in per worker at
    # most (each keeps the user's Okta session in memory).
    assert 2 <= token <= 2 * int(WORKERS)
    assert token <= 2 * processes
    assert 1 <= authns(okta) <= processes
    assert not list(pytester.path.glob(".pytest_cache/d/okta-user/*.json"))


def test_a_token_the_run_outlived_is_renewed_once_across_workers(
    inner, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner()
    assert counts(okta) == (2, 2)

    # Both clocks move past the tokens' expiry (an hour), as in a long run or a run the next day.
    okta.clock.advance(3600 + 5)
    monkeypatch.setenv("CACHE_SHARING_CLOCK_OFFSET", str(3600 + 5))
    renewed = inner()
    # The default variant has no refresh token: exchanged again, through the user's Okta session
    # (two hours long), with no new sign-in. The offline_access variant refreshes: one token
    # request. Once each, whatever the number of workers.
    assert counts(okta) == (3, 4)
    assert summary(renewed)[1:] == (1, 1)
    assert authns(okta) == 1

    inner()
    assert counts(okta) == (3, 4)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_restarted_stand_alone_emulator_is_signed_in_to_again(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two emulators one after the other on the same URL: the second has other keys, so the first
    # one's cached tokens would fail its checks. OKTA_EMULATOR_INSTANCE keeps them apart.
    pytester.makepyfile(test_suite=SUITE)
    port = _free_port()
    for _restart in range(2):
        with OktaEmulator(port=port) as okta:
            for name, value in okta.env().items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("OKTA_EMULATOR_INSTANCE", okta.instance_id)
            result = pytester.runpytest_subprocess("-p", "no:hypothesispytest", "-n", "2")
            result.assert_outcomes(passed=2 * TESTS_PER_VARIANT)
            assert okta.count("authorize") == 2  # the default and the offline variant, exchanged
            assert okta.count("authn") == 1  # the user signed in to this emulator once
