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

SUMMARY = re.compile(r"okta-user: .* in (\d+) process(?:es)?: (\d+) sign-ins?, (\d+) refresh")


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
    """(sign-ins, token grants): a full exchange makes one of each, a refresh one token grant.

    Only answered requests count: the emulator may answer concurrent sign-ins with 429 (as Okta
    does), and the client's retry of one is not another exchange.
    """
    answered = [record.endpoint for record in okta.requests if record.status == 200]
    return answered.count("authn"), answered.count("token")


def summary(result: pytest.RunResult) -> tuple[int, int, int]:
    """(processes that asked for tokens, sign-ins, refreshes) from the plugin's summary line."""
    match = SUMMARY.search(result.stdout.str())
    assert match, result.stdout.str()
    processes, sign_ins, refreshes = (int(group) for group in match.groups())
    return processes, sign_ins, refreshes


def test_cold_run_signs_in_once_per_variant_and_a_warm_run_not_at_all(
    inner, okta: OktaEmulator
) -> None:
    cold = inner()
    assert counts(okta) == (2, 2)
    processes, sign_ins, _ = summary(cold)
    assert processes > 1  # the workers really shared the entries, not one worker doing it all
    assert sign_ins == 2

    warm = inner()
    assert counts(okta) == (2, 2)
    assert summary(warm)[1:] == (0, 0)

    inner("--okta-clear-cache")
    assert counts(okta) == (4, 4)


def test_without_the_cache_each_worker_signs_in_at_most_once(
    inner, okta: OktaEmulator, pytester: pytest.Pytester
) -> None:
    result = inner("--okta-no-cache")
    processes, sign_ins, _ = summary(result)
    authn, token = counts(okta)
    assert authn == token == sign_ins
    # At most one per worker per variant, and at least one per variant.
    assert 2 <= authn <= 2 * int(WORKERS)
    assert authn <= 2 * processes
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
    # The default variant has no refresh token: one new sign-in. The offline_access variant
    # refreshes: one token request, no sign-in. Once each, whatever the number of workers.
    assert counts(okta) == (3, 4)
    assert summary(renewed)[1:] == (1, 1)

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
            assert okta.count("authn") == 2  # the default and the offline variant, signed in
