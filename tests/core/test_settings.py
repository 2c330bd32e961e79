"""Settings resolution and validation, without pytest in the loop (settings.py imports none).

The okta marker's arguments and the variant they make are in ``test_marker.py``.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from support.settings_env import ENV, ORG, run

from pytest_okta_user import options
from pytest_okta_user.errors import MissingSettingsError, SettingError
from pytest_okta_user.marker import OktaRequest, build_variant
from pytest_okta_user.options import by_name, normalise_domain
from pytest_okta_user.redact import Secret
from pytest_okta_user.settings import Settings, Value, can_prompt


def value_of(settings: Settings, setting: str) -> Value[object]:
    """A setting's value as the tests compare it: the domain as its org URL."""
    return settings.org_url if setting == "domain" else settings[by_name(setting)]


# ---- precedence: command line > environment > ini > default, with the source --------------------

#: setting -> (command-line value, env value, ini value, default, the parsed forms)
PRECEDENCE = {
    "domain": ("cli.okta.com", "env.okta.com", "ini.okta.com", None),
    "auth_server": ("auscli", "ausenv", "ausini", "default"),
    "client_id": ("0oacli", "0oaenv", "0oaini", None),
    "redirect_uri": ("http://l/cli", "http://l/env", "http://l/ini", None),
    "scopes": ("openid cli", "openid env", "openid ini", ("openid", "profile", "email")),
    "flow": ("code", "implicit", "password", "pkce"),
    "response_mode": ("form_post", "fragment", "query", None),
    "user": ("cli@x.org", "env@x.org", "ini@x.org", None),
    "min_ttl": ("1", "2", "3", 60.0),
    "timeout": ("0.5", "2", "3s", 10.0),
    "retries": ("0", "1", "3", 2),
    "rate_limit_wait": ("0", "5", "7s", 30.0),
}


def _parsed(setting: str, raw: str) -> object:
    if setting == "domain":
        return f"https://{raw}"
    if setting == "scopes":
        return tuple(raw.split())
    if setting in ("min_ttl", "timeout", "rate_limit_wait"):
        return float(raw.removesuffix("s"))
    if setting == "retries":
        return int(raw)
    return raw


@pytest.mark.parametrize("setting", sorted(PRECEDENCE))
def test_each_setting_takes_cli_then_env_then_ini_then_default(setting: str) -> None:
    cli_value, env_value, ini_value, default = PRECEDENCE[setting]
    names = by_name(setting)
    cli = {setting: cli_value}
    env = {names.env[-1]: env_value}
    ini = {names.ini: ini_value}

    got = value_of(run(cli, env, ini, ini_path=Path("/p/pytest.ini")), setting)
    assert (got.value, got.source) == (
        _parsed(setting, cli_value),
        f"from command line {names.flag}",
    )
    got = value_of(run({}, env, ini, ini_path=Path("/p/pytest.ini")), setting)
    assert (got.value, got.source) == (_parsed(setting, env_value), f"from env {names.env[-1]}")
    got = value_of(run({}, {}, ini, ini_path=Path("/p/pytest.ini")), setting)
    assert (got.value, got.source) == (
        _parsed(setting, ini_value),
        f"from ini {names.ini} in pytest.ini",
    )
    got = value_of(run(), setting)
    assert got.value == default
    assert got.source in ("default", "not set")


def test_okta_issuer_wins_over_okta_domain_and_sets_the_auth_server() -> None:
    s = run(env={"OKTA_DOMAIN": "other.okta.com", "OKTA_ISSUER": f"{ORG}/oauth2/aus9"})
    assert s.issuer == f"{ORG}/oauth2/aus9"
    assert s.org_url.source == "from env OKTA_ISSUER"
    assert s[options.AUTH_SERVER].value == "aus9"
    assert "OKTA_ISSUER" in s[options.AUTH_SERVER].source


def test_an_empty_ini_value_counts_as_unset() -> None:
    # pytest 7.4 gives "" for an ini key that is absent.
    s = run(env={"OKTA_CLIENT_ID": "0oaenv"}, ini={"okta_client_id": ""})
    assert s[options.CLIENT_ID].source == "from env OKTA_CLIENT_ID"


def test_auth_server_org_means_the_org_authorization_server() -> None:
    s = run(env={"OKTA_DOMAIN": ORG, "OKTA_AUTH_SERVER_ID": "org"})
    assert s.issuer == ORG


def test_an_auth_server_contradicting_the_pasted_issuer_is_refused() -> None:
    with pytest.raises(SettingError) as info:
        run(cli={"domain": f"{ORG}/oauth2/default"}, env={"OKTA_AUTH_SERVER_ID": "aus1"})
    message = str(info.value)
    assert "from env OKTA_AUTH_SERVER_ID" in message
    assert "'default'" in message
    assert "\n" not in message


# ---- what people paste as the domain ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "org", "server"),
    [
        ("dev-123.okta.com", ORG, None),
        ("  dev-123.okta.com  ", ORG, None),
        ("https://dev-123.okta.com", ORG, None),
        ("https://dev-123.okta.com/", ORG, None),
        ("https://DEV-123.okta.com", ORG, None),
        ("https://dev-123.okta.com/oauth2/default", ORG, "default"),
        ("https://dev-123.okta.com/oauth2/aus1a2b3c4", ORG, "aus1a2b3c4"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000", None),
        ("http://localhost:5000/oauth2/default", "http://localhost:5000", "default"),
        ("http://[::1]:5000", "http://[::1]:5000", None),
        ("localhost:8443", "https://localhost:8443", None),
    ],
)
def test_domain_accepts_bare_hosts_org_urls_and_issuers(
    pasted: str, org: str, server: str | None
) -> None:
    assert normalise_domain(pasted) == (org, server)


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("http://dev-123.okta.com", "http:// is refused for the remote host dev-123.okta.com"),
        ("ftp://dev-123.okta.com", "scheme 'ftp' is not supported"),
        ("https://{yourOktaDomain}", "placeholder"),
        ("https://{yourOktaDomain}/oauth2/default", "placeholder"),
        ("https://dev-123.okta.com/oauth2/default/", "ends with '/'"),
        ("https://dev-123-admin.okta.com", "Admin Console"),
        ("https://dev-123.okta.com/oauth2/v1/authorize", "neither an org URL nor an issuer"),
        ("https://dev-123.okta.com/app/UserHome", "neither an org URL nor an issuer"),
        ("https://dev-123.okta.com/?x=1", "must not hold"),
    ],
)
def test_bad_domains_get_one_line_naming_the_setting_and_source(pasted: str, expected: str) -> None:
    with pytest.raises(SettingError) as info:
        run(env={"OKTA_DOMAIN": pasted})
    message = str(info.value)
    assert expected in message
    assert message.startswith("Okta org or issuer (from env OKTA_DOMAIN): ")
    assert "fix: " in message
    assert "\n" not in message


def test_admin_domain_error_names_the_org_domain() -> None:
    with pytest.raises(SettingError, match=r"use https://dev-123\.oktapreview\.com"):
        run(cli={"domain": "dev-123-admin.oktapreview.com"})


# ---- other values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "where", "value", "expected"),
    [
        ("flow", "env", "magic", "unknown flow 'magic'"),
        ("response_mode", "ini", "okta_post_message", "unknown response mode"),
        ("scopes", "env", "openid,profile", "separates scopes with commas"),
        ("scopes", "ini", "openid, email", "separates scopes with commas"),
        ("scopes", "cli", "  ", "is set but empty"),
        ("client_id", "cli", "", "is set but empty"),
        ("client_id", "cli", "{clientId}", "placeholder"),
        ("client_id", "env", "0oa abc", "contains white space"),
        ("user", "ini", "${OKTA_USERNAME}", "placeholder"),
        ("redirect_uri", "env", "localhost/callback", "not an absolute URI"),
        (
            "auth_server",
            "cli",
            "https://dev-123.okta.com/oauth2/x",
            "not an authorization server id",
        ),
        ("min_ttl", "env", "soon", "not a number of seconds"),
        ("min_ttl", "cli", "-5", "not a number of seconds"),
        ("emulator", "env", "maybe", "not a yes/no value"),
        ("emulator_engine", "env", "identity", "unknown emulator engine 'identity'"),
        ("emulator_engine", "cli", "", "unknown emulator engine ''"),
        ("timeout", "cli", "0", "'0' is not a number of seconds above 0"),
        ("timeout", "env", "-1", "is not a number of seconds above 0"),
        ("timeout", "ini", "inf", "is not a number of seconds above 0"),
        ("timeout", "env", "nan", "is not a number of seconds above 0"),
        ("timeout", "env", "ten", "is not a number of seconds above 0"),
        ("retries", "env", "11", "'11' is not a whole number from 0 to 10"),
        ("retries", "cli", "-1", "is not a whole number from 0 to 10"),
        ("retries", "ini", "2.5", "is not a whole number from 0 to 10"),
        ("retries", "env", "+2", "is not a whole number from 0 to 10"),
        ("retries", "env", "1_0", "is not a whole number from 0 to 10"),
        ("retries", "cli", "", "is not a whole number from 0 to 10"),
        ("rate_limit_wait", "env", "-1", "'-1' is not a number of seconds (0 or more)"),
        ("rate_limit_wait", "cli", "inf", "is not a number of seconds (0 or more)"),
        ("rate_limit_wait", "ini", "a minute", "is not a number of seconds (0 or more)"),
    ],
)
def test_bad_values_name_the_setting_and_where_it_came_from(
    setting: str, where: str, value: str, expected: str
) -> None:
    names = by_name(setting)
    cli, env, ini = {}, {}, {}
    if where == "cli":
        cli[setting] = value
        source = f"from command line {names.flag}"
    elif where == "env":
        env[names.env[0]] = value
        source = f"from env {names.env[0]}"
    else:
        ini[names.ini] = value
        source = f"from ini {names.ini}"
    with pytest.raises(SettingError) as info:
        run(cli, env, ini)
    message = str(info.value)
    assert message.startswith(f"{names.label} ({source}")
    assert expected in message
    assert "\n" not in message


def test_min_ttl_accepts_seconds_with_a_unit() -> None:
    assert run(env={"OKTA_MIN_TTL": "300s"})[options.MIN_TTL].value == 300.0


@pytest.mark.parametrize(
    ("setting", "raw", "value"),
    [
        ("timeout", "0.3", 0.3),
        ("timeout", " 60s ", 60.0),
        ("retries", "0", 0),
        ("retries", " 10 ", 10),
        ("rate_limit_wait", "0", 0.0),
        ("rate_limit_wait", "120s", 120.0),
    ],
)
def test_transport_settings_take_their_bounds_and_seconds_with_a_unit(
    setting: str, raw: str, value: float
) -> None:
    got = run(env={by_name(setting).env[0]: raw})[by_name(setting)]
    assert got.value == value
    assert type(got.value) is type(value)


def test_bad_transport_values_say_what_to_use() -> None:
    with pytest.raises(SettingError) as info:
        run(cli={"rate_limit_wait": "-5"})
    assert str(info.value) == (
        "rate-limit wait (from command line --okta-rate-limit-wait): '-5' is not a number of"
        " seconds (0 or more); fix: use e.g. 30 (0: never wait, fail at once)"
    )
    with pytest.raises(SettingError) as info:
        run(ini={"okta_retries": "many"}, ini_path=Path("/p/tox.ini"))
    assert str(info.value) == (
        "retries (from ini okta_retries in tox.ini): 'many' is not a whole number from 0 to 10;"
        " fix: use e.g. 2 (0: no retries)"
    )
    with pytest.raises(SettingError) as info:
        run(env={"OKTA_TIMEOUT": "0"})
    assert str(info.value) == (
        "request timeout (from env OKTA_TIMEOUT): '0' is not a number of seconds above 0;"
        " fix: use e.g. 10"
    )


def test_emulator_flag_from_env_and_ini() -> None:
    emulator = options.EMULATOR
    assert run(env={"OKTA_EMULATOR": "1"})[emulator].value is True
    assert run(ini={"okta_emulator": "true"})[emulator].source == "from ini okta_emulator"
    assert run(env={"OKTA_EMULATOR": "0"}, ini={"okta_emulator": "1"})[emulator].value is False


# ---- secrets ------------------------------------------------------------------------------------


def test_secrets_come_only_from_the_environment_and_never_print() -> None:
    s = run(env=ENV | {"OKTA_TOTP_SECRET": "JBSWY3DPEHPK3PXP"})
    password = s[options.PASSWORD]
    assert password.value is not None
    # Not stripped: a password may end in a space.
    assert password.value.reveal() == "pass word "
    text = repr(s) + str(s) + "\n".join(s.header_lines())
    for secret in ("pass word", "client-secret-value", "JBSWY3DPEHPK3PXP"):
        assert secret not in text
    assert repr(password.value) == "'***'"
    assert f"{s[options.CLIENT_SECRET].value}" == "***"
    assert "password set (from env OKTA_PASSWORD)" in "\n".join(s.header_lines())


def test_a_secret_refuses_to_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))


def test_an_empty_secret_counts_as_unset_and_the_message_says_it_was_empty() -> None:
    # GitHub Actions hands a fork's pull request "" for each secret it withholds.
    s = run(env=ENV | {"OKTA_PASSWORD": "", "OKTA_CLIENT_SECRET": ""})
    password = s[options.PASSWORD]
    assert password.value is None
    assert password.source == "not set (env OKTA_PASSWORD is empty)"
    assert password.empty_env == ("OKTA_PASSWORD",)
    assert "password not set (env OKTA_PASSWORD is empty)" in "\n".join(s.header_lines())
    with pytest.raises(MissingSettingsError) as info:
        s.require("code")
    message = str(info.value)
    assert "OKTA_PASSWORD (environment only; OKTA_PASSWORD is set but empty" in message
    assert "OKTA_CLIENT_SECRET (environment only; the app is confidential; OKTA_CLIENT_SECRET" in (
        message
    )


def test_a_prompted_password_is_used_when_the_environment_has_none() -> None:
    s = run(env=ENV | {"OKTA_PASSWORD": "from-env"}).with_password(Secret("typed"))
    assert s[options.PASSWORD].value is not None
    assert s[options.PASSWORD].value.reveal() == "from-env"
    env = {k: v for k, v in ENV.items() if k != "OKTA_PASSWORD"}
    s = run(env=env).with_password(Secret("typed"))
    assert s[options.PASSWORD].source == "from the prompt"


@pytest.mark.parametrize(
    ("isatty", "env", "expected"),
    [
        (True, {}, (True, "")),
        (True, {"CI": "true"}, (False, "not asked because CI is set")),
        (True, {"CI": "0"}, (True, "")),
        (False, {}, (False, "not asked because stdin is not a terminal")),
    ],
)
def test_the_password_prompt_only_in_a_terminal_outside_ci(
    isatty: bool, env: dict[str, str], expected: tuple[bool, str]
) -> None:
    assert can_prompt(isatty, env) == expected


# ---- missing settings ---------------------------------------------------------------------------


def test_missing_settings_are_listed_in_one_message_with_their_three_names() -> None:
    s = run(env={"OKTA_DOMAIN": ORG}).with_password(None, "not asked because CI is set")
    with pytest.raises(MissingSettingsError) as info:
        s.require("code")
    message = str(info.value)
    assert message.startswith("Okta settings missing for the code flow:")
    for line in (
        "client id: --okta-client-id / OKTA_CLIENT_ID / okta_client_id",
        "client secret: OKTA_CLIENT_SECRET",
        "redirect URI: --okta-redirect-uri / OKTA_REDIRECT_URI / okta_redirect_uri",
        "user (login): --okta-user / OKTA_USERNAME / okta_username",
        "password: OKTA_PASSWORD (environment only; not asked because CI is set)",
    ):
        assert line in message
    assert "okta_domain" not in message
    assert info.value.missing == ["client_id", "client_secret", "redirect_uri", "user", "password"]


@pytest.mark.parametrize(
    ("flow", "missing"),
    [
        ("pkce", ["redirect_uri", "user", "password"]),
        ("implicit", ["redirect_uri", "user", "password"]),
        ("code", ["client_secret", "redirect_uri", "user", "password"]),
        ("password", ["user", "password"]),
        ("client_credentials", ["client_secret"]),
    ],
)
def test_each_flow_needs_its_own_settings(flow: str, missing: list[str]) -> None:
    s = run(env={"OKTA_DOMAIN": ORG, "OKTA_CLIENT_ID": "0oa1"})
    assert [name for name, _ in s.missing(flow)] == missing


def test_a_full_configuration_misses_nothing() -> None:
    s = run(env=ENV)
    for flow in ("code", "pkce", "implicit", "password", "client_credentials"):
        assert s.missing(flow) == []


# ---- the cache folder ---------------------------------------------------------------------------


def test_a_relative_cache_folder_in_the_ini_is_relative_to_the_ini_file(tmp_path: Path) -> None:
    s = run(ini={"okta_token_cache_dir": "tokens"}, ini_path=tmp_path / "pytest.ini")
    assert s[options.CACHE_DIR].value == tmp_path / "tokens"
    assert (tmp_path / "tokens").is_dir()


def test_a_cache_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SettingError) as info:
        run(env={"OKTA_TOKEN_CACHE_DIR": str(blocker / "sub")})
    assert str(info.value).startswith("token cache folder (from env OKTA_TOKEN_CACHE_DIR): cannot")
    assert "--okta-no-cache" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_cache_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(SettingError, match="cannot write"):
        run(cli={"cache_dir": str(folder)})


def test_no_cache_ignores_the_folder_and_default() -> None:
    s = run(
        cli={"no_cache": True, "user": "a@example.com"},
        default_cache_dir=lambda: pytest.fail("not asked"),
    )
    assert s[options.CACHE_DIR].value is None
    assert "off (--okta-no-cache)" in "\n".join(s.header_lines())


# ---- emulator mode ------------------------------------------------------------------------------


def test_the_emulator_replaces_the_org_client_and_user() -> None:
    emulator_env = {
        "OKTA_DOMAIN": "http://127.0.0.1:4000",
        "OKTA_CLIENT_ID": "0oademo",
        "OKTA_CLIENT_SECRET": "demo-secret",
        "OKTA_REDIRECT_URI": "http://localhost:8080/cb",
        "OKTA_USERNAME": "demo@example.com",
        "OKTA_PASSWORD": "demo-password",
    }
    # A real org in the environment must not be reached in emulator mode, even if it is malformed.
    s = run(
        cli={"emulator": True, "flow": "code"},
        env={"OKTA_DOMAIN": "http://real.example.com", "OKTA_USERNAME": "me@real"},
        # What OktaEmulator.env() gives, the instance included.
        emulator=lambda engine: {**emulator_env, "OKTA_EMULATOR_INSTANCE": "inst-1"},
    )
    assert s.issuer == "http://127.0.0.1:4000/oauth2/default"
    assert s[options.USER].value == "demo@example.com"
    assert s[options.USER].source == "from the emulator"
    assert s[options.FLOW].source == "from command line --okta-flow"
    assert build_variant(s, OktaRequest()).instance == "inst-1"


@pytest.mark.parametrize(
    ("pasted", "org", "server"),
    [
        ("https://dev-123.okta.com:443", "https://dev-123.okta.com", None),
        ("dev-123.okta.com:443/oauth2/default", "https://dev-123.okta.com", "default"),
        ("http://127.0.0.1:80", "http://127.0.0.1", None),
        ("https://dev-123.okta.com:8443", "https://dev-123.okta.com:8443", None),
        ("http://localhost:443", "http://localhost:443", None),
    ],
)
def test_the_schemes_default_port_is_dropped(pasted: str, org: str, server: str | None) -> None:
    # The issuer in Okta's tokens has no port: keeping ":443" would fail every token check.
    assert normalise_domain(pasted) == (org, server)


def test_the_lock_timeout_follows_the_transport_settings() -> None:
    # Defaults: 5 calls x (10s x 3 attempts + 0.5s + 1s backoff) + 30s rate-limit wait + 30s.
    assert run(env=ENV).lock_timeout() == 5 * (10 * 3 + 1.5) + 30 + 30
    quick = run(env={**ENV, "OKTA_TIMEOUT": "2", "OKTA_RETRIES": "0", "OKTA_RATE_LIMIT_WAIT": "0"})
    assert quick.lock_timeout() == 120  # never below two minutes
    slow = run(
        env={**ENV, "OKTA_TIMEOUT": "30", "OKTA_RETRIES": "3", "OKTA_RATE_LIMIT_WAIT": "120"}
    )
    # 5 x (30 x 4 + 0.5 x (1 + 2 + 4)) + 120 + 30
    assert slow.lock_timeout() == 5 * (30 * 4 + 3.5) + 120 + 30
    longer_wait = run(env={**ENV, "OKTA_TIMEOUT": "30", "OKTA_RETRIES": "3"})
    assert longer_wait.lock_timeout() < slow.lock_timeout()


def test_a_stand_alone_emulators_instance_is_part_of_the_variant() -> None:
    first = build_variant(run(env={**ENV, "OKTA_EMULATOR_INSTANCE": "emu-1"}), OktaRequest())
    second = build_variant(run(env={**ENV, "OKTA_EMULATOR_INSTANCE": "emu-2"}), OktaRequest())
    assert (first.instance, second.instance) == ("emu-1", "emu-2")
    assert first.key != second.key
    # The plugin's own emulator (--okta-emulator) names it itself.
    own = run(
        cli={"emulator": True},
        env={**ENV, "OKTA_EMULATOR_INSTANCE": "emu-1"},
        emulator=lambda engine: {**ENV, "OKTA_EMULATOR_INSTANCE": "own"},
    )
    assert own[options.EMULATOR_INSTANCE].value == "own"


# ---- one pass over the table --------------------------------------------------------------------


def test_every_row_of_the_table_is_resolved_once() -> None:
    s = run(env=ENV)
    assert set(s.values) == {o.name for o in options.OPTIONS}
    for option in options.OPTIONS:
        assert s[option].source


def test_the_emulator_is_started_only_in_emulator_mode_and_once() -> None:
    started: list[str] = []

    def start(engine: str) -> dict[str, str]:
        started.append(engine)
        return {**ENV, "OKTA_DOMAIN": "http://127.0.0.1:4000"}

    assert run(env=ENV, emulator=start).org_url.source == "from env OKTA_DOMAIN"
    assert started == []
    s = run(env={"OKTA_EMULATOR": "1"}, emulator=start)
    assert started == ["classic"]
    assert (s.org_url.value, s.org_url.source) == ("http://127.0.0.1:4000", "from the emulator")
    # A script that starts no emulator: the flag is only recorded.
    assert run(env={**ENV, "OKTA_EMULATOR": "1"}).org_url.source == "from env OKTA_DOMAIN"


def test_the_emulator_starts_as_the_engine_setting_says() -> None:
    engines: list[str] = []

    def start(engine: str) -> dict[str, str]:
        engines.append(engine)
        return dict(ENV)

    s = run(cli={"emulator": True}, env={"OKTA_EMULATOR_ENGINE": " OIE "}, emulator=start)
    assert engines == ["oie"]
    engine = s[options.EMULATOR_ENGINE]
    assert (engine.value, engine.source) == ("oie", "from env OKTA_EMULATOR_ENGINE")
    both = {"okta_emulator_engine": "classic"}
    run(cli={"emulator": True, "emulator_engine": "oie"}, ini=both, emulator=start)
    run(ini={"okta_emulator": "true", "okta_emulator_engine": "classic"}, emulator=start)
    assert engines == ["oie", "oie", "classic"]


def test_an_engine_without_emulator_mode_is_refused() -> None:
    """It could only be a mistake: the run would reach the org the settings name instead."""
    with pytest.raises(SettingError) as info:
        run(env={**ENV, "OKTA_EMULATOR_ENGINE": "oie"})
    message = str(info.value)
    assert message.startswith(
        "emulator engine (from env OKTA_EMULATOR_ENGINE): is set, but emulator mode is off"
    )
    assert "add --okta-emulator (or OKTA_EMULATOR=1)" in message
    with pytest.raises(SettingError, match="from ini okta_emulator_engine"):
        run(env=ENV, ini={"okta_emulator": "false", "okta_emulator_engine": "classic"})
    # An empty value counts as unset, as for every setting.
    assert run(env={**ENV, "OKTA_EMULATOR_ENGINE": ""})[options.EMULATOR_ENGINE].value == "classic"


def test_each_header_line_comes_from_the_rows_that_name_it() -> None:
    s = run(
        env=ENV | {"OKTA_TIMEOUT": "2.5", "OKTA_RESPONSE_MODE": "form_post"}, cli={"no_cache": True}
    )
    lines = s.header_lines()
    shown = [o.header.line for o in options.OPTIONS if o.header is not None]
    assert [line.split(":", 1)[0] for line in lines] == [
        f"okta {line}" for line in dict.fromkeys(shown)
    ]
    assert (
        "okta transport: timeout 2.5s (from env OKTA_TIMEOUT), retries 2 (default),"
        in "\n".join(lines)
    )
    assert "okta response mode: form_post (from env OKTA_RESPONSE_MODE)" in lines
    assert "okta token cache: off (--okta-no-cache)" in lines
