"""``okta-user``: a token on the command line, from the settings and cache a pytest run uses,
against the emulator over real HTTP."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import jwt
import pytest

from pytest_okta_user.cli import main
from pytest_okta_user.inifile import find_ini

if TYPE_CHECKING:
    from pytest_okta_user.emulator import OktaEmulator


def run(
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    *,
    typed: str | None = None,
    tty: bool = False,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        assert typed is not None, "the password prompt was not expected"
        return typed

    status = main(
        argv, env=env, cwd=cwd, stdout=out, stderr=err, ask_password=ask, stdin_isatty=lambda: tty
    )
    return status, out.getvalue(), err.getvalue()


def claims(token: str) -> dict[str, object]:
    decoded: dict[str, object] = jwt.decode(token.strip(), options={"verify_signature": False})
    return decoded


def test_token_prints_the_access_token_and_a_second_call_signs_in_zero_times(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = okta.env()
    status, out, err = run(["token", "--flow", "code"], env, tmp_path)
    assert (status, err) == (0, "")
    assert out.count("\n") == 1  # just the token, for $(okta-user token)
    assert claims(out)["iss"] == okta.issuer
    assert okta.count("authn") == 1

    again = run(["token", "--flow", "code"], env, tmp_path)
    assert again == (0, out, "")
    assert okta.count("authn") == 1
    # The cache is pytest's, in this folder (so a pytest run here shares it).
    assert list((tmp_path / ".pytest_cache" / "d" / "okta-user").iterdir())


def test_id_token_and_scopes(okta: OktaEmulator, tmp_path: Path) -> None:
    status, out, _ = run(
        ["token", "--flow", "pkce", "--scopes", "openid email", "--id-token"], okta.env(), tmp_path
    )
    assert status == 0
    id_claims = claims(out)
    assert id_claims["aud"] == okta.env()["OKTA_CLIENT_ID"]
    assert "nonce" in id_claims  # an ID token, not the access token


def test_named_users_and_apps_and_one_sign_in_per_user(okta: OktaEmulator, tmp_path: Path) -> None:
    env = okta.env()
    status, out, err = run(["token", "--user", "admin", "--app", "spa"], env, tmp_path)
    assert (status, err) == (0, "")
    assert claims(out)["sub"] == "admin@example.com"
    assert claims(out)["cid"] == env["OKTA_SPA_CLIENT_ID"]
    # Another app and flow for the same user: its Okta session, no second sign-in.
    status, out, err = run(["token", "--user", "admin", "--flow", "code"], env, tmp_path)
    assert (status, err) == (0, "")
    assert claims(out)["cid"] == env["OKTA_CLIENT_ID"]
    assert (okta.count("authn"), okta.count("factor_verify")) == (1, 1)
    status, out, err = run(["token", "--app", "service", "--flow", "client_credentials",
                            "--scopes", "api:read"], env, tmp_path)  # fmt: skip
    assert (status, err) == (0, "")
    assert claims(out)["cid"] == env["OKTA_SERVICE_CLIENT_ID"]

    status, out, err = run(["token", "--user", "nobody"], env, tmp_path)
    assert (status, out) == (2, "")
    assert "OKTA_NOBODY_USERNAME" in err
    status, out, err = run(["token", "--app", "a-b"], env, tmp_path)
    assert (status, out) == (2, "")
    assert "app='a-b' is not an app name" in err


def test_settings_come_from_pytests_ini_file_of_this_folder(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = okta.env()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        f'okta_domain = "{env.pop("OKTA_DOMAIN")}"\n'
        f'okta_client_id = "{env.pop("OKTA_CLIENT_ID")}"\n'
        f'okta_redirect_uri = "{env.pop("OKTA_REDIRECT_URI")}"\n'
        f'okta_username = "{env.pop("OKTA_USERNAME")}"\n'
        'okta_flow = "code"\n'
    )
    sub = tmp_path / "tests" / "api"
    sub.mkdir(parents=True)
    status, out, err = run(["token"], env, sub)
    assert (status, err) == (0, "")
    assert claims(out)["iss"] == okta.issuer
    # The cache sits under the rootdir, as pytest's would.
    assert (tmp_path / ".pytest_cache" / "d" / "okta-user").is_dir()


def test_a_wrong_setting_names_it_and_where_it_was_read(tmp_path: Path) -> None:
    status, out, err = run(["token"], {"OKTA_FLOW": "magic"}, tmp_path)
    assert status == 2
    assert out == ""
    assert "OKTA_FLOW" in err
    assert "Traceback" not in err


def test_a_refused_password_exits_1_with_the_fix_and_no_secret(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = {**okta.env(), "OKTA_PASSWORD": "Not-The-Passw0rd"}
    status, out, err = run(["token", "--flow", "code"], env, tmp_path)
    assert status == 1
    assert out == ""
    assert err.startswith("okta-user: ")
    assert "fix:" in err
    assert "Not-The-Passw0rd" not in err


def test_the_password_is_asked_in_a_terminal_but_never_under_ci(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    env = okta.env()
    password = env.pop("OKTA_PASSWORD")
    status, out, _ = run(["token", "--flow", "code"], env, tmp_path, typed=password, tty=True)
    assert status == 0
    assert claims(out)["iss"] == okta.issuer

    fresh = tmp_path / "ci"
    fresh.mkdir()
    status, out, err = run(["token", "--flow", "code"], {**env, "CI": "true"}, fresh, tty=True)
    assert status == 2
    assert "OKTA_PASSWORD" in err
    assert "CI is set" in err


def test_emulator_mode_is_refused_with_the_way_to_a_lasting_emulator(tmp_path: Path) -> None:
    status, _, err = run(["token"], {"OKTA_EMULATOR": "1"}, tmp_path)
    assert status == 2
    assert "python -m pytest_okta_user.emulator" in err


def test_the_emulator_engine_of_pytest_runs_is_no_concern_of_the_command(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    """A shell that exports OKTA_EMULATOR_ENGINE, or an ini file that sets it, for its pytest
    runs: the command starts no emulator, so the engine is not read (pytest refuses it without
    emulator mode)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nokta_emulator_engine = oie\n")
    status, out, err = run(["token"], {**okta.env(), "OKTA_EMULATOR_ENGINE": "oie"}, tmp_path)
    assert (status, err) == (0, "")
    assert claims(out)["iss"] == okta.issuer


def test_python_dash_m_runs_the_command(okta: OktaEmulator, tmp_path: Path) -> None:
    env = {**os.environ, **okta.env(), "OKTA_FLOW": "code"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest_okta_user", "token"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert claims(done.stdout)["iss"] == okta.issuer
    helped = subprocess.run(
        [sys.executable, "-m", "pytest_okta_user", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "token" in helped.stdout


# ---- finding pytest's ini file -------------------------------------------------------------------


def test_find_ini_follows_pytests_order_and_walks_up(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\nokta_flow = code\n")
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py\n")  # no [pytest]: not pytest's
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    found = find_ini(deep)
    assert found.path == tmp_path / "setup.cfg"
    assert found.values == {"okta_flow": "code"}
    assert found.cache_dir() == tmp_path / ".pytest_cache"

    (tmp_path / "a" / "pytest.ini").write_text("")  # pytest.ini counts even when empty
    nearer = find_ini(deep)
    assert (nearer.path, dict(nearer.values), nearer.rootdir) == (
        tmp_path / "a" / "pytest.ini",
        {},
        tmp_path / "a",
    )


def test_find_ini_reads_toml_values_as_pytest_does(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nokta_scopes = ["openid", "email"]\nokta_emulator = true\n'
        'cache_dir = "build/pc"\n'
    )
    found = find_ini(tmp_path)
    assert found.values["okta_scopes"] == "openid email"
    assert found.values["okta_emulator"] == "true"
    assert found.cache_dir() == tmp_path / "build" / "pc"


def test_a_broken_ini_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options\n")
    status, _, err = run(["token"], {}, tmp_path)
    assert status == 2
    assert "pyproject.toml" in err


@pytest.mark.parametrize("argv", [["token", "--flow", "magic"], []])
def test_a_wrong_command_line_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv, env={}, stderr=io.StringIO())
    assert exited.value.code == 2


# ---- okta-user check -----------------------------------------------------------------------------


def check_lines(out: str) -> dict[str, str]:
    """Each checked line's status, keyed by what it checks."""
    lines = {}
    for line in out.splitlines():
        if line.startswith(" "):
            continue  # a message's continuation
        status, _, rest = line.partition(" ")
        lines[rest.strip().split(":")[0]] = status
    return lines


def test_check_walks_every_line_and_signs_in_once_per_flow(
    okta: OktaEmulator, tmp_path: Path
) -> None:
    status, out, err = run(["check", "--flow", "code", "--flow", "pkce"], okta.env(), tmp_path)
    assert (status, err) == (0, ""), out
    lines = check_lines(out)
    assert set(lines.values()) == {"ok"}
    for what in (
        "issuer reachable",
        "client known",
        "redirect URI registered",
        "code grant enabled for the app",
        "pkce grant enabled for the app",
        "user signs in",
        "MFA answerable",
        "code gives verified tokens",
    ):
        assert what in lines
    assert okta.count("authn") == 2  # the check never reads the cache
    assert not list(tmp_path.rglob("*.json"))  # nor writes it


@pytest.mark.parametrize(
    ("setting", "value", "failed", "words"),
    [
        (
            "OKTA_REDIRECT_URI",
            "http://localhost:1/not-registered",
            "redirect URI registered",
            "Sign-in redirect URI",
        ),
        ("OKTA_CLIENT_ID", "0oaNoSuchClient", "client known", "OKTA_CLIENT_ID"),
    ],
)
def test_check_names_the_app_line_that_fails_without_signing_in(
    okta: OktaEmulator, tmp_path: Path, setting: str, value: str, failed: str, words: str
) -> None:
    status, out, _ = run(["check", "--flow", "code"], {**okta.env(), setting: value}, tmp_path)
    assert status == 1
    lines = check_lines(out)
    assert lines[failed] == "FIX"
    assert lines["issuer reachable"] == "ok"
    assert lines["user signs in"] == "--"
    assert words in out  # the plugin's own message, with its fix
    assert "fix:" in out
    assert okta.count("authn") == 0


def test_check_a_wrong_password_fails_the_user_line(okta: OktaEmulator, tmp_path: Path) -> None:
    env = {**okta.env(), "OKTA_PASSWORD": "Not-The-Passw0rd"}
    status, out, _ = run(["check", "--flow", "pkce"], env, tmp_path)
    assert status == 1
    lines = check_lines(out)
    assert lines["redirect URI registered"] == "ok"
    assert lines["user signs in"] == "FIX"
    assert lines["pkce gives verified tokens"] == "--"
    assert "Not-The-Passw0rd" not in out


def test_check_unreachable_issuer_and_missing_settings(tmp_path: Path) -> None:
    status, out, _ = run(["check"], {"OKTA_DOMAIN": "http://127.0.0.1:9"}, tmp_path)
    assert status == 1
    assert check_lines(out)["settings complete for pkce"] == "FIX"
    assert "OKTA_CLIENT_ID" in out

    env = {
        "OKTA_DOMAIN": "http://127.0.0.1:9",
        "OKTA_CLIENT_ID": "0oa1",
        "OKTA_REDIRECT_URI": "http://localhost:8080/cb",
        "OKTA_USERNAME": "a@example.com",
        "OKTA_PASSWORD": "x",
        "OKTA_RETRIES": "0",
    }
    status, out, _ = run(["check"], env, tmp_path)
    assert status == 1
    lines = check_lines(out)
    assert lines["issuer reachable"] == "FIX"
    assert lines["client known"] == "--"


def test_check_a_grant_the_app_lacks(okta: OktaEmulator, tmp_path: Path) -> None:
    # The demo web app has no client_credentials grant: /token says so, and the line names it.
    status, out, _ = run(["check", "--flow", "client_credentials"], okta.env(), tmp_path)
    assert status == 1
    lines = check_lines(out)
    assert lines["client known"] == "ok"
    assert lines["client_credentials grant enabled for the app"] == "FIX"
    assert "Client Credentials" in out
    assert lines["client_credentials gives verified tokens"] == "--"
