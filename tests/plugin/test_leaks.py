"""Nothing leaked: suites run as users run them, with every switch that shows more, searched for
every secret value the inner run could have seen (the tap and the search: ``support/leaks.py``;
their own checks: ``test_leak_search.py``).

The failing suites (every failure the plugin explains) are searched in ``test_failures.py``. Here: a
suite of passing tests and tests that fail holding the tokens (and inside the plugin's own frames),
its test ids, the plugin's own emulator under two xdist workers, and a control run whose deliberate
leaks must be found. The runs start together and, under xdist, run once per outer run
(:func:`~support.inner.once`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from support.inner import LOUD, Inner, message_of, once, random_password, run_all, section_of
from support.leaks import Tap, find_leaks
from support.marker_ids import single

from pytest_okta_user.emulator import DEMO, OktaEmulator

# ---- a passing suite, and a suite that fails on the tokens --------------------------------------

CONFTEST = """
import time

import pytest


class ShiftedClock:
    shift = 0.0

    def __call__(self):
        return time.time() + self.shift


@pytest.fixture(scope="session")
def okta_clock():
    return ShiftedClock()
"""

PASSING_AND_FAILING = """
import dataclasses
import logging

import pytest

log = logging.getLogger("inner.suite")


def test_access_token(okta_access_token):
    assert okta_access_token.count(".") == 2


def test_prints_and_logs_the_token_set(okta_tokens, okta_user):
    print(repr(okta_tokens))
    print(okta_tokens)
    log.debug("tokens %r for %s", okta_tokens, okta_user.login)


def test_session_calls_userinfo(okta_session, okta_variant):
    answer = okta_session.get(okta_variant.issuer + "/v1/userinfo")
    assert answer.status_code == 200
    log.info("userinfo answered %s", answer.status_code)


def test_renewed_with_the_refresh_token(okta_session, okta_variant, okta_tokens, okta_clock):
    # 20 s of life left on the plugin's clock: the next request refreshes first.
    okta_clock.shift = okta_tokens.expires_at - okta_clock() - 20
    try:
        assert okta_session.get(okta_variant.issuer + "/v1/userinfo").status_code == 200
    finally:
        okta_clock.shift = 0.0


@pytest.mark.okta(flow=["code", "pkce", "implicit"], user="plain@example.com")
def test_each_browser_flow(okta_tokens, okta_id_token, okta_user):
    assert okta_user.login


@pytest.mark.okta(flow="password", user="password@example.com", scopes="openid email")
def test_password_flow(okta_access_token, okta_user):
    assert okta_user.login == "password@example.com"


def test_factory(okta_token_factory):
    print(okta_token_factory(user="factory@example.com", scopes="openid email"))


def test_fails_inside_the_provider(okta_provider, okta_variant, okta_clock):
    # Two hours on, new tokens look expired: the error comes up through the plugin's frames
    # (provider, flows, tokens), whose locals --showlocals prints.
    variant = dataclasses.replace(okta_variant, user="provider@example.com", scopes=("openid",))
    okta_clock.shift = 7200
    try:
        okta_provider.get(variant)
    finally:
        okta_clock.shift = 0.0


@pytest.mark.okta(user="renewal@example.com", scopes="openid offline_access")
def test_fails_inside_the_plugin_when_renewal_fails(okta_session, okta_variant, okta_clock):
    # Two hours on, the refreshed and the new tokens look expired.
    okta_clock.shift = 7200
    try:
        okta_session.get(okta_variant.issuer + "/v1/userinfo")
    finally:
        okta_clock.shift = 0.0


def test_fails_on_the_token_set(okta_tokens):
    assert okta_tokens.scopes == ("nothing",)


def test_fails_holding_every_okta_fixture(
    okta_settings, okta_provider, okta_variant, okta_tokens, okta_user, okta_auth, okta_session,
    okta_token_factory,
):
    assert okta_tokens is None
"""

CONTROL = """
import logging
import os
import textwrap


def test_leaks_on_purpose(okta_tokens):
    # str() takes the plain text out of the redacting string, deliberately. Wrapped over lines,
    # logged at DEBUG, cut into the failure message: each must be found.
    print("\\n".join(textwrap.wrap(str(okta_tokens.access_token), 50)))
    logging.getLogger("inner.control").debug("the password is %s", os.environ["OKTA_PASSWORD"])
    raise AssertionError(str(okta_tokens.refresh_token)[3:20])
"""


USER_FRAME = """
import dataclasses


def test_compares_the_token_strings(okta_access_token, okta_id_token):
    assert okta_access_token == okta_id_token


def test_compares_a_token_of_the_set(okta_tokens):
    assert okta_tokens.access_token == "nope"


def test_asks_the_id_token_to_be_none(okta_tokens):
    assert okta_tokens.id_token is None


def test_compares_two_token_sets(okta_tokens):
    assert okta_tokens == dataclasses.replace(okta_tokens, access_token="other")


def test_compares_what_the_factory_gave(okta_token_factory, okta_tokens):
    assert okta_token_factory().refresh_token == okta_tokens.access_token
"""

#: What the user-frame tests must have failed on (a typo in them would make the search vacuous).
USER_FRAME_FAILURES = {
    "test_compares_the_token_strings",
    "test_compares_a_token_of_the_set",
    "test_asks_the_id_token_to_be_none",
    "test_compares_two_token_sets",
    "test_compares_what_the_factory_gave",
}

EMULATED = """
import pytest


def test_access_token(okta_access_token):
    assert okta_access_token


def test_prints_the_token_set_and_the_emulator(okta_tokens, okta_emulator):
    print(repr(okta_tokens), repr(okta_emulator))


@pytest.mark.okta(flow=["code", "pkce", "implicit", "password"])
def test_each_flow(okta_tokens, okta_session, okta_user):
    assert okta_user.login


def test_fails_holding_the_emulator(okta_emulator, okta_settings, okta_tokens, okta_session):
    assert okta_tokens is None
"""


@dataclass
class Runs:
    secrets: dict[str, str]
    """Every secret the runs could have seen: value -> kind."""
    grants: list[str]
    factor_verifies: int
    rate_limited: int
    suite: Inner
    ids: Inner
    control: Inner
    emulated: Inner
    user_frame: Inner


def _run_leak_suites(root: Path) -> dict[str, Any]:
    """The passing/failing suite (loud), its test ids (--collect-only -q) and the control run,
    all at once against one tapped emulator: an MFA user (signed in once), a plain user,
    offline_access, the confidential app."""
    okta = OktaEmulator()
    tap = Tap(okta)
    with okta:
        password, totp = random_password(), pyotp.random_base32()
        okta.org.add_user("mfa@example.com", password, totp_secret=totp)
        # One user per sign-in or two: Okta's (and the emulator's) 4 sign-ins per second and user.
        for name in ("plain", "password", "factory", "provider", "renewal", "control", "frame"):
            okta.org.add_user(f"{name}@example.com", password)
        settings = {
            **okta.env(),
            "OKTA_USERNAME": "mfa@example.com",
            "OKTA_PASSWORD": password,
            "OKTA_TOTP_SECRET": totp,
            "OKTA_SCOPES": "openid profile email offline_access",
        }
        files = {"conftest.py": CONFTEST, "test_suite.py": PASSING_AND_FAILING}
        suite = Inner(root / "suite", files, settings)
        ids = Inner(root / "ids", files, settings, args=("--collect-only", "-q"))
        # The other runs sign in other users: a second sign-in of the MFA user within 30 s would
        # wait for a fresh code.
        control = Inner(
            root / "control",
            {"test_control.py": CONTROL},
            # Masking off (masking.py): the deliberate leaks must then reach the outputs.
            {**settings, "OKTA_USERNAME": "control@example.com", "OKTA_SHOW_SECRETS": "1"},
        )
        # The plugin's own emulator, two xdist workers: the demo org's secrets travel to them.
        emulated = Inner(
            root / "emulated",
            {"test_emulated.py": EMULATED},
            {"OKTA_SCOPES": "openid profile email offline_access"},
            args=(*LOUD, "--okta-emulator", "-n", "2"),
        )
        user_frame = Inner(
            root / "user frame",
            {"test_user_frame.py": USER_FRAME},
            {**settings, "OKTA_USERNAME": "frame@example.com"},
        )
        run_all([suite, ids, control, emulated, user_frame])
        static = {
            password: "password",
            totp: "TOTP secret",
            DEMO.web_client_secret: "client secret",
            DEMO.user_password: "password",
        }
        return {
            "secrets": {**tap.secrets, **static},
            "grants": tap.grants,
            "factor_verifies": okta.count("factor_verify"),
            "rate_limited": sum(r.status == 429 for r in okta.requests),
            "suite": suite.to_json(),
            "ids": ids.to_json(),
            "control": control.to_json(),
            "emulated": emulated.to_json(),
            "user frame": user_frame.to_json(),
        }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    data = once(tmp_path_factory, "leaks", _run_leak_suites)
    return Runs(
        secrets=data["secrets"],
        grants=data["grants"],
        factor_verifies=data["factor_verifies"],
        rate_limited=data["rate_limited"],
        suite=Inner.from_json(data["suite"]),
        ids=Inner.from_json(data["ids"]),
        control=Inner.from_json(data["control"]),
        emulated=Inner.from_json(data["emulated"]),
        user_frame=Inner.from_json(data["user frame"]),
    )


#: A single-value marker's test: its id as this pytest shows it (issue 10, point 3).
RENEWAL_TEST = single(
    "test_fails_inside_the_plugin_when_renewal_fails",
    "renewal@example.com-openid+offline_access",
)


def test_the_suite_ran_every_flow_mfa_and_a_refresh(runs: Runs) -> None:
    outcomes = runs.suite.outcomes()
    failed = sorted(name for name, outcome in outcomes.items() if outcome != "passed")
    assert failed == [
        "test_fails_holding_every_okta_fixture",
        RENEWAL_TEST,
        "test_fails_inside_the_provider",
        "test_fails_on_the_token_set",
    ], runs.suite.stdout
    assert len(outcomes) == 13
    # Every kind of secret crossed the wire, so the search below had each kind to look for.
    assert set(runs.secrets.values()) >= {
        "password",
        "client secret",
        "stateToken",
        "sessionToken",
        "authorization code",
        "PKCE code verifier",
        "access token",
        "ID token",
        "refresh token",
    }
    assert "refresh_token" in runs.grants
    assert "password" in runs.grants
    assert runs.factor_verifies == 1
    assert runs.rate_limited == 0  # no sign-in waited for Okta's per-user limit
    # What the run kept is what the tap saw: the search looks for the very tokens it held.
    cached = runs.suite.cached_tokens()
    assert cached
    for tokens in cached:
        for name in ("access_token", "id_token", "refresh_token"):
            if tokens.get(name):
                assert tokens[name] in runs.secrets


def test_the_failures_show_fingerprints_not_tokens(runs: Runs) -> None:
    out = runs.suite.stdout
    assert "TokenSet(access_token=<" in out
    # The deliberate failures printed their locals (--showlocals) and the assertion's operands.
    assert "okta_tokens = TokenSet(access_token=<" in out
    assert "okta_settings = Settings(" in out
    # The plugin's own frames, with their locals, holding the credentials and tokens.
    inside = "\n".join(message_of(out, "test_fails_inside_the_provider"))
    for frame in ("pytest_okta_user/provider.py:", "pytest_okta_user/flows.py:"):
        assert frame in inside
    credentials = (
        "credentials = Credentials(password=<set>, client_secret=<set>, totp_secret=<set>)"
    )
    assert credentials in inside
    assert "Captured stdout call" in out  # -rA showed the passing tests' output
    assert "DEBUG" in out  # and their logs


def test_no_secret_in_any_output_of_a_passing_and_failing_suite(runs: Runs) -> None:
    secrets = runs.secrets
    outputs = {
        **runs.suite.outputs,
        "test ids": runs.ids.outputs["stdout"],
        "test ids (stderr)": runs.ids.outputs["stderr"],
    }
    assert set(runs.suite.outputs) == {"stdout", "stderr", "JUnit XML", "log file"}
    # Only the listed values name the tests (issue 10, point 3).
    assert "test_each_browser_flow[code]" in outputs["test ids"]
    assert len(secrets) >= 20
    assert find_leaks(secrets, outputs) == []


def test_the_control_run_leaks_and_the_search_finds_it(runs: Runs) -> None:
    assert runs.control.outcomes() == {"test_leaks_on_purpose": "failed"}
    found = set(find_leaks(runs.secrets, runs.control.outputs))
    assert found >= {
        "access token in stdout",
        "access token in JUnit XML",
        "password in stdout",
        "password in log file",
        "password in JUnit XML",
        "refresh token in stdout (a piece)",
    }
    # Found whole: only what the control leaked whole. (A piece of the access token can also be a
    # piece of another token of the same issuer: base64 of the same claims.)
    whole = {f.split(" in ")[0] for f in found if not f.endswith("(a piece)")}
    assert whole == {"access token", "password"}, found


def test_no_secret_in_emulator_mode_under_xdist(runs: Runs) -> None:
    # The emulator runs inside the inner run: its tokens are known from the run's token cache.
    outcomes = runs.emulated.outcomes()
    assert outcomes.pop("test_fails_holding_the_emulator") == "failed", runs.emulated.stdout
    assert set(outcomes.values()) == {"passed"}, runs.emulated.stdout
    assert "okta_emulator = " in runs.emulated.stdout  # --showlocals printed it (on a worker)
    cached = runs.emulated.cached_tokens()
    assert len(cached) == 4, cached  # the default variant and the code, implicit, password flows
    secrets = {
        DEMO.user_password: "password",
        DEMO.web_client_secret: "client secret",
        DEMO.service_client_secret: "client secret",
    }
    for tokens in cached:
        for name in ("access_token", "id_token", "refresh_token"):
            if tokens.get(name):
                secrets[tokens[name]] = name.replace("_", " ")
    assert "refresh token" in secrets.values()
    assert find_leaks(secrets, runs.emulated.outputs) == []


def test_the_test_taking_the_token_strings_failed_as_written(runs: Runs) -> None:
    assert runs.user_frame.outcomes() == dict.fromkeys(USER_FRAME_FAILURES, "failed")
    out = runs.user_frame.stdout
    # Each failed on its assert, explained by fingerprints (the plugin's assertrepr hook), for
    # token strings as for token sets, and the hook itself did not fail.
    assert "<redacted " in out
    assert "AttributeError" not in out
    assert out.count("(pytest-okta-user shows tokens by fingerprint") >= len(USER_FRAME_FAILURES)
    assert "TokenSet fields differ: access_token" in out


def test_no_token_string_in_the_output_of_a_failing_test_that_takes_it(runs: Runs) -> None:
    assert find_leaks(runs.secrets, runs.user_frame.outputs) == []


def test_a_renewal_failing_inside_a_request_fails_the_test_with_the_short_message(
    runs: Runs,
) -> None:
    test = RENEWAL_TEST
    [line] = message_of(runs.suite.stdout, test)
    assert line.startswith("The ID token"), line
    assert line.endswith("[pytest-okta-user: the fix is under 'okta-user: sign-in refused' below]")
    section = "\n".join(section_of(runs.suite.stdout, "okta-user: sign-in refused"))
    assert "  The ID token" in section
    assert "\n    fix: " in section
    assert "pytest_okta_user/" not in line + section
