"""Emulator mode as users run it: the README's example suite with two workers sharing one sign-in,
conftest_example.py as a suite, the ini switch, and the plugin's clock moving with the emulator.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.inner import RunInner

REPO = Path(__file__).resolve().parents[2]


def test_the_example_suite_with_two_workers_signs_in_once(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    for source in (REPO / "examples").iterdir():
        if source.suffix in (".py", ".ini"):
            shutil.copy(source, pytester.path / source.name)

    result = run_inner("-n", "2", "--okta-emulator")

    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 8
    assert set(outcomes) == {"passed"}
    result.stdout.fnmatch_lines(
        [
            "okta emulator: http://127.0.0.1:* (instance *), started for this run"
            " (from command line --okta-emulator)",
            "okta issuer: http://127.0.0.1:*/oauth2/default (from the emulator; auth server *)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "okta-user: 1 token variant in 2 processes: 1 sign-in, 0 refreshes, 1 read from the"
            " token cache",
            "okta emulator: 1 sign-in (authn requests), 1 token request",
        ]
    )


CLOCK_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def okta_clock(okta_emulator):
    # The plugin's now is the emulator's: moving one moves both.
    return okta_emulator.clock
"""

CLOCK_TEST = """
import pytest

def test_the_bearer_token_is_renewed_before_it_expires(okta_emulator, okta_session, okta_tokens,
                                                        okta_variant):
    sent = []
    okta_session.hooks["response"].append(
        lambda r, *args, **kwargs: sent.append(r.request.headers["Authorization"])
    )
    url = okta_variant.issuer + "/v1/userinfo"
    assert okta_session.get(url, timeout=10).status_code == 200
    sign_ins = okta_emulator.count("authn")
    # 30 s left: less than the 60 s min TTL, so the next request goes out with a new token.
    okta_emulator.clock.advance(okta_tokens.expires_at - okta_emulator.clock() - 30)
    assert okta_session.get(url, timeout=10).status_code == 200
    assert okta_session.get(url, timeout=10).status_code == 200
    assert sent[0] != sent[1] == sent[2]
    assert okta_emulator.count("authn") == sign_ins + 1


@pytest.mark.okta(min_ttl=10)
def test_the_marker_min_ttl_keeps_a_token_longer(okta_emulator, okta_session, okta_tokens,
                                                  okta_variant):
    sent = []
    okta_session.hooks["response"].append(
        lambda r, *args, **kwargs: sent.append(r.request.headers["Authorization"])
    )
    url = okta_variant.issuer + "/v1/userinfo"
    okta_emulator.clock.advance(okta_tokens.expires_at - okta_emulator.clock() - 30)
    assert okta_session.get(url, timeout=10).status_code == 200
    okta_emulator.clock.advance(25)
    assert okta_session.get(url, timeout=10).status_code == 200
    # 30 s left is enough for a 10 s min TTL; 5 s is not.
    assert sent[0] == okta_tokens.token_type + " " + okta_tokens.access_token
    assert sent[1] != sent[0]
"""


def test_conftest_example_runs_as_a_suite_and_tokens_renew_on_the_emulator_clock(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    shutil.copy(REPO / "conftest_example.py", pytester.path / "test_conftest_example.py")
    pytester.makeconftest(CLOCK_CONFTEST)
    pytester.makepyfile(test_clock=CLOCK_TEST)
    pytester.makefile(".ini", pytest="[pytest]\nokta_emulator = true\n")

    result = run_inner("-v")

    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        ["okta emulator: * started for this run (from ini okta_emulator in pytest.ini)"]
    )
    for flow in ("code", "pkce", "implicit"):
        result.stdout.fnmatch_lines(
            [f"*test_every_flow_gives_a_token_the_api_accepts?{flow}? PASSED*"]
        )
