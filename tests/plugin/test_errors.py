"""Mistakes as users make them: each gets one clear message, only where it matters, no traceback
from the plugin's insides, and never a secret."""

from __future__ import annotations

import pytest
from support.inner import RunInner, message_of, section_of

from pytest_okta_user.emulator import OktaEmulator

PYTEST_MAJOR = int(pytest.__version__.split(".")[0])

OKTA_AND_PLAIN = """
def test_token(okta_access_token):
    pass

def test_session(okta_session):
    pass

def test_plain():
    pass
"""


def test_marker_mistakes_fail_at_collection_naming_the_test(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    pytester.makepyfile(
        test_flow_typo="""
        import pytest

        @pytest.mark.okta(flow="magic")
        def test_magic(okta_access_token):
            pass
        """,
        test_positional="""
        import pytest

        class TestApi:
            @pytest.mark.okta("code")
            def test_positional(self):
                pass
        """,
        test_unknown="""
        import pytest

        pytestmark = pytest.mark.okta(flows=["code", "pkce"])

        def test_unknown_argument(okta_tokens):
            pass
        """,
    )
    result = run_inner()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines_random(
        [
            "*test_flow_typo.py::test_magic: @pytest.mark.okta: flow='magic' is not a flow;"
            " fix: use one of code, pkce, implicit, password, direct, interaction_code, auto,"
            " client_credentials",
            "*test_positional.py::TestApi::test_positional: @pytest.mark.okta: takes keyword"
            " arguments only*",
            "*3 errors*",
        ]
    )
    # (fnmatch would read the brackets as a character class.)
    assert (
        "test_unknown.py::test_unknown_argument: @pytest.mark.okta: unknown argument"
        " flows=['code', 'pkce']; fix: the okta marker takes flow, user, app, scopes, auth_server,"
        " min_ttl\n"
    ) in result.stdout.str()
    assert "Traceback" not in result.stdout.str()
    assert "pytest_okta_user" not in result.stdout.str()


def test_missing_settings_fail_only_okta_tests_with_one_line_and_the_message_once(
    pytester: pytest.Pytester, run_inner: RunInner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKTA_DOMAIN", "dev-123.okta.com")
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(
        test_suite=OKTA_AND_PLAIN,
        test_emulator="def test_needs_the_emulator(okta_emulator):\n    pass\n",
    )
    # --okta-user without OKTA_PASSWORD, stdin not a terminal: no prompt, and the message says why.
    result = run_inner("--okta-user", "me@example.com", "--showlocals", "-rs")

    result.assert_outcomes(passed=1, errors=2, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["SKIPPED*needs the emulator: run with --okta-emulator (or OKTA_EMULATOR=1)"]
    )
    output = result.stdout.str()
    [short] = message_of(output, "test_token")
    assert message_of(output, "test_session") == [short]
    assert short.startswith("Okta settings missing for the pkce flow: client id, redirect URI")
    assert short.endswith(" [pytest-okta-user: the fix is under 'okta-user: settings' below]")
    section = section_of(output, "okta-user: settings")
    assert section[0] == "pkce flow for me@example.com (2 tests):"
    assert section[1] == "  Okta settings missing for the pkce flow:"
    assert section[2] == "    - client id: --okta-client-id / OKTA_CLIENT_ID / okta_client_id"
    assert section[3].startswith("    - redirect URI: --okta-redirect-uri / OKTA_REDIRECT_URI")
    assert section[-1].startswith("    fix: set them on the command line")
    # The full message once in the whole output.
    assert output.count("Okta settings missing for the pkce flow:\n") == 1
    assert "Traceback" not in output
    assert "fixtures.py" not in output


def test_a_refused_sign_in_errors_each_test_with_one_line_and_explains_it_once(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "Wrong-Passw0rd-1234"
    monkeypatch.setenv("OKTA_PASSWORD", wrong)
    pytester.makepyfile(test_suite=OKTA_AND_PLAIN)

    result = run_inner("--showlocals", "--tb=long", "-ra")

    result.assert_outcomes(passed=1, errors=2)
    output = result.stdout.str()
    short = message_of(output, "test_token")
    assert message_of(output, "test_session") == short
    [line] = short
    assert line.startswith("Okta refused the sign-in of user tester@example.com at /api/v1/authn:")
    assert line.endswith("[pytest-okta-user: the fix is under 'okta-user: sign-in refused' below]")
    section = section_of(output, "okta-user: sign-in refused")
    assert section[0].endswith("(2 tests):")
    assert section[1].startswith("  Okta refused the sign-in of user tester@example.com")
    assert section[-1].startswith("    fix: check the login in")
    assert output.count("fix: check the login in") == 1
    # -ra shows the short line itself, not pytest's "Failed: pytest-okta-user: Okt..." (pytest
    # 7.4's -ra shows no message for a setup error at all).
    if PYTEST_MAJOR >= 8:
        result.stdout.fnmatch_lines(["ERROR test_suite.py::test_token - Okta refused the sign-in*"])
    else:
        result.stdout.fnmatch_lines(["ERROR test_suite.py::test_token"])
    assert "Failed:" not in output
    result.stdout.fnmatch_lines(["okta-user: 1 token variant in 1 process: 0 sign-ins (1 refused*"])
    assert "Traceback" not in output
    for secret in (wrong, emulator_env["OKTA_CLIENT_SECRET"]):
        assert secret not in output
    # The failure is remembered: one sign-in attempt, not one per test (no account lock-out).
    assert okta.count("authn") == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"OKTA_DOMAIN": "http://dev-123.okta.com"},
            "  Okta org or issuer (from env OKTA_DOMAIN): http:// is refused for the remote host"
            " dev-123.okta.com*; fix: use https://dev-123.okta.com",
        ),
        (
            {"OKTA_SCOPES": "openid,email", "OKTA_DOMAIN": "dev-123.okta.com"},
            "  scopes (from env OKTA_SCOPES): 'openid,email' separates scopes with commas;"
            " fix: separate them with spaces*",
        ),
        (
            {"OKTA_FLOW": "magic", "OKTA_DOMAIN": "dev-123.okta.com"},
            "  flow (from env OKTA_FLOW): *magic*",
        ),
    ],
)
def test_a_plainly_wrong_global_value_errors_only_the_okta_tests(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_suite=OKTA_AND_PLAIN)
    result = run_inner()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["okta: * the Okta tests will error (see 'okta-user: settings')"])
    result.stdout.fnmatch_lines(
        ["*= okta-user: settings =*", "every Okta test (2 tests):", expected]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("workers", [(), ("-n", "2")])
def test_a_fork_pull_request_with_empty_secrets_runs_the_plain_tests(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    workers: tuple[str, ...],
) -> None:
    # GitHub Actions passes empty strings for secrets to a fork's pull request.
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OKTA_PASSWORD", "")
    monkeypatch.setenv("OKTA_CLIENT_SECRET", "")
    pytester.makepyfile(test_suite=OKTA_AND_PLAIN)

    result = run_inner(*workers)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=2)
    output = result.stdout.str()
    assert "OKTA_PASSWORD" in "\n".join(section_of(output, "okta-user: settings"))
    assert "INTERNALERROR" not in output + result.stderr.str()
    # The header is where it belongs, not swallowed by pytest's capture into the first test's
    # captured output (the password prompt's check must leave the capture as it found it).
    result.stdout.fnmatch_lines(["*= test session starts =*", "*", "okta: pkce flow for *"])
    assert "Captured stdout setup" not in output


def test_a_list_given_to_the_token_factory_says_what_to_do_instead(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str]
) -> None:
    pytester.makepyfile(
        test_factory="""
        def test_factory(okta_token_factory):
            okta_token_factory(flow=["code", "pkce"])
        """
    )
    result = run_inner()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "the token factory takes one value per argument, not a list*",
            "*= okta-user: settings =*",
            "the token factory (1 test):",
            "*fix: call it once per value*@pytest.mark.okta*",
        ]
    )


def test_clear_cache_with_no_cache_says_it_clears_nothing(
    pytester: pytest.Pytester, run_inner: RunInner, emulator_env: dict[str, str]
) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = run_inner("--okta-no-cache", "--okta-clear-cache")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*--okta-clear-cache does nothing with --okta-no-cache*"])
