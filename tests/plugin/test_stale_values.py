"""Session token values are fixed at first use: a test that gets one with less than min_ttl left
errors at setup with the fix, instead of sending a dead token; okta_session renews and passes."""

from __future__ import annotations

import pytest
from support.inner import FAST, SHIFTED_CLOCK

from pytest_okta_user.emulator import OktaEmulator

CONFTEST = (
    SHIFTED_CLOCK
    + """

@pytest.fixture(scope="session")
def built_on_the_tokens(okta_tokens):
    return okta_tokens.access_token
"""
)

SUITE = """
from conftest import CLOCK


def test_1_first_use(okta_access_token, okta_tokens):
    # The run goes on for almost the token's whole life (min_ttl 60s: 30s left is too little).
    CLOCK.shift = okta_tokens.expires_at - CLOCK() - 30


def test_2_access_token(okta_access_token):
    pass


def test_3_token_set(okta_tokens):
    pass


def test_4_own_session_fixture(built_on_the_tokens):
    pass


def test_5_session_renews(okta_session, okta_variant):
    assert okta_session.get(okta_variant.issuer + "/v1/userinfo").status_code == 200


def test_6_user_needs_no_live_token(okta_user):
    assert okta_user.login


def test_7_factory(okta_token_factory):
    assert okta_token_factory().access_token
"""


def _run(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch, suite: str
) -> pytest.RunResult:
    """``suite`` in an inner run against ``okta``, on CONFTEST's clock, in file order."""
    for name, value in okta.env().items():
        monkeypatch.setenv(name, value)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=suite)
    return pytester.runpytest_subprocess(*FAST, "-p", "no:randomly")


def test_a_session_token_value_outlived_fails_the_test_at_setup_with_the_fix(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, okta, monkeypatch, SUITE)

    result.assert_outcomes(passed=4, errors=3)
    out = result.stdout.str()
    for test in ("test_2_access_token", "test_3_token_set", "test_4_own_session_fixture"):
        assert f"ERROR at setup of {test}" in out
    result.stdout.fnmatch_lines(
        [
            "*pytest-okta-user: the token handed out for this run (okta_access_token)"
            " has *s left, less than min_ttl (60s)*",
            "*fix: use okta_session or okta_auth*okta_token_factory*",
        ]
    )


MARKED_SUITE = """
import pytest
from conftest import CLOCK

pytestmark = pytest.mark.okta(min_ttl=120)


def test_1_first_use(okta_access_token, okta_tokens):
    # 90s left: enough for the settings' min_ttl (60s), too little for the marker's.
    CLOCK.shift = okta_tokens.expires_at - CLOCK() - 90


def test_2_access_token(okta_access_token):
    pass


def test_3_session_renews(okta_session, okta_variant):
    assert okta_session.get(okta_variant.issuer + "/v1/userinfo").status_code == 200
"""


def test_a_marked_tests_value_is_checked_against_the_markers_min_ttl(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check finds the value a marked test was given (its fixtures' param), and measures it
    with the marker's min_ttl, not the settings'."""
    result = _run(pytester, okta, monkeypatch, MARKED_SUITE)

    result.assert_outcomes(passed=2, errors=1)
    assert "ERROR at setup of test_2_access_token" in result.stdout.str()
    result.stdout.fnmatch_lines(["*(okta_access_token) has *s left, less than min_ttl (120s)*"])
