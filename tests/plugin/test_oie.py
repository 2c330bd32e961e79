"""The Identity Engine flows through the plugin, as users run it (pytester, a subprocess, under
``-n 2``), against the emulator in Classic and in Identity Engine mode: ``direct``,
``interaction_code`` and ``auto`` get tokens where Okta would give them, ``auto`` picks the right
path in each mode and says so, ``pkce`` on an Identity Engine MFA app errors with a message naming
the two flows that get past its policy, each user signs in once, and no secret reaches the output.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.inner import RunInner
from support.leaks import Tap, find_leaks

from pytest_okta_user.emulator import DEMO, OktaEmulator

# One user per flow: each flow's sign-in is the user's only one (no TOTP step to wait for), and
# the counts below tell the flows apart. OKTA_PASSWORD serves every user.
USERS = {"direct": "direct@example.com", "idx": "idx@example.com", "auto": "auto@example.com"}

SUITE = """
import pytest

AMR = set({amr})

@pytest.mark.okta(flow="direct", user="{direct}")
def test_direct(okta_tokens, okta_user, okta_variant):
    assert okta_variant.flow == "direct"
    assert okta_user.login == "{direct}"
    assert set(okta_tokens.id_claims["amr"]) >= AMR

@pytest.mark.okta(flow="interaction_code", user="{idx}")
def test_interaction_code(okta_tokens, okta_user):
    assert okta_user.login == "{idx}"
    assert set(okta_tokens.id_claims["amr"]) >= AMR

@pytest.mark.okta(flow="auto", user="{auto}")
def test_auto(okta_tokens, okta_user, okta_session, okta_variant):
    assert okta_user.login == "{auto}"
    assert set(okta_tokens.id_claims["amr"]) >= AMR
    answer = okta_session.get(okta_variant.issuer + "/v1/userinfo", timeout=10)
    assert answer.status_code == 200

@pytest.mark.okta(flow="pkce")
def test_pkce(okta_tokens):
    assert okta_tokens.access_token
"""


def suite(amr: set[str]) -> str:
    text = SUITE.replace("{amr}", repr(sorted(amr)))
    for name, login in USERS.items():
        text = text.replace("{" + name + "}", login)
    return text


def add_users(okta: OktaEmulator, *, totp: bool) -> None:
    for login in USERS.values():
        okta.org.add_user(
            login, DEMO.user_password, totp_secret=DEMO.user_totp_secret if totp else None
        )


@pytest.fixture
def oie_okta(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[OktaEmulator, Tap]]:
    """An emulator in Identity Engine mode (its demo apps ask for a password and a TOTP code),
    whose settings the inner runs inherit, with the leak search's tap on it."""
    emulator = OktaEmulator(engine="oie")
    tap = Tap(emulator)
    with emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("CI", raising=False)
        yield emulator, tap


def paths(okta: OktaEmulator) -> list[str]:
    return [r.path for r in okta.requests]


def test_identity_engine_mode(
    pytester: pytest.Pytester, run_inner: RunInner, oie_okta: tuple[OktaEmulator, Tap]
) -> None:
    okta, tap = oie_okta
    add_users(okta, totp=True)
    pytester.makepyfile(test_oie=suite({"pwd", "otp"}))

    result = run_inner("-n", "2", "-v", "-rA")

    result.assert_outcomes(passed=3, errors=1)
    out = result.stdout.str()
    # pkce meets the app's policy at /authorize: the message names the two flows past it.
    assert "login_required" in out
    assert "This org runs Okta Identity Engine" in out
    assert "set --okta-flow / OKTA_FLOW / okta_flow to direct" in out
    assert "or to interaction_code" in out
    assert "Embedded widget sign-in support" in out
    # auto: the Classic path met the policy, the Interaction Code flow gave the tokens (before
    # Direct Authentication: its Okta session serves the user's other variants).
    assert (
        f"okta-user: flow auto picked interaction_code for client {DEMO.web_client_id} at"
        f" {okta.issuer} (classic: login_required)" in out
    )
    # One sign-in per user and flow: Direct Authentication once (password, then code), IDX
    # twice (interaction_code, auto), the Classic authn twice (auto's first path, pkce).
    seen = paths(okta)
    assert seen.count("/oauth2/v1/interact") + seen.count("/oauth2/default/v1/interact") == 2
    assert seen.count("/idp/idx/identify") == 2
    assert seen.count("/idp/idx/challenge/answer") == 2
    assert seen.count("/api/v1/authn") == 2
    token_requests = [r for r in okta.requests if r.path.endswith("/v1/token")]
    assert sorted(r.status for r in token_requests) == [200, 200, 200, 403]
    outputs = {"stdout": out, "stderr": result.stderr.str()}
    secrets = dict(tap.secrets)
    secrets[DEMO.user_totp_secret] = "TOTP secret"
    secrets[DEMO.web_client_secret] = "client secret"
    assert find_leaks(secrets, outputs) == []


def test_classic_mode(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
) -> None:
    add_users(okta, totp=False)
    # interaction_code has no tokens on a Classic org: Okta refuses /v1/interact.
    pytester.makepyfile(test_classic=suite({"pwd"}))

    result = run_inner("-n", "2", "-v", "-rA")

    result.assert_outcomes(passed=3, errors=1)
    out = result.stdout.str()
    assert "test_classic.py::test_interaction_code" in out
    assert "Interaction Code flow" in out
    assert "Embedded widget sign-in support" in out
    assert (
        f"okta-user: flow auto picked classic for client {DEMO.web_client_id} at {okta.issuer}"
        " (the first path tried)" in out
    )
    seen = paths(okta)
    # auto on a Classic org: the sessionToken path only, never Direct Authentication or IDX.
    assert seen.count("/.well-known/okta-organization") == 1
    assert seen.count("/api/v1/authn") == 2  # auto, pkce
    assert "/idp/idx/introspect" not in seen
    for secret in (emulator_env["OKTA_PASSWORD"], emulator_env["OKTA_CLIENT_SECRET"]):
        assert secret not in out


AUTO_SUITE = """
import pytest

@pytest.mark.okta(flow="auto", user="{user}")
def test_auto(okta_tokens):
    assert okta_tokens.access_token
"""


def test_auto_remembers_its_path_for_the_next_run(
    pytester: pytest.Pytester, run_inner: RunInner, oie_okta: tuple[OktaEmulator, Tap]
) -> None:
    okta, _tap = oie_okta
    add_users(okta, totp=True)
    pytester.makepyfile(test_auto=AUTO_SUITE.replace("{user}", USERS["auto"]))
    first = run_inner("-v", "-o", "okta_flow=auto")
    first.assert_outcomes(passed=1)
    # The Classic path met the app's policy, then the Interaction Code flow.
    assert okta.count("authn") == 1
    assert "okta: flow auto: tries classic (pkce or code), interaction_code" in first.stdout.str()

    # The next run (another user: a new sign-in, no TOTP step to wait for) goes to the
    # Interaction Code flow first: no Classic sign-in, and the header says why.
    pytester.makepyfile(test_auto=AUTO_SUITE.replace("{user}", USERS["idx"]))
    second = run_inner("-v", "-o", "okta_flow=auto")
    second.assert_outcomes(passed=1)
    assert okta.count("authn") == 1
    out = second.stdout.str()
    assert (
        f"okta: flow auto: interaction_code worked for client {DEMO.web_client_id} in an"
        " earlier run" in out
    )
    assert "flow auto picked interaction_code" in out
    assert "(remembered from an earlier run)" in out
