"""Every setting reaches the plugin from the command line, the environment and the ini file, in that
order, and the report header shows each value with its source and no secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.inner import RunInner

SECRETS = {
    "OKTA_PASSWORD": "Pa55word-never-shown",
    "OKTA_CLIENT_SECRET": "client-secret-never-shown",
    "OKTA_TOTP_SECRET": "JBSWY3DPEHPK3PXPNEVERSHOWN",
}


def values(level: str, folder: Path) -> dict[str, str]:
    """Distinct values per level (cli, env, ini), per setting."""
    return {
        "domain": f"https://{level}.okta.com",
        "auth_server": f"aus{level}",
        "client_id": f"0oa{level}",
        "redirect_uri": f"http://localhost:8080/{level}/callback",
        "scopes": f"openid {level}",
        "flow": {"cli": "code", "env": "implicit", "ini": "password"}[level],
        "response_mode": {"cli": "form_post", "env": "fragment", "ini": "query"}[level],
        "user": f"{level}@example.com",
        "cache_dir": str(folder / f"cache-{level}"),
        "min_ttl": {"cli": "11", "env": "22", "ini": "33"}[level],
        "timeout": {"cli": "1.5", "env": "2.5", "ini": "3.5"}[level],
        "retries": {"cli": "0", "env": "1", "ini": "3"}[level],
        "rate_limit_wait": {"cli": "0", "env": "5", "ini": "7"}[level],
    }


ENV_NAMES = {
    "domain": "OKTA_DOMAIN",
    "auth_server": "OKTA_AUTH_SERVER_ID",
    "client_id": "OKTA_CLIENT_ID",
    "redirect_uri": "OKTA_REDIRECT_URI",
    "scopes": "OKTA_SCOPES",
    "flow": "OKTA_FLOW",
    "response_mode": "OKTA_RESPONSE_MODE",
    "user": "OKTA_USERNAME",
    "cache_dir": "OKTA_TOKEN_CACHE_DIR",
    "min_ttl": "OKTA_MIN_TTL",
    "timeout": "OKTA_TIMEOUT",
    "retries": "OKTA_RETRIES",
    "rate_limit_wait": "OKTA_RATE_LIMIT_WAIT",
}


def expected_header(level: str, folder: Path) -> list[str]:
    v = values(level, folder)
    src = {
        "cli": lambda s: f"from command line --okta-{s.replace('_', '-')}",
        "env": lambda s: f"from env {ENV_NAMES[s]}",
        "ini": lambda s: f"from ini okta_{s} in pytest.ini",
    }[level]
    return [
        f"okta issuer: {v['domain']}/oauth2/{v['auth_server']} ({src('domain')};"
        f" auth server {v['auth_server']} {src('auth_server')})",
        f"okta client: {v['client_id']} ({src('client_id')}),"
        " client secret set (from env OKTA_CLIENT_SECRET)",
        f"okta redirect URI: {v['redirect_uri']} ({src('redirect_uri')})",
        f"okta user: {v['user']} ({src('user')}), password set (from env OKTA_PASSWORD),"
        " TOTP secret set (from env OKTA_TOTP_SECRET)",
        f"okta flow: {v['flow']} ({src('flow')}), scopes: {v['scopes']} ({src('scopes')}),"
        f" min TTL: {v['min_ttl']}s ({src('min_ttl')})",
        f"okta response mode: {v['response_mode']} ({src('response_mode')})",
        f"okta token cache: {v['cache_dir']} ({src('cache_dir')})",
        f"okta transport: timeout {v['timeout']}s ({src('timeout')}),"
        f" retries {v['retries']} ({src('retries')}),"
        f" rate-limit wait {v['rate_limit_wait']}s ({src('rate_limit_wait')})",
    ]


@pytest.mark.parametrize("level", ["cli", "env", "ini"])
def test_each_setting_comes_from_the_highest_level_that_sets_it(
    pytester: pytest.Pytester, run_inner: RunInner, monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    folder = pytester.path
    levels = ["cli", "env", "ini"][["cli", "env", "ini"].index(level) :]
    ini_values = values("ini", folder)
    pytester.makefile(
        ".ini",
        pytest="[pytest]\n" + "\n".join(f"okta_{k} = {v}" for k, v in ini_values.items()),
    )
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    if "env" in levels:
        for name, value in values("env", folder).items():
            monkeypatch.setenv(ENV_NAMES[name], value)
    args = []
    if "cli" in levels:
        args = [f"--okta-{k.replace('_', '-')}={v}" for k, v in values("cli", folder).items()]

    result = run_inner("--collect-only", "-v", *args)

    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(expected_header(level, folder), consecutive=True)
    output = result.stdout.str() + result.stderr.str()
    for secret in SECRETS.values():
        assert secret not in output


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_a_project_without_okta_settings_gets_no_header_line(
    pytester: pytest.Pytester, run_inner: RunInner, verbose: tuple[str, ...]
) -> None:
    result = run_inner("--collect-only", *verbose)
    assert [line for line in result.stdout.lines if line.startswith("okta")] == []


def test_the_header_is_one_line_by_default_and_the_full_table_with_v(
    pytester: pytest.Pytester, run_inner: RunInner, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makefile(".ini", pytest="[pytest]\nokta_client_id = 0oaini\n")
    monkeypatch.setenv("OKTA_DOMAIN", "dev-123.okta.com")
    monkeypatch.setenv("OKTA_PASSWORD", "Pa55word-never-shown")
    args = ("--collect-only", "-p", "no:cacheprovider", "--okta-user=a@example.com")

    short = run_inner(*args)
    full = run_inner(*args, "-v")

    okta_lines = [line for line in short.stdout.lines if line.startswith("okta")]
    assert okta_lines == [
        "okta: pkce flow for a@example.com at https://dev-123.okta.com/oauth2/default, token cache"
        " on (from command line, environment, pytest.ini; -v shows each setting)"
    ]
    full_lines = [line for line in full.stdout.lines if line.startswith("okta")]
    assert len(full_lines) >= 6
    assert "okta client: 0oaini (from ini okta_client_id in pytest.ini)*" in [
        line.split(",")[0] + "*" for line in full_lines
    ]
    assert "Pa55word-never-shown" not in short.stdout.str() + full.stdout.str()


def test_defaults_are_shown_as_defaults(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    # One setting makes the project an Okta one: every other line then shows its default.
    result = run_inner(
        "--collect-only", "-v", "-p", "no:cacheprovider", "--okta-user=a@example.com"
    )
    result.stdout.fnmatch_lines(
        [
            "okta issuer: not set",
            "okta client: not set, client secret not set",
            "okta user: a@example.com (from command line --okta-user), password not set,"
            " TOTP secret not set",
            "okta flow: pkce (default), scopes: openid profile email (default),"
            " min TTL: 60s (default)",
            # Without the cache provider: the same place, made by hand.
            f"okta token cache: {pytester.path}/.pytest_cache/d/okta-user (default, *)",
            "okta transport: timeout 10s (default), retries 2 (default),"
            " rate-limit wait 30s (default)",
        ],
        consecutive=True,
    )
