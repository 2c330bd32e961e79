"""Names that agree (issue 10, point 6), as pytest users meet them: ini keys named like the
environment variables, the old ini names still read with one deprecation warning per run, ini
values declared with their types, and pytest's own ``--cache-clear`` dropping the tokens."""

from __future__ import annotations

import pytest

from pytest_okta_user import options
from pytest_okta_user.emulator import DEMO, OktaEmulator

SUITE = f"""
def test_signed_in(okta_user, okta_settings):
    assert okta_user.login == "{DEMO.user_login}"
"""


@pytest.fixture
def env_without_user(okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = okta.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OKTA_USERNAME")
    return env


def test_old_ini_names_work_with_one_deprecation_warning_each_under_xdist(
    pytester: pytest.Pytester, env_without_user: dict[str, str]
) -> None:
    pytester.makefile(
        ".ini",
        pytest=f"""
        [pytest]
        okta_user = {DEMO.user_login}
        okta_cache_dir = tokens
        okta_auth_server = default
        """,
    )
    pytester.makepyfile(test_names_suite=SUITE)
    # Warned once per run, by the controller: not once per worker.
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "-rw")
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    for old, new in (
        ("okta_user", "okta_username"),
        ("okta_cache_dir", "okta_token_cache_dir"),
        ("okta_auth_server", "okta_auth_server_id"),
    ):
        warning = (
            f"OktaUserDeprecationWarning: pytest-okta-user: the ini key {old} is deprecated;"
            f" rename it to {new} in pytest.ini"
        )
        assert output.count(warning) == 1, output
    # The old cache folder name was followed (relative to the ini file).
    assert list((pytester.path / "tokens" / "okta-user-tokens").glob("*.json"))


def test_new_ini_names_give_no_warning(
    pytester: pytest.Pytester, env_without_user: dict[str, str]
) -> None:
    pytester.makefile(
        ".ini",
        pytest=f"""
        [pytest]
        okta_username = {DEMO.user_login}
        okta_token_cache_dir = "my tokens"
        okta_auth_server_id = default
        """,
    )
    pytester.makepyfile(test_names_suite=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)
    assert "deprecated" not in result.stdout.str()
    # pytest's paths type: shell-like words, relative to the ini file.
    assert list((pytester.path / "my tokens" / "okta-user-tokens").glob("*.json"))


def test_ini_values_are_declared_with_their_types(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    help_text = " ".join(result.stdout.str().split())
    for option in options.OPTIONS:
        if option.ini:
            assert f"{option.ini} ({option.ini_type}):" in help_text, option.ini
    assert "okta_emulator (bool):" in help_text
    assert "okta_show_secrets (bool):" in help_text
    assert "okta_token_cache_dir (paths):" in help_text
    assert "okta_user (string): pytest-okta-user: deprecated name of okta_username" in help_text


def test_a_bool_ini_value_pytest_refuses_reads_as_a_setting_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".ini", pytest="[pytest]\nokta_emulator = maybe\n")
    pytester.makepyfile(
        test_names_suite="def test_plain():\n    pass\n\n"
        "def test_okta(okta_access_token):\n    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    # Like any setting's error: the Okta tests error, the others run.
    result.assert_outcomes(passed=1, errors=1)
    output = result.stdout.str() + result.stderr.str()
    assert "emulator (from ini okta_emulator in pytest.ini): invalid truth value 'maybe'" in output
    assert "set okta_emulator to true or false (1 or 0)" in output
    assert "Traceback" not in output


def test_pytests_cache_clear_drops_the_tokens(
    pytester: pytest.Pytester, okta: OktaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default token cache lives under pytest's cache folder (.pytest_cache/d/okta-user).
    for name, value in okta.env().items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_names_suite=SUITE)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert okta.count("authn") == 1
    pytester.runpytest_subprocess("--cache-clear").assert_outcomes(passed=1)
    assert okta.count("authn") == 2
