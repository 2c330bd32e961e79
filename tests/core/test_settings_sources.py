"""Where a setting is read from: empty environment values, old ini names, typed ini values, and
the TOTP secret as an otpauth:// URI (issue 10, points 1 and 6). No pytest in the loop: the
plugin's side is tests/plugin/test_names.py."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from support.settings_env import ENV, ORG, run

from pytest_okta_user import options
from pytest_okta_user.errors import SettingError
from pytest_okta_user.flows import totp_code

# ---- empty environment values --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "option"), [("OKTA_FLOW", options.FLOW), ("OKTA_DOMAIN", None)])
def test_an_empty_environment_value_counts_as_unset(name: str, option: object) -> None:
    s = run(env={name: "  "})
    if option is options.FLOW:
        assert s[options.FLOW].value == "pkce"
        assert s[options.FLOW].source == "default (env OKTA_FLOW is empty)"
    else:
        assert s.org_url.value is None
        assert s[options.DOMAIN].source == "not set (env OKTA_DOMAIN is empty)"


def test_an_empty_environment_value_gives_way_to_the_next_name_and_the_ini() -> None:
    s = run(env={"OKTA_ISSUER": "", "OKTA_DOMAIN": ORG})
    assert s[options.DOMAIN].source == "from env OKTA_DOMAIN"
    assert s[options.DOMAIN].empty_env == ("OKTA_ISSUER",)
    s = run(env={"OKTA_CLIENT_ID": ""}, ini={"okta_client_id": "0oaini"})
    assert s[options.CLIENT_ID].value == "0oaini"
    assert s[options.CLIENT_ID].source == "from ini okta_client_id"


def test_an_empty_auth_server_still_lets_the_issuer_name_it() -> None:
    s = run(env={"OKTA_ISSUER": f"{ORG}/oauth2/aus9", "OKTA_AUTH_SERVER_ID": ""})
    assert s.issuer == f"{ORG}/oauth2/aus9"


def test_an_empty_value_on_the_command_line_is_still_a_mistake() -> None:
    with pytest.raises(SettingError, match=r"from command line --okta-flow"):
        run(cli={"flow": " "})


# ---- the names: ini keys match the environment's ------------------------------------------------


def test_every_ini_name_is_its_environment_name_in_lower_case() -> None:
    for option in options.OPTIONS:
        if option.ini and option.env:
            assert option.ini in [name.lower() for name in option.env], option.name


@pytest.mark.parametrize(
    ("old", "new", "value", "option"),
    [
        ("okta_user", "okta_username", "ini@example.com", options.USER),
        ("okta_auth_server", "okta_auth_server_id", "aus1", options.AUTH_SERVER),
    ],
)
def test_an_old_ini_name_still_works_with_a_deprecation_message(
    old: str, new: str, value: str, option: options.Option[object]
) -> None:
    s = run(env={"OKTA_DOMAIN": ORG}, ini={old: value}, ini_path=Path("/proj/pytest.ini"))
    assert s[option].value == value
    assert s[option].source == f"from ini {old} in pytest.ini"
    assert s.deprecations == (
        f"pytest-okta-user: the ini key {old} is deprecated; rename it to {new} in pytest.ini"
        " (the value stays the same)",
    )


def test_the_new_ini_name_wins_over_the_old_one() -> None:
    s = run(ini={"okta_username": "new@example.com", "okta_user": "old@example.com"})
    assert s[options.USER].value == "new@example.com"
    assert s.deprecations == (
        "pytest-okta-user: the ini key okta_user is deprecated and ignored, since okta_username"
        " is set too; remove okta_user",
    )
    assert run(ini={"okta_username": "new@example.com"}).deprecations == ()


def test_the_deprecation_survives_the_prompted_password() -> None:
    s = run(ini={"okta_user": "old@example.com"})
    assert s.with_password(None, "why").deprecations == s.deprecations


def test_the_old_cache_folder_name_is_read_relative_to_the_ini_file(tmp_path: Path) -> None:
    s = run(ini={"okta_cache_dir": "tokens"}, ini_path=tmp_path / "pytest.ini")
    assert s[options.CACHE_DIR].value == tmp_path / "tokens"
    assert "okta_token_cache_dir" in s.deprecations[0]


# ---- typed ini values, as pytest's getini gives them --------------------------------------------


def test_bool_ini_values_as_getini_gives_them() -> None:
    assert run(ini={"okta_show_secrets": True})[options.SHOW_SECRETS].value is True
    off = run(ini={"okta_show_secrets": False})[options.SHOW_SECRETS]
    assert off.value is False
    assert off.source == "from ini okta_show_secrets"
    # pytest 7.4 gives [] for an absent key of a typed ini value.
    assert run(ini={"okta_show_secrets": []})[options.SHOW_SECRETS].source == "default"


def test_a_value_getini_refused_reads_like_any_setting_error() -> None:
    refused = ValueError("invalid truth value 'maybe'")
    with pytest.raises(SettingError) as info:
        run(ini={"okta_emulator": refused}, ini_path=Path("/proj/pytest.ini"))
    assert str(info.value) == (
        "emulator (from ini okta_emulator in pytest.ini): invalid truth value 'maybe';"
        " fix: set okta_emulator to true or false (1 or 0)"
    )


def test_paths_ini_values_as_getini_or_a_text_reader_gives_them(tmp_path: Path) -> None:
    ini = tmp_path / "pytest.ini"
    # pytest's paths type: a list, each relative to the ini file's folder.
    s = run(ini={"okta_token_cache_dir": [tmp_path / "a"]}, ini_path=ini)
    assert s[options.CACHE_DIR].value == tmp_path / "a"
    # The okta-user command reads text: the same shell-like words.
    s = run(ini={"okta_token_cache_dir": f"'{tmp_path}/with space'"}, ini_path=ini)
    assert s[options.CACHE_DIR].value == tmp_path / "with space"
    with pytest.raises(SettingError, match="names 2 folders; the token cache is one folder"):
        run(ini={"okta_token_cache_dir": [tmp_path / "a", tmp_path / "b"]}, ini_path=ini)


def test_a_home_folder_in_a_paths_ini_value_is_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    ini = tmp_path / "proj" / "pytest.ini"
    s = run(ini={"okta_token_cache_dir": [ini.parent / "~" / "tokens"]}, ini_path=ini)
    assert s[options.CACHE_DIR].value == tmp_path / "home" / "tokens"


# ---- the TOTP secret as an otpauth:// URI --------------------------------------------------------

BASE32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _totp(value: str) -> str:
    secret = run(env=ENV | {"OKTA_TOTP_SECRET": value})[options.TOTP_SECRET].value
    assert secret is not None
    return secret.reveal()


def test_an_otpauth_uri_gives_its_secret() -> None:
    uri = f"otpauth://totp/Okta:alice%40example.com?secret={BASE32}&issuer=Okta"
    assert _totp(uri) == BASE32
    assert _totp(f"  {uri}&algorithm=SHA1&digits=6&period=30 ") == BASE32
    # The code computed from the URI's secret is the one an authenticator shows.
    assert totp_code(_totp(uri), 1_700_000_000) == pyotp.TOTP(BASE32).at(1_700_000_000)
    assert _totp(BASE32) == BASE32


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            f"otpauth://hotp/Okta:alice?secret={BASE32}&counter=0",
            "is an otpauth://hotp/ URI; only time-based (otpauth://totp/) factors",
        ),
        ("otpauth://totp/Okta:alice?issuer=Okta", "without one secret= parameter"),
        (f"otpauth://totp/x?secret={BASE32}&digits=8", "with digits=8; Okta's TOTP factors use"),
        (f"otpauth://totp/x?secret={BASE32}&algorithm=SHA256", "with algorithm=SHA256"),
    ],
)
def test_other_otpauth_uris_are_refused_without_quoting_the_secret(uri: str, expected: str) -> None:
    with pytest.raises(SettingError) as info:
        run(env=ENV | {"OKTA_TOTP_SECRET": uri})
    message = str(info.value)
    assert message.startswith("TOTP shared secret (from env OKTA_TOTP_SECRET): ")
    assert expected in message
    assert BASE32 not in message
    assert "\n" not in message
