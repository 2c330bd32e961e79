"""The cache serves without secrets (issue 10, points 1 and 2): after one run with the password, a
run without it (a fork's pull request: CI set, the secrets empty) is handed the fresh cached tokens;
only a test whose variant needs a sign-in errors, saying the password was empty; the rest pass."""

from __future__ import annotations

import re

import pytest

from pytest_okta_user.emulator import OktaEmulator

SUITE = """
import pytest

def test_cached_variant(okta_access_token):
    assert okta_access_token

@pytest.mark.okta(scopes="openid email")
def test_variant_never_signed_in_for(okta_access_token):
    pass

def test_plain():
    pass
"""


def test_a_second_run_without_the_password_is_served_from_the_cache(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in okta.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OKTA_FLOW", "code")  # a confidential app: the client secret is needed too
    monkeypatch.setenv("OKTA_TOKEN_CACHE_DIR", str(pytester.path / "tokens"))
    pytester.makepyfile(test_suite=SUITE)
    first = pytester.runpytest_subprocess("-k", "cached_variant or plain")
    first.assert_outcomes(passed=2)
    assert okta.count("authn") == 1

    # The user's Okta session would spare the new variant its sign-in, and the password with it
    # (tests/core/test_sessions.py): gone here, as after two hours, so that one does need it.
    for record in (pytester.path / "tokens").rglob("*.user"):
        record.unlink()
    # GitHub Actions on a fork's pull request: CI set, every secret an empty string.
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OKTA_PASSWORD", "")
    monkeypatch.setenv("OKTA_CLIENT_SECRET", "")
    second = pytester.runpytest_subprocess("-n", "2", "-rA")
    second.assert_outcomes(passed=2, errors=1)
    assert second.ret == 1
    assert okta.count("authn") == 1  # no sign-in was tried without the password
    output = second.stdout.str()
    assert re.search(r"PASSED .*test_cached_variant", output), output
    assert "OKTA_PASSWORD is set but empty, which counts as unset" in output
    assert "OKTA_CLIENT_SECRET is set but empty" in output
    assert "not asked because CI is set" in output


BROWSER_SUITE = """
def test_tokens(okta_access_token):
    assert okta_access_token

def test_browser(okta_browser_session):
    assert okta_browser_session.cookies
"""


def test_a_browser_session_is_served_by_the_stored_okta_session_without_the_password(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in okta.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OKTA_TOKEN_CACHE_DIR", str(pytester.path / "tokens"))
    pytester.makepyfile(test_suite=BROWSER_SUITE)
    pytester.runpytest_subprocess("-k", "test_tokens").assert_outcomes(passed=1)
    assert okta.count("authn") == 1

    # The password gone: the user's Okta session, stored by the first run, serves the browser.
    monkeypatch.setenv("OKTA_PASSWORD", "")
    pytester.runpytest_subprocess("-k", "test_browser").assert_outcomes(passed=1)
    assert okta.count("authn") == 1
    assert okta.count("sessions_me") == 1  # the stored session was asked about, and alive

    # Without the stored session, a sign-in is needed: the error names the empty password.
    for record in (pytester.path / "tokens").rglob("*.user"):
        record.unlink()
    third = pytester.runpytest_subprocess("-k", "test_browser", "-rA")
    third.assert_outcomes(errors=1)
    assert "OKTA_PASSWORD is set but empty, which counts as unset" in third.stdout.str()
    assert okta.count("authn") == 1
