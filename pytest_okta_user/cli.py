"""``okta-user``: the plugin's tokens in a terminal, for curl, Postman and CI steps in other
languages (also ``python -m pytest_okta_user``).

It reads the settings a pytest run in the current folder reads (the environment, then the ``okta_*``
keys of pytest's ini file) and shares that run's token cache, so a token a test suite fetched is
printed without signing in, and the other way round. No pytest import.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from . import options
from .errors import ConfigurationError, MarkerError, OktaUserError, SettingError
from .inifile import IniFile, find_ini
from .marker import OktaRequest, build_variant, expand_marker
from .options import FLOWS, BadValue
from .redact import Secret
from .settings import Settings, can_prompt, check_writable_folder, resolve

__all__ = ["main"]

PROG = "okta-user"
# Exit statuses: argparse's 2 for a wrong command line, and the same for a setting that cannot be
# right; 1 when Okta (or the network) refused.
EXIT_REFUSED = 1
EXIT_USAGE = 2


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    ask_password: Callable[[str], str] = getpass.getpass,
    stdin_isatty: Callable[[], bool] = lambda: sys.stdin.isatty(),
) -> int:
    """Run one ``okta-user`` command; returns the exit status. The keywords are for tests."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(argv)
    environ = os.environ if env is None else env
    try:
        settings = _settings(environ, cwd or Path.cwd())
        for message in settings.deprecations:
            print(f"{PROG}: warning: {message.removeprefix('pytest-okta-user: ')}", file=err)
        if args.command == "token":
            scopes = _scopes(args.scopes)
            settings = _with_prompted_password(settings, environ, ask_password, stdin_isatty)
            request = _request(args.flow, scopes, args.user, args.app)
            return _token(settings, request, args, out)
        if args.command == "check":
            settings = _with_prompted_password(settings, environ, ask_password, stdin_isatty)
            return _check(settings, args.flow or [settings[options.FLOW].value], out)
        raise AssertionError(args.command)  # argparse allows only the commands above
    except ConfigurationError as exc:
        print(f"{PROG}: {exc}", file=err)
        return EXIT_USAGE
    except OktaUserError as exc:
        print(f"{PROG}: {exc}", file=err)
        return EXIT_REFUSED


def _request(
    flow: str | None, scopes: tuple[str, ...] | None, user: str | None, app: str | None
) -> OktaRequest:
    """What the command line asks for, checked as the marker's arguments are."""
    given: dict[str, object] = {"flow": flow, "user": user, "app": app}
    try:
        (asked,) = expand_marker({k: v for k, v in given.items() if v is not None})
    except MarkerError as exc:
        raise ConfigurationError(exc.what.removeprefix("@pytest.mark.okta: "), exc.fix) from None
    return replace(asked, scopes=scopes)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Okta user tokens from the settings and token cache pytest-okta-user uses.",
        epilog=f"Settings come from the environment ({options.DOMAIN.env[-1]},"
        f" {options.CLIENT_ID.env[0]}, ...) and the okta_* keys of pytest's ini file in this"
        f" folder; the password only from {options.PASSWORD.env[0]} or the prompt. See the"
        " README's 'In a terminal' section.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    token = commands.add_parser(
        "token",
        help="print the access token (or --id-token) on stdout",
        description="Print just the token, for $(okta-user token). A token still fresh in the cache"
        " is printed without signing in.",
    )
    token.add_argument("--flow", choices=FLOWS, help="the flow (default: the configured one)")
    token.add_argument("--scopes", help="space-separated scopes (default: the configured ones)")
    token.add_argument(
        "--user",
        help="a login, or a user name whose settings are OKTA_<NAME>_USERNAME, ..._PASSWORD"
        " (default: the configured user)",
    )
    token.add_argument(
        "--app",
        help="an app name whose settings are OKTA_<NAME>_CLIENT_ID, ... (default: the"
        " configured app)",
    )
    token.add_argument("--id-token", action="store_true", help="print the ID token instead")
    check = commands.add_parser(
        "check",
        help="walk through the org, app and user, with the fix for each line that fails",
        description="Check what a flow needs, in the order Okta finds out: settings, issuer, app"
        " (client id, redirect URI, grant), user (password, MFA, assignment), and a real sign-in"
        " whose tokens are verified (not read from the cache). Exit status 1 if a line fails.",
    )
    check.add_argument(
        "--flow",
        action="append",
        choices=FLOWS,
        help="a flow to check (repeat for several; default: the configured one)",
    )
    return parser


def _settings(env: Mapping[str, str], cwd: Path) -> Settings:
    try:
        ini = find_ini(cwd)
    except ValueError as exc:
        raise ConfigurationError(
            f"pytest's ini file cannot be read: {exc}", "fix its syntax"
        ) from None
    # This command starts no emulator, so which org one would be means nothing here (a shell
    # that exports OKTA_EMULATOR_ENGINE for its pytest runs must not break it).
    engine = options.EMULATOR_ENGINE
    settings = resolve(
        {},
        {name: value for name, value in env.items() if name not in engine.env},
        {key: value for key, value in ini.values.items() if key != engine.ini},
        ini_path=ini.path,
        cwd=cwd,
        default_cache_dir=lambda: _default_cache_dir(ini),
    )
    if settings[options.EMULATOR].value:
        # An emulator started here would die with this command, and its tokens with it.
        raise SettingError(
            options.EMULATOR.name,
            settings[options.EMULATOR].source,
            "is on, but an emulator started by one command ends with it",
            "start one with `python -m pytest_okta_user.emulator`, export the settings it prints,"
            f" and unset {' / '.join(options.EMULATOR.env)}",
        )
    return settings


def _default_cache_dir(ini: IniFile) -> Path | None:
    """The folder a pytest run in this rootdir uses, so both read the same tokens."""
    try:
        return check_writable_folder(ini.cache_dir() / "d" / "okta-user", "default")
    except (OSError, SettingError):
        return None  # no shared cache: this command signs in on its own


def _scopes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    try:
        return options.parse_scopes(text)
    except BadValue as exc:
        raise SettingError("scopes", "from command line --scopes", exc.problem, exc.fix) from None


def _with_prompted_password(
    settings: Settings,
    env: Mapping[str, str],
    ask_password: Callable[[str], str],
    stdin_isatty: Callable[[], bool],
) -> Settings:
    """Ask for the password in a terminal when no setting gives one (never under CI), unless the
    token cache holds a fresh token for the configured flow and user (no sign-in is needed)."""
    user, _why_not = settings.prompt_user()
    if user is None:
        return settings
    allowed, why_not = can_prompt(stdin_isatty(), env)
    if not allowed:
        return settings.with_password(None, why_not)
    from .provider import serves_from_cache

    if serves_from_cache(settings):
        return settings
    try:
        answer = Secret(ask_password(f"Okta password for {user}: "))
    except EOFError:
        answer = Secret("")
    if not answer.reveal():
        return settings.with_password(None, "the prompt got an empty answer")
    return settings.with_password(answer)


def _check(settings: Settings, flows: list[str], out: TextIO) -> int:
    from .checklist import FIX, run_checks

    failed = False
    for line in run_checks(settings, flows):
        failed = failed or line.status == FIX
        print(line.render(), file=out, flush=True)
    return EXIT_REFUSED if failed else 0


def _token(settings: Settings, request: OktaRequest, args: argparse.Namespace, out: TextIO) -> int:
    # Imported here: the provider pulls in requests and PyJWT, which --help does not need.
    from .provider import build_provider

    variant = build_variant(settings, request)
    tokens = build_provider(settings).get(variant)
    if args.id_token:
        if not tokens.id_token:
            raise ConfigurationError(
                f"the {variant.flow} flow gave no ID token",
                "ask for the openid scope (--scopes 'openid ...') with a flow that signs the"
                " user in",
            )
        print(tokens.id_token, file=out)
    else:
        print(tokens.access_token, file=out)
    return 0
