"""Mistakes as users make them: each gets one clear message, only where it matters, no traceback
from the plugin's insides, and never a secret."""

from __future__ import annotations

import pytest
from support.inner import RunInner

from pytest_okta_user.emulator import OktaEmulator

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
            " fix: use one of code, pkce, implicit, password, client_credentials",
            "*test_positional.py::TestApi::test_positional: @pytest.mark.okta: takes keyword"
            " arguments only*",
            "*3 errors*",
        ]
    )
    # (fnmatch would read the brackets as a character class.)
    assert (
        "test_unknown.py::test_unknown_argument: @pytest.mark.okta: unknown argument"
        " flows=['code', 'pkce']; fix: the okta marker takes flow, user, scopes, auth_server,"
        " min_ttl\n"
    ) in result.stdout.str()
    assert "Traceback" not in result.stdout.str()
    assert "pytest_okta_user" not in result.stdout.str()


def test_missing_settings_fail_only_okta_tests_with_one_message(
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
    result.stdout.fnmatch_lines(
        ["SKIPPED*needs the emulator: run with --okta-emulator (or OKTA_EMULATOR=1)"]
    )
    message = [
        "pytest-okta-user: Okta settings missing for the pkce flow:",
        "  - client id: --okta-client-id / OKTA_CLIENT_ID / okta_client_id",
        "  - redirect URI: --okta-redirect-uri / OKTA_REDIRECT_URI / okta_redirect_uri (*)",
        "  - password: OKTA_PASSWORD (environment only; not asked because stdin is not a terminal)",
        "  fix: set them on the command line, in the environment or in the ini file*",
    ]
    result.stdout.fnmatch_lines(["*ERROR at setup of test_token*", *message])
    result.stdout.fnmatch_lines(["*ERROR at setup of test_session*", *message])
    output = result.stdout.str()
    # Set settings are not listed as missing, and no traceback comes from the plugin.
    assert "okta_domain" not in output.split("ERRORS")[1]
    assert "okta_user\n" not in output
    assert "Traceback" not in output
    assert "fixtures.py" not in output


def test_a_refused_sign_in_errors_each_test_that_needs_it_with_the_same_short_message(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    emulator_env: dict[str, str],
    okta: OktaEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "Wrong-Passw0rd-1234"
    monkeypatch.setenv("OKTA_PASSWORD", wrong)
    pytester.makepyfile(test_suite=OKTA_AND_PLAIN)

    result = run_inner("--showlocals", "--tb=long")

    result.assert_outcomes(passed=1, errors=2)
    output = result.stdout.str()
    errors = output.split("ERRORS")[1].split("short test summary")[0]
    blocks = []
    for block in errors.split("ERROR at setup of")[1:]:
        lines = []
        for line in block.splitlines()[1:]:
            if line.startswith(("_", "=", "okta-user: ")):
                break
            lines.append(line)
        blocks.append("\n".join(lines))
    assert len(blocks) == 2
    assert blocks[0] == blocks[1]
    assert blocks[0].startswith("pytest-okta-user: ")
    assert "Traceback" not in output
    assert ".py:" not in errors
    for secret in (wrong, emulator_env["OKTA_CLIENT_SECRET"]):
        assert secret not in output
    # The failure is remembered: one sign-in attempt, not one per test (no account lock-out).
    assert okta.count("authn") == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"OKTA_DOMAIN": "http://dev-123.okta.com"},
            "ERROR: pytest-okta-user: Okta org or issuer (from env OKTA_DOMAIN): http:// is"
            " refused for the remote host dev-123.okta.com*; fix: use https://dev-123.okta.com",
        ),
        (
            {"OKTA_SCOPES": "openid,email", "OKTA_DOMAIN": "dev-123.okta.com"},
            "ERROR: pytest-okta-user: scopes (from env OKTA_SCOPES): 'openid,email' separates"
            " scopes with commas; fix: separate them with spaces*",
        ),
    ],
)
def test_a_plainly_wrong_global_value_is_a_usage_error(
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
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])
    assert "Traceback" not in result.stderr.str()


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
            "*pytest-okta-user: the token factory takes one value per argument, not a list*",
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
