"""A sign-in refused for good is tried once per run, not once per xdist worker.

Every authn request with a wrong password counts towards Okta's lockout (the emulator locks after
10), so a run with many workers must ask once and let every worker report the same error.
"""

from __future__ import annotations

import re

import pytest
from support.inner import section_of

from pytest_okta_user.emulator import DEMO, OktaEmulator

SUITE = """
import pytest

@pytest.mark.parametrize("n", range(16))
def test_needs_okta(okta_access_token, n):
    assert okta_access_token

def test_plain():
    pass
"""


def test_a_wrong_password_is_sent_once_for_all_workers_and_runs_after_it_are_not_blocked(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = okta.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OKTA_PASSWORD", "not-the-password")
    pytester.makepyfile(test_suite=SUITE)
    cache = pytester.path / "cache"

    wrong = pytester.runpytest_subprocess(
        "-p", "no:hypothesispytest", "-n", "4", "--okta-cache-dir", str(cache)
    )
    wrong.assert_outcomes(passed=1, errors=16)
    assert okta.count("authn") == 1
    output = wrong.stdout.str()
    # Each test: one line; the full message with its fix once, in the plugin's section.
    short = re.findall(
        r"^Okta refused the sign-in of user .*\[pytest-okta-user: .*\]$", output, re.M
    )
    assert len(short) == 16, output
    assert len(set(short)) == 1
    section = section_of(output, "okta-user: sign-in refused")
    assert section[0].endswith("(16 tests):"), section
    assert output.count("fix: check the login in") == 1, output
    wrong.stdout.fnmatch_lines(["okta-user: * 0 sign-ins (1 refused, explained above)*"])
    assert "not-the-password" not in wrong.stdout.str() + wrong.stderr.str()
    assert okta.org.user_by_login(DEMO.user_login).status == "ACTIVE"

    # The next run (the password fixed) signs in: the failure was this run's only.
    monkeypatch.setenv("OKTA_PASSWORD", env["OKTA_PASSWORD"])
    right = pytester.runpytest_subprocess(
        "-p", "no:hypothesispytest", "-n", "6", "--okta-cache-dir", str(cache)
    )
    right.assert_outcomes(passed=17)
    assert okta.count("authn") == 2
