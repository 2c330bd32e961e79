"""Emulator mode as users run it: the README's example suite with two workers sharing one sign-in,
the web-app example (examples/web_app) as it is, the ini switch, and the plugin's clock moving with
the emulator.
"""

from __future__ import annotations

import re
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
            "okta: pkce flow for * at the emulator at http://127.0.0.1:* (started for this run),"
            " token cache on (from the emulator, command line; -v shows each setting)"
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "okta-user: 1 token variant in 2 processes: 1 sign-in, 0 refreshes, 1 read from the"
            " token cache",
            "okta emulator: 1 sign-in (authn requests), 1 token request",
        ]
    )
    # The README quotes how its first command ends: these lines, and the count, as printed (the
    # width of the ===== padding follows the time's).
    quoted = re.search(r"^```text\n(.*?)^```$", (REPO / "README.md").read_text(), re.M | re.S)
    assert quoted is not None
    result.stdout.fnmatch_lines(
        [
            re.sub(r"^=+ (.*) in [\d.]+s =+$", r"*= \1 in *s =*", line)
            for line in quoted.group(1).splitlines()
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
    sign_ins, exchanges = okta_emulator.count("authn"), okta_emulator.count("authorize")
    # 30 s left: less than the 60 s min TTL, so the next request goes out with a new token.
    okta_emulator.clock.advance(okta_tokens.expires_at - okta_emulator.clock() - 30)
    assert okta_session.get(url, timeout=10).status_code == 200
    assert okta_session.get(url, timeout=10).status_code == 200
    assert sent[0] != sent[1] == sent[2]
    # Renewed once, through the user's Okta session (it outlives the token): no new sign-in.
    assert okta_emulator.count("authorize") == exchanges + 1
    assert okta_emulator.count("authn") == sign_ins


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


def test_the_web_app_example_runs_as_it_is_against_the_emulator(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    # As a user copies it: the folder whole (its pytest.ini, conftest.py and tests), run as its
    # README says, from the folder above.
    shutil.copytree(REPO / "examples" / "web_app", pytester.path / "web_app")

    result = run_inner("web_app", "--okta-emulator", "-n", "2")

    # Its tests check the code flow and the refresh token its pytest.ini asks for.
    assert result.parseoutcomes() == {"passed": 5}
    # Its own pytest.ini (pytest 7 prints both on one line, pytest 8 on two).
    result.stdout.fnmatch_lines(["rootdir: */web_app*"])
    result.stdout.fnmatch_lines(["*configfile: pytest.ini*"])


def test_tokens_renew_on_the_emulator_clock_with_the_ini_switch(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makeconftest(CLOCK_CONFTEST)
    pytester.makepyfile(test_clock=CLOCK_TEST)
    pytester.makefile(".ini", pytest="[pytest]\nokta_emulator = true\n")

    result = run_inner("-v")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["okta emulator: * started for this run (from ini okta_emulator in pytest.ini)"]
    )


OIE_SUITE = """
import pytest

def test_the_emulator_is_an_identity_engine_org(okta_emulator):
    # Its demo user is enrolled in TOTP there, and the settings hand the plugin its secret.
    assert "OKTA_TOTP_SECRET" in okta_emulator.env()

# The other user: each sign-in needs a TOTP code of its own, and the demo user's next one is up to
# 30 s away (Okta refuses a code used once). The demo user's Okta session serves its other flows.
@pytest.mark.okta(flow="direct", user="admin")
def test_direct_authentication(okta_tokens):
    assert okta_tokens.access_token.count(".") == 2

@pytest.mark.okta(flow="interaction_code")
def test_the_interaction_code_flow(okta_tokens):
    assert okta_tokens.id_token

def test_auto_finds_a_flow_the_mfa_policy_lets_through(okta_access_token, okta_variant):
    assert okta_variant.flow == "auto"
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_the_emulator_engine_setting_starts_an_identity_engine_org(
    pytester: pytest.Pytester, run_inner: RunInner, workers: list[str]
) -> None:
    pytester.makepyfile(test_oie=OIE_SUITE)

    result = run_inner(
        *workers, "--okta-emulator", "--okta-emulator-engine", "oie", "--okta-flow", "auto"
    )

    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["okta: auto flow for * at the emulator at http://127.0.0.1:* (Identity Engine, started*"]
    )


def test_the_engine_from_the_ini_file_shows_in_the_header(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makepyfile(test_oie=OIE_SUITE.split("@pytest.mark")[0] + "\n")
    pytester.makefile(".ini", pytest="[pytest]\nokta_emulator = true\nokta_emulator_engine = oie\n")

    result = run_inner("-v")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "okta emulator: * (Identity Engine org, instance *), started for this run (from ini"
            " okta_emulator in pytest.ini, from ini okta_emulator_engine in pytest.ini)"
        ]
    )
