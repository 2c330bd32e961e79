"""The transport settings (--okta-timeout, --okta-retries, --okta-rate-limit-wait) reach the client:
inner pytest runs against the emulator, whose faults make Okta slow, failing or rate-limited.

Four inner runs, one of which stops at its start. A fault's delay is the emulator being slow (a
fault), not synchronisation: the tests never sleep, and the outcome depends only on the delay being
well past, or well within, the timeout the run was given.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from support.inner import RunInner, section_of

from pytest_okta_user.emulator import OktaEmulator

#: How long the emulator takes to answer /api/v1/authn in the timeout runs: five times the short
#: timeout, and a third of the long one.
DELAY = 1.5

ONE_SIGN_IN = """
def test_signed_in(okta_access_token):
    assert okta_access_token
"""


@pytest.mark.parametrize(("timeout", "outcome"), [("0.3", "errors"), ("5", "passed")])
@pytest.mark.usefixtures("emulator_env")
def test_the_timeout_setting_is_the_clients_timeout(
    pytester: pytest.Pytester, run_inner: RunInner, okta: OktaEmulator, timeout: str, outcome: str
) -> None:
    okta.faults.add("authn", status=None, delay=DELAY)
    pytester.makepyfile(test_slow=ONE_SIGN_IN)

    result = run_inner("-v", "--okta-timeout", timeout)

    result.stdout.fnmatch_lines(
        [
            f"okta transport: timeout {timeout}s (from command line --okta-timeout),"
            " retries 2 (default), rate-limit wait 30s (default)"
        ]
    )
    result.assert_outcomes(**{outcome: 1})
    if outcome == "passed":
        # The slow answer was waited for, not retried.
        assert okta.count("authn") == 1
        return
    host = urlsplit(okta.url).netloc
    result.stdout.fnmatch_lines(
        [
            f"  No answer from {host} for /api/v1/authn within 0.3 s.",
            "    fix: check the network, * raise --okta-timeout / OKTA_TIMEOUT / okta_timeout *",
        ],
        consecutive=True,
    )
    assert "Traceback" not in result.stdout.str()


RETRIED_AND_LIMITED = """
import pytest


@pytest.mark.okta(flow="implicit")
def test_keys_fail_once(okta_access_token):
    pass


def test_token_rate_limited(okta_access_token):
    pass
"""


@pytest.mark.usefixtures("emulator_env")
def test_no_retries_and_no_rate_limit_wait_fail_at_the_first_answer(
    pytester: pytest.Pytester, run_inner: RunInner, okta: OktaEmulator
) -> None:
    # Two faults, on endpoints only one of the tests reaches each: the implicit flow fetches the
    # keys and never calls /token; the pkce flow stops at its rate-limited /token.
    okta.faults.add("keys", status=503)
    # The window resets in a second or two: with the default wait (30 s) the client would wait and
    # ask again; with 0 it must give up at once.
    reset = int(okta.clock()) + 2
    okta.faults.add("token", status=429, headers={"X-Rate-Limit-Reset": str(reset)})
    pytester.makepyfile(test_faults=RETRIED_AND_LIMITED)

    result = run_inner("-v", "-rE", "--okta-retries=0", "--okta-rate-limit-wait=0")

    result.stdout.fnmatch_lines(
        [
            "okta transport: timeout 10s (default), retries 0 (from command line --okta-retries),"
            " rate-limit wait 0s (from command line --okta-rate-limit-wait)"
        ]
    )
    result.assert_outcomes(errors=2)
    # One request each: the 503 was not retried (by default it would be, and then succeed), and
    # the 429 was not waited out.
    assert okta.count("keys") == 1
    assert okta.count("token") == 1
    output = result.stdout.str()
    assert "Okta's /keys failed with HTTP 503" in output
    assert "Okta's rate limit at /token (HTTP 429, E0000047)" in output
    assert "beyond the 0 s we wait" in output
    assert (
        "or wait longer: raise --okta-rate-limit-wait / OKTA_RATE_LIMIT_WAIT / okta_rate_limit_wait"
        in output
    )
    assert "Traceback" not in output


def test_a_bad_transport_value_errors_the_okta_tests_naming_the_setting_and_its_source(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makefile(".ini", pytest="[pytest]\nokta_rate_limit_wait = -1\n")
    pytester.makepyfile(test_suite=ONE_SIGN_IN + "\n\ndef test_plain():\n    pass\n")

    result = run_inner()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)
    assert section_of(result.stdout.str(), "okta-user: settings") == [
        "every Okta test (1 test):",
        "  rate-limit wait (from ini okta_rate_limit_wait in pytest.ini): '-1' is not a number of"
        " seconds (0 or more); fix: use e.g. 30 (0: never wait, fail at once)",
    ]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
